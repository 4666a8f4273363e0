package handlers

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// adminPages lists the organizer admin's pages. r is the /admin group, after
// requireAdmin and the CSRF check.
func (h *Handlers) adminPages(r fiber.Router) {
	r.Get("", h.showDashboard)

	r.Get("/panels", h.listPanels)
	r.Get("/panels/new", h.newPanel)
	r.Post("/panels", h.createPanel)
	r.Get("/panels/:id", h.showAdminPanel)
	r.Get("/panels/:id/edit", h.editPanel)
	r.Post("/panels/:id", h.updatePanel)
	r.Get("/panels/:id/preview", h.previewPanel)
	r.Post("/panels/:id/publish", h.publishPanel)
	r.Post("/panels/:id/unpublish", h.unpublishPanel)
	r.Post("/panels/:id/archive", h.archivePanel)
	r.Post("/panels/:id/duplicate", h.duplicatePanel)
	r.Get("/panels/:id/questions", h.editQuestions)
	r.Post("/panels/:id/questions", h.updateQuestions)

	r.Get("/panels/:id/sessions/new", h.newSession)
	r.Post("/panels/:id/sessions", h.createSession)
	r.Get("/panels/:id/sessions/:sid", h.showAdminSession)
	r.Get("/panels/:id/sessions/:sid/edit", h.editSession)
	r.Post("/panels/:id/sessions/:sid", h.updateSession)
	r.Post("/panels/:id/sessions/:sid/cancel", h.cancelSession)
	r.Post("/panels/:id/sessions/:sid/attendance", h.importAttendance)
	r.Post("/panels/:id/sessions/:sid/follow-ups", h.sendFollowUps)

	r.Get("/panels/:id/registrants", h.panelRegistrants)
	r.Get("/panels/:id/registrants.csv", h.exportPanelRegistrants)
	r.Get("/panels/:id/sponsors/:sponsor_id/leads.csv", h.downloadLeads)
	r.Post("/panels/:id/sponsors/:sponsor_id/share-links", h.createShareLink)
	r.Post("/panels/:id/share-links/:link_id/revoke", h.revokeShareLink)
	r.Get("/panels/:id/links", h.showTrackedLinks)
	r.Get("/panels/:id/sessions/:sid/registrants.csv", h.exportSessionRegistrants)
	r.Post("/panels/:id/sessions/:sid/registrants", h.addRegistrant)
	r.Post("/registrations/:rid/cancel", h.cancelRegistrant)
	r.Post("/registrations/:rid/promote", h.promoteRegistrant)
	r.Post("/registrations/:rid/resend", h.resendInvite)
	r.Post("/registrations/:rid/approve", h.approveRegistrant)
	r.Post("/registrations/:rid/decline", h.declineRegistrant)
	r.Post("/registrations/decide", h.decideRegistrants)
	r.Post("/registrations/:rid/attended", h.markAttended)

	r.Get("/outbox", h.listOutbox)
	r.Get("/outbox/:id", h.showMail)
	r.Get("/outbox/:id/html", h.mailHTML)
	r.Get("/outbox/:id/invite.ics", h.mailInvite)
	r.Get("/outbox/:id/source", h.mailSource)
	r.Post("/outbox/:id/resend", h.resendMessage)

	r.Get("/accounts", h.requireOwner, h.listAccounts)
	r.Post("/accounts", h.requireOwner, h.createAccount)
	r.Post("/accounts/:id/delete", h.requireOwner, h.deleteAccount)
	r.Get("/tokens", h.requireOwner, h.listTokens)
	r.Post("/tokens", h.requireOwner, h.createToken)
	r.Post("/tokens/:id/revoke", h.requireOwner, h.revokeToken)

	r.Get("/audit-log", h.requireOwner, h.showAuditLog)
	r.Get("/people", h.requireOwner, h.showPerson)
	r.Post("/people/erase", h.requireOwner, h.erasePerson)
	r.Get("/retention", h.requireOwner, h.showRetention)
	r.Get("/webhooks", h.requireOwner, h.listWebhooks)
	r.Post("/webhooks", h.requireOwner, h.createWebhook)
	r.Get("/webhooks/:id", h.requireOwner, h.showWebhook)
	r.Post("/webhooks/:id/test", h.requireOwner, h.testWebhook)
	r.Post("/webhooks/:id/rotate", h.requireOwner, h.rotateWebhook)
	r.Post("/webhooks/:id/enable", h.requireOwner, h.setWebhookActive(true))
	r.Post("/webhooks/:id/disable", h.requireOwner, h.setWebhookActive(false))
	r.Post("/webhooks/:id/delete", h.requireOwner, h.deleteWebhook)
	r.Post("/webhooks/:id/deliveries/:did/replay", h.requireOwner, h.replayWebhook)
}

// adminFrame is the head and foot of an admin page for the signed-in
// account, with any flash message left by the previous action.
func (h *Handlers) adminFrame(c *fiber.Ctx, title, section string) views.AdminPage {
	return views.NewAdminPage(title, currentAccount(c), csrfToken(c), section, h.takeFlash(c))
}

// flashCookie carries one message from an action to the page it redirects
// to. A cookie rather than the query string, so a crafted link cannot put
// words on an admin page.
const flashCookie = "podium_flash"

func (h *Handlers) setFlash(c *fiber.Ctx, message string, isError bool) {
	kind := "ok"
	if isError {
		kind = "error"
	}
	c.Cookie(&fiber.Cookie{
		Name: flashCookie, Value: url.QueryEscape(kind + ":" + message), Path: "/admin",
		HTTPOnly: true, Secure: h.secure, SameSite: fiber.CookieSameSiteLaxMode, MaxAge: 60,
	})
}

// takeFlash reads the flash message and clears it.
func (h *Handlers) takeFlash(c *fiber.Ctx) views.Flash {
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return views.Flash{}
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Path: "/admin", HTTPOnly: true, Secure: h.secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(0, 0)})
	text, err := url.QueryUnescape(raw)
	if err != nil {
		return views.Flash{}
	}
	kind, message, _ := strings.Cut(text, ":")
	return views.Flash{Message: message, Error: kind == "error"}
}

// afterAction finishes a one-button action: back to the page it came from
// with a message, or with the model's reason when it was refused.
func (h *Handlers) afterAction(c *fiber.Ctx, err error, done, fallback string) error {
	if refusal, ok := views.ActionRefusal(err); ok {
		h.setFlash(c, refusal, true)
		return c.Redirect(returnPath(c, fallback), fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, done, false)
	return c.Redirect(returnPath(c, fallback), fiber.StatusSeeOther)
}

// validationFields is a validation error's messages, or nil for any other error.
func validationFields(err error) map[string]string {
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		return verr.Fields
	}
	return nil
}

// returnPath is the form's "return" field when it is an admin page, else fallback.
func returnPath(c *fiber.Ctx, fallback string) string {
	if next := safeNext(c.FormValue("return")); next != "/admin" {
		return strings.Clone(next)
	}
	return fallback
}

// pathID reads a numeric id from the path; anything else is not found.
func pathID(c *fiber.Ctx, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.ErrNotFound
	}
	return id, nil
}

// formText copies a form value out of Fiber's reused request memory.
func formText(c *fiber.Ctx, name string) string {
	return strings.Clone(c.FormValue(name))
}

// renderForm renders a page whose form came back with errors as 422.
func (h *Handlers) renderForm(c *fiber.Ctx, name string, data any, errs map[string]string) error {
	if len(errs) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return h.render(c, name, data)
}
