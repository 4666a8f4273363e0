package models

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLocalTime_ReadsTheWallClockInTheZone(t *testing.T) {
	cases := []struct {
		date, clock, zone string
		want              time.Time
	}{
		{"2026-12-03", "15:00", "Europe/London", time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)},
		{"2026-07-03", "15:00", "Europe/London", time.Date(2026, 7, 3, 14, 0, 0, 0, time.UTC)},
		{"2026-12-03", "09:30:15", "America/New_York", time.Date(2026, 12, 3, 14, 30, 15, 0, time.UTC)},
		{"2026-12-03", "00:00", "Asia/Kolkata", time.Date(2026, 12, 2, 18, 30, 0, 0, time.UTC)},
		{"2028-02-29", "12:00", "UTC", time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)},
		// Just either side of the London gap and overlap.
		{"2026-03-29", "00:59", "Europe/London", time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC)},
		{"2026-03-29", "02:00", "Europe/London", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{"2026-10-25", "00:59", "Europe/London", time.Date(2026, 10, 24, 23, 59, 0, 0, time.UTC)},
		{"2026-10-25", "02:00", "Europe/London", time.Date(2026, 10, 25, 2, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		got, err := ParseLocalTime(tc.date, tc.clock, tc.zone)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseLocalTime(%q, %q, %q) = %v, %v; want %v", tc.date, tc.clock, tc.zone, got, err, tc.want)
		}
	}
}

func TestParseLocalTime_RefusesWhatCannotBeMeant(t *testing.T) {
	cases := []struct {
		name, date, clock, zone string
		field, message          string
	}{
		{"30 February", "2026-02-30", "10:00", "UTC", "date", "February 2026 has no day 30"},
		{"29 February in a common year", "2027-02-29", "10:00", "UTC", "date", "February 2027 has no day 29"},
		{"month 13", "2026-13-01", "10:00", "UTC", "date", "no month 13"},
		{"not a date", "3/12/2026", "10:00", "UTC", "date", "like 2026-12-03"},
		{"empty date", "", "10:00", "UTC", "date", "like 2026-12-03"},
		{"25 o'clock", "2026-12-03", "25:00", "UTC", "time", "like 14:30"},
		{"empty time", "2026-12-03", "", "UTC", "time", "like 14:30"},
		{"no zone", "2026-12-03", "10:00", "", "time_zone", "Europe/London"},
		{"server zone", "2026-12-03", "10:00", "Local", "time_zone", "Europe/London"},
		{"unknown zone", "2026-12-03", "10:00", "Mars/Olympus", "time_zone", "Europe/London"},
		{"London gap", "2026-03-29", "01:30", "Europe/London", "time",
			"1:30 AM does not exist on 29 March 2026 in Europe/London: the clocks go forward from 1:00 AM to 2:00 AM"},
		{"New York gap", "2026-03-08", "02:15", "America/New_York", "time",
			"the clocks go forward from 2:00 AM to 3:00 AM"},
		{"London overlap", "2026-10-25", "01:30", "Europe/London", "time",
			"1:30 AM happens twice on 25 October 2026 in Europe/London: the clocks go back from 2:00 AM to 1:00 AM, so it is first BST, then GMT"},
		{"Lord Howe half-hour overlap", "2026-04-05", "01:45", "Australia/Lord_Howe", "time", "happens twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLocalTime(tc.date, tc.clock, tc.zone)
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("err = %v; want a ValidationError", err)
			}
			if msg := verr.Fields[tc.field]; !strings.Contains(msg, tc.message) {
				t.Fatalf("message for %s = %q; want it to contain %q (all: %v)", tc.field, msg, tc.message, verr.Fields)
			}
		})
	}
}

func TestParseLocalTime_ReportsEveryBadFieldAtOnce(t *testing.T) {
	_, err := ParseLocalTime("2026-02-31", "noon", "Nowhere/Else")
	var verr *ValidationError
	if !errors.As(err, &verr) || len(verr.Fields) != 3 {
		t.Fatalf("err = %v; want messages for date, time and time_zone", err)
	}
}

func TestLoadZone_OnlyIANANames(t *testing.T) {
	for _, name := range []string{"Europe/London", "America/Argentina/Buenos_Aires", "Etc/GMT+2", "UTC", "Asia/Tokyo"} {
		if _, err := loadZone(name); err != nil {
			t.Errorf("loadZone(%q) = %v; want the zone", name, err)
		}
	}
	for _, name := range []string{"", "Local", "UTC+2", "../../etc/passwd", "/etc/localtime", "Europe//London",
		"Europe/London/", "Europe/../Europe/London", " Europe/London", "Mars/Olympus"} {
		if _, err := loadZone(name); err == nil {
			t.Errorf("loadZone(%q) accepted it", name)
		}
	}
	first, _ := loadZone("Europe/Paris")
	again, _ := loadZone("Europe/Paris")
	if first != again {
		t.Error("a zone loaded twice was read from disk twice")
	}
}
