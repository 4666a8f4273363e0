package handlers

import (
	"io"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// importAttendance answers the session page's report upload: a first POST
// with the file shows what it would do; the preview's "Apply" sends the
// report back (reduced to email and minutes) and applies it.
func (h *Handlers) importAttendance(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	data, err := uploadedReport(c)
	var report *models.AttendanceReport
	if err == nil {
		report, err = models.ParseAttendanceReport(data)
	}
	if refused(err) {
		h.setFlash(c, refusalText(err), true)
		return c.Redirect(views.AdminSessionURL(p.ID, s.ID), fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	apply := c.FormValue("apply") == "yes"
	res, err := h.store.ImportAttendance(c.UserContext(), s.ID, report, apply)
	if refused(err) {
		h.setFlash(c, refusalText(err), true)
		return c.Redirect(views.AdminSessionURL(p.ID, s.ID), fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	if !apply {
		frame := h.adminFrame(c, "Check the attendance report", views.SectionPanels)
		frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title},
			{URL: views.AdminSessionURL(p.ID, s.ID), Text: "Session"}}
		return h.render(c, views.PageAdminAttendancePreview, views.NewAttendancePreview(frame, p, s, res, report))
	}
	h.log.Info("admin: attendance imported", "session", s.ID, "account", currentAccount(c).ID,
		"matched", res.Matched, "unmatched", res.Unmatched)
	h.sessionChanged()
	h.setFlash(c, "Attendance saved: "+strconv.Itoa(res.Attended)+" attended, "+strconv.Itoa(res.Absent)+" absent.", false)
	return c.Redirect(views.AdminSessionURL(p.ID, s.ID), fiber.StatusSeeOther)
}

// uploadedReport is the report's bytes: the uploaded file, or the preview's
// reduced copy.
func uploadedReport(c *fiber.Ctx) ([]byte, error) {
	if c.FormValue("apply") == "yes" {
		return []byte(c.FormValue("normalized")), nil
	}
	fh, err := c.FormFile("report")
	if err != nil {
		return nil, &models.ValidationError{Fields: map[string]string{"file": "Choose the attendance report file to upload."}}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, models.MaxAttendanceReport+1)) // the parser refuses the extra byte
}

// refused reports whether err is a refusal the organizer can act on, to be
// shown on the page, rather than a failure.
func refused(err error) bool {
	if err == nil {
		return false
	}
	code := models.AsError(err).Code
	return code != models.CodeInternal && code != models.CodeUnavailable
}

// refusalText is the one-line message of a refusal, for a flash.
func refusalText(err error) string {
	if fields := validationFields(err); fields != nil {
		for _, msg := range fields {
			return msg
		}
	}
	return models.AsError(err).ForOrganizer()
}

// sendFollowUps answers the session page's "Send follow-ups now".
func (h *Handlers) sendFollowUps(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	n, err := h.store.QueueFollowUps(c.UserContext(), s.ID)
	if refused(err) {
		h.setFlash(c, refusalText(err), true)
		return c.Redirect(views.AdminSessionURL(p.ID, s.ID), fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	h.log.Info("admin: follow-ups queued", "session", s.ID, "account", currentAccount(c).ID, "count", n)
	h.sessionChanged()
	msg := "Every registrant has had a follow-up already."
	if n > 0 {
		msg = strconv.Itoa(n) + " follow-up emails are on their way."
	}
	h.setFlash(c, msg, false)
	return c.Redirect(views.AdminSessionURL(p.ID, s.ID), fiber.StatusSeeOther)
}
