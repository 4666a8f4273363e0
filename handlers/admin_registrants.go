package handlers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// registrantQuery reads the list's search, status filter and cursor.
func registrantQuery(c *fiber.Ctx, panelID, sessionID int64) models.RegistrantQuery {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	return models.RegistrantQuery{
		PanelID: panelID, SessionID: sessionID, Before: before,
		Status: models.RegistrationStatus(strings.Clone(c.Query("status"))), Search: strings.Clone(c.Query("q")),
	}
}

// registrantList reads one page of registrants with their counts.
func (h *Handlers) registrantList(c *fiber.Ctx, q models.RegistrantQuery, base string, questions []models.Question) (views.RegistrantList, error) {
	list := views.RegistrantList{BaseURL: base, Query: q, Questions: questions, CSRFToken: csrfToken(c),
		ShowSession: q.SessionID == 0, Now: h.store.Now()}
	var err error
	if list.Page, list.Next, err = h.store.Registrants(c.UserContext(), q); err != nil {
		return list, err
	}
	list.Totals, err = h.store.RegistrantCounts(c.UserContext(), q.PanelID, q.SessionID)
	return list, err
}

// panelRegistrants lists everyone registered for any session of a panel.
func (h *Handlers) panelRegistrants(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	base := views.AdminPanelURL(p.ID) + "/registrants"
	list, err := h.registrantList(c, registrantQuery(c, p.ID, 0), base, p.Questions)
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, "Registrants of "+p.Title, views.SectionPanels)
	frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title}}
	return h.render(c, views.PageAdminRegistrants, views.NewRegistrantsPage(frame, "Registrants of "+p.Title, list))
}

// renderSessionPage renders a session's page; in and errs are the add
// form's values and messages after a failed submission.
func (h *Handlers) renderSessionPage(c *fiber.Ctx, p *models.Panel, s models.Session, in views.AddRegistrantInput, errs map[string]string) error {
	base := views.AdminSessionURL(p.ID, s.ID)
	list, err := h.registrantList(c, registrantQuery(c, 0, s.ID), base, p.Questions)
	if err != nil {
		return err
	}
	fanout, err := h.requestedFanout(c)
	if err != nil {
		return err
	}
	summary := views.NewSessionSummary(p, s, csrfToken(c), list.Now).WithProgress(fanout, s.ID, base)
	title := p.Title + ": " + summary.Session.ShortDate
	frame := h.adminFrame(c, title, views.SectionPanels)
	frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title}}
	page := views.NewRegistrantsPage(frame, p.Title, list)
	page.Summary = &summary
	if !summary.Cancelled {
		stats, err := h.store.SessionAttendance(c.UserContext(), s.ID)
		if err != nil {
			return err
		}
		after := views.NewAfterSession(p, s, stats, csrfToken(c), list.Now)
		page.After = &after
		page.Add = views.NewAddRegistrantForm(base+"/registrants", csrfToken(c), p, in, errs)
		page.AdminPage = page.AdminPage.WithErrors(page.Add.Errors)
	}
	return h.renderForm(c, views.PageAdminSession, page, errs)
}

// addRegistrant registers someone for a session as the organizer: the same
// rules and emails as the public form, also after registration has closed.
func (h *Handlers) addRegistrant(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	in := views.AddRegistrantInput{
		Name: formText(c, "name"), Email: formText(c, "email"), Organisation: formText(c, "organisation"),
		JobTitle: formText(c, "job_title"), Consent: c.FormValue("consent") != "", Answers: map[int64][]string{},
		Marketing: c.FormValue("marketing") != "", Sponsors: formSponsors(posted(c)),
	}
	for field, id := range views.QuestionIDs(p.Questions) {
		if values := formList(c, field); len(values) > 0 {
			in.Answers[id] = values
		}
	}
	res, err := h.store.AddRegistrationByOrganizer(c.UserContext(), s.ID, in.RegistrationInput(), models.ChannelAdmin)
	if errs := validationFields(err); errs != nil {
		return h.renderSessionPage(c, p, s, in, errs)
	}
	if err != nil {
		return h.afterAction(c, err, "", views.AdminSessionURL(p.ID, s.ID))
	}
	h.registered(res)
	h.log.Info("registration by organizer", "account", currentAccount(c).ID, "session", s.ID, "status", res.Registration.Status)
	h.setFlash(c, views.RegistrantAddedMessage(res), false)
	return c.Redirect(views.AdminSessionURL(p.ID, s.ID), fiber.StatusSeeOther)
}

// cancelRegistrant cancels a registration; a freed seat goes to the waitlist.
func (h *Handlers) cancelRegistrant(c *fiber.Ctx) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	res, err := h.store.CancelRegistration(c.UserContext(), id)
	done := "Registration cancelled; a cancellation email is on its way."
	if err == nil && res.Promoted != nil {
		done += " " + res.Promoted.Name + " got the place from the waitlist."
	}
	return h.afterEmailAction(c, err, done)
}

// promoteRegistrant gives a waitlisted registrant a place.
func (h *Handlers) promoteRegistrant(c *fiber.Ctx) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	_, err = h.store.PromoteRegistration(c.UserContext(), id)
	return h.afterEmailAction(c, err, "They have a place now, and an invite is on its way.")
}

// approveRegistrant approves a registration awaiting approval.
func (h *Handlers) approveRegistrant(c *fiber.Ctx) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	_, err = h.store.Approve(c.UserContext(), id)
	if err == nil {
		h.changed(true)
	}
	return h.afterAction(c, err, "Approved: they have been told by email.", "/admin")
}

// declineRegistrant declines a registration awaiting approval.
func (h *Handlers) declineRegistrant(c *fiber.Ctx) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	_, err = h.store.Decline(c.UserContext(), id)
	return h.afterEmailAction(c, err, "Declined: they have been told by email.")
}

// maxDecisions bounds the registrations one bulk decision covers.
const maxDecisions = 500

// decideRegistrants approves or declines the ticked registrations awaiting
// approval, each on its own, and says how many went through.
func (h *Handlers) decideRegistrants(c *fiber.Ctx) error {
	decide, done := h.store.Approve, "Approved"
	switch c.FormValue("decision") {
	case "approve":
	case "decline":
		decide, done = h.store.Decline, "Declined"
	default:
		return h.afterAction(c, &models.ValidationError{Fields: map[string]string{"decision": "Choose approve or decline."}}, "", "/admin")
	}
	ids := formList(c, "ids")
	if len(ids) == 0 || len(ids) > maxDecisions {
		return h.afterAction(c, &models.ValidationError{Fields: map[string]string{
			"ids": fmt.Sprintf("Tick between 1 and %d registrations awaiting approval.", maxDecisions)}}, "", "/admin")
	}
	var ok, failed int
	var reason string
	for _, raw := range ids {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			failed, reason = failed+1, "one of them is not a registration of Podium's."
			continue
		}
		_, err = decide(c.UserContext(), id)
		refusal, refused := views.ActionRefusal(err)
		switch {
		case err == nil:
			ok++
			continue
		case refused:
			reason = refusal
		case errors.Is(err, models.ErrNotFound):
			reason = "one of them is not a registration of Podium's."
		default:
			return err
		}
		failed++
	}
	if ok > 0 {
		h.changed(true)
	}
	message := fmt.Sprintf("%s %d; each person is told by email.", done, ok)
	switch {
	case ok == 0:
		message = fmt.Sprintf("None could be %s: %s", strings.ToLower(done), reason)
	case failed > 0:
		message += fmt.Sprintf(" %d could not be: %s", failed, reason)
	}
	h.setFlash(c, message, ok == 0)
	return c.Redirect(returnPath(c, "/admin"), fiber.StatusSeeOther)
}

// resendInvite sends the registrant's confirmation or waitlist notice again.
func (h *Handlers) resendInvite(c *fiber.Ctx) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	err = h.store.ResendInvite(c.UserContext(), id)
	return h.afterEmailAction(c, err, "Sent again, with a new link to their registration.")
}

// markAttended marks or clears attendance.
func (h *Handlers) markAttended(c *fiber.Ctx) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	attended := c.FormValue("value") != "no"
	err = h.store.SetAttended(c.UserContext(), id, attended)
	done := "Marked as attended."
	if !attended {
		done = "Attendance cleared."
	}
	return h.afterAction(c, err, done, "/admin")
}

// afterEmailAction finishes an action that may have queued email.
func (h *Handlers) afterEmailAction(c *fiber.Ctx, err error, done string) error {
	if err == nil {
		h.notify()
	}
	return h.afterAction(c, err, done, "/admin")
}
