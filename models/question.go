package models

import (
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// QuestionKind is the kind of answer a custom question asks for.
type QuestionKind string

// Question kinds.
const (
	QuestionShortText      QuestionKind = "short_text"
	QuestionLongText       QuestionKind = "long_text"
	QuestionSingleChoice   QuestionKind = "single_choice"
	QuestionMultipleChoice QuestionKind = "multiple_choice"
	QuestionCheckbox       QuestionKind = "checkbox"
)

// Limits on questions and answers, shared with the form's maxlength.
const (
	MaxQuestions          = 50
	MaxQuestionLabel      = 300
	MinQuestionOptions    = 2
	MaxQuestionOptions    = 50
	MaxQuestionOption     = 200
	MaxShortAnswerLength  = 300
	MaxLongAnswerLength   = 5000
	CheckboxAnswer        = "yes" // the value a ticked checkbox question sends
	maxAnswerValuesPerKey = MaxQuestionOptions
)

// Question is a custom question on a panel's sign-up form.
type Question struct {
	ID       int64
	PanelID  int64
	Position int
	Kind     QuestionKind
	Label    string
	Required bool
	// Options are the choices of a single or multiple choice question.
	Options Lines
}

// Answer is a registrant's answer to one question. Several choices of a
// multiple choice question are stored one per line.
type Answer struct {
	RegistrationID int64 `gorm:"primaryKey;autoIncrement:false"`
	QuestionID     int64 `gorm:"primaryKey;autoIncrement:false"`
	Value          string
}

// Lines is a list of single-line strings, stored as newline-separated text.
type Lines []string

// Value stores the lines joined by newlines.
func (l Lines) Value() (driver.Value, error) { return strings.Join(l, "\n"), nil }

// Scan reads newline-separated text; blank lines are dropped.
func (l *Lines) Scan(src any) error {
	text, err := scanText("lines", src)
	if err != nil {
		return err
	}
	*l = ParseLines(text)
	return nil
}

// ParseLines reads newline-separated text, as stored or typed into a
// textarea: each line trimmed, blank lines dropped; nil when none is left.
func ParseLines(text string) Lines {
	var out Lines
	for line := range strings.SplitSeq(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// FieldName is the form field (and validation key) of the question's answer.
func (q Question) FieldName() string { return "q_" + strconv.FormatInt(q.ID, 10) }

// MaxLength is the longest answer a text question takes, for the form.
func (q Question) MaxLength() int {
	if q.Kind == QuestionLongText {
		return MaxLongAnswerLength
	}
	return MaxShortAnswerLength
}

// Choice reports whether the question offers options.
func (q Question) Choice() bool {
	return q.Kind == QuestionSingleChoice || q.Kind == QuestionMultipleChoice
}

// normalise trims the label and options in place.
func (q *Question) normalise() {
	q.Label = strings.TrimSpace(q.Label)
	for i, o := range q.Options {
		q.Options[i] = strings.TrimSpace(o)
	}
	if len(q.Options) == 0 {
		q.Options = nil
	}
}

// validationMessages checks a question's fields, keyed by API field name.
func (q *Question) validationMessages() map[string]string {
	v := &validator{}
	n := utf8.RuneCountInString(q.Label)
	v.check(n >= 1 && n <= MaxQuestionLabel && isPlainLine(q.Label), "label",
		"Enter a question of at most 300 characters on one line.")
	v.check(slices.Contains([]QuestionKind{QuestionShortText, QuestionLongText, QuestionSingleChoice,
		QuestionMultipleChoice, QuestionCheckbox}, q.Kind), "kind",
		"Choose short text, long text, single choice, multiple choice or checkbox.")
	if q.Choice() {
		v.check(validOptions(q.Options), "options",
			"Give 2 to 50 different choices, one per line, each at most 200 characters.")
	} else {
		v.check(len(q.Options) == 0, "options", "Only single and multiple choice questions have choices.")
	}
	return v.fields
}

func validOptions(options Lines) bool {
	if len(options) < MinQuestionOptions || len(options) > MaxQuestionOptions {
		return false
	}
	seen := make(map[string]bool, len(options))
	for _, o := range options {
		if o == "" || seen[o] || utf8.RuneCountInString(o) > MaxQuestionOption || !isPlainLine(o) {
			return false
		}
		seen[o] = true
	}
	return true
}

// panelQuestions reads a panel's questions in form order. Every sign-up
// reads them inside its write transaction, so the columns are scanned
// directly rather than through GORM's model reads (see readSignUpTarget).
func panelQuestions(db *gorm.DB, panelID int64) ([]Question, error) {
	rows, err := db.Raw(`SELECT id, position, kind, label, required, options FROM questions
		WHERE panel_id = ? ORDER BY position, id`, panelID).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var qs []Question
	for rows.Next() {
		q := Question{PanelID: panelID}
		if err := rows.Scan(&q.ID, &q.Position, &q.Kind, &q.Label, &q.Required, &q.Options); err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return qs, rows.Err()
}

// checkAnswers validates submitted answers against a panel's questions. It
// returns the answers to store, in question order (unanswered optional
// questions left out), and a message per bad field, keyed q_<id>.
func checkAnswers(questions []Question, submitted map[int64][]string) ([]Answer, map[string]string) {
	v := &validator{}
	known := make(map[int64]bool, len(questions))
	var answers []Answer
	for _, q := range questions {
		known[q.ID] = true
		value, msg := answerValue(q, submitted[q.ID])
		v.check(msg == "", q.FieldName(), msg)
		if msg == "" && value != "" {
			answers = append(answers, Answer{QuestionID: q.ID, Value: value})
		}
	}
	for id := range submitted {
		v.check(known[id], Question{ID: id}.FieldName(), "This question is not part of the form.")
	}
	return answers, v.fields
}

// answerValue normalises one question's submitted values into the stored
// value, or says what is wrong with them.
func answerValue(q Question, raw []string) (string, string) {
	var given []string
	for _, r := range raw {
		if r = strings.TrimSpace(strings.ReplaceAll(r, "\r\n", "\n")); r != "" {
			given = append(given, r)
		}
	}
	switch {
	case len(given) == 0 && q.Required:
		return "", requiredMessage(q.Kind)
	case len(given) == 0:
		return "", ""
	case len(given) > 1 && q.Kind != QuestionMultipleChoice:
		return "", "Give one answer."
	}
	switch q.Kind {
	case QuestionShortText:
		return textAnswer(given[0], MaxShortAnswerLength, false)
	case QuestionLongText:
		return textAnswer(given[0], MaxLongAnswerLength, true)
	case QuestionSingleChoice:
		if !slices.Contains(q.Options, given[0]) {
			return "", "Choose one of the options listed."
		}
		return given[0], ""
	case QuestionMultipleChoice:
		return choicesAnswer(q.Options, given)
	case QuestionCheckbox:
		if given[0] != CheckboxAnswer {
			return "", "Tick the box or leave it empty."
		}
		return CheckboxAnswer, ""
	}
	return "", "This question cannot be answered."
}

func requiredMessage(kind QuestionKind) string {
	switch kind {
	case QuestionSingleChoice:
		return "Choose an answer."
	case QuestionMultipleChoice:
		return "Choose at least one answer."
	case QuestionCheckbox:
		return "Tick the box to continue."
	default:
		return "Answer this question."
	}
}

func textAnswer(s string, limit int, multiline bool) (string, string) {
	if utf8.RuneCountInString(s) > limit {
		return "", fmt.Sprintf("Keep your answer under %d characters.", limit)
	}
	if !multiline && strings.ContainsAny(s, "\n\r") {
		return "", "Keep your answer on one line."
	}
	if !isAnswerText(s, multiline) {
		return "", "Your answer contains characters we cannot accept."
	}
	return s, ""
}

// isAnswerText refuses invalid UTF-8, control characters (a line break and a
// tab are allowed in long text) and bidi controls that can disguise text.
func isAnswerText(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case multiline && (r == '\n' || r == '\t'):
		case unicode.IsControl(r), r == '\u2028', r == '\u2029',
			r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069':
			return false
		}
	}
	return true
}

// choicesAnswer keeps the chosen options in the order the question lists
// them, once each.
func choicesAnswer(options Lines, given []string) (string, string) {
	if len(given) > maxAnswerValuesPerKey {
		return "", "Choose from the options listed."
	}
	for _, g := range given {
		if !slices.Contains(options, g) {
			return "", "Choose from the options listed."
		}
	}
	var chosen []string
	for _, o := range options {
		if slices.Contains(given, o) {
			chosen = append(chosen, o)
		}
	}
	return strings.Join(chosen, "\n"), ""
}

// saveAnswers stores a new registration's answers inside its transaction.
func saveAnswers(tx *gorm.DB, registrationID int64, answers []Answer) error {
	if len(answers) == 0 {
		return nil
	}
	for i := range answers {
		answers[i].RegistrationID = registrationID
	}
	return tx.Create(&answers).Error
}
