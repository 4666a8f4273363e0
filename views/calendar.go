package views

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-ical"
)

// CalendarMethod is the iTIP method of a calendar object.
type CalendarMethod string

// The iTIP methods Podium sends (RFC 5546).
const (
	// MethodPublish is for "Download .ics" links and subscription feeds.
	MethodPublish CalendarMethod = "PUBLISH"
	// MethodRequest invites the attendee, or updates an earlier invite.
	MethodRequest CalendarMethod = "REQUEST"
	// MethodCancel removes an earlier invite from the attendee's calendar.
	MethodCancel CalendarMethod = "CANCEL"
)

// CalendarEvent is one VEVENT, in plain data (no model types).
type CalendarEvent struct {
	UID         string    // stable, printable ASCII, no personal data, e.g. "reg-12-sess-3@podium.example"
	Sequence    int       // raise it for every update and for the CANCEL
	Stamp       time.Time // DTSTAMP: when this version of the event was made
	Start, End  time.Time // any zone; always written in UTC
	Summary     string
	Description string
	Location    string // venue, or the join URL for online sessions
	URL         string // join URL (or the panel page for PUBLISH); empty = omitted
	Cancelled   bool   // STATUS:CANCELLED instead of CONFIRMED

	OrganizerName, OrganizerEmail string
	AttendeeName, AttendeeEmail   string // only used for REQUEST/CANCEL; never written for PUBLISH

	AlarmBefore  time.Duration // > 0 adds a display VALARM this long before Start
	LastModified time.Time     // optional; zero = omitted
}

const calendarProdID = "-//Podium//Podium Registration//EN"

// WriteCalendar encodes a VCALENDAR with the given method and events to w.
// calName is an optional X-WR-CALNAME (feeds); empty = omitted.
//
// REQUEST and CANCEL carry exactly one event, which needs an organizer and
// an attendee email. PUBLISH never writes an ATTENDEE; it writes the
// ORGANIZER when OrganizerEmail is set (RFC 5546 lists it for PUBLISH) and
// omits it otherwise. Nothing is written to w unless encoding succeeds.
func WriteCalendar(w io.Writer, method CalendarMethod, calName string, events []CalendarEvent) error {
	cal, err := encodeCalendar(method, calName, events)
	if err != nil {
		return err
	}
	_, err = w.Write(cal)
	return err
}

// encodeCalendar is WriteCalendar returning the calendar, for callers that
// keep it in memory anyway (an email carries it twice).
func encodeCalendar(method CalendarMethod, calName string, events []CalendarEvent) ([]byte, error) {
	if method == MethodPublish && len(events) == 0 {
		return encodeEmptyFeed(calName)
	}
	cal, err := newCalendar(method, calName, events)
	if err != nil {
		return nil, err
	}
	// An invite is about 1 kB; starting there saves the first few doublings.
	buf := bytes.NewBuffer(make([]byte, 0, 2048))
	fw := &foldingWriter{w: buf}
	if err := ical.NewEncoder(fw).Encode(cal); err != nil {
		return nil, fmt.Errorf("views: encode calendar: %w", err)
	}
	if err := fw.finish(); err != nil {
		return nil, fmt.Errorf("views: encode calendar: %w", err)
	}
	return buf.Bytes(), nil
}

// encodeEmptyFeed encodes a feed with no events. go-ical refuses to encode a
// calendar without components, but a subscribed feed whose sessions are all
// over must still answer with a calendar, so this one is written by hand.
func encodeEmptyFeed(calName string) ([]byte, error) {
	var buf bytes.Buffer
	fw := &foldingWriter{w: &buf}
	lines := []string{"BEGIN:VCALENDAR", "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "PRODID:" + calendarProdID, "VERSION:2.0"}
	if name := cleanICalText(calName); name != "" {
		lines = append(lines, "X-WR-CALNAME:"+escapeICalText(name))
	}
	lines = append(lines, "END:VCALENDAR")
	for _, l := range lines {
		if _, err := fw.Write([]byte(l + "\r\n")); err != nil {
			return nil, err
		}
	}
	if err := fw.finish(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// escapeICalText escapes a TEXT value as RFC 5545 section 3.3.11 says.
func escapeICalText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}

func newCalendar(method CalendarMethod, calName string, events []CalendarEvent) (*ical.Calendar, error) {
	switch {
	case method != MethodPublish && method != MethodRequest && method != MethodCancel:
		return nil, fmt.Errorf("views: unknown calendar method %q", method)
	case len(events) == 0:
		return nil, errors.New("views: a calendar needs at least one event")
	case method != MethodPublish && len(events) != 1:
		// Outlook and Gmail act on the first VEVENT of an invite only.
		return nil, fmt.Errorf("views: %s carries exactly one event, got %d", method, len(events))
	}
	cal := ical.NewCalendar()
	cal.Props.SetText(ical.PropProductID, calendarProdID)
	cal.Props.SetText(ical.PropVersion, "2.0")
	cal.Props.SetText(ical.PropMethod, string(method))
	cal.Props.SetText(ical.PropCalendarScale, "GREGORIAN")
	if name := cleanICalText(calName); name != "" {
		prop := ical.NewProp("X-WR-CALNAME")
		prop.SetText(name)
		prop.Params.Del(ical.ParamValue) // SetText adds VALUE=TEXT to X- properties
		cal.Props.Set(prop)
	}
	seen := make(map[string]bool, len(events))
	for i := range events {
		ev, err := newVEvent(method, &events[i])
		if err == nil && seen[events[i].UID] {
			err = errors.New("duplicate UID")
		}
		if err != nil {
			return nil, fmt.Errorf("views: event %d (UID %q): %w", i, events[i].UID, err)
		}
		seen[events[i].UID] = true
		cal.Children = append(cal.Children, ev)
	}
	return cal, nil
}

func newVEvent(method CalendarMethod, ev *CalendarEvent) (*ical.Component, error) {
	if err := validateCalendarEvent(method, ev); err != nil {
		return nil, err
	}
	e := ical.NewEvent()
	p := e.Props
	p.SetText(ical.PropUID, ev.UID)
	p.Set(&ical.Prop{Name: ical.PropSequence, Params: ical.Params{}, Value: strconv.Itoa(ev.Sequence)})
	p.SetDateTime(ical.PropDateTimeStamp, ev.Stamp.UTC())
	p.SetDateTime(ical.PropDateTimeStart, ev.Start.UTC())
	p.SetDateTime(ical.PropDateTimeEnd, ev.End.UTC())
	if !ev.LastModified.IsZero() {
		p.SetDateTime(ical.PropLastModified, ev.LastModified.UTC())
	}
	setICalText(p, ical.PropSummary, ev.Summary)
	setICalText(p, ical.PropDescription, ev.Description)
	setICalText(p, ical.PropLocation, ev.Location)
	if ev.URL != "" {
		u, err := url.Parse(ev.URL)
		if err != nil || !u.IsAbs() {
			return nil, errors.New("URL must be an absolute URL")
		}
		p.SetURI(ical.PropURL, u)
	}
	e.SetStatus(ical.EventConfirmed)
	if ev.Cancelled || method == MethodCancel {
		e.SetStatus(ical.EventCancelled)
	}
	p.SetText(ical.PropTransparency, "OPAQUE")
	if ev.OrganizerEmail != "" {
		p.Set(calendarUser(ical.PropOrganizer, ev.OrganizerName, ev.OrganizerEmail))
	}
	if method != MethodPublish {
		p.Set(attendeeProp(method, ev))
	}
	if ev.AlarmBefore > 0 {
		e.Children = append(e.Children, newVAlarm(ev))
	}
	return e.Component, nil
}

func validateCalendarEvent(method CalendarMethod, ev *CalendarEvent) error {
	switch {
	case ev.UID == "":
		return errors.New("UID is empty")
	case strings.IndexFunc(ev.UID, func(r rune) bool { return r < ' ' || r > '~' }) >= 0:
		return errors.New("UID must be printable ASCII")
	case ev.Sequence < 0:
		return errors.New("SEQUENCE must not be negative")
	case !writableTime(ev.Stamp) || !writableTime(ev.Start) || !writableTime(ev.End):
		return errors.New("Stamp, Start and End must be set, in years 1 to 9999")
	case !ev.LastModified.IsZero() && !writableTime(ev.LastModified):
		return errors.New("LastModified must be in years 1 to 9999")
	case !ev.End.Truncate(time.Second).After(ev.Start.Truncate(time.Second)):
		return errors.New("End must be after Start")
	case ev.OrganizerEmail != "" && !isBareEmail(ev.OrganizerEmail):
		return errors.New("organizer email is not a bare address")
	case method == MethodPublish:
		return nil
	case ev.OrganizerEmail == "" || ev.AttendeeEmail == "":
		return fmt.Errorf("%s needs an organizer and an attendee email", method)
	case !isBareEmail(ev.AttendeeEmail):
		return errors.New("attendee email is not a bare address")
	case strings.EqualFold(ev.OrganizerEmail, ev.AttendeeEmail):
		// Outlook then thinks the recipient organised it and adds nothing.
		return errors.New("the attendee must not be the organizer")
	}
	return nil
}

// writableTime reports whether t fits iCalendar's four-digit years.
func writableTime(t time.Time) bool {
	y := t.UTC().Year()
	return !t.IsZero() && y >= 1 && y <= 9999
}

func isBareEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

func setICalText(p ical.Props, name, text string) {
	if text = cleanICalText(text); text != "" {
		p.SetText(name, text)
	}
}

// calendarUser builds an ORGANIZER or ATTENDEE. The value is a CAL-ADDRESS,
// so it is set directly: SetText would add an invalid VALUE=TEXT.
func calendarUser(propName, name, email string) *ical.Prop {
	prop := ical.NewProp(propName)
	prop.Value = "mailto:" + email
	if cn := cleanICalParam(name); cn != "" {
		prop.Params.Set(ical.ParamCommonName, cn)
	}
	return prop
}

func attendeeProp(method CalendarMethod, ev *CalendarEvent) *ical.Prop {
	prop := calendarUser(ical.PropAttendee, ev.AttendeeName, ev.AttendeeEmail)
	prop.Params.Set(ical.ParamRole, "REQ-PARTICIPANT")
	if method == MethodRequest {
		prop.Params.Set(ical.ParamParticipationStatus, "ACCEPTED")
	}
	prop.Params.Set(ical.ParamRSVP, "FALSE")
	return prop
}

func newVAlarm(ev *CalendarEvent) *ical.Component {
	alarm := ical.NewComponent(ical.CompAlarm)
	alarm.Props.SetText(ical.PropAction, "DISPLAY")
	alarm.Props.Set(&ical.Prop{Name: ical.PropTrigger, Params: ical.Params{}, Value: formatTrigger(ev.AlarmBefore)})
	desc := cleanICalText(ev.Summary)
	if desc == "" {
		desc = "Reminder" // DESCRIPTION is required for ACTION:DISPLAY
	}
	alarm.Props.SetText(ical.PropDescription, desc)
	return alarm
}

// formatTrigger writes d as a negative DURATION in its largest whole unit
// ("-PT15M", "-PT1H", "-P1D"). go-ical's SetDuration would write "-PT900S".
func formatTrigger(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s == 0 || s%60 != 0:
		return fmt.Sprintf("-PT%dS", s)
	case s%3600 != 0:
		return fmt.Sprintf("-PT%dM", s/60)
	case s%86400 != 0:
		return fmt.Sprintf("-PT%dH", s/3600)
	default:
		return fmt.Sprintf("-P%dD", s/86400)
	}
}

// cleanICalText prepares a TEXT value for SetText, which escapes \ ; , and LF but
// makes the encoder fail on CR: line breaks become LF, other control
// characters except tab are dropped, and invalid UTF-8 becomes U+FFFD.
func cleanICalText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// cleanICalParam prepares a parameter value such as CN. go-ical rejects '"' there
// but passes CR and LF through, which would inject content lines: control
// characters become spaces, runs of white space collapse to one, and '"'
// becomes an apostrophe.
func cleanICalParam(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, `"`, "'")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// maxLineOctets is the longest content line RFC 5545 allows, without CRLF.
const maxLineOctets = 75

// foldingWriter folds the CRLF-terminated content lines written to it at
// maxLineOctets, inserting CRLF + space between whole UTF-8 sequences;
// go-ical does not fold.
type foldingWriter struct {
	w       *bytes.Buffer
	pending []byte // start of a line whose CRLF has not arrived yet
}

func (f *foldingWriter) Write(p []byte) (int, error) {
	// go-ical writes whole lines, so p is usually folded where it is and
	// only a partial line is kept back.
	rest := p
	if len(f.pending) > 0 {
		rest = append(f.pending, p...)
	}
	for {
		line, after, ok := bytes.Cut(rest, []byte("\r\n"))
		if !ok {
			break
		}
		if err := f.writeLine(line); err != nil {
			return 0, err
		}
		rest = after
	}
	f.pending = append(f.pending[:0], rest...)
	return len(p), nil
}

// finish reports an error if the last line was left without its CRLF.
func (f *foldingWriter) finish() error {
	if len(f.pending) > 0 {
		return errors.New("unterminated content line")
	}
	return nil
}

func (f *foldingWriter) writeLine(line []byte) error {
	if bytes.ContainsAny(line, "\r\n") {
		return errors.New("bare CR or LF inside a content line")
	}
	limit := maxLineOctets
	for len(line) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(line[cut]) {
			cut--
		}
		if cut == 0 {
			cut = limit // not UTF-8 at all; cleanICalText and cleanICalParam prevent this
		}
		f.w.Write(line[:cut])
		f.w.WriteString("\r\n ")
		line = line[cut:]
		limit = maxLineOctets - 1 // the leading space counts
	}
	f.w.Write(line)
	f.w.WriteString("\r\n")
	return nil
}
