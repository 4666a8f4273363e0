package views

import (
	"strconv"

	"podium/models"
)

// leadColumns are a sponsor's lead's own columns; one column per custom
// question follows them.
var leadColumns = []string{
	"Name", "Email", "Organisation", "Job title", "Registered (UTC)", "Status", "Session start (UTC)",
	"Attendance", "Minutes attended", "Watched the replay",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "Referrer",
	"Consent given (UTC)", "Consent wording version",
}

// LeadsCSV is the rows of a sponsor's leads: what the person agreed to
// share (SponsorConsentText), formula-safe like every export.
type LeadsCSV struct {
	questions []models.Question
	column    map[int64]int
}

// NewLeadsCSV prepares the rows with the panel's questions, in form order.
func NewLeadsCSV(questions []models.Question) *LeadsCSV {
	e := &LeadsCSV{questions: questions, column: make(map[int64]int, len(questions))}
	for i, q := range questions {
		e.column[q.ID] = len(leadColumns) + i
	}
	return e
}

// Header is the first row.
func (e *LeadsCSV) Header() []string { return csvHeader(leadColumns, e.questions) }

// Row is one lead's cells.
func (e *LeadsCSV) Row(l *models.Lead) []string {
	row := make([]string, len(leadColumns)+len(e.questions))
	r := &l.Registration
	row[0], row[1], row[2], row[3] = CSVCell(r.Name), CSVCell(r.Email), CSVCell(r.Organisation), CSVCell(r.JobTitle)
	row[4], row[5] = csvStamp(r.CreatedAt), string(r.Status)
	if r.Session != nil {
		row[6] = csvStamp(r.Session.StartsAt)
	}
	row[7] = string(r.Attendance)
	if r.AttendedMinutes != nil {
		row[8] = strconv.Itoa(*r.AttendedMinutes)
	}
	if r.WatchedAt != nil {
		row[9] = "yes"
	}
	row[10], row[11], row[12] = CSVCell(r.Source), CSVCell(r.Medium), CSVCell(r.Campaign)
	row[13], row[14], row[15] = CSVCell(r.Term), CSVCell(r.Content), CSVCell(r.Referrer)
	row[16], row[17] = csvStamp(l.ConsentGivenAt), strconv.FormatInt(l.ConsentTextID, 10)
	csvAnswers(row, e.column, r.Answers)
	return row
}
