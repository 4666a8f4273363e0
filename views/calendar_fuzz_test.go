package views

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/emersion/go-ical"
)

// FuzzWriteCalendarText feeds arbitrary text into every free-text field of
// an invite. Whatever the text, the invite must encode, decode back to the
// cleaned text, keep every physical line within 75 octets of valid UTF-8, and
// have exactly the content lines of an ordinary invite: no text can inject a
// property or a component. Seeds live in testdata/fuzz/FuzzWriteCalendarText.
func FuzzWriteCalendarText(f *testing.F) {
	f.Add("Heat, Cities; \"Us\"", "line 1\r\nline 2\\n", "Room 2; Berlin", "Zoë \"Z\" Al-Hakim")
	f.Add("城市与气候 🌍", "الحرارة في المدن", "https://meet.example/j/1?a=b,c", "Ann\r\nATTENDEE:mailto:evil@example.com")
	baseline, _ := renderCalendar(f, MethodRequest, "Cal n", fuzzEvent("s", "d", "l", "n"))
	want := contentLineNames(baseline)
	f.Fuzz(func(t *testing.T, summary, description, location, name string) {
		ev := fuzzEvent(summary, description, location, name)
		out, cal := renderCalendar(t, MethodRequest, "Cal "+name, ev) // wire format and structure
		if got := contentLineNames(out); !slices.Equal(got, want) {
			t.Fatalf("content lines changed:\n got %q\nwant %q\n%s", got, want, out)
		}
		if got := calText(t, cal.Props, "X-WR-CALNAME"); got != cleanICalText("Cal "+name) {
			t.Errorf("X-WR-CALNAME = %q, want %q", got, cleanICalText("Cal "+name))
		}
		got := onlyEvent(t, cal)
		checkEventRoundTrip(t, MethodRequest, ev, got) // texts and CNs equal their cleaned input
		for _, prop := range []string{ical.PropSummary, ical.PropDescription, ical.PropLocation} {
			if s := calText(t, got.Props, prop); strings.ContainsFunc(s, isForbiddenInText) {
				t.Errorf("%s keeps a control character: %q", prop, s)
			}
		}
		if cn := got.Props.Get(ical.PropAttendee).Params.Get(ical.ParamCommonName); strings.ContainsFunc(cn, isForbiddenInParam) {
			t.Errorf("CN keeps a control character or a double quote: %q", cn)
		}
	})
}

// fuzzEvent is the demo invite with the fuzzed texts. The texts get a prefix
// so that none cleans to empty, which would rightly drop its line.
func fuzzEvent(summary, description, location, name string) CalendarEvent {
	ev := demoRequest()
	ev.Summary, ev.Description, ev.Location = "S "+summary, "D "+description, "L "+location
	ev.AttendeeName, ev.OrganizerName = name, name
	return ev
}

func isForbiddenInText(r rune) bool {
	return r != '\t' && r != '\n' && unicode.IsControl(r)
}

func isForbiddenInParam(r rune) bool {
	return r == '"' || unicode.IsControl(r)
}

// FuzzFoldingWriter checks the folding writer alone on arbitrary lines
// without CR or LF: folded lines stay within 75 octets, are valid UTF-8
// whenever the input is, and unfold to the exact input.
func FuzzFoldingWriter(f *testing.F) {
	f.Add("X:" + strings.Repeat("a", 73))
	f.Add("X:" + strings.Repeat("a", 70) + strings.Repeat("🌍", 40))
	f.Add("X;CN=\"Lee, Ann\":" + strings.Repeat("城é", 50))
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") {
			t.Skip("content lines never contain CR or LF")
		}
		line = strings.ToValidUTF8(line, "\uFFFD")
		var buf bytes.Buffer
		fw := &foldingWriter{w: &buf}
		if _, err := fw.Write([]byte(line + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if err := fw.finish(); err != nil {
			t.Fatal(err)
		}
		checkFolded(t, buf.String(), line+"\r\n")
	})
}
