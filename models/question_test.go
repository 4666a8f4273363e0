package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// newQuestionPanel stores a published panel with one session (capacity 10)
// and one question of each kind, the short text and checkbox ones required.
func newQuestionPanel(t *testing.T, s *Store) (*Panel, *Session) {
	t.Helper()
	p := &Panel{
		Title: "Panel with questions", Status: PanelPublished,
		Sessions: []Session{{StartsAt: testNow.AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC",
			Capacity: 10, Waitlist: true, Venue: "Hall"}},
		Questions: []Question{
			{Kind: QuestionShortText, Label: "Your role", Required: true},
			{Kind: QuestionLongText, Label: "What would you ask the panel?"},
			{Kind: QuestionSingleChoice, Label: "Sector", Options: Lines{"Public", "Private", "Charity"}},
			{Kind: QuestionMultipleChoice, Label: "Topics", Options: Lines{"AI", "Cloud", "Security"}},
			{Kind: QuestionCheckbox, Label: "I accept the code of conduct", Required: true},
		},
	}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return p, &p.Sessions[0]
}

// answersFor answers every question of newQuestionPanel acceptably.
func answersFor(p *Panel) map[int64][]string {
	q := p.Questions
	return map[int64][]string{
		q[0].ID: {"  Analyst "},
		q[1].ID: {"Line one\r\nLine two\twith a tab"},
		q[2].ID: {"Private"},
		q[3].ID: {"Security", "AI", "AI"},
		q[4].ID: {CheckboxAnswer},
	}
}

func TestLines_StoredAsNewlineSeparatedText(t *testing.T) {
	v, err := Lines{"One", "Two words"}.Value()
	if err != nil || v != "One\nTwo words" {
		t.Fatalf("Value = %q, %v", v, err)
	}
	cases := []struct {
		src  any
		want Lines
	}{
		{"One\nTwo words", Lines{"One", "Two words"}},
		{[]byte("A\n\n B \n"), Lines{"A", "B"}},
		{"", nil},
		{nil, nil},
	}
	for _, tc := range cases {
		var l Lines
		if err := l.Scan(tc.src); err != nil || !slices.Equal(l, tc.want) {
			t.Errorf("Scan(%q) = %q, %v; want %q", tc.src, l, err, tc.want)
		}
	}
	var l Lines
	if err := l.Scan(42); err == nil {
		t.Error("Scan(int) succeeded; want an error")
	}
}

func TestCreatePanel_RefusesInvalidQuestions(t *testing.T) {
	manyOptions := make(Lines, MaxQuestionOptions+1)
	for i := range manyOptions {
		manyOptions[i] = fmt.Sprint("Option ", i)
	}
	cases := []struct {
		name  string
		q     Question
		field string
	}{
		{"empty label", Question{Kind: QuestionShortText, Label: "  "}, "questions[0].label"},
		{"long label", Question{Kind: QuestionShortText, Label: strings.Repeat("x", MaxQuestionLabel+1)}, "questions[0].label"},
		{"label with line break", Question{Kind: QuestionShortText, Label: "Role\nBcc"}, "questions[0].label"},
		{"unknown kind", Question{Kind: "date", Label: "When?"}, "questions[0].kind"},
		{"choice with one option", Question{Kind: QuestionSingleChoice, Label: "Pick", Options: Lines{"Only"}}, "questions[0].options"},
		{"choice with duplicate options", Question{Kind: QuestionMultipleChoice, Label: "Pick", Options: Lines{"A", " A "}}, "questions[0].options"},
		{"choice with blank option", Question{Kind: QuestionSingleChoice, Label: "Pick", Options: Lines{"A", " ", "B"}}, "questions[0].options"},
		{"choice with long option", Question{Kind: QuestionSingleChoice, Label: "Pick", Options: Lines{"A", strings.Repeat("b", MaxQuestionOption+1)}}, "questions[0].options"},
		{"choice with too many options", Question{Kind: QuestionSingleChoice, Label: "Pick", Options: manyOptions}, "questions[0].options"},
		{"text with options", Question{Kind: QuestionShortText, Label: "Role", Options: Lines{"A", "B"}}, "questions[0].options"},
		{"checkbox with options", Question{Kind: QuestionCheckbox, Label: "Agree", Options: Lines{"A", "B"}}, "questions[0].options"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t)
			p := &Panel{Title: "Panel", Questions: []Question{tc.q}}
			var verr *ValidationError
			if err := s.CreatePanel(context.Background(), p); !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
				t.Fatalf("CreatePanel = %v; want a message for %q", err, tc.field)
			}
		})
	}
}

func TestCreatePanel_RefusesMoreThanFiftyQuestions(t *testing.T) {
	s, _ := newTestStore(t)
	p := &Panel{Title: "Panel"}
	for i := range MaxQuestions + 1 {
		p.Questions = append(p.Questions, Question{Kind: QuestionShortText, Label: fmt.Sprint("Q", i)})
	}
	var verr *ValidationError
	if err := s.CreatePanel(context.Background(), p); !errors.As(err, &verr) || verr.Fields["questions"] == "" {
		t.Fatalf("CreatePanel = %v; want a questions message", err)
	}
}

func TestCheckAnswers_AcceptsAndNormalisesEachKind(t *testing.T) {
	qs := []Question{
		{ID: 1, Kind: QuestionShortText}, {ID: 2, Kind: QuestionLongText},
		{ID: 3, Kind: QuestionSingleChoice, Options: Lines{"Yes", "No"}},
		{ID: 4, Kind: QuestionMultipleChoice, Options: Lines{"A", "B", "C"}},
		{ID: 5, Kind: QuestionCheckbox}, {ID: 6, Kind: QuestionShortText},
	}
	answers, msgs := checkAnswers(qs, map[int64][]string{
		1: {" Ada 🚀 "}, 2: {"one\r\ntwo\tthree"}, 3: {"No"}, 4: {"C", "", "A", "C"}, 5: {"yes"}, 6: {"  "},
	})
	if len(msgs) != 0 {
		t.Fatalf("messages = %v; want none", msgs)
	}
	want := []Answer{{QuestionID: 1, Value: "Ada 🚀"}, {QuestionID: 2, Value: "one\ntwo\tthree"},
		{QuestionID: 3, Value: "No"}, {QuestionID: 4, Value: "A\nC"}, {QuestionID: 5, Value: "yes"}}
	if !slices.Equal(answers, want) {
		t.Fatalf("answers = %+v; want %+v (blank optional answers left out)", answers, want)
	}
}

func TestCheckAnswers_RefusesBadAnswersWithAMessagePerQuestion(t *testing.T) {
	short := Question{ID: 1, Kind: QuestionShortText}
	long := Question{ID: 1, Kind: QuestionLongText}
	single := Question{ID: 1, Kind: QuestionSingleChoice, Options: Lines{"Yes", "No"}}
	multi := Question{ID: 1, Kind: QuestionMultipleChoice, Options: Lines{"A", "B"}}
	check := Question{ID: 1, Kind: QuestionCheckbox}
	required := func(q Question) Question { q.Required = true; return q }
	cases := []struct {
		name   string
		q      Question
		values []string
		want   string
	}{
		{"required short text missing", required(short), nil, "Answer this question."},
		{"required short text blank", required(short), []string{"   "}, "Answer this question."},
		{"short text too long", short, []string{strings.Repeat("é", MaxShortAnswerLength+1)}, "Keep your answer under 300 characters."},
		{"short text on two lines", short, []string{"a\nb"}, "Keep your answer on one line."},
		{"short text with tab", short, []string{"a\tb"}, "Your answer contains characters we cannot accept."},
		{"short text with bidi override", short, []string{"abc\u202Eexe"}, "Your answer contains characters we cannot accept."},
		{"short text twice", short, []string{"a", "b"}, "Give one answer."},
		{"long text too long", long, []string{strings.Repeat("x", MaxLongAnswerLength+1)}, "Keep your answer under 5000 characters."},
		{"long text with NUL", long, []string{"a\x00b"}, "Your answer contains characters we cannot accept."},
		{"long text with escape", long, []string{"a\x1b[31mb"}, "Your answer contains characters we cannot accept."},
		{"long text invalid UTF-8", long, []string{"a\xffb"}, "Your answer contains characters we cannot accept."},
		{"single choice not an option", single, []string{"Maybe"}, "Choose one of the options listed."},
		{"single choice two values", single, []string{"Yes", "No"}, "Give one answer."},
		{"required single choice missing", required(single), nil, "Choose an answer."},
		{"multiple choice not an option", multi, []string{"A", "Z"}, "Choose from the options listed."},
		{"required multiple choice missing", required(multi), []string{""}, "Choose at least one answer."},
		{"checkbox other value", check, []string{"on"}, "Tick the box or leave it empty."},
		{"required checkbox missing", required(check), nil, "Tick the box to continue."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			answers, msgs := checkAnswers([]Question{tc.q}, map[int64][]string{1: tc.values})
			if msgs["q_1"] != tc.want || len(answers) != 0 {
				t.Fatalf("checkAnswers = %+v, %v; want %q and nothing to store", answers, msgs, tc.want)
			}
		})
	}
}

func TestCheckAnswers_RefusesUnknownQuestion(t *testing.T) {
	_, msgs := checkAnswers([]Question{{ID: 1, Kind: QuestionShortText}}, map[int64][]string{1: {"a"}, 99: {"b"}})
	if msgs["q_99"] == "" || len(msgs) != 1 {
		t.Fatalf("messages = %v; want one for q_99", msgs)
	}
}

func TestRegister_StoresAnswersInTheSameTransaction(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newQuestionPanel(t, s)
	ctx := context.Background()
	in := validInput(sess.ID, "ada@example.com")
	in.Answers = answersFor(p)
	res, err := s.Register(ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := s.RegistrationByID(ctx, res.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Analyst", "Line one\nLine two\twith a tab", "Private", "AI\nSecurity", "yes"}
	got := make([]string, len(reg.Answers))
	for i, a := range reg.Answers {
		got[i] = a.Value
		if a.QuestionID != p.Questions[i].ID {
			t.Fatalf("answer %d is for question %d; want form order", i, a.QuestionID)
		}
	}
	if !slices.Equal(got, want) || len(res.Registration.Answers) != len(want) {
		t.Fatalf("answers = %q (result has %d); want %q", got, len(res.Registration.Answers), want)
	}
}

func TestRegister_InvalidAnswersStoreNothing(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newQuestionPanel(t, s)
	cases := []struct {
		name  string
		edit  func(map[int64][]string)
		field string
	}{
		{"required answer missing", func(a map[int64][]string) { delete(a, p.Questions[0].ID) }, p.Questions[0].FieldName()},
		{"required checkbox unticked", func(a map[int64][]string) { delete(a, p.Questions[4].ID) }, p.Questions[4].FieldName()},
		{"choice not offered", func(a map[int64][]string) { a[p.Questions[2].ID] = []string{"Other"} }, p.Questions[2].FieldName()},
		{"question of another form", func(a map[int64][]string) { a[p.Questions[4].ID+100] = []string{"x"} }, fmt.Sprint("q_", p.Questions[4].ID+100)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validInput(sess.ID, "ada@example.com")
			in.Answers = answersFor(p)
			tc.edit(in.Answers)
			var verr *ValidationError
			if _, err := s.Register(context.Background(), p.ID, in); !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
				t.Fatalf("Register = %v; want a message for %s", err, tc.field)
			}
			assertRegistrationCount(t, s, sess.ID, 0)
		})
	}
}

func TestRegister_InvalidDetailsAlsoReportAnswerMessages(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newQuestionPanel(t, s)
	in := validInput(sess.ID, "ada@example.com")
	in.Name = ""
	var verr *ValidationError
	if _, err := s.Register(context.Background(), p.ID, in); !errors.As(err, &verr) {
		t.Fatalf("Register = %v; want a validation error", err)
	}
	for _, field := range []string{"name", p.Questions[0].FieldName(), p.Questions[4].FieldName()} {
		if verr.Fields[field] == "" {
			t.Errorf("no message for %s in %v", field, verr.Fields)
		}
	}
}

func TestRegister_DuplicateStoresNoNewAnswers(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newQuestionPanel(t, s)
	ctx := context.Background()
	in := validInput(sess.ID, "ada@example.com")
	in.Answers = answersFor(p)
	first, err := s.Register(ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	in.Answers[p.Questions[0].ID] = []string{"Changed my mind"}
	second, err := s.Register(ctx, p.ID, in)
	if err != nil || !second.Duplicate {
		t.Fatalf("second = %+v, %v; want a duplicate", second, err)
	}
	reg, err := s.RegistrationByID(ctx, first.Registration.ID)
	if err != nil || reg.Answers[0].Value != "Analyst" {
		t.Fatalf("first answer = %+v, %v; want it unchanged", reg, err)
	}
	var n int64
	if err := s.read.Model(&Answer{}).Count(&n).Error; err != nil || n != 5 {
		t.Fatalf("answers stored = %d, %v; want 5", n, err)
	}
}

func TestPublishedPanel_HasQuestionsInOrder(t *testing.T) {
	s, _ := newTestStore(t)
	p, _ := newQuestionPanel(t, s)
	got, err := s.PublishedPanel(context.Background(), p.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Questions) != 5 || got.Questions[0].Label != "Your role" || got.Questions[4].Position != 5 ||
		!slices.Equal(got.Questions[2].Options, Lines{"Public", "Private", "Charity"}) {
		t.Fatalf("questions = %+v", got.Questions)
	}
}
