package views

import (
	"fmt"
	"strings"
	"time"

	"podium/models"
)

// SessionView is a session formatted for display in its own time zone.
type SessionView struct {
	ID        int64
	Date      string // "Friday 20 November 2026"
	ShortDate string // "20 November 2026"
	Time      string // "3:00 PM"
	EndTime   string // "4:00 PM"
	Zone      string // "GMT", or "UTC+03" where the zone has no abbreviation
	ZoneName  string // "Europe/London"
	StartISO  string // RFC 3339 in UTC, for <time datetime> and the local-time script
	EndISO    string
	Duration  string // "1 hour", "90 minutes"
	Online    bool
	JoinURL   string
	Venue     string
	// Status is one of open, waitlist, full, closed, cancelled, on_demand.
	Status      string
	StatusLabel string
	SeatsLeft   int // -1 when unlimited
	Open        bool
	// ICSURL is the session's public .ics download, where the page offers one.
	ICSURL string
}

// NewSessionView formats s for display at the instant now.
func NewSessionView(s models.Session, now time.Time) SessionView {
	loc := s.Location()
	start, end := s.StartsAt.In(loc), s.EndsAt().In(loc)
	avail := s.Availability(now)
	return SessionView{
		ID:          s.ID,
		Date:        start.Format("Monday 2 January 2006"),
		ShortDate:   start.Format("2 January 2006"),
		Time:        start.Format("3:04 PM"),
		EndTime:     end.Format("3:04 PM"),
		Zone:        zoneAbbreviation(start),
		ZoneName:    loc.String(),
		StartISO:    s.StartsAt.UTC().Format(time.RFC3339),
		EndISO:      s.EndsAt().UTC().Format(time.RFC3339),
		Duration:    formatDuration(s.DurationMinutes),
		Online:      s.Online(),
		JoinURL:     s.JoinURL,
		Venue:       s.Venue,
		Status:      string(avail),
		StatusLabel: availabilityLabel(avail, s.SeatsLeft()),
		SeatsLeft:   s.SeatsLeft(),
		Open:        avail.TakesRegistrations(),
	}
}

// NewSessionViews formats several sessions.
func NewSessionViews(sessions []models.Session, now time.Time) []SessionView {
	out := make([]SessionView, len(sessions))
	for i, s := range sessions {
		out[i] = NewSessionView(s, now)
	}
	return out
}

// zoneAbbreviation gives "GMT", "BST", "EST"; zones that Go knows only by
// offset ("+03") read better as "UTC+03".
func zoneAbbreviation(t time.Time) string {
	abbr := t.Format("MST")
	if strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		return "UTC" + abbr
	}
	return abbr
}

func formatDuration(minutes int) string {
	switch {
	case minutes == 60:
		return "1 hour"
	case minutes%60 == 0:
		return fmt.Sprintf("%d hours", minutes/60)
	default:
		return fmt.Sprintf("%d minutes", minutes)
	}
}

func availabilityLabel(a models.Availability, seatsLeft int) string {
	switch a {
	case models.AvailableSeats:
		switch {
		case seatsLeft < 0:
			return "Places available"
		case seatsLeft == 1:
			return "1 place left"
		default:
			return fmt.Sprintf("%d places left", seatsLeft)
		}
	case models.AvailableWaitlist:
		return "Fully booked – waitlist open"
	case models.AvailableNone:
		return "Fully booked"
	case models.AvailableCanceled:
		return "Cancelled"
	case models.AvailableOnDemand:
		return "Watch on demand"
	default:
		return "Registration closed"
	}
}
