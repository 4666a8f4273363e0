package handlers

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"podium/models"
)

// issueExample is the example body of POST /api/v1/panels in the issue.
const issueExample = `{"title": "AI and the future of work", "slug": "ai-future-of-work",
 "format": "Free virtual panel discussion", "summary": "Three views on AI at work.",
 "description": "A longer description.", "learning_points": ["Where AI helps", "Where it does not"],
 "speakers": [{"name": "Grace Hopper", "role": "Rear Admiral", "organisation": "US Navy", "bio": "Wrote the first compiler."}],
 "organizer_name": "Podium Events", "organizer_email": "events@example.org", "status": "published",
 "sessions": [{"starts_at": "2026-12-03T15:00:00Z", "duration_minutes": 60, "time_zone": "Europe/London",
   "capacity": 100, "waitlist": true, "join_url": "https://meet.example.com/ai", "venue": ""}]}`

func TestAPICreatePanel_IssueExampleAnswers201WithIDs(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	r := api.call(http.MethodPost, "/api/v1/panels", issueExample)
	got := decodeAs[panelJSON](t, r, http.StatusCreated)
	if got.ID == 0 || got.Slug != "ai-future-of-work" || got.Status != "published" || len(got.Sessions) != 1 ||
		got.Sessions[0].ID == 0 || got.Sessions[0].PanelID != got.ID {
		t.Fatalf("created = %+v; want ids, the slug and the session", got)
	}
	if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/panels/%d", got.ID) {
		t.Fatalf("Location = %q", loc)
	}
	s := got.Sessions[0]
	if s.StartsAt != "2026-12-03T15:00:00Z" || s.Capacity != 100 || !s.Waitlist || s.Status != "scheduled" ||
		s.RegistrationClosesAt != nil || s.TimeZone != "Europe/London" {
		t.Fatalf("session = %+v", s)
	}
	if !slices.Equal(got.LearningPoints, []string{"Where AI helps", "Where it does not"}) ||
		len(got.Speakers) != 1 || got.Speakers[0].Bio != "Wrote the first compiler." ||
		!slices.Equal(got.ReminderMinutes, []int{1440, 60}) || got.Questions == nil || got.CreatedAt == "" {
		t.Fatalf("panel = %+v", got)
	}
	shown := decodeAs[panelJSON](t, api.get(fmt.Sprintf("/api/v1/panels/%d", got.ID)), http.StatusOK)
	if fmt.Sprint(shown) != fmt.Sprint(got) {
		t.Fatalf("GET = %+v\nPOST = %+v", shown, got)
	}
	assertStatus(t, env.browser(t).get("/panels/ai-future-of-work"), http.StatusOK)
}

func TestAPICreatePanel_DraftUnlessPublished(t *testing.T) {
	env := newTestEnv(t)
	got := decodeAs[panelJSON](t, env.apiClient(t).call(http.MethodPost, "/api/v1/panels",
		map[string]any{"title": "Quiet launch"}), http.StatusCreated)
	if got.Status != "draft" || got.Slug != "quiet-launch" || len(got.Sessions) != 0 {
		t.Fatalf("created = %+v; want a draft with a slug from the title", got)
	}
	assertStatus(t, env.browser(t).get("/panels/quiet-launch"), http.StatusNotFound)
}

func TestAPICreatePanel_ListsEveryInvalidField(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := assertProblem(t, api.call(http.MethodPost, "/api/v1/panels", map[string]any{
		"title": "", "slug": "Bad Slug", "organizer_email": "nobody", "reminder_minutes": []int{0},
		"questions": []map[string]any{{"kind": "essay", "label": "Why?"}},
		"sessions": []map[string]any{{"starts_at": "2026-12-03T15:00:00Z", "duration_minutes": 0,
			"time_zone": "Local", "join_url": "http://insecure.example.com"}},
	}), http.StatusUnprocessableEntity)
	for _, field := range []string{"title", "slug", "organizer_email", "reminder_minutes", "questions[0].kind",
		"sessions[0].duration_minutes", "sessions[0].time_zone", "sessions[0].join_url"} {
		if fieldMessage(p, field) == "" {
			t.Errorf("no message for %s in %+v", field, p.Errors)
		}
	}
	// The same slug twice is a field error too, not a 500.
	decodeAs[panelJSON](t, api.call(http.MethodPost, "/api/v1/panels", map[string]any{"title": "Once"}), http.StatusCreated)
	p = assertProblem(t, api.call(http.MethodPost, "/api/v1/panels", map[string]any{"title": "Once"}), 422)
	if fieldMessage(p, "slug") == "" {
		t.Fatalf("duplicate slug problem = %+v", p)
	}
}

func TestAPIUpdatePanel_ChangesOnlyTheFieldsGiven(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	created := decodeAs[panelJSON](t, api.call(http.MethodPost, "/api/v1/panels", map[string]any{
		"title": "Before", "summary": "Kept", "learning_points": []string{"One", "Two"},
		"questions": []map[string]any{{"kind": "short_text", "label": "Your team?"}},
	}), http.StatusCreated)
	path := fmt.Sprintf("/api/v1/panels/%d", created.ID)
	got := decodeAs[panelJSON](t, api.call(http.MethodPatch, path, map[string]any{
		"title": "After", "reminder_minutes": []int{30},
		"questions": []map[string]any{{"id": created.Questions[0].ID, "kind": "short_text", "label": "Your team?", "required": true},
			{"kind": "checkbox", "label": "Send me the recording"}},
	}), http.StatusOK)
	if got.Title != "After" || got.Summary != "Kept" || got.Slug != created.Slug || got.Status != "draft" ||
		!slices.Equal(got.LearningPoints, []string{"One", "Two"}) || !slices.Equal(got.ReminderMinutes, []int{30}) {
		t.Fatalf("patched = %+v", got)
	}
	if len(got.Questions) != 2 || got.Questions[0].ID != created.Questions[0].ID || !got.Questions[0].Required {
		t.Fatalf("questions = %+v; want the first kept by id", got.Questions)
	}
	shown := decodeAs[panelJSON](t, api.get(path), http.StatusOK)
	if fmt.Sprint(shown.Questions) != fmt.Sprint(got.Questions) || shown.Title != "After" {
		t.Fatalf("GET after PATCH = %+v", shown)
	}
}

func TestAPIUpdatePanel_StatusRules(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	empty := decodeAs[panelJSON](t, api.call(http.MethodPost, "/api/v1/panels", map[string]any{"title": "Empty"}), 201)
	path := fmt.Sprintf("/api/v1/panels/%d", empty.ID)
	p := assertProblem(t, api.call(http.MethodPatch, path, `{"status":"published"}`), 422)
	if !strings.Contains(fieldMessage(p, "status"), "session") {
		t.Fatalf("publishing without a session = %+v", p)
	}
	assertProblem(t, api.call(http.MethodPatch, path, `{"status":"live"}`), 422)
	p = assertProblem(t, api.call(http.MethodPatch, path, `{"title":null}`), 422)
	if !strings.Contains(fieldMessage(p, "title"), "null") {
		t.Fatalf("null title = %+v", p)
	}
	assertProblem(t, api.call(http.MethodPatch, path, `{"sessions":[]}`), 422)
	assertProblem(t, api.call(http.MethodPatch, "/api/v1/panels/999", `{"title":"x"}`), 404)

	full := env.addPanel(t, "with-session", models.Session{})
	path = fmt.Sprintf("/api/v1/panels/%d", full.ID)
	for _, status := range []string{"archived", "draft", "published"} {
		got := decodeAs[panelJSON](t, api.call(http.MethodPatch, path, map[string]string{"status": status}), http.StatusOK)
		if got.Status != status || got.Title != full.Title || len(got.Sessions) != 1 {
			t.Fatalf("status %s: %+v", status, got)
		}
	}
}

func TestAPIListPanels_PagesWithoutGapsOrDuplicates(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	var want []int64
	for i := range 7 {
		p := env.addPanel(t, fmt.Sprintf("panel-%d", i), models.Session{Capacity: 10})
		want = append([]int64{p.ID}, want...) // newest first
	}
	var got []int64
	path, pages := "/api/v1/panels?limit=3", 0
	for {
		page := decodeAs[listJSON[panelSummaryJSON]](t, api.get(path), http.StatusOK)
		pages++
		for _, p := range page.Data {
			got = append(got, p.ID)
			if p.SessionCount != 1 || p.NextSession == nil || p.Status != "published" {
				t.Fatalf("summary = %+v", p)
			}
		}
		if page.NextCursor == nil {
			break
		}
		path = "/api/v1/panels?limit=3&cursor=" + *page.NextCursor
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Fatalf("pages = %d, ids = %v; want 3 pages of %v", pages, got, want)
	}
	all := decodeAs[listJSON[panelSummaryJSON]](t, api.get("/api/v1/panels"), http.StatusOK)
	if len(all.Data) != 7 || all.NextCursor != nil {
		t.Fatalf("default page = %d panels, cursor %v", len(all.Data), all.NextCursor)
	}
}

// Two organizers' tools patching different fields of one panel at once
// never undo each other's changes.
func TestAPIUpdatePanel_ConcurrentPatchesOfDifferentFieldsBothLast(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "patched", models.Session{Capacity: 5})
	path := fmt.Sprintf("/api/v1/panels/%d", p.ID)
	const rounds = 40
	api.patchAtOnce(path, rounds, `{"title": "title %d"}`, `{"summary": "summary %d"}`)
	got, err := env.store.PanelByID(t.Context(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != fmt.Sprintf("title %d", rounds-1) || got.Summary != fmt.Sprintf("summary %d", rounds-1) {
		t.Fatalf("title %q, summary %q; want each field's last value", got.Title, got.Summary)
	}
}
