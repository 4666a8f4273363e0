package handlers

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// embedRoutes adds the promo card publishers frame in their pages and the
// oEmbed endpoint that lets a CMS embed it from the panel's link alone.
func (h *Handlers) embedRoutes(app *fiber.App) {
	app.Get("/panels/:slug/embed", h.showEmbed)
	app.Get("/oembed", h.oembed)
}

// showEmbed renders a panel's promo card. It is the only page that may be
// framed, and only by the origins the organizer listed.
func (h *Handlers) showEmbed(c *fiber.Ctx) error {
	panel, err := h.store.PublishedPanel(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentSecurityPolicy,
		withFrameAncestors(string(c.Response().Header.Peek(fiber.HeaderContentSecurityPolicy)), h.embedOrigins))
	// Modern browsers obey frame-ancestors; X-Frame-Options cannot list
	// origins, and a DENY would win in older ones.
	c.Response().Header.Del(fiber.HeaderXFrameOptions)
	// A publisher page with Cross-Origin-Embedder-Policy may still load it.
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	tags := views.TagsFrom(func(k string) string { return c.Query(k) })
	return h.render(c, views.PageEmbed, views.NewEmbedPage(h.site, panel, h.store.Now(), tags))
}

// withFrameAncestors replaces the frame-ancestors directive of a CSP with
// the given origins, or 'self' when there are none.
func withFrameAncestors(policy string, origins []string) string {
	sources := "'self'"
	if len(origins) > 0 {
		sources = strings.Join(origins, " ")
	}
	var out []string
	for _, d := range strings.Split(policy, ";") {
		d = strings.TrimSpace(d)
		if name, _, _ := strings.Cut(d, " "); d == "" || strings.EqualFold(name, "frame-ancestors") {
			continue
		}
		out = append(out, d)
	}
	return strings.Join(append(out, "frame-ancestors "+sources), "; ")
}

// oembed answers https://oembed.com requests for a panel page's URL.
func (h *Handlers) oembed(c *fiber.Ctx) error {
	if format := c.Query("format", "json"); format != "json" {
		// The spec's answer for a format the provider does not offer.
		return c.Status(fiber.StatusNotImplemented).SendString("Only format=json is supported.\n")
	}
	slug, tags, ok := h.panelSlug(c.Query("url"))
	if !ok {
		return models.ErrNotFound
	}
	panel, err := h.store.PublishedPanel(c.UserContext(), slug)
	if err != nil {
		return err
	}
	maxWidth, _ := strconv.Atoi(c.Query("maxwidth"))
	maxHeight, _ := strconv.Atoi(c.Query("maxheight"))
	answer, err := views.NewOEmbed(h.site, panel, maxWidth, maxHeight, tags)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderCacheControl, fmt.Sprintf("public, max-age=%d", views.OEmbedCacheAge))
	return c.JSON(answer)
}

// panelSlug finds the slug in a URL of a panel page (or its card) on this
// site, whichever scheme it was typed with, and the URL's utm_* tags, which
// the card passes on.
func (h *Handlers) panelSlug(raw string) (string, views.Tags, bool) {
	u, err := url.Parse(raw)
	base, baseErr := url.Parse(h.site.BaseURL)
	if err != nil || baseErr != nil || !strings.EqualFold(u.Host, base.Host) ||
		(u.Scheme != "http" && u.Scheme != "https") {
		return "", views.Tags{}, false
	}
	path := strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/embed")
	slug, found := strings.CutPrefix(path, "/panels/")
	return slug, views.TagsFrom(u.Query().Get), found && slug != "" && !strings.Contains(slug, "/")
}

// originHost is a DNS name or IPv4 address, as an origin may carry.
var originHost = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// ParseEmbedOrigins reads a comma-separated list of origins allowed to frame
// promo cards ("https://news.example.com, http://localhost:8080") into
// normalised origins. Anything else is refused, so nothing can slip into
// the Content-Security-Policy.
func ParseEmbedOrigins(list string) ([]string, error) {
	var origins []string
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		origin, err := parseOrigin(item)
		if err != nil {
			return nil, err
		}
		origins = append(origins, origin)
	}
	return origins, nil
}

func parseOrigin(s string) (string, error) {
	bad := fmt.Errorf("%q is not an origin like https://news.example.com", s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", bad
	}
	host := strings.ToLower(u.Hostname())
	if addr, err := netip.ParseAddr(host); err == nil && addr.Is6() {
		host = "[" + addr.String() + "]"
	} else if !originHost.MatchString(host) {
		return "", bad
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", bad
		}
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}
