package models

import (
	"strconv"
	"strings"
)

// The times an attendance report gives: a number of minutes, or for GoTo
// and Teams a written duration.

// plainNumber reads digits with at most one decimal point, and no more than
// ten characters, so nothing strconv also reads ("1e9", "NaN", "0x1p4")
// slips through.
func plainNumber(s string) (float64, bool) {
	if s == "" || len(s) > 10 || strings.Trim(s, "0123456789.") != "" || strings.Count(s, ".") > 1 || s == "." {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func minutesSeconds(s string) (float64, bool) {
	f, ok := plainNumber(s)
	return f * 60, ok
}

// durationSeconds reads "h:mm:ss", or numbers each followed by a unit:
// "58 minutes", "1 hour 5 minutes", "1 hr 5 min", "1h 2m 3s", "30s".
func durationSeconds(s string) (float64, bool) {
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		h, okH := plainNumber(parts[0])
		m, okM := plainNumber(parts[1])
		sec, okS := plainNumber(parts[2])
		return h*3600 + m*60 + sec, okH && okM && okS
	}
	fields := strings.Fields(strings.ToLower(strings.ReplaceAll(s, ",", " ")))
	total, read := 0.0, false
	for i := 0; i < len(fields); i++ {
		if fields[i] == "and" {
			continue
		}
		digits := strings.TrimRight(fields[i], "abcdefghijklmnopqrstuvwxyz")
		unit := fields[i][len(digits):]
		if unit == "" && i+1 < len(fields) {
			i++
			unit = fields[i]
		}
		n, okN := plainNumber(digits)
		per, okU := durationUnit(unit)
		if !okN || !okU {
			return 0, false
		}
		total, read = total+n*per, true
	}
	return total, read
}

// durationUnit is the seconds in a unit of a written duration.
func durationUnit(u string) (float64, bool) {
	switch u {
	case "h", "hr", "hrs", "hour", "hours":
		return 3600, true
	case "m", "min", "mins", "minute", "minutes":
		return 60, true
	case "s", "sec", "secs", "second", "seconds":
		return 1, true
	}
	return 0, false
}
