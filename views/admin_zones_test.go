package views

import (
	"strings"
	"testing"
	"time"
)

func TestZoneOptions_ShowTheCurrentOffsetAndKeepTheSessionsZone(t *testing.T) {
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	opts := zoneOptions("America/Argentina/Cordoba", summer)
	labels := map[string]string{}
	selected := ""
	for _, o := range opts {
		labels[o.Value] = o.Label
		if o.Selected {
			selected = o.Value
		}
	}
	for zone, want := range map[string]string{
		"Europe/London":             "(UTC+01:00) Europe/London, BST",
		"Asia/Kolkata":              "(UTC+05:30) Asia/Kolkata, IST",
		"Asia/Kathmandu":            "(UTC+05:45) Asia/Kathmandu",
		"America/St_Johns":          "(UTC-02:30) America/St_Johns, NDT",
		"UTC":                       "(UTC+00:00) UTC",
		"America/Argentina/Cordoba": "(UTC-03:00) America/Argentina/Cordoba",
	} {
		if labels[zone] != want {
			t.Errorf("label of %s = %q; want %q", zone, labels[zone], want)
		}
	}
	if selected != "America/Argentina/Cordoba" {
		t.Errorf("selected = %q; want the session's own zone", selected)
	}
	if !strings.HasPrefix(opts[0].Label, "(UTC-11:00)") || !strings.HasPrefix(opts[len(opts)-1].Label, "(UTC+14:00)") {
		t.Errorf("options not ordered by offset: first %q, last %q", opts[0].Label, opts[len(opts)-1].Label)
	}
	if len(opts) != len(pickerZones)+1 {
		t.Errorf("%d options; want every picker zone loaded plus the session's (%d)", len(opts), len(pickerZones)+1)
	}
}
