package handlers

import (
	"strings"

	"podium/models"
)

// This file holds the API's JSON shapes and their conversion to and from the
// models. Field names are snake_case; times are RFC 3339 in UTC.

// panelJSON is a panel with everything it holds.
type panelJSON struct {
	ID              int64          `json:"id"`
	Slug            string         `json:"slug"`
	Title           string         `json:"title"`
	Format          string         `json:"format"`
	Summary         string         `json:"summary"`
	Description     string         `json:"description"`
	LearningPoints  []string       `json:"learning_points"`
	Speakers        []speakerJSON  `json:"speakers"`
	OrganizerName   string         `json:"organizer_name"`
	OrganizerEmail  string         `json:"organizer_email"`
	Status          string         `json:"status"`
	Questions       []questionJSON `json:"questions"`
	ReminderMinutes []int          `json:"reminder_minutes"`
	FollowUps       followUpsJSON  `json:"follow_ups"`
	Sponsors        []sponsorJSON  `json:"sponsors"`
	// Who may register through the public form, and how.
	BlockedEmailDomains      []string `json:"blocked_email_domains"`
	AllowedEmailDomains      []string `json:"allowed_email_domains"`
	RequireEmailConfirmation bool     `json:"require_email_confirmation"`
	RequireApproval          bool     `json:"require_approval"`
	// RetentionDays is the panel's own retention; null takes the site's.
	RetentionDays *int          `json:"retention_days"`
	CreatedAt     string        `json:"created_at"`
	UpdatedAt     string        `json:"updated_at"`
	Sessions      []sessionJSON `json:"sessions"`
}

// followUpsJSON is a panel's follow-up settings; empty subjects and texts
// mean Podium's own wording.
type followUpsJSON struct {
	Enabled       bool   `json:"enabled"`
	DelayMinutes  int    `json:"delay_minutes"`
	ThanksSubject string `json:"thanks_subject"`
	ThanksText    string `json:"thanks_text"`
	MissedSubject string `json:"missed_subject"`
	MissedText    string `json:"missed_text"`
}

// panelSummaryJSON is a panel in a list, with its numbers.
type panelSummaryJSON struct {
	ID             int64        `json:"id"`
	Slug           string       `json:"slug"`
	Title          string       `json:"title"`
	Format         string       `json:"format"`
	Summary        string       `json:"summary"`
	Status         string       `json:"status"`
	OrganizerName  string       `json:"organizer_name"`
	OrganizerEmail string       `json:"organizer_email"`
	SessionCount   int          `json:"session_count"`
	Confirmed      int          `json:"confirmed"`
	Waitlisted     int          `json:"waitlisted"`
	NextSession    *sessionJSON `json:"next_session"`
	CreatedAt      string       `json:"created_at"`
	UpdatedAt      string       `json:"updated_at"`
}

// speakerJSON is a speaker, in and out.
type speakerJSON struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	Organisation string `json:"organisation"`
	Bio          string `json:"bio"`
}

// sponsorJSON is a panel's sponsor, in and out. In a PATCH, giving a
// sponsor's id keeps it (and the consents given to it); a sponsor left out
// is removed, its consents kept on record.
type sponsorJSON struct {
	ID         int64  `json:"id,omitempty"`
	Name       string `json:"name"`
	WebsiteURL string `json:"website_url"`
	PrivacyURL string `json:"privacy_url"`
	LogoURL    string `json:"logo_url"`
}

// questionJSON is a custom question, in and out. In a PATCH, giving a
// question's id keeps it (and its answers).
type questionJSON struct {
	ID       int64    `json:"id,omitempty"`
	Kind     string   `json:"kind"`
	Label    string   `json:"label"`
	Required bool     `json:"required"`
	Options  []string `json:"options"`
}

// sessionJSON is a session.
type sessionJSON struct {
	ID                   int64   `json:"id"`
	PanelID              int64   `json:"panel_id"`
	StartsAt             string  `json:"starts_at"`
	DurationMinutes      int     `json:"duration_minutes"`
	TimeZone             string  `json:"time_zone"`
	Capacity             int     `json:"capacity"`
	SeatsTaken           int     `json:"seats_taken"`
	Waitlist             bool    `json:"waitlist"`
	JoinURL              string  `json:"join_url"`
	Venue                string  `json:"venue"`
	RegistrationClosesAt *string `json:"registration_closes_at"`
	Status               string  `json:"status"`
	Sequence             int     `json:"sequence"`
	RecordingURL         string  `json:"recording_url"`
	OnDemandUntil        *string `json:"on_demand_until"`
	ZoomWebinarID        string  `json:"zoom_webinar_id"`
	FollowUpsQueuedAt    *string `json:"follow_ups_queued_at"`
	AttendanceImported   *string `json:"attendance_imported_at"`
}

// sessionChangeJSON is a session after a change, with the fan-out that
// tells its registrants, when one started.
type sessionChangeJSON struct {
	sessionJSON
	Fanout *fanoutJSON `json:"fanout,omitempty"`
}

// fanoutJSON is a fan-out of updated invites or cancellations.
type fanoutJSON struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Total  int    `json:"total"`
	Status string `json:"status"`
}

// registrationJSON is a registration.
type registrationJSON struct {
	ID           int64  `json:"id"`
	SessionID    int64  `json:"session_id"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	Organisation string `json:"organisation"`
	JobTitle     string `json:"job_title"`
	Status       string `json:"status"`
	CreatedAt    string `json:"created_at"`
	firstTouchJSON
	Attended bool `json:"attended"`
	// OnDemand is a registration for the replay, made after the session.
	OnDemand        bool         `json:"on_demand"`
	Attendance      string       `json:"attendance"`
	AttendedMinutes *int         `json:"attended_minutes"`
	JoinedAt        *string      `json:"joined_at"`
	WatchedAt       *string      `json:"watched_at"`
	Answers         []answerJSON `json:"answers"`
}

// firstTouchJSON is where a registrant came from, in and out: the utm_*
// tags of the page they signed up from, and its referrer.
type firstTouchJSON struct {
	UTMSource   string `json:"utm_source"`
	UTMMedium   string `json:"utm_medium"`
	UTMCampaign string `json:"utm_campaign"`
	UTMTerm     string `json:"utm_term"`
	UTMContent  string `json:"utm_content"`
	Referrer    string `json:"referrer"`
}

// answerJSON is an answer to a custom question: a string, or for a multiple
// choice question an array of the chosen options.
type answerJSON struct {
	QuestionID int64 `json:"question_id"`
	Value      any   `json:"value"`
}

// registrationListJSON is a page of a session's registrations with the
// session's counts, whatever the filter.
type registrationListJSON struct {
	listJSON[registrationJSON]
	Counts countsJSON `json:"counts"`
}

// countsJSON counts a session's registrations; seats_left is null when the
// capacity is unlimited.
type countsJSON struct {
	Confirmed  int  `json:"confirmed"`
	Waitlisted int  `json:"waitlisted"`
	Cancelled  int  `json:"cancelled"`
	Attended   int  `json:"attended"`
	SeatsLeft  *int `json:"seats_left"`
}

func toCountsJSON(t models.RegistrantTotals) countsJSON {
	out := countsJSON{Confirmed: t.Confirmed, Waitlisted: t.Waitlisted, Cancelled: t.Cancelled, Attended: t.Attended}
	if t.SeatsLeft >= 0 {
		out.SeatsLeft = &t.SeatsLeft
	}
	return out
}

// listJSON is one page of a list.
type listJSON[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](data []T, lastID int64) listJSON[T] {
	if data == nil {
		data = []T{}
	}
	l := listJSON[T]{Data: data}
	if cursor := encodeCursor(lastID); cursor != "" {
		l.NextCursor = &cursor
	}
	return l
}

// The API's instants are written as the webhook bodies' are.
var rfc3339, rfc3339Ptr = models.RFC3339, models.RFC3339Ptr

// toPanelJSON converts a panel with its parts.
func toPanelJSON(p *models.Panel) panelJSON {
	out := panelJSON{
		ID: p.ID, Slug: p.Slug, Title: p.Title, Format: p.Format, Summary: p.Summary, Description: p.Description,
		OrganizerName: p.OrganizerName, OrganizerEmail: p.OrganizerEmail, Status: string(p.Status),
		ReminderMinutes: append([]int{}, p.ReminderMinutes...),
		FollowUps: followUpsJSON{Enabled: p.FollowUps.Enabled, DelayMinutes: p.FollowUps.DelayMinutes,
			ThanksSubject: p.FollowUps.ThanksSubject, ThanksText: p.FollowUps.ThanksText,
			MissedSubject: p.FollowUps.MissedSubject, MissedText: p.FollowUps.MissedText},
		CreatedAt: rfc3339(p.CreatedAt), UpdatedAt: rfc3339(p.UpdatedAt),
		LearningPoints: make([]string, len(p.LearningPoints)), Speakers: make([]speakerJSON, len(p.Speakers)),
		Questions: make([]questionJSON, len(p.Questions)), Sessions: make([]sessionJSON, len(p.Sessions)),
		Sponsors: make([]sponsorJSON, len(p.Sponsors)), RetentionDays: p.RetentionDays,
		BlockedEmailDomains:      append([]string{}, p.BlockedEmailDomains...),
		AllowedEmailDomains:      append([]string{}, p.AllowedEmailDomains...),
		RequireEmailConfirmation: p.RequireEmailConfirmation, RequireApproval: p.RequireApproval,
	}
	for i, sp := range p.Sponsors {
		out.Sponsors[i] = sponsorJSON{ID: sp.ID, Name: sp.Name, WebsiteURL: sp.WebsiteURL, PrivacyURL: sp.PrivacyURL,
			LogoURL: sp.LogoURL}
	}
	for i, lp := range p.LearningPoints {
		out.LearningPoints[i] = lp.Text
	}
	for i, sp := range p.Speakers {
		out.Speakers[i] = speakerJSON{Name: sp.Name, Role: sp.Role, Organisation: sp.Organisation, Bio: sp.Bio}
	}
	for i, q := range p.Questions {
		out.Questions[i] = questionJSON{ID: q.ID, Kind: string(q.Kind), Label: q.Label, Required: q.Required,
			Options: append([]string{}, q.Options...)}
	}
	for i := range p.Sessions {
		out.Sessions[i] = toSessionJSON(&p.Sessions[i])
	}
	return out
}

func toPanelSummaryJSON(s *models.PanelSummary) panelSummaryJSON {
	p := &s.Panel
	out := panelSummaryJSON{
		ID: p.ID, Slug: p.Slug, Title: p.Title, Format: p.Format, Summary: p.Summary, Status: string(p.Status),
		OrganizerName: p.OrganizerName, OrganizerEmail: p.OrganizerEmail,
		SessionCount: s.Sessions, Confirmed: s.Confirmed, Waitlisted: s.Waitlisted,
		CreatedAt: rfc3339(p.CreatedAt), UpdatedAt: rfc3339(p.UpdatedAt),
	}
	if s.NextSession != nil {
		next := toSessionJSON(s.NextSession)
		out.NextSession = &next
	}
	return out
}

func toSessionJSON(s *models.Session) sessionJSON {
	return sessionJSON{
		ID: s.ID, PanelID: s.PanelID, StartsAt: rfc3339(s.StartsAt), DurationMinutes: s.DurationMinutes,
		TimeZone: s.TimeZone, Capacity: s.Capacity, SeatsTaken: s.SeatsTaken, Waitlist: s.Waitlist,
		JoinURL: s.JoinURL, Venue: s.Venue, RegistrationClosesAt: rfc3339Ptr(s.RegistrationClosesAt),
		Status: string(s.Status), Sequence: s.Sequence, RecordingURL: s.RecordingURL,
		OnDemandUntil:     rfc3339Ptr(s.OnDemandUntil),
		FollowUpsQueuedAt: rfc3339Ptr(s.FollowUpsQueuedAt), AttendanceImported: rfc3339Ptr(s.AttendanceImportedAt),
	}
}

func toSessionChangeJSON(res *models.SessionChangeResult) sessionChangeJSON {
	out := sessionChangeJSON{sessionJSON: toSessionJSON(&res.Session)}
	if f := res.Fanout; f != nil {
		out.Fanout = &fanoutJSON{ID: f.ID, Kind: string(f.Kind), Total: f.Total, Status: f.Status}
	}
	return out
}

// toRegistrationJSON converts a registration; kinds are the panel's question
// kinds by id, which say how each answer is shown.
func toRegistrationJSON(r *models.Registration, kinds map[int64]models.QuestionKind) registrationJSON {
	out := registrationJSON{
		ID: r.ID, SessionID: r.SessionID, Name: r.Name, Email: r.Email, Organisation: r.Organisation,
		JobTitle: r.JobTitle, Status: string(r.Status), CreatedAt: rfc3339(r.CreatedAt),
		firstTouchJSON: firstTouchJSON{UTMSource: r.Source, UTMMedium: r.Medium, UTMCampaign: r.Campaign,
			UTMTerm: r.Term, UTMContent: r.Content, Referrer: r.Referrer},
		Attended: r.Attendance == models.AttendanceAttended, OnDemand: r.OnDemand,
		Attendance: string(r.Attendance), AttendedMinutes: r.AttendedMinutes,
		JoinedAt: rfc3339Ptr(r.JoinedAt), WatchedAt: rfc3339Ptr(r.WatchedAt),
		Answers: make([]answerJSON, len(r.Answers)),
	}
	for i, a := range r.Answers {
		var value any = a.Value
		if kinds[a.QuestionID] == models.QuestionMultipleChoice {
			value = strings.Split(a.Value, "\n") // options never hold a line break
		}
		out.Answers[i] = answerJSON{QuestionID: a.QuestionID, Value: value}
	}
	return out
}

// questionKinds maps a panel's question ids to their kinds.
func questionKinds(p *models.Panel) map[int64]models.QuestionKind {
	kinds := make(map[int64]models.QuestionKind, len(p.Questions))
	for _, q := range p.Questions {
		kinds[q.ID] = q.Kind
	}
	return kinds
}
