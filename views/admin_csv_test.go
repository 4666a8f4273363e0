package views

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"
	"testing"
	"time"

	"podium/models"
)

func TestCSVCell_NeutralisesFormulas(t *testing.T) {
	cases := map[string]string{
		"":                    "",
		"Ada Lovelace":        "Ada Lovelace",
		"=HYPERLINK(\"x\")":   "'=HYPERLINK(\"x\")",
		"+44 20 7946 0000":    "'+44 20 7946 0000",
		"-2+3":                "'-2+3",
		"@SUM(A1)":            "'@SUM(A1)",
		"\t=1":                "'\t=1",
		"\r=1":                "'\r=1",
		"a=1":                 "a=1",
		"'already quoted":     "'already quoted",
		"Zoë Ørsted, \"Ltd\"": "Zoë Ørsted, \"Ltd\"",
	}
	for in, want := range cases {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q; want %q", in, got, want)
		}
	}
}

func exportQuestions() []models.Question {
	return []models.Question{
		{ID: 7, Kind: models.QuestionShortText, Label: "Dietary needs"},
		{ID: 9, Kind: models.QuestionMultipleChoice, Label: "=Topics", Options: models.Lines{"AI", "Jobs"}},
	}
}

func exportRegistration() *models.Registration {
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	attended := start.Add(10 * time.Minute)
	return &models.Registration{
		ID: 42, Status: models.RegistrationConfirmed, Name: "=cmd|' /C calc'!A0", Email: "ada@example.com",
		Organisation: "Analytical, \"Engines\"", JobTitle: "Countess\nof Lovelace",
		CreatedAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC), ConsentAt: time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		AttendedAt: &attended,
		Session: &models.Session{ID: 3, StartsAt: start, TimeZone: "America/New_York",
			Panel: &models.Panel{Title: "AI and jobs"}},
		Answers: []models.Answer{{QuestionID: 9, Value: "AI\nJobs"}, {QuestionID: 7, Value: "-none-"}},
	}
}

func TestCSVExport_EveryFieldAndAnswerInItsOwnColumn(t *testing.T) {
	e := NewCSVExport(exportQuestions())
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	if err := w.Write(e.Header()); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(e.Row(exportRegistration())); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	records, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v", err)
	}
	header, row := records[0], records[1]
	if len(header) != len(csvColumns)+2 || len(row) != len(header) {
		t.Fatalf("header has %d columns, row %d; want %d", len(header), len(row), len(csvColumns)+2)
	}
	cell := map[string]string{}
	for i, h := range header {
		cell[h] = row[i]
	}
	want := map[string]string{
		"Registration ID": "42", "Status": "confirmed", "Name": "'=cmd|' /C calc'!A0", "Email": "ada@example.com",
		"Organisation": "Analytical, \"Engines\"", "Job title": "Countess\nof Lovelace",
		"Registered (UTC)": "2026-11-20 09:30:00", "Attended (UTC)": "2026-12-03 15:10:00", "Cancelled (UTC)": "",
		"Panel": "AI and jobs", "Session start (UTC)": "2026-12-03 15:00:00", "Session start (local)": "2026-12-03 10:00:00",
		"Session time zone": "America/New_York", "Dietary needs": "'-none-", "'=Topics": "AI; Jobs",
	}
	for k, v := range want {
		if cell[k] != v {
			t.Errorf("%s = %q; want %q", k, cell[k], v)
		}
	}
	if !strings.Contains(buf.String(), "\r\n") {
		t.Error("rows do not end with CRLF (RFC 4180)")
	}
}

// FuzzCSVCell checks that no cell can start a formula, that a neutralised
// cell only gains the apostrophe, and that every cell survives a CSV round trip.
func FuzzCSVCell(f *testing.F) {
	for _, s := range []string{"", "=1+1", "+1", "-1", "@A1", "\t=1", "\r\n", "plain", "\"quoted\",comma", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CSVCell(s)
		if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
			t.Fatalf("CSVCell(%q) = %q starts a formula", s, got)
		}
		if got != s && got != "'"+s {
			t.Fatalf("CSVCell(%q) = %q changed more than a leading apostrophe", s, got)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.Write([]string{got, "next"}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		rec, err := csv.NewReader(&buf).Read()
		if err != nil {
			t.Fatalf("round trip of %q: %v", got, err)
		}
		// A CSV reader normalises carriage returns inside fields; the rest
		// must come back byte for byte.
		if !strings.Contains(got, "\r") && rec[0] != got {
			t.Fatalf("round trip of %q = %q", got, rec[0])
		}
	})
}

// BenchmarkCSVExport_100000Registrations writes 100,000 rows through the same
// path as the export handler (one reused registration, as a stream holds one
// batch), so its allocated bytes per export are measured, not guessed.
func BenchmarkCSVExport_100000Registrations(b *testing.B) {
	const rows = 100_000
	reg := exportRegistration()
	e := NewCSVExport(exportQuestions())
	b.ReportAllocs()
	for b.Loop() {
		w := csv.NewWriter(io.Discard)
		_ = w.Write(e.Header())
		for i := range rows {
			reg.ID = int64(i + 1)
			if err := w.Write(e.Row(reg)); err != nil {
				b.Fatal(err)
			}
		}
		w.Flush()
	}
	b.ReportMetric(float64(rows), "rows/op")
}
