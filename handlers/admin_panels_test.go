package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"podium/models"
)

func TestAdminPanelForm_CreatesADraft(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOrganizer)
	r := b.postForm("/admin/panels", url.Values{
		"title": {"AI and jobs"}, "format": {"Webinar"}, "summary": {"What changes"}, "learning_points": {"One\nTwo\n"},
		"speakers[0].position": {"2"}, "speakers[0].name": {"Bea"}, "speakers[1].position": {"1"}, "speakers[1].name": {"Al"},
		"speakers[2].position": {"3"}, "organizer_email": {"org@example.com"}, "reminder_minutes": {"1440", "15"},
	})
	page := b.follow(r)
	assertContains(t, page.body, "Panel created as a draft", "AI and jobs", "Draft")
	panels, err := env.store.AdminPanels(context.Background())
	if err != nil || len(panels) != 1 {
		t.Fatalf("panels = %v, %v", panels, err)
	}
	p, err := env.store.PanelByID(context.Background(), panels[0].Panel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Slug != "ai-and-jobs" || p.Status != models.PanelDraft || len(p.LearningPoints) != 2 ||
		len(p.Speakers) != 2 || p.Speakers[0].Name != "Al" || len(p.ReminderMinutes) != 2 {
		t.Fatalf("stored panel = %+v", p)
	}
}

func TestAdminPanelForm_KeepsWhatWasTypedWhenInvalid(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOrganizer)
	r := b.postForm("/admin/panels", url.Values{
		"title": {""}, "summary": {"My typed summary"}, "organizer_email": {"not an email"},
		"speakers[0].position": {"1"}, "speakers[0].name": {"Grace Hopper"},
	})
	assertStatus(t, r, http.StatusUnprocessableEntity)
	assertContains(t, r.body, "There is a problem", `href="#field-title"`, `href="#field-organizer-email"`,
		"My typed summary", "Grace Hopper", "not an email", "<title>Error: Create a panel")
	if strings.Contains(r.body, `href="#field-slug"`) {
		t.Error("the empty address is blamed although it is made from the missing title")
	}
}

func TestAdminPanelForm_EditReordersSpeakersAndKeepsQuestions(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "edit", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	b.follow(b.postForm(panelPath(p)+"/questions", url.Values{
		"questions[0].position": {"1"}, "questions[0].kind": {"short_text"}, "questions[0].label": {"Your question?"}, "questions[0].id": {"0"},
	}))
	r := b.postForm(panelPath(p), url.Values{
		"title": {"Renamed"}, "slug": {"edit"}, "learning_points": {"Only point"},
		"speakers[0].position": {"2"}, "speakers[0].name": {"Grace Hopper"},
		"speakers[1].position": {"1"}, "speakers[1].name": {"Ada Lovelace"},
		"speakers[2].position": {"3"}, "speakers[2].name": {"Removed"}, "speakers[2].remove": {"yes"},
	})
	assertContains(t, b.follow(r).body, "Changes saved.")
	got, err := env.store.PanelByID(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Renamed" || got.Status != models.PanelPublished || len(got.Speakers) != 2 ||
		got.Speakers[0].Name != "Ada Lovelace" || len(got.Questions) != 1 || len(got.Sessions) != 1 {
		t.Fatalf("after edit: %+v", got)
	}
}

func TestAdminQuestions_SaveInOrderAndRefuseBadChoices(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "questions", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	bad := b.postForm(panelPath(p)+"/questions", url.Values{
		"questions[0].position": {"1"}, "questions[0].kind": {"single_choice"}, "questions[0].label": {"Pick one"},
		"questions[0].options": {"Only one"}, "questions[0].id": {"0"},
	})
	assertStatus(t, bad, http.StatusUnprocessableEntity)
	assertContains(t, bad.body, "Give 2 to 50 different choices", `href="#field-questions-0-options"`, "Pick one", "Only one")

	ok := b.postForm(panelPath(p)+"/questions", url.Values{
		"questions[0].position": {"2"}, "questions[0].kind": {"checkbox"}, "questions[0].label": {"I agree"}, "questions[0].required": {"yes"},
		"questions[1].position": {"1"}, "questions[1].kind": {"multiple_choice"}, "questions[1].label": {"Topics"},
		"questions[1].options":  {"AI\r\nJobs\r\n"},
		"questions[2].position": {"3"}, "questions[2].kind": {"short_text"}, "questions[2].label": {""},
	})
	assertContains(t, b.follow(ok).body, "Questions saved.", "Topics (Multiple choice, optional)", "I agree (Checkbox, required)")
	got, _ := env.store.PanelByID(context.Background(), p.ID)
	if len(got.Questions) != 2 || got.Questions[0].Label != "Topics" || len(got.Questions[0].Options) != 2 {
		t.Fatalf("questions = %+v", got.Questions)
	}
	// Removing one keeps the other with its id.
	keep := got.Questions[1]
	b.follow(b.postForm(panelPath(p)+"/questions", url.Values{
		"questions[0].position": {"1"}, "questions[0].id": {itoa(got.Questions[0].ID)}, "questions[0].kind": {"multiple_choice"},
		"questions[0].label": {"Topics"}, "questions[0].options": {"AI\nJobs"}, "questions[0].remove": {"yes"},
		"questions[1].position": {"2"}, "questions[1].id": {itoa(keep.ID)}, "questions[1].kind": {"checkbox"},
		"questions[1].label": {"I agree, really"}, "questions[1].required": {"yes"},
	}))
	got, _ = env.store.PanelByID(context.Background(), p.ID)
	if len(got.Questions) != 1 || got.Questions[0].ID != keep.ID || got.Questions[0].Label != "I agree, really" {
		t.Fatalf("after removing one: %+v", got.Questions)
	}
}

func TestAdminPanelStatus_PublishUnpublishArchiveDuplicate(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOrganizer)
	b.follow(b.postForm("/admin/panels", url.Values{"title": {"Lonely"}}))
	panels, _ := env.store.AdminPanels(context.Background())
	p := &panels[0].Panel

	refused := b.follow(b.postForm(panelPath(p)+"/publish", nil))
	assertContains(t, refused.body, "Add a session before publishing the panel.", "flash-error")
	if err := env.store.AddSession(context.Background(), p.ID, &models.Session{
		StartsAt: testNow.Add(72 * 3600e9), DurationMinutes: 60, TimeZone: "UTC", Venue: "Hall"}); err != nil {
		t.Fatal(err)
	}
	preview := b.get(panelPath(p) + "/preview")
	assertStatus(t, preview, http.StatusOK)
	assertContains(t, preview.body, "Preview: this panel is not published", "<title>Preview: Lonely")
	cases := []struct {
		action string
		status models.PanelStatus
		flash  string
	}{
		{"/publish", models.PanelPublished, "Published"},
		{"/unpublish", models.PanelDraft, "draft again"},
		{"/archive", models.PanelArchived, "Archived"},
	}
	for _, tc := range cases {
		page := b.follow(b.postForm(panelPath(p)+tc.action, nil))
		assertContains(t, page.body, tc.flash)
		got, _ := env.store.PanelByID(context.Background(), p.ID)
		if got.Status != tc.status {
			t.Errorf("after %s: status %s; want %s", tc.action, got.Status, tc.status)
		}
	}
	dup := b.postForm(panelPath(p)+"/duplicate", nil)
	edit := b.follow(dup)
	assertContains(t, edit.body, "draft copy", "Copy of Lonely", "lonely-copy")
}
