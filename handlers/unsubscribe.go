package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/views"
)

// showUnsubscribe answers GET /unsubscribe/{token}, a reminder's link: a
// page with one button, so a mail scanner that follows links stops nothing.
func (h *Handlers) showUnsubscribe(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, stopped, err := h.store.RegistrationByUnsubscribeToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	setPrivateHeaders(c)
	return h.render(c, views.PageUnsubscribe, views.NewUnsubscribePage(reg.Session.Panel, token, stopped))
}

// stopReminders answers POST /unsubscribe/{token}: the page's button, or a
// mailbox provider's one-click unsubscribe (RFC 8058, a POST with the body
// List-Unsubscribe=One-Click and no cookies). The secret token is what
// authorises it, as a manage link does, so it takes no CSRF token; doing it
// twice is harmless.
func (h *Handlers) stopReminders(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, err := h.store.StopReminders(c.UserContext(), token)
	if err != nil {
		return err
	}
	h.log.Info("reminders stopped", "registration", reg.ID)
	setPrivateHeaders(c)
	return h.render(c, views.PageUnsubscribe, views.NewUnsubscribePage(reg.Session.Panel, token, true))
}
