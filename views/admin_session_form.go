package views

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// SessionInput is the session form as typed: the start and the registration
// closing time are a date and a clock time in the session's own zone.
type SessionInput struct {
	Date, Time, TimeZone   string
	Duration, Capacity     string
	Waitlist               bool
	JoinURL, Venue         string
	ClosesDate, ClosesTime string
	// RecordingURL is the replay; the on-demand date and time end its offer.
	RecordingURL               string
	OnDemandDate, OnDemandTime string
	ZoomWebinarID              string
	// DetectZone lets admin.js preselect the organizer\'s own zone on a
	// panel\'s first session.
	DetectZone bool
}

// Form layouts of the date and time inputs.
const (
	formDate = "2006-01-02"
	formTime = "15:04"
)

// NewSessionInput is the form filled with a stored session.
func NewSessionInput(s models.Session) SessionInput {
	loc := s.Location()
	start := s.StartsAt.In(loc)
	in := SessionInput{
		Date: start.Format(formDate), Time: start.Format(formTime), TimeZone: s.TimeZone,
		Duration: strconv.Itoa(s.DurationMinutes), Capacity: strconv.Itoa(s.Capacity), Waitlist: s.Waitlist,
		JoinURL: s.JoinURL, Venue: s.Venue,
	}
	if s.RegistrationClosesAt != nil {
		closes := s.RegistrationClosesAt.In(loc)
		in.ClosesDate, in.ClosesTime = closes.Format(formDate), closes.Format(formTime)
	}
	in.RecordingURL, in.ZoomWebinarID = s.RecordingURL, s.ZoomWebinarID
	if s.OnDemandUntil != nil {
		until := s.OnDemandUntil.In(loc)
		in.OnDemandDate, in.OnDemandTime = until.Format(formDate), until.Format(formTime)
	}
	return in
}

// DefaultSessionInput is a new session's form: an hour, 100 places with a
// waitlist, in the zone of the panel's last session (else London).
func DefaultSessionInput(p *models.Panel) SessionInput {
	in := SessionInput{Time: "15:00", TimeZone: "Europe/London", Duration: "60", Capacity: "100", Waitlist: true}
	if n := len(p.Sessions); n > 0 {
		in.TimeZone = p.Sessions[n-1].TimeZone
	} else {
		in.DetectZone = true
	}
	return in
}

// Update reads the form into a session change. Dates and times go through
// models.ParseLocalTime, so a time the clocks skip or repeat is refused;
// every message is keyed by the form's field names.
func (in SessionInput) Update() (models.SessionUpdate, error) {
	upd := models.SessionUpdate{
		TimeZone: strings.TrimSpace(in.TimeZone), Waitlist: in.Waitlist,
		JoinURL: strings.TrimSpace(in.JoinURL), Venue: strings.TrimSpace(in.Venue),
		RecordingURL: strings.TrimSpace(in.RecordingURL), ZoomWebinarID: strings.TrimSpace(in.ZoomWebinarID),
	}
	errs := map[string]string{}
	start, err := models.ParseLocalTime(in.Date, in.Time, in.TimeZone)
	addMessages(errs, err, "")
	upd.StartsAt = start
	if in.ClosesDate != "" || in.ClosesTime != "" {
		closes, err := models.ParseLocalTime(in.ClosesDate, in.ClosesTime, in.TimeZone)
		addMessages(errs, err, "closes_")
		upd.RegistrationClosesAt = &closes
	}
	if in.OnDemandDate != "" || in.OnDemandTime != "" {
		clock := in.OnDemandTime
		if clock == "" {
			clock = "23:59"
		}
		until, err := models.ParseLocalTime(in.OnDemandDate, clock, in.TimeZone)
		addMessages(errs, err, "on_demand_")
		upd.OnDemandUntil = &until
	}
	var ok bool
	if upd.DurationMinutes, ok = wholeNumber(in.Duration); !ok {
		errs["duration_minutes"] = "Enter the duration as a number of minutes, like 60."
	}
	if upd.Capacity, ok = wholeNumber(in.Capacity); !ok {
		errs["capacity"] = "Enter the number of places as a whole number, or 0 for no limit."
	}
	if len(errs) > 0 {
		return upd, &models.ValidationError{Fields: errs}
	}
	return upd, nil
}

// Session is the form as a new session.
func (in SessionInput) Session() (models.Session, error) {
	upd, err := in.Update()
	return models.Session{
		StartsAt: upd.StartsAt, DurationMinutes: upd.DurationMinutes, TimeZone: upd.TimeZone,
		Capacity: upd.Capacity, Waitlist: upd.Waitlist, JoinURL: upd.JoinURL, Venue: upd.Venue,
		RegistrationClosesAt: upd.RegistrationClosesAt, RecordingURL: upd.RecordingURL, OnDemandUntil: upd.OnDemandUntil,
		ZoomWebinarID: upd.ZoomWebinarID,
	}, err
}

// addMessages copies a validation error's messages, prefixing the date and
// time keys ("closes_date"); the zone is shared.
func addMessages(into map[string]string, err error, prefix string) {
	var verr *models.ValidationError
	if !errors.As(err, &verr) {
		return
	}
	for k, v := range verr.Fields {
		if k != "time_zone" {
			k = prefix + k
		}
		if _, seen := into[k]; !seen {
			into[k] = v
		}
	}
}

func wholeNumber(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

// SessionFormPage adds or edits a session.
type SessionFormPage struct {
	AdminPage
	Heading, Action, Submit, CSRFToken, CancelURL string
	Errors                                        []FieldError
	When                                          []Field
	Places                                        []Field
	Where                                         []Field
	Closes                                        []Field
	Recording                                     []Field
	ReplayUntil                                   []Field
}

// NewSessionFormPage builds the session form with what was typed.
func NewSessionFormPage(frame AdminPage, heading, action, submit, cancelURL string, in SessionInput, errs map[string]string, now time.Time) SessionFormPage {
	errs = sessionFormErrors(errs)
	page := SessionFormPage{AdminPage: frame, Heading: heading, Action: action, Submit: submit,
		CSRFToken: frame.CSRFToken, CancelURL: cancelURL}
	date := newField("date", "Date", "date", in.Date, errs)
	date.Required = true
	clock := newField("time", "Start time", "time", in.Time, errs)
	clock.Required, clock.Hint = true, "In the session's time zone, chosen below."
	zone := newField("time_zone", "Time zone", "select", "", errs)
	zone.Required, zone.Options, zone.Hint = true, zoneOptions(in.TimeZone, now), "Attendees see the time in this zone, and their own."
	if in.DetectZone {
		zone.Enhance = "zone"
	}
	duration := newField("duration_minutes", "Duration in minutes", "number", in.Duration, errs)
	duration.Required, duration.Min, duration.Max = true, "1", "1440"
	page.When = []Field{date, clock, zone, duration}

	capacity := newField("capacity", "Places", "number", in.Capacity, errs)
	capacity.Required, capacity.Min, capacity.Hint = true, "0", "0 means no limit. It cannot go below the places already taken."
	waitlist := newField("waitlist", "Open a waitlist when the session is full", "checkbox", "", errs)
	waitlist.Checked, waitlist.Hint = in.Waitlist, "When someone cancels, the first person waiting gets the place and an email."
	page.Places = []Field{capacity, waitlist}

	join := newField("join_url", "Join link", "url", in.JoinURL, errs)
	join.MaxLength, join.Hint = 2000, "For online sessions: the Zoom, Teams or Meet link, starting with https://. Only registrants see it."
	venue := newField("venue", "Venue", "textarea", in.Venue, errs)
	venue.Rows, venue.MaxLength, venue.Hint = 2, 500, "For in-person sessions: the address. Give a join link, a venue, or both."
	zoom := newField("zoom_webinar_id", "Zoom webinar ID", "text", in.ZoomWebinarID, errs)
	zoom.MaxLength, zoom.Hint = 20, "Optional: with Podium's Zoom app set up, Zoom's live join and leave events record attendance."
	page.Where = []Field{join, venue, zoom}

	closesDate := newField("closes_date", "Registration closes on", "date", in.ClosesDate, errs)
	closesDate.Hint = "Leave both empty to take registrations until the session starts."
	closesTime := newField("closes_time", "at", "time", in.ClosesTime, errs)
	page.Closes = []Field{closesDate, closesTime}

	recording := newField("recording_url", "Recording link", "url", in.RecordingURL, errs)
	recording.MaxLength, recording.Hint = 2000, "Once the session has ended, its page offers this recording on demand and keeps taking registrations for it. Starting with https://."
	untilDate := newField("on_demand_date", "Offer the replay until", "date", in.OnDemandDate, errs)
	untilDate.Hint = "Leave empty to offer it for as long as the link is here."
	untilTime := newField("on_demand_time", "at", "time", in.OnDemandTime, errs)
	page.Recording, page.ReplayUntil = []Field{recording}, []Field{untilDate, untilTime}

	page.Errors = ErrorSummary(errs, "date", "time", "time_zone", "duration_minutes", "capacity", "waitlist",
		"join_url", "venue", "zoom_webinar_id", "closes_date", "closes_time", "recording_url", "on_demand_date", "on_demand_time")
	page.AdminPage = page.AdminPage.WithErrors(page.Errors)
	return page
}

// sessionFormErrors files the model's messages under the form's fields: the
// start under its date, the closing time under its date.
func sessionFormErrors(errs map[string]string) map[string]string {
	out := make(map[string]string, len(errs))
	moves := map[string]string{"starts_at": "date", "registration_closes_at": "closes_date", "on_demand_until": "on_demand_date"}
	for k, v := range errs {
		if to, ok := moves[k]; ok {
			k = to
		}
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out
}
