package models

import (
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// SessionStatus says whether a session will take place.
type SessionStatus string

// Session statuses.
const (
	SessionScheduled SessionStatus = "scheduled"
	SessionCancelled SessionStatus = "cancelled"
)

// Limits on a session's fields.
const (
	maxSessionDuration = 24 * time.Hour
	// MaxCapacity is the largest capacity a session may have.
	MaxCapacity = 1_000_000
)

// A session starts in the years the session form takes (1970 to 9999) and,
// however long it lasts, ends before iCalendar's four-digit years run out.
var (
	earliestStart = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	latestStart   = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Add(-time.Second)
)

// Session is one scheduled occurrence of a panel.
type Session struct {
	ID              int64
	PanelID         int64
	Panel           *Panel
	StartsAt        time.Time // stored in UTC
	DurationMinutes int
	TimeZone        string // IANA name, for display
	Capacity        int    // 0 means unlimited
	SeatsTaken      int    // confirmed registrations, kept by Register and Cancel
	Waitlist        bool
	JoinURL         string // https only; shown to registrants only
	Venue           string
	// RegistrationClosesAt defaults to the start when nil.
	RegistrationClosesAt *time.Time
	Status               SessionStatus
	// Sequence rises whenever the time or place changes, for calendar updates.
	Sequence int
	// RecordingURL is the replay (https), offered once the session has ended.
	RecordingURL string
	// OnDemandUntil ends the replay's offer; nil means for as long as there
	// is a recording.
	OnDemandUntil *time.Time
	// AttendanceImportedAt is when an attendance report was last applied.
	AttendanceImportedAt *time.Time
	// ZoomWebinarID is the Zoom webinar (or meeting) the session runs on,
	// digits only, to match Zoom's live participant events; "" when none.
	ZoomWebinarID string
	// FollowUpsQueuedAt is when the follow-up emails were queued; nil until then.
	FollowUpsQueuedAt *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Availability is what a session offers a would-be registrant right now.
type Availability string

// Availabilities, from the attendee's point of view.
const (
	AvailableSeats    Availability = "open"
	AvailableWaitlist Availability = "waitlist"
	AvailableNone     Availability = "full"
	AvailableClosed   Availability = "closed"
	AvailableCanceled Availability = "cancelled"
	// AvailableOnDemand is an ended session whose recording takes
	// registrations for the replay.
	AvailableOnDemand Availability = "on_demand"
)

// TakesRegistrations reports whether a sign-up can succeed (with a seat or on
// the waitlist).
func (a Availability) TakesRegistrations() bool {
	return a == AvailableSeats || a == AvailableWaitlist || a == AvailableOnDemand
}

// EndsAt is the session's end.
func (s Session) EndsAt() time.Time {
	return s.StartsAt.Add(time.Duration(s.DurationMinutes) * time.Minute)
}

// ClosesAt is when registration closes.
func (s Session) ClosesAt() time.Time {
	if s.RegistrationClosesAt != nil {
		return *s.RegistrationClosesAt
	}
	return s.StartsAt
}

// Location is the session's display time zone (UTC if it cannot be loaded).
func (s Session) Location() *time.Location {
	if loc, err := loadZone(s.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// SeatsLeft is the number of free seats, or -1 when capacity is unlimited.
func (s Session) SeatsLeft() int {
	if s.Capacity == 0 {
		return -1
	}
	return max(s.Capacity-s.SeatsTaken, 0)
}

// Online reports whether the session has a join link.
func (s Session) Online() bool { return s.JoinURL != "" }

// Ended reports whether the session is over at now.
func (s Session) Ended(now time.Time) bool { return !now.Before(s.EndsAt()) }

// OnDemand reports whether the session's replay is offered at now: it has
// ended, has a recording, and the offer has not run out.
func (s Session) OnDemand(now time.Time) bool {
	return s.Status == SessionScheduled && s.RecordingURL != "" && s.Ended(now) &&
		(s.OnDemandUntil == nil || now.Before(*s.OnDemandUntil))
}

// Availability says whether the session takes registrations at now.
func (s Session) Availability(now time.Time) Availability {
	switch {
	case s.Status == SessionCancelled:
		return AvailableCanceled
	case s.OnDemand(now):
		return AvailableOnDemand
	case !now.Before(s.ClosesAt()):
		return AvailableClosed
	case s.SeatsLeft() != 0:
		return AvailableSeats
	case s.Waitlist:
		return AvailableWaitlist
	default:
		return AvailableNone
	}
}

// loadZone accepts IANA zone names only: Go's LoadLocation also takes ""
// and "Local", which mean the server's zone, and file-like paths. Zones are
// kept once loaded: LoadLocation reads and parses a file each time (about
// 20 µs), and every page, email and calendar event asks for its zone.
func loadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "Local" || !zoneName.MatchString(name) {
		return nil, errBadZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	// Only zones that loaded are kept, so the map holds at most the time
	// zone database's few hundred names whatever is asked.
	zones.Store(name, loc)
	return loc, nil
}

var (
	// zones holds the time zones loaded so far, by name.
	zones sync.Map
	// zoneName is the shape of an IANA name ("Europe/London", "Etc/GMT+2"):
	// no empty, "..", absolute or doubled-slash paths, which LoadLocation
	// would otherwise open as files.
	zoneName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`)
)

// zoomID is a Zoom webinar or meeting ID once its spaces are gone, or "".
var zoomID = regexp.MustCompile(`^([0-9]{9,12})?$`)

var errBadZone = &ValidationError{Fields: map[string]string{"time_zone": "Choose a time zone such as Europe/London."}}

// normalise stores times in UTC, truncated to the second.
func (s *Session) normalise() {
	s.StartsAt = s.StartsAt.UTC().Truncate(time.Second)
	if s.RegistrationClosesAt != nil {
		c := s.RegistrationClosesAt.UTC().Truncate(time.Second)
		s.RegistrationClosesAt = &c
	}
	if s.OnDemandUntil != nil {
		u := s.OnDemandUntil.UTC().Truncate(time.Second)
		s.OnDemandUntil = &u
	}
	if s.Status == "" {
		s.Status = SessionScheduled
	}
	s.ZoomWebinarID = strings.Join(strings.Fields(s.ZoomWebinarID), "")
}

// validationMessages checks a session's fields, keyed by API field name.
func (s *Session) validationMessages() map[string]string {
	v := &validator{}
	v.check(!s.StartsAt.IsZero(), "starts_at", "Enter the start date and time.")
	v.check(!s.StartsAt.Before(earliestStart) && !s.StartsAt.After(latestStart), "starts_at",
		"Enter a start from 1970 to 30 December 9999.")
	// Compared in minutes: a huge number of minutes overflows a Duration.
	v.check(s.DurationMinutes > 0 && s.DurationMinutes <= int(maxSessionDuration/time.Minute),
		"duration_minutes", "Enter a duration between 1 minute and 24 hours.")
	_, err := loadZone(s.TimeZone)
	v.check(err == nil, "time_zone", "Choose a time zone such as Europe/London.")
	v.check(s.Capacity >= 0 && s.Capacity <= MaxCapacity, "capacity",
		"Enter a capacity from 0 (unlimited) to 1,000,000.")
	v.check(s.JoinURL == "" || validJoinURL(s.JoinURL), "join_url", "Enter a join link starting with https://.")
	v.check(s.RecordingURL == "" || validJoinURL(s.RecordingURL), "recording_url",
		"Enter a recording link starting with https://.")
	v.check(zoomID.MatchString(s.ZoomWebinarID), "zoom_webinar_id",
		"Enter the Zoom webinar ID: its 9 to 12 digits, as Zoom shows them.")
	v.check(s.OnDemandUntil == nil || s.OnDemandUntil.After(s.EndsAt()), "on_demand_until",
		"Offer the replay until a time after the session ends.")
	v.check(s.OnDemandUntil == nil || !s.OnDemandUntil.After(latestStart), "on_demand_until",
		"Enter a date before the year 9999.")
	v.check(len(s.Venue) <= 500 && isPlainText(s.Venue), "venue",
		"Keep the venue under 500 characters, without control characters.")
	v.check(s.JoinURL != "" || strings.TrimSpace(s.Venue) != "", "join_url", "Give a join link or a venue.")
	v.check(s.RegistrationClosesAt == nil || !s.RegistrationClosesAt.Before(earliestStart),
		"registration_closes_at", "Enter a closing time after 1970.")
	v.check(s.RegistrationClosesAt == nil || !s.RegistrationClosesAt.After(s.EndsAt()),
		"registration_closes_at", "Registration must close before the session ends.")
	v.check(s.Status == "" || s.Status == SessionScheduled || s.Status == SessionCancelled,
		"status", "Choose scheduled or cancelled.")
	return v.fields
}

func validJoinURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && len(raw) <= 2000 &&
		!strings.ContainsAny(raw, " \t\r\n\"'<>") && isPlainLine(raw)
}
