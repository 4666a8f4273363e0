package views

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// AfterSession is the admin session page's "After the session" section:
// attendance, the recording, the report import and the follow-ups.
type AfterSession struct {
	Ended        bool
	Stats        []Stat
	RecordingURL string
	OnDemand     string // until when the replay is offered, or ""
	ImportAction string
	CSRFToken    string
	// FollowUps says whether they went out, or when they will.
	FollowUps     string
	SendFollowUps ActionForm
}

// NewAfterSession describes what happened after (or will happen after) s.
func NewAfterSession(p *models.Panel, s models.Session, stats models.AttendanceStats, csrfToken string, now time.Time) AfterSession {
	base := AdminSessionURL(p.ID, s.ID)
	a := AfterSession{
		Ended: s.Ended(now), RecordingURL: s.RecordingURL, ImportAction: base + "/attendance", CSRFToken: csrfToken,
		SendFollowUps: ActionForm{Action: base + "/follow-ups", CSRFToken: csrfToken, Label: "Send follow-ups now",
			Confirm: "Email every registrant who has not had a follow-up yet?"},
	}
	median := "–"
	if stats.MedianMinutes >= 0 {
		median = strconv.Itoa(stats.MedianMinutes) + " min"
	}
	a.Stats = []Stat{
		{Value: formatCount(stats.Registered), Label: "registered"},
		{Value: formatCount(stats.Attended) + " (" + strconv.Itoa(stats.Rate()) + "%)", Label: "attended", Class: "attended"},
		{Value: median, Label: "median time attended"},
		{Value: formatCount(stats.Absent), Label: "absent"},
		{Value: formatCount(stats.Watched), Label: "watched on demand"},
		{Value: formatCount(stats.OnDemandRegistered), Label: "registered for the replay"},
		{Value: formatCount(stats.Joined), Label: "used their join link"},
	}
	if s.OnDemandUntil != nil {
		a.OnDemand = s.OnDemandUntil.In(s.Location()).Format("2 January 2006")
	}
	switch {
	case s.FollowUpsQueuedAt != nil:
		a.FollowUps = "Follow-ups were sent on " + s.FollowUpsQueuedAt.In(s.Location()).Format("2 January 2006 at 3:04 PM") + "."
	case !p.FollowUps.Enabled:
		a.FollowUps = "Automatic follow-ups are off for this panel."
	default:
		a.FollowUps = "Follow-ups go out automatically " + formatLead(max(p.FollowUps.DelayMinutes, 1)) +
			" after the session ends, or as soon as an attendance report is imported."
	}
	return a
}

// AttendancePreview is the page that shows what an attendance report would
// do before it is applied.
type AttendancePreview struct {
	AdminPage
	Heading string
	Result  *models.AttendanceImport
	Stats   []Stat
	// Report is the report reduced to "email,minutes" lines of attendees,
	// sent back when the organizer applies it.
	Report            string
	Action, CancelURL string
	CSRFToken         string
}

// NewAttendancePreview builds the preview of an import.
func NewAttendancePreview(frame AdminPage, p *models.Panel, s models.Session, res *models.AttendanceImport, report *models.AttendanceReport) AttendancePreview {
	base := AdminSessionURL(p.ID, s.ID)
	page := AttendancePreview{AdminPage: frame, Heading: "Check the attendance report", Result: res,
		Action: base + "/attendance", CancelURL: base, CSRFToken: frame.CSRFToken, Report: plainReport(report)}
	page.Stats = []Stat{
		{Value: formatCount(res.Matched), Label: "people matched"},
		{Value: formatCount(res.Attended), Label: "will be marked attended", Class: "attended"},
		{Value: formatCount(res.Absent), Label: "will be marked absent"},
		{Value: formatCount(res.Unmatched), Label: "not registered (ignored)"},
	}
	return page
}

// plainReport writes a report's attendees as the plain "email,minutes" CSV
// the import reads; those the report says did not attend are left out
// (missing registrants are absent anyway).
func plainReport(r *models.AttendanceReport) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"email", "minutes"}) // a strings.Builder does not fail
	for _, a := range r.Attendees {
		if a.Attended {
			_ = w.Write([]string{a.Email, strconv.Itoa(a.Minutes)})
		}
	}
	w.Flush()
	return b.String()
}

// PageAdminAttendancePreview previews an attendance import.
const PageAdminAttendancePreview = "admin/attendance_preview"
