package handlers

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// sessionICS is one session as a download (METHOD:PUBLISH, no attendee).
func (h *Handlers) sessionICS(c *fiber.Ctx) error {
	panel, err := h.store.PublishedPanel(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	id, _ := strconv.ParseInt(c.Params("id"), 10, 64)
	for _, sess := range panel.Sessions {
		if sess.ID == id {
			sess.Panel = panel
			ev := views.PublicEvent(h.site, &sess, sess.UpdatedAt)
			return h.sendCalendar(c, "", []views.CalendarEvent{ev}, sess.UpdatedAt,
				fmt.Sprintf("attachment; filename=%q", panel.Slug+".ics"))
		}
	}
	return models.ErrNotFound
}

// registrationICS is the registrant's own entry, with the same UID as the
// emailed invite, so importing both never makes two entries.
func (h *Handlers) registrationICS(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, err := h.store.RegistrationByToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	if reg.Status != models.RegistrationConfirmed || reg.OnDemand {
		return h.renderMessage(c, fiber.StatusConflict, "No calendar entry",
			"Only a confirmed place has a calendar entry.")
	}
	links, err := h.store.LinksFor(c.UserContext(), reg)
	if err != nil {
		return err
	}
	var joinURL string
	if links.Join != "" {
		joinURL = h.site.URL(views.JoinURL(links.Join))
	}
	ev := views.RegistrationEvent(h.site, reg, h.site.URL(views.RegistrationURL(token)), joinURL, reg.Session.Sequence, reg.Session.UpdatedAt)
	ev.AttendeeName, ev.AttendeeEmail = "", "" // a download is PUBLISH: no attendee
	setPrivateHeaders(c)
	return h.sendCalendar(c, "", []views.CalendarEvent{ev}, reg.Session.UpdatedAt,
		fmt.Sprintf("attachment; filename=%q", reg.Session.Panel.Slug+".ics"))
}

// calendarFeed is a subscribable feed of every upcoming published session.
func (h *Handlers) calendarFeed(c *fiber.Ctx) error { return h.feed(c, "") }

// panelFeed is a subscribable feed of one panel's sessions.
func (h *Handlers) panelFeed(c *fiber.Ctx) error { return h.feed(c, strings.Clone(c.Params("slug"))) }

// feed sends the upcoming sessions of the published panel slug names, or of
// every panel when slug is empty, from the page cache.
func (h *Handlers) feed(c *fiber.Ctx, slug string) error {
	filename := "podium.ics"
	if slug != "" {
		filename = slug + ".ics"
	}
	body, modified, err := h.pages.getFeed("feed:"+slug, func() ([]byte, time.Time, error) {
		panelID, name := int64(0), "Podium events"
		if slug != "" {
			panel, err := h.store.PublishedPanel(c.UserContext(), slug)
			if err != nil {
				return nil, time.Time{}, err
			}
			panelID, name = panel.ID, panel.Title
		}
		sessions, err := h.store.UpcomingSessions(c.UserContext(), panelID)
		if err != nil {
			return nil, time.Time{}, err
		}
		events := make([]views.CalendarEvent, len(sessions))
		var modified time.Time
		for i := range sessions {
			events[i] = views.PublicEvent(h.site, &sessions[i], sessions[i].UpdatedAt)
			modified = latest(modified, sessions[i].UpdatedAt, sessions[i].Panel.UpdatedAt)
		}
		var buf bytes.Buffer
		err = views.WriteCalendar(&buf, views.MethodPublish, name, events)
		return buf.Bytes(), modified, err
	})
	if err != nil {
		return err
	}
	return h.sendCalendarBytes(c, body, modified, fmt.Sprintf("inline; filename=%q", filename))
}

// sendCalendar answers with a PUBLISH calendar of events.
func (h *Handlers) sendCalendar(c *fiber.Ctx, name string, events []views.CalendarEvent, modified time.Time, disposition string) error {
	var buf bytes.Buffer
	if err := views.WriteCalendar(&buf, views.MethodPublish, name, events); err != nil {
		return err
	}
	return h.sendCalendarBytes(c, buf.Bytes(), modified, disposition)
}

// sendCalendarBytes answers with a written calendar. The etag middleware on
// these routes answers If-None-Match; If-Modified-Since is answered here, so
// polling calendar clients cost a 304.
func (h *Handlers) sendCalendarBytes(c *fiber.Ctx, body []byte, modified time.Time, disposition string) error {
	if len(c.Response().Header.Peek(fiber.HeaderCacheControl)) == 0 {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	if !modified.IsZero() {
		modified = modified.UTC().Truncate(time.Second)
		c.Set(fiber.HeaderLastModified, modified.Format(http.TimeFormat))
		if since, err := http.ParseTime(c.Get(fiber.HeaderIfModifiedSince)); err == nil &&
			c.Get(fiber.HeaderIfNoneMatch) == "" && !modified.After(since) {
			return c.SendStatus(fiber.StatusNotModified)
		}
	}
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, disposition)
	return c.Send(body)
}

func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
