package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// Every page must render from its zero value, so a missing field can never
// turn into a 500 at request time.
func TestPages_RenderFromZeroValues(t *testing.T) {
	engine, err := NewEngine(func(name string) string { return "/public/" + name })
	if err != nil {
		t.Fatal(err)
	}
	reg := &models.Registration{Session: &models.Session{Panel: &models.Panel{}}}
	pages := map[string]any{
		PageIndex:        IndexPage{},
		PagePanel:        PanelPage{Panel: &models.Panel{}},
		PageRegistration: NewRegistrationPage(Site{}, reg, "", models.RegistrationLinks{}, "", time.Time{}),
		PageMessage:      MessagePage{},
	}
	for name, data := range pages {
		var buf bytes.Buffer
		if err := engine.Render(&buf, name, data); err != nil {
			t.Errorf("render %s: %v", name, err)
		}
		if !strings.Contains(buf.String(), "</html>") {
			t.Errorf("render %s: incomplete page", name)
		}
	}
}

func TestNewSessionView_FormatsInTheSessionsZone(t *testing.T) {
	cases := []struct {
		zone, date, time, abbr string
	}{
		{"Europe/London", "Friday 20 November 2026", "3:00 PM", "GMT"},
		{"America/New_York", "Friday 20 November 2026", "10:00 AM", "EST"},
		{"Asia/Dubai", "Friday 20 November 2026", "7:00 PM", "UTC+04"},
		{"Pacific/Auckland", "Saturday 21 November 2026", "4:00 AM", "NZDT"},
	}
	for _, tc := range cases {
		s := models.Session{StartsAt: time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC), DurationMinutes: 90, TimeZone: tc.zone}
		v := NewSessionView(s, time.Time{})
		if v.Date != tc.date || v.Time != tc.time || v.Zone != tc.abbr || v.Duration != "90 minutes" ||
			v.StartISO != "2026-11-20T15:00:00Z" {
			t.Errorf("%s: %+v", tc.zone, v)
		}
	}
}

func TestNewSessionView_SaysWhatTheSessionOffers(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	base := models.Session{StartsAt: now.Add(time.Hour), DurationMinutes: 60, TimeZone: "UTC", Status: models.SessionScheduled}
	cases := []struct {
		edit  func(*models.Session)
		label string
		open  bool
	}{
		{func(s *models.Session) { s.Capacity = 0 }, "Places available", true},
		{func(s *models.Session) { s.Capacity = 5; s.SeatsTaken = 4 }, "1 place left", true},
		{func(s *models.Session) { s.Capacity = 5; s.SeatsTaken = 5; s.Waitlist = true }, "Fully booked – waitlist open", true},
		{func(s *models.Session) { s.Capacity = 5; s.SeatsTaken = 5 }, "Fully booked", false},
		{func(s *models.Session) { s.StartsAt = now }, "Registration closed", false},
		{func(s *models.Session) { s.Status = models.SessionCancelled }, "Cancelled", false},
	}
	for _, tc := range cases {
		s := base
		tc.edit(&s)
		if v := NewSessionView(s, now); v.StatusLabel != tc.label || v.Open != tc.open {
			t.Errorf("got %q open=%v; want %q open=%v", v.StatusLabel, v.Open, tc.label, tc.open)
		}
	}
}
