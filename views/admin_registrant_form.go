package views

import (
	"maps"
	"slices"
	"strconv"

	"podium/models"
)

// AddRegistrantInput is the organizer's add-a-registrant form as typed.
type AddRegistrantInput struct {
	Name, Email, Organisation, JobTitle string
	Consent                             bool
	// Marketing and Sponsors are the optional consents the person gave
	// the organizer (a paper form, a call), recorded through the admin.
	Marketing bool
	Sponsors  map[int64]int64
	// Answers are the custom questions' answers by question id.
	Answers map[int64][]string
}

// RegistrationInput is the form as a registration, sent as the public form
// would be.
func (in AddRegistrantInput) RegistrationInput() models.RegistrationInput {
	return models.RegistrationInput{
		Name: in.Name, Email: in.Email, Organisation: in.Organisation, JobTitle: in.JobTitle,
		Consent: in.Consent, Marketing: in.Marketing, Sponsors: in.Sponsors, Source: "admin", Answers: in.Answers,
	}
}

// AddRegistrantForm adds someone to a session; it sends them the invite.
type AddRegistrantForm struct {
	Action    string
	CSRFToken string
	Errors    []FieldError
	Fields    []Field
	Questions []Field
	Consent   Field
	// Optional are the organizer's news and each sponsor's consent.
	Optional []Field
}

// NewAddRegistrantForm builds the add form with the panel's questions and
// optional consents.
func NewAddRegistrantForm(action, csrfToken string, p *models.Panel, in AddRegistrantInput, errs map[string]string) *AddRegistrantForm {
	questions := p.Questions
	if _, ok := errs["consent"]; ok {
		// The model's message speaks to the registrant; this form's user is the organizer.
		errs = maps.Clone(errs)
		errs["consent"] = "Confirm that this person agreed to be registered."
	}
	form := &AddRegistrantForm{Action: action, CSRFToken: csrfToken}
	name := newField("name", "Full name", "text", in.Name, errs)
	name.Required, name.MaxLength, name.Autocomplete = true, models.MaxNameLength, "off"
	email := newField("email", "Email address", "email", in.Email, errs)
	email.Required, email.MaxLength, email.Autocomplete = true, models.MaxEmailLength, "off"
	org := newField("organisation", "Organisation", "text", in.Organisation, errs)
	org.MaxLength = models.MaxOrgLength
	job := newField("job_title", "Job title", "text", in.JobTitle, errs)
	job.MaxLength = models.MaxOrgLength
	form.Fields = []Field{name, email, org, job}
	for _, q := range questions {
		form.Questions = append(form.Questions, questionField(q, in.Answers[q.ID], errs))
	}
	form.Consent = newField("consent", "This person agreed to be registered and to get emails about this event", "checkbox", "", errs)
	form.Consent.Checked = in.Consent
	news := newField("marketing", "They asked for news of future events from "+orText(p.OrganizerName, "the organiser"), "checkbox", "", errs)
	news.Checked = in.Marketing
	form.Optional = append(form.Optional, news)
	for _, sp := range p.Sponsors {
		f := newField("sponsor_"+strconv.FormatInt(sp.ID, 10), "They agreed to share their details with "+sp.Name, "checkbox", "", errs)
		_, f.Checked = in.Sponsors[sp.ID]
		form.Optional = append(form.Optional, f)
	}
	order := []string{"session", "name", "email", "organisation", "job_title"}
	for _, q := range questions {
		order = append(order, q.FieldName())
	}
	form.Errors = ErrorSummary(errs, append(order, "consent", "sponsors", "capacity")...)
	return form
}

// questionField is the control that asks a custom question.
func questionField(q models.Question, given []string, errs map[string]string) Field {
	first := ""
	if len(given) > 0 {
		first = given[0]
	}
	f := newField(q.FieldName(), q.Label, "text", first, errs)
	f.Required = q.Required
	switch q.Kind {
	case models.QuestionLongText:
		f.Type, f.Rows, f.MaxLength = "textarea", 4, q.MaxLength()
	case models.QuestionSingleChoice:
		f.Type = "select"
		f.Options = []Option{{Value: "", Label: "Choose…"}}
		for _, o := range q.Options {
			f.Options = append(f.Options, Option{Value: o, Label: o, Selected: o == first})
		}
	case models.QuestionMultipleChoice:
		f.Type = "checkboxes"
		for _, o := range q.Options {
			f.Options = append(f.Options, Option{Value: o, Label: o, Selected: slices.Contains(given, o)})
		}
	case models.QuestionCheckbox:
		f.Type, f.Checked = "checkbox", first == models.CheckboxAnswer
	default:
		f.MaxLength = q.MaxLength()
	}
	if !q.Required && q.Kind == models.QuestionCheckbox {
		f.Hint = "Optional"
	}
	return f
}

// QuestionIDs are the ids of questions, for reading their answers from a form.
func QuestionIDs(questions []models.Question) map[string]int64 {
	out := make(map[string]int64, len(questions))
	for _, q := range questions {
		out[q.FieldName()] = q.ID
	}
	return out
}

// RegistrantAddedMessage says what adding someone did, for the flash message.
func RegistrantAddedMessage(res *models.RegisterResult) string {
	r := res.Registration
	switch {
	case res.Duplicate:
		return r.Email + " was already registered; they have been sent their link again."
	case r.Status == models.RegistrationWaitlisted:
		return r.Name + " is on the waitlist (the session is full) and has been told so by email."
	default:
		return r.Name + " is registered and an invite is on its way to " + r.Email + "."
	}
}
