package views

import (
	"strconv"
	"strings"

	"podium/models"
)

// QuestionInput is one custom question row as typed. ID is the stored
// question's id (0 for a new one), so its answers stay with it.
type QuestionInput struct {
	ID                             int64
	Position, Kind, Label, Options string
	Required, Remove               bool
}

func (q QuestionInput) blank() bool {
	return strings.TrimSpace(q.Label+q.Options) == ""
}

// NewQuestionInputs is the form filled with a panel's questions.
func NewQuestionInputs(questions []models.Question) []QuestionInput {
	out := make([]QuestionInput, len(questions))
	for i, q := range questions {
		out[i] = QuestionInput{ID: q.ID, Position: strconv.Itoa(i + 1), Kind: string(q.Kind), Label: q.Label,
			Options: strings.Join(q.Options, "\n"), Required: q.Required}
	}
	return out
}

// NormaliseQuestions drops removed and empty rows and orders the rest by
// position number, renumbering them, like the speakers of the panel form.
func NormaliseQuestions(rows []QuestionInput) []QuestionInput {
	return orderRows(rows,
		func(q QuestionInput) bool { return !q.Remove && !q.blank() },
		func(q QuestionInput) string { return q.Position },
		func(q *QuestionInput, pos string) { q.Position = pos })
}

// Questions turns normalised rows into the panel's questions; options are
// one per line.
func Questions(rows []QuestionInput) []models.Question {
	out := make([]models.Question, 0, len(rows))
	for _, r := range rows {
		out = append(out, models.Question{ID: r.ID, Kind: models.QuestionKind(r.Kind), Label: r.Label,
			Required: r.Required, Options: models.ParseLines(r.Options)})
	}
	return out
}

// QuestionsPage edits a panel's custom questions.
type QuestionsPage struct {
	AdminPage
	PanelTitle string
	Action     string
	CSRFToken  string
	Errors     []FieldError
	Rows       []QuestionRow
}

// QuestionRow is one question's fieldset; ID is carried in a hidden field.
type QuestionRow struct {
	Legend string
	IDName string
	ID     int64
	Fields []Field
	Remove *Field
}

// blankQuestionRows is how many empty question rows the form offers.
const blankQuestionRows = 2

// questionKinds are the kinds an organizer can choose, with plain names.
var questionKinds = []models.QuestionKind{
	models.QuestionShortText, models.QuestionLongText, models.QuestionSingleChoice,
	models.QuestionMultipleChoice, models.QuestionCheckbox,
}

func questionKindLabel(k models.QuestionKind) string {
	switch k {
	case models.QuestionShortText:
		return "Short text"
	case models.QuestionLongText:
		return "Long text"
	case models.QuestionSingleChoice:
		return "Single choice"
	case models.QuestionMultipleChoice:
		return "Multiple choice"
	case models.QuestionCheckbox:
		return "Checkbox"
	}
	return string(k)
}

var questionKindHelp = map[models.QuestionKind]string{
	models.QuestionShortText:      "Short text: one line",
	models.QuestionLongText:       "Long text: a paragraph",
	models.QuestionSingleChoice:   "Single choice: pick one option",
	models.QuestionMultipleChoice: "Multiple choice: pick any options",
	models.QuestionCheckbox:       "Checkbox: a box to tick, e.g. an agreement",
}

// NewQuestionsPage builds the questions form with what was typed.
func NewQuestionsPage(frame AdminPage, p *models.Panel, rows []QuestionInput, errs map[string]string) QuestionsPage {
	page := QuestionsPage{AdminPage: frame, PanelTitle: p.Title, Action: AdminPanelURL(p.ID) + "/questions", CSRFToken: frame.CSRFToken}
	page.Crumbs = []Link{{URL: "/admin/panels", Text: "Panels"}, {URL: AdminPanelURL(p.ID), Text: p.Title}}
	for i, q := range rows {
		page.Rows = append(page.Rows, newQuestionRow(i, q, errs, true))
	}
	for i := len(rows); i < len(rows)+blankQuestionRows; i++ {
		page.Rows = append(page.Rows, newQuestionRow(i, QuestionInput{Kind: string(models.QuestionShortText)}, errs, false))
	}
	page.Errors = ErrorSummary(errs, "questions")
	page.AdminPage = page.AdminPage.WithErrors(page.Errors)
	return page
}

func newQuestionRow(i int, q QuestionInput, errs map[string]string, filled bool) QuestionRow {
	r := rowFields{group: "questions", index: i, errs: errs}
	label := r.field("label", "Question", "text", q.Label)
	label.MaxLength = models.MaxQuestionLabel
	kind := r.field("kind", "Kind of answer", "select", "")
	for _, k := range questionKinds {
		kind.Options = append(kind.Options, Option{Value: string(k), Label: questionKindHelp[k], Selected: string(k) == q.Kind})
	}
	options := r.field("options", "Options", "textarea", q.Options)
	options.Rows, options.Hint = 4, "For single and multiple choice only: one option per line, in order."
	required := r.field("required", "An answer is required", "checkbox", "")
	required.Checked = q.Required
	row := QuestionRow{Legend: "Question " + strconv.Itoa(i+1), IDName: r.key("id"), ID: q.ID,
		Fields: []Field{r.position(q.Position, filled), label, kind, options, required}}
	switch {
	case !filled:
		row.Legend = "Add a question"
	case q.ID != 0:
		row.Remove = r.remove("Remove this question", "Its answers are deleted too.")
	default:
		row.Remove = r.remove("Remove this question", "")
	}
	return row
}
