package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

var updateGoldens = flag.Bool("update", false, "rewrite the golden .ics files in testdata")

var demoStamp = time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)

const demoJoinURL = "https://meet.podium.example/j/sess-3?pwd=7Hq2xK9&lang=en"

// demoRequest is the demo session's invite; its Start is in a named fixed
// zone so that every golden file also proves the conversion to UTC.
func demoRequest() CalendarEvent {
	start := time.Date(2025, 6, 12, 18, 0, 0, 0, time.FixedZone("CEST", 2*60*60))
	return CalendarEvent{
		UID:     "reg-12-sess-3@podium.example",
		Stamp:   demoStamp,
		Start:   start,
		End:     start.Add(90 * time.Minute),
		Summary: `Urban Heat, Cities; and "Us" — 城市与气候 🌍`,
		Description: "Join online: " + demoJoinURL +
			"\nManage your registration: https://podium.example/registrations/12/manage?token=Zx81Qp" +
			"\n\nQuestions welcome; bring them. Slides: C:\\podium\\talks",
		Location:       demoJoinURL,
		URL:            demoJoinURL,
		OrganizerName:  "Podium Events",
		OrganizerEmail: "events@podium.example",
		AttendeeName:   `Zoë "Z" Al-Hakim, زوي الحكيم`,
		AttendeeEmail:  "zoe@example.org",
		AlarmBefore:    15 * time.Minute,
	}
}

// demoUpdate is demoRequest moved to the next day.
func demoUpdate() CalendarEvent {
	ev := demoRequest()
	ev.Sequence = 1
	ev.Stamp = demoStamp.Add(72 * time.Hour)
	ev.LastModified = ev.Stamp
	ev.Start = ev.Start.AddDate(0, 0, 1)
	ev.End = ev.End.AddDate(0, 0, 1)
	return ev
}

// demoCancel cancels demoUpdate.
func demoCancel() CalendarEvent {
	ev := demoUpdate()
	ev.Sequence = 2
	ev.Stamp = demoStamp.Add(96 * time.Hour)
	ev.LastModified = ev.Stamp
	ev.Cancelled = true
	return ev
}

// demoFeed is the panel's public feed: two sessions, no attendee.
func demoFeed() []CalendarEvent {
	online := demoRequest()
	online.UID = "sess-3@podium.example"
	online.URL = "https://podium.example/panels/urban-heat"
	online.Description = "Join online: " + demoJoinURL + "\nAll sessions: " + online.URL
	online.AttendeeName, online.AttendeeEmail = "", ""
	venue := online
	venue.UID = "sess-4@podium.example"
	venue.Start = time.Date(2025, 6, 19, 16, 0, 0, 0, time.UTC)
	venue.End = venue.Start.Add(2 * time.Hour)
	venue.Summary = "Urban Heat: the follow-up (in person)"
	venue.Location = "Kulturhaus, Room 2.14; Hauptstraße 5, Berlin"
	venue.AlarmBefore = 0
	return []CalendarEvent{online, venue}
}

// render writes a calendar that must encode, checks its wire format and its
// structure, and returns it with its decoded form.
func renderCalendar(tb testing.TB, method CalendarMethod, calName string, events ...CalendarEvent) (string, *ical.Calendar) {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteCalendar(&buf, method, calName, events); err != nil {
		tb.Fatalf("WriteCalendar: %v", err)
	}
	out := buf.String()
	checkWireFormat(tb, out)
	cal, err := ical.NewDecoder(strings.NewReader(out)).Decode()
	if err != nil {
		tb.Fatalf("decode: %v\n%s", err, out)
	}
	checkCalendarStructure(tb, cal)
	return out, cal
}

// checkWireFormat asserts what every calendar client needs from the bytes.
func checkWireFormat(tb testing.TB, out string) {
	tb.Helper()
	if !strings.HasPrefix(out, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(out, "END:VCALENDAR\r\n") {
		tb.Fatalf("output must start with BEGIN:VCALENDAR and end with END:VCALENDAR CRLF:\n%q", out)
	}
	if crlf := strings.Count(out, "\r\n"); strings.Count(out, "\r") != crlf || strings.Count(out, "\n") != crlf {
		tb.Fatalf("bare CR or LF in output:\n%q", out)
	}
	for i, line := range physicalLines(out) {
		if len(line) > maxLineOctets {
			tb.Errorf("line %d has %d octets: %q", i+1, len(line), line)
		}
		if !utf8.ValidString(line) {
			tb.Errorf("line %d is not valid UTF-8: %q", i+1, line)
		}
	}
	if strings.Contains(unfoldLines(out), "TZID=") {
		tb.Fatalf("output contains TZID=:\n%s", out)
	}
}

// checkCalendarStructure asserts what go-ical's encoder does not check itself.
func checkCalendarStructure(tb testing.TB, cal *ical.Calendar) {
	tb.Helper()
	for _, ev := range cal.Events() {
		for _, name := range []string{ical.PropUID, ical.PropDateTimeStamp, ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropSequence, ical.PropStatus} {
			if n := len(ev.Props[name]); n != 1 {
				tb.Errorf("VEVENT has %d %s, want 1", n, name)
			}
		}
		for i, child := range ev.Children {
			if child.Name != ical.CompAlarm || i != len(ev.Children)-1 {
				tb.Errorf("VEVENT child %d is %s; only one VALARM, last, is allowed", i, child.Name)
			}
			for _, name := range []string{ical.PropAction, ical.PropTrigger, ical.PropDescription} {
				if len(child.Props[name]) != 1 {
					tb.Errorf("VALARM must have exactly one %s", name)
				}
			}
		}
	}
}

// physicalLines splits out at CRLF.
func physicalLines(out string) []string {
	return strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
}

// unfold undoes RFC 5545 folding.
func unfoldLines(s string) string {
	return strings.ReplaceAll(s, "\r\n ", "")
}

// contentLines returns the unfolded content lines of out.
func contentLines(out string) []string {
	return physicalLines(unfoldLines(out))
}

// contentLineNames returns the property name of every content line, in order.
func contentLineNames(out string) []string {
	var names []string
	for _, line := range contentLines(out) {
		if i := strings.IndexAny(line, ";:"); i >= 0 {
			line = line[:i]
		}
		names = append(names, line)
	}
	return names
}

func onlyEvent(tb testing.TB, cal *ical.Calendar) ical.Event {
	tb.Helper()
	events := cal.Events()
	if len(events) != 1 {
		tb.Fatalf("got %d events, want 1", len(events))
	}
	return events[0]
}

func calText(tb testing.TB, props ical.Props, name string) string {
	tb.Helper()
	s, err := props.Text(name)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return s
}

// checkEventRoundTrip compares a decoded VEVENT with the event it came from.
func checkEventRoundTrip(tb testing.TB, method CalendarMethod, want CalendarEvent, got ical.Event) {
	tb.Helper()
	if uid := calText(tb, got.Props, ical.PropUID); uid != want.UID {
		tb.Errorf("UID = %q, want %q", uid, want.UID)
	}
	if seq, err := got.Props.Get(ical.PropSequence).Int(); err != nil || seq != want.Sequence {
		tb.Errorf("SEQUENCE = %d (%v), want %d", seq, err, want.Sequence)
	}
	for name, wantTime := range map[string]time.Time{
		ical.PropDateTimeStamp: want.Stamp, ical.PropDateTimeStart: want.Start, ical.PropDateTimeEnd: want.End,
	} {
		if t, err := got.Props.DateTime(name, nil); err != nil || !t.Equal(wantTime) {
			tb.Errorf("%s = %v (%v), want the instant %v", name, t, err, wantTime)
		}
	}
	for name, wantText := range map[string]string{
		ical.PropSummary: want.Summary, ical.PropDescription: want.Description, ical.PropLocation: want.Location,
	} {
		if s := calText(tb, got.Props, name); s != cleanICalText(wantText) {
			tb.Errorf("%s = %q, want %q", name, s, cleanICalText(wantText))
		}
	}
	wantStatus := ical.EventConfirmed
	if want.Cancelled || method == MethodCancel {
		wantStatus = ical.EventCancelled
	}
	if status, err := got.Status(); err != nil || status != wantStatus {
		tb.Errorf("STATUS = %q (%v), want %q", status, err, wantStatus)
	}
	checkCalendarUser(tb, got.Props.Get(ical.PropOrganizer), want.OrganizerName, want.OrganizerEmail)
	if method != MethodPublish {
		checkCalendarUser(tb, got.Props.Get(ical.PropAttendee), want.AttendeeName, want.AttendeeEmail)
	}
}

func checkCalendarUser(tb testing.TB, prop *ical.Prop, name, email string) {
	tb.Helper()
	if prop == nil {
		tb.Errorf("missing calendar user %q", email)
		return
	}
	if prop.Value != "mailto:"+email || prop.Params.Get(ical.ParamValue) != "" {
		tb.Errorf("%s = %q with VALUE=%q, want bare mailto:%s", prop.Name, prop.Value, prop.Params.Get(ical.ParamValue), email)
	}
	if cn := prop.Params.Get(ical.ParamCommonName); cn != cleanICalParam(name) {
		tb.Errorf("%s CN = %q, want %q", prop.Name, cn, cleanICalParam(name))
	}
}

func TestWriteCalendar_RoundTripsThroughDecoder(t *testing.T) {
	tests := []struct {
		name    string
		method  CalendarMethod
		calName string
		events  []CalendarEvent
	}{
		{"request", MethodRequest, "", []CalendarEvent{demoRequest()}},
		{"rescheduled request", MethodRequest, "", []CalendarEvent{demoUpdate()}},
		{"cancel", MethodCancel, "", []CalendarEvent{demoCancel()}},
		{"cancel without Cancelled flag", MethodCancel, "", []CalendarEvent{demoUpdate()}},
		{"cancelled session in a feed", MethodPublish, "Feed", []CalendarEvent{demoCancel()}},
		{"publish feed", MethodPublish, "Podium: Urban Heat", demoFeed()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cal := renderCalendar(t, tt.method, tt.calName, tt.events...)
			for name, want := range map[string]string{
				ical.PropMethod: string(tt.method), ical.PropProductID: calendarProdID,
				ical.PropVersion: "2.0", ical.PropCalendarScale: "GREGORIAN", "X-WR-CALNAME": tt.calName,
			} {
				if got := calText(t, cal.Props, name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			events := cal.Events()
			if len(events) != len(tt.events) {
				t.Fatalf("got %d events, want %d", len(events), len(tt.events))
			}
			for i := range events {
				checkEventRoundTrip(t, tt.method, tt.events[i], events[i])
			}
		})
	}
}

func TestWriteCalendar_PublishNeverHasAttendee(t *testing.T) {
	ev := demoRequest() // attendee fields set on purpose
	out, cal := renderCalendar(t, MethodPublish, "", ev)
	if props := onlyEvent(t, cal).Props; props.Get(ical.PropAttendee) != nil {
		t.Fatalf("PUBLISH contains an ATTENDEE:\n%s", out)
	}
	ev.OrganizerName, ev.OrganizerEmail = "", ""
	out, cal = renderCalendar(t, MethodPublish, "", ev)
	if onlyEvent(t, cal).Props.Get(ical.PropOrganizer) != nil {
		t.Fatalf("PUBLISH without organizer email contains an ORGANIZER:\n%s", out)
	}
}

func TestWriteCalendar_AttendeeParametersByMethod(t *testing.T) {
	tests := []struct {
		method      CalendarMethod
		wantPartSta string
	}{
		{MethodRequest, "ACCEPTED"},
		{MethodCancel, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.method), func(t *testing.T) {
			_, cal := renderCalendar(t, tt.method, "", demoRequest())
			att := onlyEvent(t, cal).Props.Get(ical.PropAttendee)
			want := map[string]string{
				ical.ParamRole: "REQ-PARTICIPANT", ical.ParamRSVP: "FALSE", ical.ParamParticipationStatus: tt.wantPartSta,
			}
			for param, value := range want {
				if got := att.Params.Get(param); got != value {
					t.Errorf("ATTENDEE %s = %q, want %q", param, got, value)
				}
			}
		})
	}
}

func TestWriteCalendar_NeverWritesTZID(t *testing.T) {
	zones := map[string]*time.Location{
		"UTC":            time.UTC,
		"time.Local":     time.Local,
		"unnamed fixed":  time.FixedZone("", 5*60*60+30*60),
		"named fixed":    time.FixedZone("CEST", 2*60*60),
		"negative fixed": time.FixedZone("Pacific", -8*60*60),
	}
	if ny, err := time.LoadLocation("America/New_York"); err == nil { // needs a tz database
		zones["America/New_York"] = ny
	}
	for name, loc := range zones {
		t.Run(name, func(t *testing.T) {
			ev := demoUpdate()
			ev.Stamp, ev.LastModified = ev.Stamp.In(loc), ev.LastModified.In(loc)
			ev.Start, ev.End = ev.Start.In(loc), ev.End.In(loc)
			out, cal := renderCalendar(t, MethodRequest, "", ev) // render fails on any TZID=
			for _, line := range contentLines(out) {
				if strings.HasPrefix(line, "DT") || strings.HasPrefix(line, "LAST-MODIFIED") {
					if !strings.HasSuffix(line, "Z") {
						t.Errorf("time not in UTC: %q", line)
					}
				}
			}
			checkEventRoundTrip(t, MethodRequest, ev, onlyEvent(t, cal))
		})
	}
}

func TestWriteCalendar_AlarmIsLastChild(t *testing.T) {
	out, cal := renderCalendar(t, MethodRequest, "", demoRequest())
	ev := onlyEvent(t, cal)
	if len(ev.Children) != 1 {
		t.Fatalf("want exactly one VALARM, got %d children", len(ev.Children))
	}
	alarm := ev.Children[0]
	if trigger, err := alarm.Props.Get(ical.PropTrigger).Duration(); err != nil || trigger != -15*time.Minute {
		t.Errorf("TRIGGER = %v (%v), want -15m", trigger, err)
	}
	if got := calText(t, alarm.Props, ical.PropAction); got != "DISPLAY" {
		t.Errorf("ACTION = %q, want DISPLAY", got)
	}
	lines := contentLines(out)
	if !slices.Contains(lines, "TRIGGER:-PT15M") {
		t.Errorf("want TRIGGER:-PT15M in\n%s", out)
	}
	end := slices.Index(lines, "END:VEVENT")
	if end < 1 || lines[end-1] != "END:VALARM" {
		t.Errorf("END:VALARM must come right before END:VEVENT:\n%s", out)
	}

	noAlarm := demoRequest()
	noAlarm.AlarmBefore = 0
	if _, cal := renderCalendar(t, MethodRequest, "", noAlarm); len(onlyEvent(t, cal).Children) != 0 {
		t.Errorf("AlarmBefore 0 must not add a VALARM")
	}
}

func TestWriteCalendar_AlarmWithoutSummaryStillHasDescription(t *testing.T) {
	ev := demoRequest()
	ev.Summary = "\x00" // cleans to empty
	_, cal := renderCalendar(t, MethodRequest, "", ev)
	alarm := onlyEvent(t, cal).Children[0]
	if got := calText(t, alarm.Props, ical.PropDescription); got != "Reminder" {
		t.Errorf("VALARM DESCRIPTION = %q, want the fallback %q", got, "Reminder")
	}
}

func TestFormatTrigger_UsesLargestWholeUnit(t *testing.T) {
	tests := []struct {
		before time.Duration
		want   string
	}{
		{15 * time.Minute, "-PT15M"},
		{90 * time.Minute, "-PT90M"},
		{time.Hour, "-PT1H"},
		{24 * time.Hour, "-P1D"},
		{90 * time.Second, "-PT90S"},
		{500 * time.Millisecond, "-PT0S"},
	}
	for _, tt := range tests {
		if got := formatTrigger(tt.before); got != tt.want {
			t.Errorf("formatTrigger(%v) = %q, want %q", tt.before, got, tt.want)
		}
		p := ical.Prop{Name: ical.PropTrigger, Params: ical.Params{}, Value: formatTrigger(tt.before)}
		if d, err := p.Duration(); err != nil || d != -tt.before.Truncate(time.Second) {
			t.Errorf("go-ical reads %q as %v (%v)", p.Value, d, err)
		}
	}
}

func TestWriteCalendar_RejectsInvalidInput(t *testing.T) {
	with := func(change func(*CalendarEvent)) []CalendarEvent {
		ev := demoRequest()
		change(&ev)
		return []CalendarEvent{ev}
	}
	tests := []struct {
		name   string
		method CalendarMethod
		events []CalendarEvent
	}{
		{"unknown method", "REPLY", with(func(*CalendarEvent) {})},
		{"empty method", "", with(func(*CalendarEvent) {})},
		{"lower-case method", "request", with(func(*CalendarEvent) {})},
		{"no events in an invite", MethodRequest, nil},
		{"two events in one REQUEST", MethodRequest, append(with(func(*CalendarEvent) {}), demoUpdate())},
		{"duplicate UID in a feed", MethodPublish, append(demoFeed(), demoFeed()[0])},
		{"empty UID", MethodRequest, with(func(e *CalendarEvent) { e.UID = "" })},
		{"non-ASCII UID", MethodRequest, with(func(e *CalendarEvent) { e.UID = "reg-12-zoë@podium.example" })},
		{"UID with line break", MethodRequest, with(func(e *CalendarEvent) { e.UID = "reg-12\r\nX:y" })},
		{"negative SEQUENCE", MethodRequest, with(func(e *CalendarEvent) { e.Sequence = -1 })},
		{"zero Start", MethodRequest, with(func(e *CalendarEvent) { e.Start = time.Time{} })},
		{"zero End", MethodRequest, with(func(e *CalendarEvent) { e.End = time.Time{} })},
		{"zero Stamp", MethodRequest, with(func(e *CalendarEvent) { e.Stamp = time.Time{} })},
		{"End equals Start", MethodRequest, with(func(e *CalendarEvent) { e.End = e.Start })},
		{"End before Start", MethodRequest, with(func(e *CalendarEvent) { e.End = e.Start.Add(-time.Hour) })},
		{"End within Start's second", MethodRequest, with(func(e *CalendarEvent) { e.End = e.Start.Add(time.Millisecond) })},
		{"five-digit year", MethodRequest, with(func(e *CalendarEvent) { e.End = e.Start.AddDate(8000, 0, 0) })},
		{"REQUEST without attendee", MethodRequest, with(func(e *CalendarEvent) { e.AttendeeEmail = "" })},
		{"CANCEL without attendee", MethodCancel, with(func(e *CalendarEvent) { e.AttendeeEmail = "" })},
		{"REQUEST without organizer", MethodRequest, with(func(e *CalendarEvent) { e.OrganizerEmail = "" })},
		{"attendee is the organizer", MethodRequest, with(func(e *CalendarEvent) { e.AttendeeEmail = "Events@Podium.example" })},
		{"attendee email with CRLF", MethodRequest, with(func(e *CalendarEvent) { e.AttendeeEmail = "zoe@example.org\r\nX:y" })},
		{"attendee email with a name", MethodRequest, with(func(e *CalendarEvent) { e.AttendeeEmail = "Zoe <zoe@example.org>" })},
		{"organizer email invalid in PUBLISH", MethodPublish, with(func(e *CalendarEvent) { e.OrganizerEmail = "events" })},
		{"relative URL", MethodRequest, with(func(e *CalendarEvent) { e.URL = "/j/sess-3" })},
		{"URL with line break", MethodRequest, with(func(e *CalendarEvent) { e.URL = "https://x.example/\r\nX:y" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("panicked instead of returning an error: %v", r)
				}
			}()
			var buf bytes.Buffer
			err := WriteCalendar(&buf, tt.method, "", tt.events)
			if err == nil {
				t.Fatalf("want an error, got none:\n%s", buf.String())
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error %v", buf.Len(), err)
			}
		})
	}
}

func TestWriteCalendar_ReturnsWriterError(t *testing.T) {
	errBroken := errors.New("broken pipe")
	err := WriteCalendar(brokenWriter{errBroken}, MethodRequest, "", []CalendarEvent{demoRequest()})
	if !errors.Is(err, errBroken) {
		t.Fatalf("err = %v, want %v", err, errBroken)
	}
}

type brokenWriter struct{ err error }

func (w brokenWriter) Write([]byte) (int, error) { return 0, w.err }

var calendarGoldens = []struct {
	file    string
	method  CalendarMethod
	calName string
	events  []CalendarEvent
}{
	{"invite_request.golden.ics", MethodRequest, "", []CalendarEvent{demoRequest()}},
	{"invite_update.golden.ics", MethodRequest, "", []CalendarEvent{demoUpdate()}},
	{"invite_cancel.golden.ics", MethodCancel, "", []CalendarEvent{demoCancel()}},
	{"feed_publish.golden.ics", MethodPublish, "Podium: Urban Heat, Cities & Us", demoFeed()},
}

func TestWriteCalendar_MatchesGoldenFiles(t *testing.T) {
	for _, g := range calendarGoldens {
		t.Run(g.file, func(t *testing.T) {
			out, _ := renderCalendar(t, g.method, g.calName, g.events...)
			path := filepath.Join("testdata", g.file)
			if *updateGoldens {
				if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./views/ -run Golden -update to create it)", err)
			}
			if out != string(want) {
				got, exp := physicalLines(out), physicalLines(string(want))
				for i := range min(len(got), len(exp)) {
					if got[i] != exp[i] {
						t.Fatalf("%s differs at line %d:\n got %q\nwant %q", path, i+1, got[i], exp[i])
					}
				}
				t.Fatalf("%s differs: %d lines, want %d", path, len(got), len(exp))
			}
		})
	}
}

func TestWriteCalendar_EscapesTextValues(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantRaw  string // the value as written, unfolded
		wantText string // the value a decoder reads back
	}{
		{"comma", "Heat, Cities", `Heat\, Cities`, "Heat, Cities"},
		{"semicolon", "Talk; Q&A", `Talk\; Q&A`, "Talk; Q&A"},
		{"backslash before the rest", `C:\new\;x,`, `C:\\new\\\;x\,`, `C:\new\;x,`},
		{"double quotes stay", `The "Us" panel`, `The "Us" panel`, `The "Us" panel`},
		{"colon stays", "Part 1: Heat", "Part 1: Heat", "Part 1: Heat"},
		{"LF", "line 1\nline 2", `line 1\nline 2`, "line 1\nline 2"},
		{"CRLF becomes LF", "line 1\r\nline 2", `line 1\nline 2`, "line 1\nline 2"},
		{"lone CR becomes LF", "line 1\rline 2", `line 1\nline 2`, "line 1\nline 2"},
		{"control characters dropped", "a\x00b\x07c\x1bd\x7fe\u0085f", "abcdef", "abcdef"},
		{"tab kept", "a\tb", "a\tb", "a\tb"},
		{"invalid UTF-8 replaced", "a\xffb", "a\uFFFDb", "a\uFFFDb"},
		{"emoji", "Panel 🎤🌍👩🏽‍🔬", "Panel 🎤🌍👩🏽‍🔬", "Panel 🎤🌍👩🏽‍🔬"},
		{"CJK", "城市与气候，第一场", "城市与气候，第一场", "城市与气候，第一场"},
		{"Arabic", "الحرارة في المدن، الجلسة ١", "الحرارة في المدن، الجلسة ١", "الحرارة في المدن، الجلسة ١"},
		{"injection attempt", "x\r\nATTENDEE:mailto:evil@example.com", `x\nATTENDEE:mailto:evil@example.com`, "x\nATTENDEE:mailto:evil@example.com"},
	}
	fields := map[string]func(*CalendarEvent, string){
		ical.PropSummary:     func(e *CalendarEvent, s string) { e.Summary = s },
		ical.PropDescription: func(e *CalendarEvent, s string) { e.Description = s },
		ical.PropLocation:    func(e *CalendarEvent, s string) { e.Location = s },
	}
	for _, tt := range tests {
		for prop, set := range fields {
			t.Run(tt.name+"/"+prop, func(t *testing.T) {
				ev := demoRequest()
				set(&ev, tt.in)
				out, cal := renderCalendar(t, MethodRequest, "", ev)
				if !slices.Contains(contentLines(out), prop+":"+tt.wantRaw) {
					t.Errorf("want the line %q in\n%s", prop+":"+tt.wantRaw, out)
				}
				if got := calText(t, onlyEvent(t, cal).Props, prop); got != tt.wantText {
					t.Errorf("%s decodes to %q, want %q", prop, got, tt.wantText)
				}
				if got, want := contentLineNames(out), contentLineNames(renderInvite(t, demoRequest())); !slices.Equal(got, want) {
					t.Errorf("content lines changed:\n got %q\nwant %q", got, want)
				}
			})
		}
	}
}

func renderInvite(tb testing.TB, ev CalendarEvent) string {
	tb.Helper()
	out, _ := renderCalendar(tb, MethodRequest, "", ev)
	return out
}

func TestWriteCalendar_CleansNamesSoTheyCannotAddLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantCN  string // "" = no CN parameter
		wantRaw string // how CN appears in the ATTENDEE line
	}{
		{"plain", "Ann Lee", "Ann Lee", ";CN=Ann Lee;"},
		{"comma is quoted", "Lee, Ann", "Lee, Ann", `;CN="Lee, Ann";`},
		{"colon and semicolon are quoted", "Dr. Lee: PhD; MD", "Dr. Lee: PhD; MD", `;CN="Dr. Lee: PhD; MD";`},
		{"double quote becomes apostrophe", `Zoë "Z" Hakim`, "Zoë 'Z' Hakim", ";CN=Zoë 'Z' Hakim;"},
		{"CRLF with a property", "Ann\r\nATTENDEE:mailto:evil@example.com", "Ann ATTENDEE:mailto:evil@example.com", `;CN="Ann ATTENDEE:mailto:evil@example.com";`},
		{"LF with a component", "Ann\nEND:VEVENT\nBEGIN:VEVENT", "Ann END:VEVENT BEGIN:VEVENT", `;CN="Ann END:VEVENT BEGIN:VEVENT";`},
		{"lone CR", "Ann\rX-INJECTED:1", "Ann X-INJECTED:1", `;CN="Ann X-INJECTED:1";`},
		{"controls and runs of space", " \tAnn\x00 \x1b Lee\u0085 ", "Ann Lee", ";CN=Ann Lee;"},
		{"backslash stays", `Ann\nLee`, `Ann\nLee`, `;CN=Ann\nLee;`},
		{"Arabic and emoji", "زوي الحكيم 🌍", "زوي الحكيم 🌍", ";CN=زوي الحكيم 🌍;"},
		{"only line breaks", "\r\n\r\n", "", "ATTENDEE;PARTSTAT="},
		{"empty", "", "", "ATTENDEE;PARTSTAT="},
	}
	want := contentLineNames(renderInvite(t, demoRequest()))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := demoRequest()
			ev.AttendeeName, ev.OrganizerName = tt.in, tt.in
			out, cal := renderCalendar(t, MethodRequest, "", ev)
			if got := contentLineNames(out); !slices.Equal(got, want) {
				t.Fatalf("the name changed the content lines:\n got %q\nwant %q\n%s", got, want, out)
			}
			for _, line := range physicalLines(out) { // continuation lines start with a space
				for _, injected := range []string{"ATTENDEE:mailto:evil", "X-INJECTED"} {
					if strings.HasPrefix(line, injected) {
						t.Errorf("line starts with an injected %q: %q", injected, line)
					}
				}
			}
			props := onlyEvent(t, cal).Props
			for _, prop := range []string{ical.PropAttendee, ical.PropOrganizer} {
				if got := props.Get(prop).Params.Get(ical.ParamCommonName); got != tt.wantCN {
					t.Errorf("%s CN = %q, want %q", prop, got, tt.wantCN)
				}
			}
			if i := slices.IndexFunc(contentLines(out), func(l string) bool { return strings.HasPrefix(l, "ATTENDEE") }); !strings.Contains(contentLines(out)[i], tt.wantRaw) {
				t.Errorf("ATTENDEE line %q does not contain %q", contentLines(out)[i], tt.wantRaw)
			}
		})
	}
}

func TestWriteCalendar_FoldsLongValuesLosslessly(t *testing.T) {
	tests := map[string]string{
		"ASCII":         strings.Repeat("Urban heat and cities. ", 20),
		"emoji":         strings.Repeat("🌍👩🏽‍🔬🎤", 40),
		"CJK":           strings.Repeat("城市与气候", 40),
		"Arabic":        strings.Repeat("الحرارة في المدن ", 20),
		"long URL":      "https://meet.podium.example/j/" + strings.Repeat("a1B2c3D4e5", 30) + "?pwd=x&lang=en",
		"escapes":       strings.Repeat(`a,b;c\d`+"\n", 40),
		"mixed offsets": "x" + strings.Repeat("é城🌍", 60),
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			ev := demoRequest()
			ev.Summary, ev.Description, ev.Location = value, value, value
			ev.AttendeeName = value
			_, cal := renderCalendar(t, MethodRequest, "", ev) // checks line length, CRLF and UTF-8
			props := onlyEvent(t, cal).Props
			for _, prop := range []string{ical.PropSummary, ical.PropDescription, ical.PropLocation} {
				if got := calText(t, props, prop); got != value {
					t.Errorf("%s did not survive folding: got %q", prop, got)
				}
			}
			if got := props.Get(ical.PropAttendee).Params.Get(ical.ParamCommonName); got != cleanICalParam(value) {
				t.Errorf("CN did not survive folding: got %q", got)
			}
		})
	}
}

func TestFoldingWriter_FoldsAt75OctetsOnRuneBoundaries(t *testing.T) {
	tests := map[string]string{
		"empty value":        "X:",
		"74 octets":          "X:" + strings.Repeat("a", 72),
		"75 octets":          "X:" + strings.Repeat("a", 73),
		"76 octets":          "X:" + strings.Repeat("a", 74),
		"150 octets":         "X:" + strings.Repeat("a", 148),
		"2-byte at boundary": "X:" + strings.Repeat("a", 72) + strings.Repeat("é", 80),
		"3-byte at boundary": "X:" + strings.Repeat("a", 71) + strings.Repeat("城", 80),
		"4-byte at boundary": "X:" + strings.Repeat("a", 70) + strings.Repeat("🌍", 80),
		"leading spaces":     "X:" + strings.Repeat(" ", 200),
	}
	for name, line := range tests {
		for _, chunk := range []int{1, 7, 1 << 20} {
			input := line + "\r\nY:after\r\n"
			var buf bytes.Buffer
			fw := &foldingWriter{w: &buf}
			for rest := input; rest != ""; {
				n := min(chunk, len(rest))
				if _, err := fw.Write([]byte(rest[:n])); err != nil {
					t.Fatalf("%s: Write: %v", name, err)
				}
				rest = rest[n:]
			}
			if err := fw.finish(); err != nil {
				t.Fatalf("%s: finish: %v", name, err)
			}
			checkFolded(t, buf.String(), input)
		}
	}
}

// checkFolded asserts that folded is input folded correctly.
func checkFolded(tb testing.TB, folded, input string) {
	tb.Helper()
	if !strings.HasSuffix(folded, "\r\n") {
		tb.Fatalf("folded output does not end with CRLF: %q", folded)
	}
	for _, line := range physicalLines(folded) {
		if len(line) > maxLineOctets || !utf8.ValidString(line) {
			tb.Fatalf("bad physical line (%d octets, valid UTF-8 %v): %q", len(line), utf8.ValidString(line), line)
		}
	}
	if unfoldLines(folded) != input {
		tb.Fatalf("unfolding does not restore the input:\n got %q\nwant %q", unfoldLines(folded), input)
	}
}

func TestFoldingWriter_RejectsBrokenLines(t *testing.T) {
	for name, input := range map[string]string{
		"bare LF":     "X:a\nY:b\r\n",
		"bare CR":     "X:a\rY:b\r\n",
		"missing end": "X:a\r\nY:b",
	} {
		fw := &foldingWriter{w: &bytes.Buffer{}}
		_, err := fw.Write([]byte(input))
		if err == nil {
			err = fw.finish()
		}
		if err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

// pythonICalendar finds a python3 that has the icalendar module (Debian:
// python3-icalendar), or "" if there is none.
func pythonICalendar() string {
	for _, name := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(name); err == nil {
			if exec.Command(path, "-c", "import icalendar").Run() == nil {
				return path
			}
		}
	}
	return ""
}

const pythonReadGoldens = `
import json, sys, icalendar
out = []
for path in sys.argv[1:]:
    cal = icalendar.Calendar.from_ical(open(path, "rb").read())
    errors = [str(e) for c in cal.walk() for e in c.errors]
    for ev in cal.walk("VEVENT"):
        att = ev.get("ATTENDEE")
        out.append({"method": str(cal.get("METHOD")), "uid": str(ev.get("UID")),
            "sequence": int(ev.get("SEQUENCE")), "start": ev.decoded("DTSTART").isoformat(),
            "end": ev.decoded("DTEND").isoformat(), "summary": str(ev.get("SUMMARY")),
            "description": str(ev.get("DESCRIPTION")),
            "cn": str(att.params.get("CN", "")) if att is not None else "", "errors": errors})
print(json.dumps(out))
`

// pythonGoldenEvent is what both parsers must agree on for each VEVENT.
type pythonGoldenEvent struct {
	Method, UID          string
	Sequence             int
	Start, End           string
	Summary, Description string
	CN                   string
	Errors               []string
}

func TestGoldenFiles_ParseWithPythonICalendar(t *testing.T) {
	python := pythonICalendar()
	if python == "" {
		t.Skip("second opinion skipped: no python3 with the icalendar module (apt-get install python3-icalendar)")
	}
	var paths []string
	var want []pythonGoldenEvent
	for _, g := range calendarGoldens {
		paths = append(paths, filepath.Join("testdata", g.file))
		for _, ev := range g.events {
			cn := ""
			if g.method != MethodPublish {
				cn = cleanICalParam(ev.AttendeeName)
			}
			want = append(want, pythonGoldenEvent{
				Method: string(g.method), UID: ev.UID, Sequence: ev.Sequence,
				Start: isoUTC(ev.Start), End: isoUTC(ev.End),
				Summary: ev.Summary, Description: ev.Description, CN: cn, Errors: []string{},
			})
		}
	}
	out, err := exec.Command(python, append([]string{"-c", pythonReadGoldens}, paths...)...).Output()
	if err != nil {
		t.Fatalf("python icalendar: %v", err)
	}
	var got []pythonGoldenEvent
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if len(got) != len(want) {
		t.Fatalf("python read %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if g, w := got[i], want[i]; !reflect.DeepEqual(g, w) {
			t.Errorf("python icalendar read event %d as\n%+v\nwant\n%+v", i, g, w)
		}
	}
}

func isoUTC(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05+00:00")
}

func TestWriteCalendar_EmptyFeedIsACalendarWithoutEvents(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCalendar(&buf, MethodPublish, "Podium, upcoming", nil); err != nil {
		t.Fatal(err)
	}
	want := "BEGIN:VCALENDAR\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nPRODID:" + calendarProdID +
		"\r\nVERSION:2.0\r\nX-WR-CALNAME:Podium\\, upcoming\r\nEND:VCALENDAR\r\n"
	if buf.String() != want {
		t.Fatalf("empty feed =\n%q\nwant\n%q", buf.String(), want)
	}
}
