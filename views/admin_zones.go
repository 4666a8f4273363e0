package views

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// pickerZones are the IANA zones the session form offers: every inhabited
// offset, with the cities organizers most often mean. A session stored with
// another zone (through the API) keeps it: the picker adds it.
var pickerZones = []string{
	"UTC",
	"Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Vancouver",
	"America/Tijuana", "America/Denver", "America/Phoenix", "America/Edmonton", "America/Chicago",
	"America/Mexico_City", "America/Winnipeg", "America/Guatemala", "America/Costa_Rica", "America/New_York",
	"America/Toronto", "America/Bogota", "America/Lima", "America/Panama", "America/Halifax",
	"America/Caracas", "America/Santiago", "America/La_Paz", "America/St_Johns", "America/Sao_Paulo",
	"America/Argentina/Buenos_Aires", "America/Montevideo", "Atlantic/South_Georgia", "Atlantic/Azores",
	"Atlantic/Cape_Verde", "Europe/London", "Europe/Dublin", "Europe/Lisbon", "Atlantic/Reykjavik",
	"Africa/Accra", "Africa/Casablanca", "Africa/Lagos", "Europe/Paris", "Europe/Berlin", "Europe/Amsterdam",
	"Europe/Brussels", "Europe/Madrid", "Europe/Rome", "Europe/Zurich", "Europe/Vienna", "Europe/Stockholm",
	"Europe/Oslo", "Europe/Copenhagen", "Europe/Warsaw", "Europe/Prague", "Europe/Budapest",
	"Africa/Johannesburg", "Africa/Cairo", "Europe/Athens", "Europe/Helsinki", "Europe/Kyiv",
	"Europe/Bucharest", "Asia/Jerusalem", "Asia/Beirut", "Europe/Istanbul", "Europe/Moscow",
	"Africa/Nairobi", "Asia/Riyadh", "Asia/Qatar", "Asia/Tehran", "Asia/Dubai", "Asia/Baku",
	"Asia/Kabul", "Asia/Karachi", "Asia/Tashkent", "Asia/Kolkata", "Asia/Colombo", "Asia/Kathmandu",
	"Asia/Dhaka", "Asia/Almaty", "Asia/Yangon", "Asia/Bangkok", "Asia/Jakarta", "Asia/Ho_Chi_Minh",
	"Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Manila", "Asia/Hong_Kong", "Asia/Shanghai", "Asia/Taipei",
	"Australia/Perth", "Australia/Eucla", "Asia/Seoul", "Asia/Tokyo", "Australia/Darwin",
	"Australia/Adelaide", "Australia/Brisbane", "Australia/Sydney", "Australia/Melbourne",
	"Australia/Hobart", "Australia/Lord_Howe", "Pacific/Noumea", "Pacific/Auckland", "Pacific/Fiji",
	"Pacific/Chatham", "Pacific/Tongatapu", "Pacific/Kiritimati",
}

// zoneOptions lists the picker's zones sorted by their offset at now, each
// labelled with it ("(UTC+01:00) Europe/London, BST"), with selected chosen.
func zoneOptions(selected string, now time.Time) []Option {
	type zone struct {
		name   string
		offset int
		label  string
	}
	names := pickerZones
	if selected != "" && !slices.Contains(names, selected) {
		names = append(slices.Clone(names), selected)
	}
	zones := make([]zone, 0, len(names))
	for _, name := range names {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue // not in this machine's time zone database
		}
		abbr, offset := now.In(loc).Zone()
		label := fmt.Sprintf("(UTC%s) %s", formatOffset(offset), name)
		if abbr != "" && abbr[0] != '+' && abbr[0] != '-' && abbr != "UTC" {
			label += ", " + abbr
		}
		zones = append(zones, zone{name, offset, label})
	}
	slices.SortStableFunc(zones, func(a, b zone) int {
		return cmp.Or(cmp.Compare(a.offset, b.offset), cmp.Compare(a.name, b.name))
	})
	out := make([]Option, len(zones))
	for i, z := range zones {
		out[i] = Option{Value: z.name, Label: z.label, Selected: z.name == selected}
	}
	return out
}

// formatOffset writes seconds east of UTC as "+05:30".
func formatOffset(seconds int) string {
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	return fmt.Sprintf("%c%02d:%02d", sign, seconds/3600, seconds%3600/60)
}
