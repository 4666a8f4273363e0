package handlers

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// adminSession loads the panel and the session named in the path.
func (h *Handlers) adminSession(c *fiber.Ctx) (*models.Panel, models.Session, error) {
	p, err := h.adminPanel(c)
	if err != nil {
		return nil, models.Session{}, err
	}
	sid, err := pathID(c, "sid")
	if err != nil {
		return nil, models.Session{}, err
	}
	for _, s := range p.Sessions {
		if s.ID == sid {
			return p, s, nil
		}
	}
	return nil, models.Session{}, models.ErrNotFound
}

// sessionInput copies the session form out of the request.
func sessionInput(c *fiber.Ctx) views.SessionInput {
	return views.SessionInput{
		Date: formText(c, "date"), Time: formText(c, "time"), TimeZone: formText(c, "time_zone"),
		Duration: formText(c, "duration_minutes"), Capacity: formText(c, "capacity"),
		Waitlist: c.FormValue("waitlist") != "", JoinURL: formText(c, "join_url"), Venue: formText(c, "venue"),
		ClosesDate: formText(c, "closes_date"), ClosesTime: formText(c, "closes_time"),
		RecordingURL: formText(c, "recording_url"), ZoomWebinarID: formText(c, "zoom_webinar_id"),
		OnDemandDate: formText(c, "on_demand_date"), OnDemandTime: formText(c, "on_demand_time"),
	}
}

// renderSessionForm renders the add form (s nil) or the edit form of s.
func (h *Handlers) renderSessionForm(c *fiber.Ctx, p *models.Panel, s *models.Session, in views.SessionInput, errs map[string]string) error {
	heading, action, submit, back := "Add a session to "+p.Title, views.AdminPanelURL(p.ID)+"/sessions", "Add session", views.AdminPanelURL(p.ID)
	if s != nil {
		heading, action, submit = "Edit session", views.AdminSessionURL(p.ID, s.ID), "Save changes"
		back = action
	}
	frame := h.adminFrame(c, heading, views.SectionPanels)
	frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title}}
	page := views.NewSessionFormPage(frame, heading, action, submit, back, in, errs, h.store.Now())
	return h.renderForm(c, views.PageAdminSessionForm, page, errs)
}

// newSession shows the form that adds a session.
func (h *Handlers) newSession(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	return h.renderSessionForm(c, p, nil, views.DefaultSessionInput(p), nil)
}

// createSession adds a session to the panel.
func (h *Handlers) createSession(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	in := sessionInput(c)
	sess, err := in.Session()
	if err == nil {
		err = h.store.AddSession(c.UserContext(), p.ID, &sess)
	}
	if errs := validationFields(err); errs != nil {
		return h.renderSessionForm(c, p, nil, in, errs)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "Session added.", false)
	return c.Redirect(views.AdminSessionURL(p.ID, sess.ID), fiber.StatusSeeOther)
}

// editSession shows the session form filled in.
func (h *Handlers) editSession(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	return h.renderSessionForm(c, p, &s, views.NewSessionInput(s), nil)
}

// updateSession saves a session. A new time, join link or venue for a
// session with confirmed registrants is first confirmed ("N registrants will
// receive an updated invite"); the change then fans out through the outbox
// and the session page shows its progress.
func (h *Handlers) updateSession(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	in := sessionInput(c)
	upd, err := in.Update()
	if errs := validationFields(err); errs != nil || c.FormValue("confirm") == "edit" {
		return h.renderSessionForm(c, p, &s, in, errs)
	}
	if c.FormValue("confirm") != "yes" && s.Status == models.SessionScheduled {
		if changes := views.SessionChanges(s, upd, h.store.Now()); len(changes) > 0 {
			totals, err := h.store.RegistrantCounts(c.UserContext(), 0, s.ID)
			if err != nil {
				return err
			}
			if totals.Confirmed > 0 {
				frame := h.adminFrame(c, "Send updated invites?", views.SectionPanels)
				return h.render(c, views.PageAdminConfirm, views.NewRescheduleConfirmPage(frame, p, s, in, changes, totals.Confirmed))
			}
		}
	}
	res, err := h.store.UpdateSession(c.UserContext(), s.ID, upd)
	if errs := validationFields(err); errs != nil {
		return h.renderSessionForm(c, p, &s, in, errs)
	}
	if err != nil {
		return err
	}
	h.sessionChanged()
	h.setFlash(c, views.SessionSavedMessage(res), false)
	return c.Redirect(views.SessionPageURL(p.ID, s.ID, res.Fanout), fiber.StatusSeeOther)
}

// cancelSession cancels a session after a confirmation that says how many
// registrants will be told.
func (h *Handlers) cancelSession(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "yes" {
		totals, err := h.store.RegistrantCounts(c.UserContext(), 0, s.ID)
		if err != nil {
			return err
		}
		frame := h.adminFrame(c, "Cancel this session?", views.SectionPanels)
		return h.render(c, views.PageAdminConfirm, views.NewCancelConfirmPage(frame, p, s, totals.Confirmed+totals.Waitlisted, h.store.Now()))
	}
	res, err := h.store.CancelSession(c.UserContext(), s.ID)
	if err != nil {
		return err
	}
	h.sessionChanged()
	h.setFlash(c, "Session cancelled. Registrants are being told by email.", false)
	return c.Redirect(views.SessionPageURL(p.ID, s.ID, res.Fanout), fiber.StatusSeeOther)
}

// showAdminSession is a session's page: its details, the progress of a
// change being sent, and its registrants with the add form.
func (h *Handlers) showAdminSession(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	return h.renderSessionPage(c, p, s, views.AddRegistrantInput{}, nil)
}

// requestedFanout is the fan-out whose progress the page's query asks for;
// nil when it names none, or one that does not exist.
func (h *Handlers) requestedFanout(c *fiber.Ctx) (*models.Fanout, error) {
	id := int64(c.QueryInt("fanout"))
	if id <= 0 {
		return nil, nil
	}
	f, err := h.store.FanoutByID(c.UserContext(), id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	return f, err
}
