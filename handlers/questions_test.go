package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// addQuestionPanel stores a published panel with one session and a required
// short text, an optional multiple choice and a required checkbox question.
func (e *testEnv) addQuestionPanel(t *testing.T, slug string) *models.Panel {
	t.Helper()
	p := &models.Panel{
		Slug: slug, Title: "Panel " + slug, Status: models.PanelPublished,
		Sessions: []models.Session{{StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60,
			TimeZone: "Europe/London", Capacity: 10, JoinURL: "https://meet.example.com/" + slug}},
		Questions: []models.Question{
			{Kind: models.QuestionShortText, Label: "Your role", Required: true},
			{Kind: models.QuestionMultipleChoice, Label: "Topics", Options: models.Lines{"AI & jobs", "Cloud", "Security"}},
			{Kind: models.QuestionCheckbox, Label: "I accept the code of conduct", Required: true},
		},
	}
	if err := e.store.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return p
}

// personForm is a page's form filled in with person(email)'s details, to
// which a test adds answers (several values for a multiple choice).
func personForm(t *testing.T, page, email string) url.Values {
	t.Helper()
	form := formFields(t, page)
	for k, v := range person(email) {
		form.Set(k, v)
	}
	return form
}

func TestCreateRegistration_StoresAnswersFromTheForm(t *testing.T) {
	env := newTestEnv(t)
	p := env.addQuestionPanel(t, "asks")
	role, topics, conduct := p.Questions[0], p.Questions[1], p.Questions[2]
	b := env.browser(t)
	page := b.get("/panels/asks")
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body,
		fmt.Sprintf(`<label for="field-%s">Your role</label>`, role.FieldName()),
		fmt.Sprintf(`<fieldset class="field" id="field-%s">`, topics.FieldName()),
		"<legend>Topics (optional)</legend>",
		fmt.Sprintf(`<input type="checkbox" name="%s" id="%s-0" value="AI &amp; jobs">`, topics.FieldName(), topics.FieldName()),
		fmt.Sprintf(`name="%s" id="field-%s" value="yes" required>`, conduct.FieldName(), conduct.FieldName()))

	form := personForm(t, page.body, "ada@example.com")
	form.Set(role.FieldName(), "Head of digital")
	form.Add(topics.FieldName(), "Security")
	form.Add(topics.FieldName(), "AI & jobs")
	form.Set(conduct.FieldName(), "yes")
	resp := b.post("/panels/asks/register", form)
	assertStatus(t, resp, http.StatusSeeOther)

	byToken, err := env.store.RegistrationByToken(context.Background(), manageToken(t, resp))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := env.store.RegistrationByID(context.Background(), byToken.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range reg.Answers {
		got = append(got, a.Value)
	}
	if want := []string{"Head of digital", "AI & jobs\nSecurity", "yes"}; !slices.Equal(got, want) {
		t.Fatalf("answers = %q; want %q", got, want)
	}
}

func TestCreateRegistration_MissingRequiredAnswerShowsTheErrorAndKeepsWhatWasTyped(t *testing.T) {
	env := newTestEnv(t)
	p := env.addQuestionPanel(t, "asks")
	role, topics, conduct := p.Questions[0], p.Questions[1], p.Questions[2]
	b := env.browser(t)
	page := b.get("/panels/asks")
	form := personForm(t, page.body, "ada@example.com")
	form.Set(role.FieldName(), "  ")
	form.Add(topics.FieldName(), "Cloud")
	form.Set(conduct.FieldName(), "yes")
	resp := b.post("/panels/asks/register", form)
	assertStatus(t, resp, http.StatusUnprocessableEntity)
	name := role.FieldName()
	assertContains(t, resp.body,
		fmt.Sprintf(`<a href="#field-%s">Answer this question.</a>`, name),
		fmt.Sprintf(`<p class="error-message" id="%s-error">Answer this question.</p>`, name),
		fmt.Sprintf(`id="field-%s" value="  " maxlength="300" required aria-invalid="true" aria-describedby="%s-error">`, name, name),
		fmt.Sprintf(`id="%s-1" value="Cloud" checked>`, topics.FieldName()),
		fmt.Sprintf(`id="field-%s" value="yes" checked required>`, conduct.FieldName()),
		`value="Ada Lovelace"`)
	if strings.Contains(resp.body, fmt.Sprintf(`id="%s-0" value="AI &amp; jobs" checked`, topics.FieldName())) {
		t.Fatal("an option that was not chosen is checked")
	}
	if n := env.countRegistrations(t, p.Sessions[0].ID); len(n) != 0 {
		t.Fatalf("registrations = %v; want none", n)
	}
}
