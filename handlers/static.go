package handlers

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"podium/models"
	"podium/public"
)

// staticAsset is one embedded file, ready to serve: under its plain name
// and under a name that carries a hash of its content, with gzip and brotli
// forms made once at start where they are smaller.
type staticAsset struct {
	body, gzip, brotli []byte
	contentType        string
	hashed             string // its /public/ URL with the content's hash
	etag               string
}

// staticAssets are public.Files by path below /public/ (plain and hashed).
type staticAssets map[string]*staticAsset

// Cache lifetimes: a hashed name never changes its content, so browsers may
// keep it for a year without asking; a plain name (an old page, an email)
// may, so it is kept for an hour and then checked by its ETag.
const (
	immutableCache = "public, max-age=31536000, immutable"
	plainCache     = "public, max-age=3600"
)

// loadStaticAssets reads, hashes and compresses every embedded file.
func loadStaticAssets() (staticAssets, error) {
	assets := staticAssets{}
	err := fs.WalkDir(public.Files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := public.Files.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		a := &staticAsset{body: body, contentType: mime.TypeByExtension(ext), hashed: "/public/" + hashed, etag: `"` + hash + `"`}
		if a.contentType == "" {
			a.contentType = fiber.MIMEOctetStream
		}
		if compressible(a.contentType) {
			if gz := fasthttp.AppendGzipBytesLevel(nil, body, fasthttp.CompressBestCompression); len(gz) < len(body) {
				a.gzip = gz
			}
			// Brotli's best level saves a few hundred bytes a file and costs
			// about 12 MB of resident memory for the life of the process.
			if br := fasthttp.AppendBrotliBytesLevel(nil, body, fasthttp.CompressBrotliDefaultCompression); len(br) < len(body) {
				a.brotli = br
			}
		}
		assets[name], assets[hashed] = a, a
		return nil
	})
	return assets, err
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") || strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "svg") || strings.Contains(contentType, "json")
}

// url is the hashed URL of the embedded file name ("css/podium.css"), for
// templates; an unknown name is a template bug, shown as a plain URL.
func (s staticAssets) url(name string) string {
	if a, ok := s[name]; ok {
		return a.hashed
	}
	return "/public/" + name
}

// serveStatic answers GET /public/*: the file in the smallest encoding the
// client accepts (brotli, gzip, or as it is), cached for a year under its
// hashed name and for an hour under its plain one.
func (h *Handlers) serveStatic(c *fiber.Ctx) error {
	name := c.Params("*")
	a, ok := h.assets[name]
	if !ok {
		c.Locals(unmatchedKey, true) // any name under /public/ would be a new metrics series
		return models.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, a.contentType)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderETag, a.etag)
	if "/public/"+name == a.hashed {
		c.Set(fiber.HeaderCacheControl, immutableCache)
	} else {
		c.Set(fiber.HeaderCacheControl, plainCache)
	}
	if c.Get(fiber.HeaderIfNoneMatch) == a.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	body := a.body
	switch {
	case a.brotli != nil && c.Context().Request.Header.HasAcceptEncoding("br"):
		body = a.brotli
		c.Set(fiber.HeaderContentEncoding, "br")
	case a.gzip != nil && c.Context().Request.Header.HasAcceptEncoding("gzip"):
		body = a.gzip
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	return c.Send(body)
}
