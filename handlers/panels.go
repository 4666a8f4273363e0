package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/views"
)

// showIndex lists upcoming published panels.
func (h *Handlers) showIndex(c *fiber.Ctx) error {
	page, err := h.pages.get("index", func() ([]byte, error) {
		listings, err := h.store.UpcomingPanels(c.UserContext())
		if err != nil {
			return nil, err
		}
		return h.renderBytes(views.PageIndex, views.NewIndexPage(listings, h.store.Now()))
	})
	if err != nil {
		return err
	}
	c.Type("html", "utf-8")
	return page.Fill(c.Response().BodyWriter(), views.Visit{})
}

// showPanel renders a panel's landing page with an empty sign-up form.
func (h *Handlers) showPanel(c *fiber.Ctx) error {
	slug := strings.Clone(c.Params("slug"))
	page, err := h.pages.get("panel:"+slug, func() ([]byte, error) {
		panel, err := h.store.PublishedPanel(c.UserContext(), slug)
		if err != nil {
			return nil, err
		}
		now := h.store.Now()
		return h.renderBytes(views.PagePanel, views.NewPanelPage(panel, now, views.PlaceholderForm()).WithShareMeta(h.site, now))
	})
	if err != nil {
		return err
	}
	// The page carries a per-visitor CSRF token, so no shared cache may keep it.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Type("html", "utf-8")
	return page.Fill(c.Response().BodyWriter(), views.Visit{Token: csrfToken(c),
		Tags: views.TagsFrom(func(k string) string { return c.Query(k) }), Referrer: c.Get(fiber.HeaderReferer)})
}

func csrfToken(c *fiber.Ctx) string {
	token, _ := c.Locals(csrfContextKey).(string)
	return token
}
