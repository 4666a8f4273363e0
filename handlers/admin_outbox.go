package handlers

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/mailer"
	"podium/models"
	"podium/views"
)

// The outbox pages list every email Podium queued and show each as its
// recipient gets it (the mail viewer): HTML, invite and MIME source. Emails
// carry registrants' manage links, so these pages are for signed-in
// organizers only.

// listOutbox lists emails newest first, with the delivery counts.
func (h *Handlers) listOutbox(c *fiber.Ctx) error {
	ctx := c.UserContext()
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	msgs, err := h.store.RecentMessages(ctx, before, views.OutboxPageSize)
	if err != nil {
		return err
	}
	counts, err := h.store.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	rows := make([]views.OutboxRow, 0, len(msgs))
	for i := range msgs {
		email, err := h.emails.Render(h.site, &msgs[i], h.store.Now())
		if err != nil {
			return err
		}
		rows = append(rows, views.NewOutboxRow(&msgs[i], email, csrfToken(c)))
	}
	frame := h.adminFrame(c, "Emails", views.SectionOutbox)
	return h.render(c, views.PageAdminOutbox, views.NewOutboxPage(frame, views.NewOutboxHealth(counts), rows))
}

// mailMessage loads and renders the message named in the path.
func (h *Handlers) mailMessage(c *fiber.Ctx) (*models.OutboxMessage, views.Email, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, views.Email{}, err
	}
	msg, err := h.store.OutboxMessageByID(c.UserContext(), id)
	if err != nil {
		return nil, views.Email{}, err
	}
	email, err := h.emails.Render(h.site, msg, h.store.Now())
	return msg, email, err
}

// showMail shows one email's headers and plain text, with links to the rest.
func (h *Handlers) showMail(c *fiber.Ctx) error {
	msg, email, err := h.mailMessage(c)
	if err != nil {
		return err
	}
	setPrivateHeaders(c)
	frame := h.adminFrame(c, email.Subject, views.SectionOutbox)
	return h.render(c, views.PageAdminMail, views.NewMailPage(frame, views.NewOutboxRow(msg, email, csrfToken(c)), email))
}

// mailHTML serves the HTML body in a sandbox, so its markup cannot act on
// this site.
func (h *Handlers) mailHTML(c *fiber.Ctx) error {
	_, email, err := h.mailMessage(c)
	if err != nil {
		return err
	}
	setPrivateHeaders(c)
	c.Set(fiber.HeaderContentSecurityPolicy, "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(email.HTML)
}

// mailInvite downloads the email's calendar invite.
func (h *Handlers) mailInvite(c *fiber.Ctx) error {
	_, email, err := h.mailMessage(c)
	if err != nil {
		return err
	}
	if len(email.Calendar) == 0 {
		return models.ErrNotFound
	}
	setPrivateHeaders(c)
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8; method="+string(email.CalendarMethod))
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="invite.ics"`)
	return c.Send(email.Calendar)
}

// mailSource is the whole MIME message, as the SMTP server would receive it.
func (h *Handlers) mailSource(c *fiber.Ctx) error {
	msg, email, err := h.mailMessage(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := mailer.WriteTo(&buf, mailer.Compose(h.site, msg, email)); err != nil {
		return err
	}
	setPrivateHeaders(c)
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Send(buf.Bytes())
}

// resendMessage queues a failed email again.
func (h *Handlers) resendMessage(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := h.store.ResendMessage(c.UserContext(), id); err != nil {
		return err
	}
	h.notify()
	h.setFlash(c, "The email is queued to be sent again.", false)
	return c.Redirect(returnPath(c, "/admin/outbox"), fiber.StatusSeeOther)
}
