package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"podium/models"
)

func TestAPICreateRegistration_SameRulesAndEmailsAsTheForm(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "one-seat", models.Session{Capacity: 1})
	path := fmt.Sprintf("/api/v1/sessions/%d/registrations", mustSession(t, p, 0))
	ada := map[string]any{"name": "Ada Lovelace", "email": "ada@example.com", "organisation": "Engines",
		"job_title": "Analyst", "consent": true}
	got := decodeAs[registrationJSON](t, api.call(http.MethodPost, path, ada), http.StatusCreated)
	if got.ID == 0 || got.Status != "confirmed" || got.Email != "ada@example.com" || got.JobTitle != "Analyst" ||
		got.Attended || got.Answers == nil || got.CreatedAt != "2026-11-20T09:00:00Z" {
		t.Fatalf("registration = %+v", got)
	}
	if n := env.countOutbox(t, models.KindConfirmation); n != 1 {
		t.Fatalf("confirmations = %d; want 1", n)
	}
	// The same address again: its registration, nothing new stored.
	ada["email"] = " ADA@example.com "
	dup := decodeAs[registrationJSON](t, api.call(http.MethodPost, path, ada), http.StatusOK)
	if dup.ID != got.ID {
		t.Fatalf("duplicate = %+v; want registration %d", dup, got.ID)
	}
	full := assertProblem(t, api.call(http.MethodPost, path, map[string]any{
		"name": "Bob", "email": "bob@example.com", "consent": true}), http.StatusConflict)
	if full.Title != "Fully booked" {
		t.Fatalf("full session = %+v", full)
	}
	invalid := assertProblem(t, api.call(http.MethodPost, path, map[string]any{"name": "", "email": "bob"}), 422)
	for _, field := range []string{"name", "email", "consent"} {
		if fieldMessage(invalid, field) == "" {
			t.Errorf("no message for %s in %+v", field, invalid.Errors)
		}
	}
	assertProblem(t, api.call(http.MethodPost, "/api/v1/sessions/999/registrations", ada), 404)
	if counts := env.countRegistrations(t, mustSession(t, p, 0)); counts[models.RegistrationConfirmed] != 1 || len(counts) != 1 {
		t.Fatalf("registrations = %v; want Ada only", counts)
	}
}

func TestAPICreateRegistration_CancelledSessionTakesNoOne(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "off", models.Session{})
	sessionID := mustSession(t, p, 0)
	decodeAs[sessionChangeJSON](t, api.call(http.MethodPost, fmt.Sprintf("/api/v1/sessions/%d/cancel", sessionID), nil), 200)
	assertProblem(t, api.call(http.MethodPost, fmt.Sprintf("/api/v1/sessions/%d/registrations", sessionID),
		map[string]any{"name": "Ada", "email": "ada@example.com", "consent": true}), http.StatusGone)
}

func TestAPICreateRegistration_AnswersCustomQuestions(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	panel := decodeAs[panelJSON](t, api.call(http.MethodPost, "/api/v1/panels", map[string]any{
		"title": "Asks", "status": "published",
		"questions": []map[string]any{
			{"kind": "short_text", "label": "Your team?", "required": true},
			{"kind": "multiple_choice", "label": "Topics", "options": []string{"Hiring", "Tools", "Ethics"}},
		},
		"sessions": []map[string]any{{"starts_at": "2026-12-03T15:00:00Z", "duration_minutes": 60,
			"time_zone": "UTC", "venue": "Hall"}},
	}), http.StatusCreated)
	team, topics := panel.Questions[0].ID, panel.Questions[1].ID
	path := fmt.Sprintf("/api/v1/sessions/%d/registrations", panel.Sessions[0].ID)
	body := map[string]any{"name": "Ada", "email": "ada@example.com", "consent": true, "answers": []map[string]any{
		{"question_id": topics, "value": []string{"Ethics", "Hiring"}}, {"question_id": team, "value": "Research"}}}
	got := decodeAs[registrationJSON](t, api.call(http.MethodPost, path, body), http.StatusCreated)
	want := fmt.Sprint([]answerJSON{{team, "Research"}, {topics, []any{"Hiring", "Ethics"}}})
	if fmt.Sprint(got.Answers) != want {
		t.Fatalf("answers = %v; want %v", got.Answers, want)
	}
	missing := assertProblem(t, api.call(http.MethodPost, path, map[string]any{
		"name": "Bob", "email": "bob@example.com", "consent": true,
		"answers": []map[string]any{{"question_id": topics, "value": "Cooking"}}}), 422)
	if fieldMessage(missing, fmt.Sprintf("q_%d", team)) == "" || fieldMessage(missing, fmt.Sprintf("q_%d", topics)) == "" {
		t.Fatalf("problem = %+v; want both questions named", missing)
	}
	wrongType := assertProblem(t, api.call(http.MethodPost, path,
		`{"name":"Bob","email":"bob@example.com","consent":true,"answers":[{"question_id":1,"value":7}]}`), 422)
	if fieldMessage(wrongType, "answers.value") == "" {
		t.Fatalf("problem = %+v; want answers.value named", wrongType)
	}
}

func TestAPIListRegistrations_PagesWithoutGapsOrDuplicates(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "busy", models.Session{}, models.Session{})
	sessionID := mustSession(t, p, 0)
	regs := env.addRegistrants(t, sessionID, 12)
	env.addRegistrants(t, mustSession(t, p, 1), 3) // another session's, never listed
	var want []int64
	for _, r := range slices.Backward(regs) {
		want = append(want, r.ID)
	}
	base := fmt.Sprintf("/api/v1/sessions/%d/registrations?limit=5", sessionID)
	var got []int64
	var sizes []int
	for path := base; ; {
		page := decodeAs[listJSON[registrationJSON]](t, api.get(path), http.StatusOK)
		sizes = append(sizes, len(page.Data))
		for _, r := range page.Data {
			got = append(got, r.ID)
		}
		if page.NextCursor == nil {
			break
		}
		path = base + "&cursor=" + *page.NextCursor
	}
	first := decodeAs[registrationListJSON](t, api.get(base), http.StatusOK)
	if c := first.Counts; c.Confirmed != 12 || c.Waitlisted != 0 || c.SeatsLeft != nil {
		t.Fatalf("counts = %+v; want 12 confirmed, unlimited seats", c)
	}
	if !slices.Equal(got, want) || !slices.Equal(sizes, []int{5, 5, 2}) {
		t.Fatalf("ids = %v in pages %v; want %v in 5, 5, 2", got, sizes, want)
	}
	for _, r := range regs[:2] {
		decodeAs[registrationJSON](t, api.call(http.MethodPost, fmt.Sprintf("/api/v1/registrations/%d/cancel", r.ID), nil), 200)
	}
	cancelled := decodeAs[listJSON[registrationJSON]](t, api.get(fmt.Sprintf(
		"/api/v1/sessions/%d/registrations?status=cancelled", sessionID)), http.StatusOK)
	if len(cancelled.Data) != 2 || cancelled.Data[0].ID != regs[1].ID || cancelled.NextCursor != nil {
		t.Fatalf("cancelled = %+v", cancelled)
	}
	found := decodeAs[listJSON[registrationJSON]](t, api.get(fmt.Sprintf(
		"/api/v1/sessions/%d/registrations?search=PERSON1%%40", sessionID)), http.StatusOK)
	if len(found.Data) != 1 || found.Data[0].Email != "person1@example.com" {
		t.Fatalf("search = %+v", found)
	}
	bad := assertProblem(t, api.get(fmt.Sprintf("/api/v1/sessions/%d/registrations?status=maybe", sessionID)), 422)
	if fieldMessage(bad, "status") == "" {
		t.Fatalf("bad status = %+v", bad)
	}
}

func TestAPICancelRegistration_FreesTheSeatForTheWaitlist(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "swap", models.Session{Capacity: 1, Waitlist: true})
	regs := env.addRegistrants(t, mustSession(t, p, 0), 2)
	path := fmt.Sprintf("/api/v1/registrations/%d/cancel", regs[0].ID)
	got := decodeAs[registrationJSON](t, api.call(http.MethodPost, path, nil), http.StatusOK)
	if got.ID != regs[0].ID || got.Status != "cancelled" {
		t.Fatalf("cancelled = %+v", got)
	}
	counts := env.countRegistrations(t, mustSession(t, p, 0))
	if counts[models.RegistrationConfirmed] != 1 || counts[models.RegistrationWaitlisted] != 0 {
		t.Fatalf("counts = %v; want the waitlisted registrant promoted", counts)
	}
	if n := env.countOutbox(t, models.KindCancellation); n != 1 {
		t.Fatalf("cancellation emails = %d; want 1", n)
	}
	again := decodeAs[registrationJSON](t, api.call(http.MethodPost, path, nil), http.StatusOK)
	if again.Status != "cancelled" || env.countOutbox(t, models.KindCancellation) != 1 {
		t.Fatal("cancelling twice sent a second email")
	}
	assertProblem(t, api.call(http.MethodPost, "/api/v1/registrations/999/cancel", nil), 404)
	env.clock.Set(p.Sessions[0].StartsAt)
	assertProblem(t, api.call(http.MethodPost, fmt.Sprintf("/api/v1/registrations/%d/cancel", regs[1].ID), nil),
		http.StatusConflict)
}
