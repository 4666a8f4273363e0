package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseLocalTime reads a date ("2026-03-29", as an HTML date input sends it)
// and a clock time ("14:30" or "14:30:00") as a wall-clock time in the IANA
// zone, and returns the instant. Go's time.Date silently moves a time that
// falls in a daylight-saving gap and picks one of the two instants of a time
// that happens twice; an organizer must never get a session at a time they
// did not type, so both are refused with a message that says why. Messages
// are keyed "date", "time" and "time_zone".
func ParseLocalTime(date, clock, zone string) (time.Time, error) {
	v := &validator{}
	year, month, day, dateMsg := parseDate(strings.TrimSpace(date))
	v.check(dateMsg == "", "date", dateMsg)
	hour, minute, second, ok := parseClock(strings.TrimSpace(clock))
	v.check(ok, "time", "Enter the time as hours and minutes, like 14:30.")
	loc, err := loadZone(strings.TrimSpace(zone))
	v.check(err == nil, "time_zone", "Choose a time zone such as Europe/London.")
	if err := v.err(); err != nil {
		return time.Time{}, err
	}
	wall := time.Date(year, month, day, hour, minute, second, 0, time.UTC)
	instants := wallInstants(wall, loc)
	switch len(instants) {
	case 1:
		return instants[0], nil
	case 0:
		return time.Time{}, &ValidationError{Fields: map[string]string{"time": gapMessage(wall, loc)}}
	default:
		return time.Time{}, &ValidationError{Fields: map[string]string{"time": overlapMessage(wall, loc, instants)}}
	}
}

// parseDate reads YYYY-MM-DD and names an impossible day in words.
func parseDate(s string) (int, time.Month, int, string) {
	const format = "Enter the date as year, month and day, like 2026-12-03."
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) != 2 || len(parts[2]) != 2 {
		return 0, 0, 0, format
	}
	year, err1 := strconv.Atoi(parts[0])
	month, err2 := strconv.Atoi(parts[1])
	day, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || year < 1970 || year > 9999 {
		return 0, 0, 0, format
	}
	if month < 1 || month > 12 {
		return 0, 0, 0, "There is no month " + parts[1] + ". " + format
	}
	if last := daysIn(time.Month(month), year); day < 1 || day > last {
		return 0, 0, 0, fmt.Sprintf("%s %d has no day %d: it has %d days. Check the date.",
			time.Month(month), year, day, last)
	}
	return year, time.Month(month), day, ""
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseClock reads HH:MM or HH:MM:SS on a 24-hour clock.
func parseClock(s string) (hour, minute, second int, ok bool) {
	for _, layout := range []string{"15:04", "15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Hour(), t.Minute(), t.Second(), true
		}
	}
	return 0, 0, 0, false
}

// wallInstants lists the instants whose clock reading in loc is wall (given
// as if in UTC): none in a gap, two in an overlap. Offsets are taken from a
// day either side, which covers every real transition.
func wallInstants(wall time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	for _, probe := range []time.Time{wall.Add(-26 * time.Hour), wall, wall.Add(26 * time.Hour)} {
		_, offset := probe.In(loc).Zone()
		u := wall.Add(-time.Duration(offset) * time.Second)
		if !sameWall(u.In(loc), wall) {
			continue
		}
		seen := false
		for _, o := range out {
			seen = seen || o.Equal(u)
		}
		if !seen {
			out = append(out, u)
		}
	}
	if len(out) == 2 && out[1].Before(out[0]) {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

func sameWall(t, wall time.Time) bool {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := wall.Date()
	return y1 == y2 && m1 == m2 && d1 == d2 && t.Hour() == wall.Hour() && t.Minute() == wall.Minute() &&
		t.Second() == wall.Second()
}

// gapMessage explains a time the clocks skip: "the clocks go forward from
// 1:00 AM to 2:00 AM".
func gapMessage(wall time.Time, loc *time.Location) string {
	_, before := wall.Add(-26 * time.Hour).In(loc).Zone()
	// Read with the earlier offset, the wall time lands after the change.
	start, _ := wall.Add(-time.Duration(before) * time.Second).In(loc).ZoneBounds()
	from := start.In(time.FixedZone("", before))
	to := start.In(loc)
	return fmt.Sprintf("%s does not exist on %s in %s: the clocks go forward from %s to %s. Choose another time.",
		wall.Format("3:04 PM"), wall.Format("2 January 2006"), loc, from.Format("3:04 PM"), to.Format("3:04 PM"))
}

// overlapMessage explains a time that happens twice when the clocks go back:
// "the clocks go back from 2:00 AM to 1:00 AM".
func overlapMessage(wall time.Time, loc *time.Location, instants []time.Time) string {
	first, before := instants[0].In(loc).Zone()
	second, _ := instants[1].In(loc).Zone()
	change, _ := instants[1].In(loc).ZoneBounds()
	from := change.In(time.FixedZone("", before))
	to := change.In(loc)
	return fmt.Sprintf("%s happens twice on %s in %s: the clocks go back from %s to %s, so it is first %s, then %s. "+
		"Choose a time outside that change, or give the time in UTC.",
		wall.Format("3:04 PM"), wall.Format("2 January 2006"), loc, from.Format("3:04 PM"), to.Format("3:04 PM"),
		zoneLabel(first), zoneLabel(second))
}

// zoneLabel reads "+03" as "UTC+03".
func zoneLabel(abbr string) string {
	if strings.HasPrefix(abbr, "+") || strings.HasPrefix(abbr, "-") {
		return "UTC" + abbr
	}
	return abbr
}
