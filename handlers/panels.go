package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/views"
)

// showIndex lists upcoming published panels.
func (h *Handlers) showIndex(c *fiber.Ctx) error {
	listings, err := h.store.UpcomingPanels(c.UserContext())
	if err != nil {
		return err
	}
	return c.Render(views.PageIndex, views.NewIndexPage(listings, h.store.Now()))
}

// showPanel renders a panel's landing page with an empty sign-up form.
func (h *Handlers) showPanel(c *fiber.Ctx) error {
	panel, err := h.store.PublishedPanel(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	form := views.RegistrationForm{
		CSRFToken: csrfToken(c),
		Values: views.FormValues{
			Source:   strings.Clone(c.Query("utm_source")),
			Referrer: strings.Clone(c.Get(fiber.HeaderReferer)),
		},
	}
	// The page carries a per-visitor CSRF token, so no shared cache may keep it.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.Render(views.PagePanel, views.NewPanelPage(panel, h.store.Now(), form).WithShareMeta(h.site, h.store.Now()))
}

func csrfToken(c *fiber.Ctx) string {
	token, _ := c.Locals(csrfContextKey).(string)
	return token
}
