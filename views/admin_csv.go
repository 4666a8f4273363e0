package views

import (
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// CSVBOM starts every export, so Excel reads the file as UTF-8.
const CSVBOM = "\uFEFF"

// csvColumns are the registration's own columns; one column per custom
// question follows them.
var csvColumns = []string{
	"Registration ID", "Status", "Name", "Email", "Organisation", "Job title",
	"Registered (UTC)", "Cancelled (UTC)", "Attended (UTC)", "Consent given (UTC)",
	"Panel", "Session ID", "Session start (UTC)", "Session start (local)", "Session time zone",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "Referrer",
	"Replay registration", "Attendance", "Minutes attended", "Joined (UTC)", "Watched (UTC)",
}

// csvTime is how the export writes instants: sortable, and read as a date
// by spreadsheets.
const csvTime = "2006-01-02 15:04:05"

// CSVExport builds the rows of a registrant export: every field of the
// registration and each custom question's answer in its own column. Row
// reuses one slice, so a stream of any length costs the same memory.
type CSVExport struct {
	questions []models.Question
	column    map[int64]int
	row       []string
	// zones caches loaded locations: loading one reads the zone database.
	zones map[string]*time.Location
}

// NewCSVExport prepares an export with the panel's questions, in form order.
func NewCSVExport(questions []models.Question) *CSVExport {
	e := &CSVExport{questions: questions, column: make(map[int64]int, len(questions)),
		row: make([]string, len(csvColumns)+len(questions)), zones: map[string]*time.Location{}}
	for i, q := range questions {
		e.column[q.ID] = len(csvColumns) + i
	}
	return e
}

// Header is the first row: the column names, neutralised like every cell
// since question labels are typed by organizers.
func (e *CSVExport) Header() []string { return csvHeader(csvColumns, e.questions) }

// csvHeader is an export's first row: its own columns, then a column per
// custom question, each neutralised.
func csvHeader(columns []string, questions []models.Question) []string {
	out := make([]string, 0, len(columns)+len(questions))
	for _, c := range columns {
		out = append(out, CSVCell(c))
	}
	for _, q := range questions {
		out = append(out, CSVCell(q.Label))
	}
	return out
}

// Row is one registration's cells. The slice is reused by the next call.
func (e *CSVExport) Row(r *models.Registration) []string {
	row := e.row
	clear(row)
	row[0] = strconv.FormatInt(r.ID, 10)
	row[1] = string(r.Status)
	row[2], row[3] = CSVCell(r.Name), CSVCell(r.Email)
	row[4], row[5] = CSVCell(r.Organisation), CSVCell(r.JobTitle)
	row[6] = csvStamp(r.CreatedAt)
	row[7], row[8] = csvStampPtr(r.CancelledAt), csvStampPtr(r.AttendedAt)
	row[9] = csvStamp(r.ConsentAt)
	if s := r.Session; s != nil {
		if s.Panel != nil {
			row[10] = CSVCell(s.Panel.Title)
		}
		row[11] = strconv.FormatInt(s.ID, 10)
		row[12] = csvStamp(s.StartsAt)
		row[13] = s.StartsAt.In(e.location(s)).Format(csvTime)
		row[14] = CSVCell(s.TimeZone)
	}
	row[15], row[16], row[17] = CSVCell(r.Source), CSVCell(r.Medium), CSVCell(r.Campaign)
	row[18], row[19], row[20] = CSVCell(r.Term), CSVCell(r.Content), CSVCell(r.Referrer)
	if r.OnDemand {
		row[21] = "yes"
	}
	row[22] = string(r.Attendance)
	if r.AttendedMinutes != nil {
		row[23] = strconv.Itoa(*r.AttendedMinutes)
	}
	row[24], row[25] = csvStampPtr(r.JoinedAt), csvStampPtr(r.WatchedAt)
	csvAnswers(row, e.column, r.Answers)
	return row
}

// csvAnswers puts each answer in its question's column, a multiple
// choice's options joined with "; ".
func csvAnswers(row []string, column map[int64]int, answers []models.Answer) {
	for _, a := range answers {
		if col, ok := column[a.QuestionID]; ok {
			row[col] = CSVCell(strings.ReplaceAll(a.Value, "\n", "; "))
		}
	}
}

// location is the session's zone, loaded once per export.
func (e *CSVExport) location(s *models.Session) *time.Location {
	loc, ok := e.zones[s.TimeZone]
	if !ok {
		loc = s.Location()
		e.zones[s.TimeZone] = loc
	}
	return loc
}

func csvStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(csvTime)
}

func csvStampPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return csvStamp(*t)
}

// CSVCell neutralises formula injection (OWASP "CSV injection"): a cell that
// starts with =, +, -, @, a tab or a carriage return could be run as a
// formula by a spreadsheet, so it gets a leading apostrophe, which
// spreadsheets read as "this is text". Quoting is left to encoding/csv.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
