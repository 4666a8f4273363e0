package handlers

import (
	"bytes"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/mailer"
	"podium/models"
	"podium/views"
)

// The mail viewer shows every outbox message as its recipient would get it.
// It exists so the whole flow works on a machine without a mail server; it
// shows manage links, so it is only routed in development mode.

func (h *Handlers) listMail(c *fiber.Ctx) error {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	msgs, err := h.store.RecentMessages(c.UserContext(), before, 50)
	if err != nil {
		return err
	}
	counts, err := h.store.OutboxCounts(c.UserContext())
	if err != nil {
		return err
	}
	page := views.MailListPage{Page: views.Page{Title: "Mail viewer", NoIndex: true}, Counts: map[string]int{}}
	for status, n := range counts {
		page.Counts[string(status)] = n
	}
	for i := range msgs {
		email, err := h.emails.Render(h.site, &msgs[i], h.store.Now())
		if err != nil {
			return err
		}
		page.Messages = append(page.Messages, views.NewMailSummary(&msgs[i], email))
	}
	if len(msgs) == 50 {
		page.OlderURL = "/dev/mail?before=" + strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
	}
	setPrivateHeaders(c)
	return c.Render(views.PageMailList, page)
}

// mailMessage loads and renders the message named in the path.
func (h *Handlers) mailMessage(c *fiber.Ctx) (*models.OutboxMessage, views.Email, error) {
	id, _ := strconv.ParseInt(c.Params("id"), 10, 64)
	msg, err := h.store.OutboxMessageByID(c.UserContext(), id)
	if err != nil {
		return nil, views.Email{}, err
	}
	email, err := h.emails.Render(h.site, msg, h.store.Now())
	return msg, email, err
}

func (h *Handlers) showMail(c *fiber.Ctx) error {
	msg, email, err := h.mailMessage(c)
	if err != nil {
		return err
	}
	setPrivateHeaders(c)
	return c.Render(views.PageMailMessage, views.MailMessagePage{
		Page:    views.Page{Title: email.Subject, NoIndex: true},
		Summary: views.NewMailSummary(msg, email), Text: email.Text, HasCalendar: len(email.Calendar) > 0,
	})
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
