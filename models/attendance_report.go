package models

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ReportAttendee is one person in an attendance report: their address as the
// report spells it, the minutes they spent in the session (rejoins summed),
// and whether the report says they attended.
type ReportAttendee struct {
	Email    string // trimmed, as in the file (the first spelling seen)
	EmailKey string // trimmed and lower-cased, as normaliseEmail gives it
	Minutes  int
	Attended bool
}

// AttendanceReport is what a webinar tool's attendance export says.
type AttendanceReport struct {
	Format    string           // one of the Report* formats
	Attendees []ReportAttendee // one per address (EmailKey), in first-seen order
}

// The formats ParseAttendanceReport recognises, as AttendanceReport.Format.
const (
	ReportZoomWebinar      = "zoom_webinar"      // Zoom's webinar attendee report
	ReportZoomParticipants = "zoom_participants" // Zoom's participants export of one meeting or webinar
	ReportGoToWebinar      = "goto_webinar"      // GoTo Webinar's attendee report
	ReportTeams            = "teams"             // Microsoft Teams' attendance report
	ReportPlain            = "plain"             // any CSV with an email column
)

// MaxAttendanceReport is the largest report accepted (10 MB).
const MaxAttendanceReport = 10 << 20

const (
	maxReportAttendees = 200_000
	maxSessionSeconds  = 7 * 24 * 60 * 60 // no one sits in one session for longer
)

// What an organizer reads when a report is refused: what is wrong, and what
// to do about it.
const (
	reportFormats     = ` Podium reads Zoom webinar attendee reports, Zoom participant exports, GoTo Webinar attendee reports, Microsoft Teams attendance reports, and CSV files with a column headed "Email" (and, if you like, "Minutes").`
	msgReportTooLarge = "The file is over 10 MB. Export the attendance report of this one session only, and upload it again."
	msgReportEmpty    = "The file is empty. Export the attendance report again and upload the CSV file."
	// msgReportNoAttendees refuses a report whose attendee list has no rows.
	msgReportNoAttendees = "The file lists no attendees. Check that you exported the attendee report of the right session, after it ended."
	msgReportExcel       = `This looks like an Excel workbook. Open it and save or download it as "CSV UTF-8", then upload that file.`
	msgReportBinary      = "This does not look like a CSV or text file." + reportFormats
	msgReportNotUTF8     = `The file is not UTF-8 text. Export it again from the webinar tool, or in Excel choose Save As and "CSV UTF-8 (Comma delimited)", and upload that file.`
	msgReportNoList      = "We could not find a list of attendees in this file." + reportFormats
	msgZoomMeetings      = "This is Zoom's list of meetings, not the participants of one meeting. In Zoom's usage report, click the number of participants of the meeting and export that list."
	msgTeamsClassic      = "This is an older Microsoft Teams attendance list, which has no email addresses. Download the attendance report from the meeting's Attendance tab instead: it has an Email column."
	msgReportTooMany     = "The file lists more than 200,000 people, more than Podium takes from one report."
)

// ParseAttendanceReport reads a webinar tool's attendance export. It finds
// the tool by the report's header rows, wherever they are, counts only the
// sections about attendees (not hosts, panelists or presenters), and sums
// each address's time over its rejoins. Anything it cannot read with
// confidence is refused whole with a *ValidationError for the field "file",
// so a bad file changes nothing.
func ParseAttendanceReport(data []byte) (*AttendanceReport, error) {
	text, err := reportText(data)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = reportSeparator(text)
	r.FieldsPerRecord = -1 // section titles, summaries and tables differ in width
	r.LazyQuotes = true    // exports quote loosely; a stray quote is not a reason to refuse
	r.ReuseRecord = true
	return readReport(r)
}

// refuseReport is a refusal of the uploaded file.
func refuseReport(format string, args ...any) error {
	return &ValidationError{Fields: map[string]string{"file": fmt.Sprintf(format, args...)}}
}

// reportText is the file as text: UTF-8 with or without a byte order mark,
// or UTF-16 with one (how Teams saves), with line endings made \n.
func reportText(data []byte) (string, error) {
	switch {
	case len(data) > MaxAttendanceReport:
		return "", refuseReport(msgReportTooLarge)
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0")):
		return "", refuseReport(msgReportExcel) // .xlsx is a zip, .xls an OLE file
	}
	var text string
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		text = decodeUTF16(data[2:], binary.LittleEndian)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		text = decodeUTF16(data[2:], binary.BigEndian)
	default:
		text = string(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF")))
	}
	switch {
	case strings.ContainsRune(text, 0):
		return "", refuseReport(msgReportBinary)
	case !utf8.ValidString(text):
		return "", refuseReport(msgReportNotUTF8)
	case strings.TrimSpace(text) == "":
		return "", refuseReport(msgReportEmpty)
	}
	return strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), nil
}

// decodeUTF16 decodes UTF-16 by hand, to need no module for a few lines. An
// odd trailing byte or a broken surrogate becomes U+FFFD.
func decodeUTF16(b []byte, order binary.ByteOrder) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = order.Uint16(b[2*i:])
	}
	text := string(utf16.Decode(units))
	if len(b)%2 != 0 {
		text += string(utf8.RuneError)
	}
	return text
}

// reportSeparator is the separator of the first line that, split by it, has
// a heading Podium keys on. Tab comes first because Teams' names may hold
// commas; comma is the default.
func reportSeparator(text string) rune {
	for line := range strings.Lines(text) {
		for _, sep := range []string{"\t", ";", ","} {
			for cell := range strings.SplitSeq(line, sep) {
				if k := strings.Trim(headingKey(cell), `"`); isEmailHeading(k) || k == "user action" {
					return rune(sep[0])
				}
			}
		}
	}
	return ','
}

// headingKey is a heading or title as compared: trimmed, lower-case, single
// spaces.
func headingKey(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

func isEmailHeading(k string) bool {
	switch k {
	case "email", "e-mail", "email address", "e-mail address", "user email":
		return true
	}
	return false
}

// sectionRole is what the rows under a section title are.
type sectionRole int

const (
	sectionAttendees sectionRole = iota // people who came, or registered (Zoom says which)
	sectionHosts                        // hosts, panelists, organizers, summaries: not attendees
	sectionAbsent                       // registrants who did not come
)

// reportSection reads a section title line: one cell, like Zoom's "Host
// Details," or Teams' "2. Participants". Unknown titles are not sections.
func reportSection(cells []string) (sectionRole, bool) {
	if len(cells) == 0 || cells[0] == "" || strings.Join(cells[1:], "") != "" {
		return 0, false
	}
	title := strings.TrimSuffix(headingKey(cells[0]), ":")
	if n := strings.IndexByte(title, ' '); n > 1 && strings.Trim(title[:n-1], "0123456789") == "" && title[n-1] == '.' {
		title = title[n+1:] // Teams numbers its sections
	}
	switch title {
	case "attendee report", "attendee details", "attendees", "other attended", "participants", "session details":
		return sectionAttendees, true
	case "host details", "hosts", "panelist details", "panelists", "organizer details", "organizers",
		"co-organizer details", "staff details", "summary", "in-meeting activities":
		return sectionHosts, true // Teams' activities repeat section 2 join by join
	case "absentee details", "absentees":
		return sectionAbsent, true
	}
	return 0, false
}

// reportTable is the columns of one header row and how to read its rows.
type reportTable struct {
	format    string
	email     int
	time      int  // -1: no time column
	durations bool // times read "1h 5m" rather than a number of minutes
	attended  int  // -1: everyone listed attended
	role      int  // -1: no role column (Teams has one)
	skip      bool // the rows are not attendees
	absent    bool // the rows are registrants who did not come
	meetings  bool // Zoom's summary of meetings, host's address and all
	timeName  string
}

// headerKeys is cells as headings, and which is the email column: -1 when
// the cells are not a header row. A header has no address in it.
func headerKeys(cells []string) (keys []string, email int) {
	keys, email = make([]string, len(cells)), -1
	for i, c := range cells {
		if strings.Contains(c, "@") {
			return nil, -1
		}
		if keys[i] = headingKey(c); email < 0 && isEmailHeading(keys[i]) {
			email = i
		}
	}
	return keys, email
}

// headingAt is the first column from index from on with one of the names,
// or -1.
func headingAt(keys []string, from int, names ...string) int {
	for i := max(from, 0); i < len(keys); i++ {
		if slices.Contains(names, keys[i]) {
			return i
		}
	}
	return -1
}

// newReportTable reads a header row: which tool's it is, and its columns.
func newReportTable(cells, keys []string, email int) *reportTable {
	col := func(names ...string) int { return headingAt(keys, 0, names...) }
	t := &reportTable{email: email, attended: col("attended"), role: -1}
	switch {
	case col("user email", "name (original name)") >= 0:
		// Zoom may put the meeting's columns, the host's address among them,
		// before the participant's: read from the participant's name on.
		from := col("name (original name)")
		t.format, t.email, t.time = ReportZoomParticipants, headingAt(keys, from, "user email"), headingAt(keys, from, "duration (minutes)")
		t.meetings = from < 0 && col("meeting id") >= 0 && col("join time") < 0
		t.skip = t.meetings || t.email < 0
	case col("time in session (minutes)") >= 0:
		t.format, t.time = ReportZoomWebinar, col("time in session (minutes)")
	case col("interest rating", "time in session", "in session duration") >= 0:
		t.format, t.time, t.durations = ReportGoToWebinar, col("time in session", "in session duration"), true
	case col("in-meeting duration", "first join") >= 0 || (col("role") >= 0 && col("duration") >= 0):
		t.format, t.time, t.durations = ReportTeams, col("in-meeting duration", "duration"), true
		t.role = col("role")
	default:
		t.format, t.time = ReportPlain, col("minutes", "duration (minutes)", "duration")
	}
	if t.time >= 0 {
		t.timeName = cells[t.time]
	}
	return t
}

// reportReader gathers attendees table by table.
type reportReader struct {
	report   AttendanceReport
	seen     map[string]int // EmailKey → index in report.Attendees
	seconds  []int          // time in session of each attendee
	section  sectionRole
	table    *reportTable // nil outside a table: preamble, summaries
	found    bool         // a table of attendees or absentees was found
	meetings bool         // Zoom's list of meetings was found
}

func readReport(r *csv.Reader) (*AttendanceReport, error) {
	rr := reportReader{seen: map[string]int{}}
	for {
		cells, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, refuseReport("Line %d could not be read as CSV. Export the report again and upload the new file.", csvErrorLine(err))
		}
		line, _ := r.FieldPos(0)
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if err := rr.record(cells, line); err != nil {
			return nil, err
		}
	}
	return rr.finish()
}

// csvErrorLine is the line a CSV error is on; the error's own text is not
// for an organizer.
func csvErrorLine(err error) int {
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		return perr.StartLine
	}
	return 0
}

// record reads one record: a section title, a header row, or a row of the
// table under way. Lines outside any table (titles, summaries) are skipped.
func (rr *reportReader) record(cells []string, line int) error {
	if role, ok := reportSection(cells); ok {
		rr.section, rr.table = role, nil
		return nil
	}
	keys, email := headerKeys(cells)
	switch {
	case slices.Contains(keys, "user action") && slices.Contains(keys, "full name"):
		return refuseReport(msgTeamsClassic)
	case email >= 0:
		rr.startTable(newReportTable(cells, keys, email))
		return nil
	case rr.table == nil || rr.table.skip:
		return nil
	}
	return rr.row(rr.table, cells, line)
}

// startTable reads the rows that follow as the section they are under says.
func (rr *reportReader) startTable(t *reportTable) {
	t.skip = t.skip || rr.section == sectionHosts
	t.absent = rr.section == sectionAbsent
	rr.table, rr.meetings = t, rr.meetings || t.meetings
	rr.found = rr.found || !t.skip
	if rr.report.Format == "" {
		rr.report.Format = t.format
	}
}

// row adds one row of a table of attendees.
func (rr *reportReader) row(t *reportTable, cells []string, line int) error {
	email := cell(cells, t.email)
	if email == "" {
		return nil // Zoom's and Teams' guests who gave no address
	}
	if t.role >= 0 {
		switch strings.ToLower(cell(cells, t.role)) {
		case "organizer", "organiser", "co-organizer", "co-organiser", "presenter":
			return nil // hosts are not attendees
		}
	}
	if strings.ContainsAny(email[:1], "=+-@") {
		return refuseReport("Line %d: the email column starts with %q, which a spreadsheet would run as a formula. Remove that row or fix the address, and upload the file again.", line, email[:1])
	}
	key, err := normaliseEmail(email)
	if err != nil {
		return refuseReport("Line %d: the email column does not hold one email address. Fix or remove that row, and upload the file again.", line)
	}
	attended, seconds := !t.absent, 0
	if !t.absent {
		if t.attended >= 0 {
			attended = isYes(cell(cells, t.attended))
		}
		if seconds, err = t.readTime(cell(cells, t.time), line); err != nil {
			return err
		}
	}
	return rr.add(email, key, seconds, attended, line)
}

// cell is cells[i], or "" when the row is too short or there is no column.
func cell(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return cells[i]
}

func isYes(s string) bool {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "1":
		return true
	}
	return false
}

// add counts a row for an address, summing the time of its rejoins; it
// attended if any row says so.
func (rr *reportReader) add(email, key string, seconds int, attended bool, line int) error {
	i, ok := rr.seen[key]
	if !ok {
		if len(rr.report.Attendees) == maxReportAttendees {
			return refuseReport(msgReportTooMany)
		}
		i = len(rr.report.Attendees)
		rr.seen[key] = i
		rr.report.Attendees = append(rr.report.Attendees, ReportAttendee{Email: email, EmailKey: key})
		rr.seconds = append(rr.seconds, 0)
	}
	if rr.seconds[i] += seconds; rr.seconds[i] > maxSessionSeconds {
		return refuseReport("Line %d: this address's times add up to more than 7 days, which cannot be right for one session. Check the report and upload it again.", line)
	}
	rr.report.Attendees[i].Attended = rr.report.Attendees[i].Attended || attended
	return nil
}

// finish rounds each attendee's time to the nearest minute, once, so
// seconds lost to rounding each rejoin do not add up.
func (rr *reportReader) finish() (*AttendanceReport, error) {
	if !rr.found {
		if rr.meetings {
			return nil, refuseReport(msgZoomMeetings)
		}
		return nil, refuseReport(msgReportNoList)
	}
	if len(rr.report.Attendees) == 0 {
		// Applied, a list of nobody would mark every registrant absent.
		return nil, refuseReport(msgReportNoAttendees)
	}
	for i, s := range rr.seconds {
		rr.report.Attendees[i].Minutes = (s + 30) / 60
	}
	return &rr.report, nil
}

// readTime reads a time in session as seconds: a number of minutes, or for
// GoTo and Teams a duration such as "1 hour 5 minutes" or "1h 2m 3s". Empty
// and Zoom's "--" (did not attend) are 0.
func (t *reportTable) readTime(s string, line int) (int, error) {
	if s == "" || s == "--" {
		return 0, nil
	}
	if strings.HasPrefix(s, "-") {
		return 0, refuseReport("Line %d: the time in the %q column is negative. Check the report and upload it again.", line, t.timeName)
	}
	seconds, ok := minutesSeconds(s)
	if !ok && t.durations {
		seconds, ok = durationSeconds(s)
	}
	switch {
	case !ok:
		return 0, refuseReport("Line %d: we could not read the time in the %q column as a number of minutes. Fix that row and upload the file again.", line, t.timeName)
	case seconds > maxSessionSeconds:
		return 0, refuseReport("Line %d: the time in the %q column is more than 7 days, which cannot be right for one session. Check the report and upload it again.", line, t.timeName)
	}
	return int(math.Round(seconds)), nil
}
