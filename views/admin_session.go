package views

import (
	"strconv"
	"time"

	"podium/models"
)

// Change is one detail of a session before and after an edit.
type Change struct {
	Label, Before, After string
}

// SessionChanges lists what registrants hold in their invite that the
// update changes: the time (start, duration or zone), the join link, the
// venue. Capacity, waitlist and closing time are not in the invite.
func SessionChanges(old models.Session, upd models.SessionUpdate, now time.Time) []Change {
	next := old
	next.StartsAt, next.DurationMinutes, next.TimeZone = upd.StartsAt, upd.DurationMinutes, upd.TimeZone
	var out []Change
	if !old.StartsAt.Equal(upd.StartsAt) || old.DurationMinutes != upd.DurationMinutes || old.TimeZone != upd.TimeZone {
		out = append(out, Change{Label: "Time", Before: sessionWhen(old, now), After: sessionWhen(next, now)})
	}
	if old.JoinURL != upd.JoinURL {
		out = append(out, Change{Label: "Join link", Before: orNone(old.JoinURL), After: orNone(upd.JoinURL)})
	}
	if old.Venue != upd.Venue {
		out = append(out, Change{Label: "Venue", Before: orNone(old.Venue), After: orNone(upd.Venue)})
	}
	return out
}

func sessionWhen(s models.Session, now time.Time) string {
	v := NewSessionView(s, now)
	return v.Date + ", " + v.Time + " – " + v.EndTime + " " + v.Zone + " (" + v.ZoneName + ")"
}

func orNone(s string) string {
	if s == "" {
		return "None"
	}
	return s
}

// ConfirmPage asks before a change that emails registrants.
type ConfirmPage struct {
	AdminPage
	Heading   string
	Message   string
	Changes   []Change
	Action    string
	CSRFToken string
	Hidden    []Hidden
	Confirm   string
	Danger    bool
	// Edit offers to go back to the form with what was typed.
	Edit    bool
	BackURL string
}

// Hidden is a hidden form field carried through a confirmation.
type Hidden struct{ Name, Value string }

// NewRescheduleConfirmPage asks before sending updated invites to confirmed
// registrants of a session.
func NewRescheduleConfirmPage(frame AdminPage, p *models.Panel, s models.Session, in SessionInput, changes []Change, confirmed int) ConfirmPage {
	page := ConfirmPage{
		AdminPage: frame, Heading: "Send updated invites?", Changes: changes,
		Message: plural(confirmed, "registrant", "registrants") + " will receive an updated invite. " +
			"Their calendar entry moves to the new details.",
		Action: AdminSessionURL(p.ID, s.ID), CSRFToken: frame.CSRFToken, Edit: true,
		Confirm: "Save and send " + plural(confirmed, "updated invite", "updated invites"),
		BackURL: AdminSessionURL(p.ID, s.ID),
	}
	if confirmed == 1 {
		page.Message = "1 registrant will receive an updated invite. Their calendar entry moves to the new details."
	}
	waitlist := ""
	if in.Waitlist {
		waitlist = "yes"
	}
	page.Hidden = []Hidden{
		{"date", in.Date}, {"time", in.Time}, {"time_zone", in.TimeZone}, {"duration_minutes", in.Duration},
		{"capacity", in.Capacity}, {"waitlist", waitlist}, {"join_url", in.JoinURL}, {"venue", in.Venue},
		{"closes_date", in.ClosesDate}, {"closes_time", in.ClosesTime}, {"recording_url", in.RecordingURL},
		{"on_demand_date", in.OnDemandDate}, {"on_demand_time", in.OnDemandTime}, {"zoom_webinar_id", in.ZoomWebinarID},
	}
	page.Crumbs = sessionCrumbs(p, s)
	return page
}

// NewCancelConfirmPage asks before cancelling a session, which emails every
// confirmed and waitlisted registrant.
func NewCancelConfirmPage(frame AdminPage, p *models.Panel, s models.Session, told int, now time.Time) ConfirmPage {
	message := "Nobody has registered yet, so no one will be emailed."
	if told > 0 {
		message = plural(told, "registrant", "registrants") + " (confirmed and waitlisted) will receive a cancellation, " +
			"and the session is removed from their calendars."
		if told == 1 {
			message = "1 registrant will receive a cancellation, and the session is removed from their calendar."
		}
	}
	page := ConfirmPage{
		AdminPage: frame, Heading: "Cancel this session?", Message: message + " This cannot be undone.",
		Changes: []Change{{Label: "Session", Before: sessionWhen(s, now), After: "Cancelled"}},
		Action:  AdminSessionURL(p.ID, s.ID) + "/cancel", CSRFToken: frame.CSRFToken,
		Confirm: "Cancel the session", Danger: true, BackURL: AdminSessionURL(p.ID, s.ID),
	}
	page.Crumbs = sessionCrumbs(p, s)
	return page
}

func sessionCrumbs(p *models.Panel, s models.Session) []Link {
	v := NewSessionView(s, time.Time{})
	return []Link{
		{URL: "/admin/panels", Text: "Panels"}, {URL: AdminPanelURL(p.ID), Text: p.Title},
		{URL: AdminSessionURL(p.ID, s.ID), Text: v.ShortDate + ", " + v.Time + " " + v.Zone},
	}
}

// FanoutProgress is how far telling registrants about a change has got.
type FanoutProgress struct {
	Label       string
	Done, Total int
	Running     bool
}

// NewFanoutProgress describes a fan-out for the session page.
func NewFanoutProgress(f *models.Fanout) *FanoutProgress {
	what := "Updated invites"
	if f.Kind == models.KindSessionCancelled {
		what = "Cancellations"
	}
	p := &FanoutProgress{Done: f.Enqueued, Total: f.Total, Running: f.Status == models.FanoutRunning}
	switch {
	case f.Total == 0:
		p.Label = "Nobody needed to be emailed about this change."
	case p.Running:
		p.Label = what + " queued for " + formatCount(f.Enqueued) + " of " + plural(f.Total, "registrant", "registrants") + "…"
	default:
		p.Label = what + " queued for all " + plural(f.Total, "registrant", "registrants") + ". They are sent from the email outbox."
	}
	return p
}

// SessionSummary is the top of a session's admin page.
type SessionSummary struct {
	Session   SessionView
	Places    string
	Closes    string
	Cancelled bool
	EditURL   string
	Cancel    ActionForm
	Progress  *FanoutProgress
	// ProgressURL reloads the page with the progress, for admin.js.
	ProgressURL string
}

// NewSessionSummary describes a session for its admin page.
func NewSessionSummary(p *models.Panel, s models.Session, csrfToken string, now time.Time) SessionSummary {
	v := NewSessionView(s, now)
	places := "No limit"
	if s.Capacity > 0 {
		places = formatCount(s.SeatsTaken) + " of " + plural(s.Capacity, "place", "places") + " taken"
	}
	if s.Waitlist {
		places += ", with a waitlist"
	} else {
		places += ", no waitlist"
	}
	closes := "When the session starts"
	if s.RegistrationClosesAt != nil {
		c := s.RegistrationClosesAt.In(s.Location())
		closes = c.Format("Monday 2 January 2006, 3:04 PM") + " " + zoneAbbreviation(c)
	}
	base := AdminSessionURL(p.ID, s.ID)
	return SessionSummary{
		Session: v, Places: places, Closes: closes, Cancelled: s.Status == models.SessionCancelled,
		EditURL: base + "/edit",
		Cancel:  ActionForm{Action: base + "/cancel", CSRFToken: csrfToken, Label: "Cancel this session…", Danger: true},
	}
}

// WithProgress adds a fan-out's progress when it belongs to the session.
func (s SessionSummary) WithProgress(f *models.Fanout, sessionID int64, pageURL string) SessionSummary {
	if f != nil && f.SessionID == sessionID {
		s.Progress = NewFanoutProgress(f)
		s.ProgressURL = pageURL + "?fanout=" + strconv.FormatInt(f.ID, 10)
	}
	return s
}

// SessionSavedMessage says what saving a session set in motion.
func SessionSavedMessage(res *models.SessionChangeResult) string {
	msg := "Changes saved."
	if f := res.Fanout; f != nil && f.Total > 0 {
		msg += " Updated invites are being sent to " + plural(f.Total, "registrant", "registrants") + "."
	}
	if n := len(res.Promoted); n > 0 {
		msg += " " + plural(n, "person", "people") + " got a place from the waitlist."
	}
	return msg
}

// SessionPageURL is a session's admin page, showing a fan-out's progress
// when one was started.
func SessionPageURL(panelID, sessionID int64, f *models.Fanout) string {
	u := AdminSessionURL(panelID, sessionID)
	if f != nil {
		u += "?fanout=" + strconv.FormatInt(f.ID, 10)
	}
	return u
}
