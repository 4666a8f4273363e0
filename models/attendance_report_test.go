package models

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readAttendanceFixture is a report from testdata/attendance. The Teams
// fixtures are checked in as Teams saves them (UTF-16LE with a byte order
// mark), written once by a script, so the test reads the real bytes.
func readAttendanceFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "attendance", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseAttendanceReport_ReadsEachToolsExport(t *testing.T) {
	type a = ReportAttendee
	tests := []struct {
		file   string
		format string
		want   []ReportAttendee
	}{
		{ // hosts and panelists are skipped; rejoins summed; "No" then "Yes" attended
			"zoom_webinar_attendee_report.csv", ReportZoomWebinar, []a{
				{"Ada.Lovelace@Example.com", "ada.lovelace@example.com", 59, true},
				{"bob.brown@example.com", "bob.brown@example.com", 0, false},
				{"wei.chen@example.org", "wei.chen@example.org", 45, true},
				{"eve.evans@example.com", "eve.evans@example.com", 12, true},
				{"dara@example.com", "dara@example.com", 16, true},
			}},
		{ // the host's address in the meeting summary is not a participant row
			"zoom_participants.csv", ReportZoomParticipants, []a{
				{"hana.host@example.org", "hana.host@example.org", 67, true},
				{"ada.lovelace@example.com", "ada.lovelace@example.com", 59, true},
				{"WEI.CHEN@example.org", "wei.chen@example.org", 12, true},
			}},
		{ // written durations; panelists skipped; absentees listed as not attended
			"goto_webinar_attendee_report.csv", ReportGoToWebinar, []a{
				{"ada.lovelace@example.com", "ada.lovelace@example.com", 65, true},
				{"wei.chen@example.org", "wei.chen@example.org", 58, true},
				{"Femi@Example.com", "femi@example.com", 62, true},
				{"carl.cole@example.com", "carl.cole@example.com", 0, false},
				{"dana.diaz@example.com", "dana.diaz@example.com", 0, false},
			}},
		{ // UTF-16LE, tabs; organizer and presenter skipped; section 3 not counted again;
			// 59m 29s rounds down, 45m 30s and 30s round up
			"teams_attendance_utf16le.csv", ReportTeams, []a{
				{"Ada.Lovelace@example.com", "ada.lovelace@example.com", 59, true},
				{"wei.chen@example.org", "wei.chen@example.org", 46, true},
				{"zoe@example.org", "zoe@example.org", 1, true},
			}},
		{
			"teams_attendance_utf8_comma.csv", ReportTeams, []a{
				{"ada.lovelace@example.com", "ada.lovelace@example.com", 61, true},
			}},
		{ // UTF-8 BOM and CRLF; a blank row skipped; decimal minutes rounded
			"plain_bom_crlf.csv", ReportPlain, []a{
				{"Ada.Lovelace@Example.com", "ada.lovelace@example.com", 55, true},
				{"bob.brown@example.com", "bob.brown@example.com", 0, true},
				{"wei.chen@example.org", "wei.chen@example.org", 13, true},
			}},
		{
			"plain_semicolon.csv", ReportPlain, []a{
				{"femi@example.com", "femi@example.com", 30, true},
				{"gina.goto@example.org", "gina.goto@example.org", 0, true},
			}},
		{
			"plain_emails_only.csv", ReportPlain, []a{
				{"carl.cole@example.com", "carl.cole@example.com", 0, true},
				{"dana.diaz@example.com", "dana.diaz@example.com", 0, true},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseAttendanceReport(readAttendanceFixture(t, tt.file))
			if err != nil {
				t.Fatalf("refused: %v", reportMessage(t, err))
			}
			if got.Format != tt.format {
				t.Errorf("format %q, want %q", got.Format, tt.format)
			}
			if !reflect.DeepEqual(got.Attendees, tt.want) {
				t.Errorf("attendees\n got %+v\nwant %+v", got.Attendees, tt.want)
			}
		})
	}
}

func TestParseAttendanceReport_ReadsEveryWrittenDuration(t *testing.T) {
	tests := map[string]int{
		"58 minutes": 58, "1 hour 5 minutes": 65, "1 hr 5 min": 65, "1h 2m 3s": 62, "45m 10s": 45,
		"30s": 1, "29s": 0, "2 hours, 1 minute": 121, "1 hour and 30 minutes": 90, "01:05:30": 66,
		"58": 58, "12.5": 13, "--": 0, "": 0,
	}
	for in, want := range tests {
		data := fmt.Sprintf("Attended,Interest Rating,Email Address,Time in Session\nYes,50,ada@example.com,%q\n", in)
		got, err := ParseAttendanceReport([]byte(data))
		if err != nil {
			t.Errorf("%q refused: %s", in, reportMessage(t, err))
			continue
		}
		if m := got.Attendees[0].Minutes; m != want {
			t.Errorf("%q read as %d minutes, want %d", in, m, want)
		}
	}
}

func TestParseAttendanceReport_RefusesBadFilesSayingWhy(t *testing.T) {
	tooMany := &bytes.Buffer{}
	tooMany.WriteString("Email\n")
	for i := range maxReportAttendees + 1 {
		fmt.Fprintf(tooMany, "p%d@example.com\n", i)
	}
	tests := []struct {
		name string
		data []byte
		want string // a fragment of the message
	}{
		{"over 10 MB", bytes.Repeat([]byte("a"), MaxAttendanceReport+1), "over 10 MB"},
		{"empty", nil, "empty"},
		{"only blank lines", []byte(" \r\n\r\n"), "empty"},
		{"only a byte order mark", []byte("\xEF\xBB\xBF"), "empty"},
		{"an Excel workbook", append([]byte("PK\x03\x04"), make([]byte, 64)...), "Excel workbook"},
		{"binary", []byte("Email\n\x00\x01\x02\x03"), "does not look like a CSV"},
		{"UTF-16 without a byte order mark", []byte("E\x00m\x00a\x00i\x00l\x00"), "does not look like a CSV"},
		{"Latin-1", []byte("Name,Email\nJos\xe9,jose@example.com\n"), "not UTF-8"},
		{"no email column", []byte("Name,Phone\nAda,555 0100\n"), "could not find a list of attendees"},
		{"only hosts", []byte("Host Details,\nAttended,Email,Time in Session (minutes)\nYes,h@example.org,60\n"), "could not find a list"},
		{"Zoom's list of meetings", readAttendanceFixture(t, "zoom_meeting_list.csv"), "list of meetings"},
		{"the older Teams list", readAttendanceFixture(t, "teams_classic_attendance_list.csv"), "older Microsoft Teams"},
		{"a formula", []byte("Name,Email\nAda,ada@example.com\nEve,=HYPERLINK(\"http://example.net\")\n"), "Line 3: the email column starts with \"=\""},
		{"a plus formula", []byte("Email\n+cmd@example.com\n"), "Line 2"},
		{"a minus formula", []byte("Email\n-1+2\n"), "formula"},
		{"an at formula", []byte("Email\n@SUM(A1)\n"), "formula"},
		{"not an address", []byte("Email\nada@example.com\nAda Lovelace\n"), "Line 3: the email column does not hold one email address"},
		{"an address with a space", []byte("Email\nada lovelace@example.com\n"), "Line 2"},
		{"two addresses", []byte("Email\n\"a@example.com, b@example.com\"\n"), "Line 2"},
		{"an address over 254 bytes", []byte("Email\n" + strings.Repeat("a", 250) + "@example.com\n"), "Line 2"},
		{"minutes not a number", []byte("Email,Minutes\nada@example.com,lots\n"), `Line 2: we could not read the time in the "Minutes" column`},
		{"minutes in exponent form", []byte("Email,Minutes\nada@example.com,1e3\n"), "could not read the time"},
		{"a duration not a duration", []byte("Name\tEmail\tIn-Meeting Duration\tRole\nAda\tada@example.com\tabout an hour\tAttendee\n"), "Line 2"},
		{"negative minutes", []byte("Email,Minutes\nada@example.com,-5\n"), "negative"},
		{"absurd minutes", []byte("Email,Minutes\nada@example.com,20000\n"), "more than 7 days"},
		{"rejoins adding to over 7 days", []byte("Email,Minutes\nada@example.com,6000\nADA@example.com,6000\n"), "Line 3: this address's times add up to more than 7 days"},
		{"more than 200,000 people", tooMany.Bytes(), "more than 200,000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAttendanceReport(tt.data)
			if err == nil {
				t.Fatalf("accepted: %+v", got)
			}
			if msg := reportMessage(t, err); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not say %q", msg, tt.want)
			}
		})
	}
}

// reportMessage is the organizer's message of a refusal, which must be a
// ValidationError for the file alone, in plain words with no Go error text.
func reportMessage(t testing.TB, err error) string {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("refusal %v (%T) is not a *ValidationError", err, err)
	}
	msg := verr.Fields["file"]
	if len(verr.Fields) != 1 || msg == "" {
		t.Fatalf("refusal fields %v, want one message for \"file\"", verr.Fields)
	}
	for _, goText := range []string{"csv:", "parse error", "strconv", "invalid syntax", "EOF", "%!", "<nil>", "mail:", "invalid email"} {
		if strings.Contains(msg, goText) {
			t.Fatalf("message %q has Go error text %q", msg, goText)
		}
	}
	if !strings.HasSuffix(msg, ".") {
		t.Errorf("message %q is not a finished sentence", msg)
	}
	return msg
}

// Whatever is uploaded, parsing never panics, refuses only with a
// ValidationError, and what it accepts has a comparable key per person.
func FuzzParseAttendanceReport(f *testing.F) {
	fixtures, err := os.ReadDir(filepath.Join("testdata", "attendance"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range fixtures {
		f.Add(readAttendanceFixture(f, e.Name()))
	}
	f.Add([]byte("Email;Minutes\r\nADA@Example.com;1,5\r\n"))
	f.Add([]byte("\xFE\xFF\x00E\x00m\x00a\x00i\x00l"))
	f.Add([]byte("Attendee Details,\nEmail,Attended\n\"a@b.c\nd\",Yes\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseAttendanceReport(data)
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Fields["file"] == "" {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, a := range got.Attendees {
			if a.EmailKey == "" || a.EmailKey != strings.ToLower(a.EmailKey) || a.Email == "" || a.Minutes < 0 {
				t.Fatalf("accepted %+v", a)
			}
			if seen[a.EmailKey] {
				t.Fatalf("%q listed twice", a.EmailKey)
			}
			seen[a.EmailKey] = true
		}
	})
}
