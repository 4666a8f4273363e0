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
	back := views.AdminSessionURL(p.ID, s.ID)
	data, err := uploadedReport(c)
	var report *models.AttendanceReport
	if err == nil {
		report, err = models.ParseAttendanceReport(data)
	}
	if err != nil {
		return h.afterAction(c, err, "", back)
	}
	apply := c.FormValue("apply") == "yes"
	res, err := h.store.ImportAttendance(c.UserContext(), s.ID, report, apply)
	if err != nil {
		return h.afterAction(c, err, "", back)
	}
	if !apply {
		frame := h.adminFrame(c, "Check the attendance report", views.SectionPanels)
		frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title},
			{URL: back, Text: "Session"}}
		return h.render(c, views.PageAdminAttendancePreview, views.NewAttendancePreview(frame, p, s, res, report))
	}
	h.log.Info("admin: attendance imported", "session", s.ID, "account", currentAccount(c).ID,
		"matched", res.Matched, "unmatched", res.Unmatched)
	h.sessionChanged()
	return h.afterAction(c, nil, "Attendance saved: "+strconv.Itoa(res.Attended)+" attended, "+strconv.Itoa(res.Absent)+" absent.", back)
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

// sendFollowUps answers the session page's "Send follow-ups now".
func (h *Handlers) sendFollowUps(c *fiber.Ctx) error {
	p, s, err := h.adminSession(c)
	if err != nil {
		return err
	}
	n, err := h.store.QueueFollowUps(c.UserContext(), s.ID)
	msg := "Every registrant has had a follow-up already."
	if err == nil {
		h.log.Info("admin: follow-ups queued", "session", s.ID, "account", currentAccount(c).ID, "count", n)
		h.sessionChanged()
		if n > 0 {
			msg = strconv.Itoa(n) + " follow-up emails are on their way."
		}
	}
	return h.afterAction(c, err, msg, views.AdminSessionURL(p.ID, s.ID))
}
