package handlers

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"podium/models"
	"podium/public"
)

var assetLink = regexp.MustCompile(`(?:href|src)="(/public/[^"]+)"`)

// Pages link their CSS, JavaScript and icon under content-hashed names,
// served for a year as immutable, in brotli or gzip when asked, decoding to
// the embedded file; the plain names still work, kept for an hour.
func TestStaticAssets_HashedImmutableAndPrecompressed(t *testing.T) {
	env := newTestEnv(t)
	page := env.browser(t).get("/")
	links := assetLink.FindAllStringSubmatch(page.body, -1)
	if len(links) < 3 {
		t.Fatalf("the home page links %d assets; want its CSS, script and icon", len(links))
	}
	for _, l := range links {
		url := l[1]
		name := strings.TrimPrefix(url, "/public/")
		plain := regexp.MustCompile(`\.[0-9a-f]{12}(\.[a-z]+)$`).ReplaceAllString(name, "$1")
		if plain == name {
			t.Fatalf("%s carries no content hash", url)
		}
		want, err := public.Files.ReadFile(plain)
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		for _, enc := range []string{"", "gzip", "br"} {
			req := httptest.NewRequest(http.MethodGet, url, nil)
			if enc != "" {
				req.Header.Set("Accept-Encoding", enc)
			}
			resp, err := env.app.Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != immutableCache ||
				resp.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("GET %s (%q) = %d, Cache-Control %q, Vary %q", url, enc, resp.StatusCode,
					resp.Header.Get("Cache-Control"), resp.Header.Get("Vary"))
			}
			if got := decode(t, resp.Header.Get("Content-Encoding"), body); !bytes.Equal(got, want) {
				t.Fatalf("GET %s with Accept-Encoding %q (Content-Encoding %q) does not decode to the file", url, enc,
					resp.Header.Get("Content-Encoding"))
			}
			if enc != "" && strings.HasSuffix(url, ".css") && resp.Header.Get("Content-Encoding") != enc {
				t.Fatalf("GET %s with Accept-Encoding %s came as %q", url, enc, resp.Header.Get("Content-Encoding"))
			}
		}
		r := env.browser(t).get("/public/" + plain)
		if r.status != http.StatusOK || r.header.Get("Cache-Control") != plainCache {
			t.Fatalf("the plain name %s = %d, Cache-Control %q; want 200 for an hour", plain, r.status, r.header.Get("Cache-Control"))
		}
		req := httptest.NewRequest(http.MethodGet, "/public/"+plain, nil)
		req.Header.Set("If-None-Match", r.header.Get("ETag"))
		if resp, err := env.app.Test(req, -1); err != nil || resp.StatusCode != http.StatusNotModified {
			t.Fatalf("revalidating %s: %v, %v; want 304", plain, resp, err)
		}
	}
	assertStatus(t, env.browser(t).get("/public/css/podium.0123456789ab.css"), http.StatusNotFound)
}

// decode undoes a Content-Encoding.
func decode(t *testing.T, encoding string, body []byte) []byte {
	t.Helper()
	var out []byte
	var err error
	switch encoding {
	case "":
		return body
	case "gzip":
		out, err = fasthttp.AppendGunzipBytes(nil, body)
	case "br":
		out, err = fasthttp.AppendUnbrotliBytes(nil, body)
	default:
		t.Fatalf("unexpected Content-Encoding %q", encoding)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Calendar feeds, the OpenAPI document and API answers are compressed when
// asked; HTML pages, which carry CSRF tokens, are not (BREACH).
func TestCompression_FeedsAndAPIButNotPages(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "squeezed", models.Session{Capacity: 5})
	token := env.apiClient(t).b.header.Get("Authorization")
	for path, want := range map[string]string{
		"/calendar.ics":                 "br",
		"/panels/squeezed/calendar.ics": "br",
		"/api/v1/openapi.json":          "br",
		"/api/v1/panels":                "br",
		"/panels/squeezed":              "",
		"/":                             "",
	} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Accept-Encoding", "gzip, br")
		req.Header.Set("Authorization", token)
		resp, err := env.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Content-Encoding"); resp.StatusCode != http.StatusOK || got != want {
			t.Errorf("GET %s = %d, Content-Encoding %q; want 200, %q", path, resp.StatusCode, got, want)
		}
	}
}
