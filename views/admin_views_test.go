package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// Every admin page renders from its zero value, and from a builder's output,
// with one h1 and the sign-out form.
func TestAdminPages_Render(t *testing.T) {
	engine, err := NewEngine(func(name string) string { return "/public/" + name })
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	owner := &models.Account{ID: 1, Email: "owner@example.com", Role: models.RoleOwner}
	frame := NewAdminPage("Test", owner, "tok", SectionPanels, Flash{Message: "Saved."})
	sess := models.Session{ID: 3, PanelID: 2, StartsAt: now.Add(48 * time.Hour), DurationMinutes: 60, TimeZone: "Europe/London",
		Capacity: 10, SeatsTaken: 4, JoinURL: "https://meet.example.com/x", Status: models.SessionScheduled}
	panel := &models.Panel{ID: 2, Title: "AI and jobs", Slug: "ai-jobs", Status: models.PanelDraft, Sessions: []models.Session{sess},
		Questions: exportQuestions()}
	reg := *exportRegistration()
	reg.Session = &sess
	list := RegistrantList{BaseURL: "/admin/panels/2/registrants", Page: []models.Registration{reg}, Next: 41,
		Questions: panel.Questions, CSRFToken: "tok", Now: now}
	summary := NewSessionSummary(panel, sess, "tok", now)
	sessionPage := NewRegistrantsPage(frame, "AI and jobs", list)
	sessionPage.Summary = &summary
	after := NewAfterSession(panel, sess, models.AttendanceStats{Registered: 4, Attended: 3, MedianMinutes: 41}, "tok", now.Add(365*24*time.Hour))
	sessionPage.After = &after
	sessionPage.Add = NewAddRegistrantForm("/x", "tok", panel, AddRegistrantInput{}, map[string]string{"name": "Enter your name."})
	days := []models.DayCount{{Day: now.AddDate(0, 0, -1), Count: 3}, {Day: now, Count: 0}}
	pages := map[string][]any{
		PageAdminDashboard: {DashboardPage{}, NewDashboardPage(frame, []models.SessionOverview{{Session: sess}}, days, OutboxHealth{Failed: 1, Stuck: true}, now)},
		PageAdminPanels:    {PanelsPage{}, NewPanelsPage(frame, []models.PanelSummary{{Panel: *panel, NextSession: &sess}}, now)},
		PageAdminPanel:     {AdminPanelPage{}, NewAdminPanelPage(frame, Site{}, panel, map[int64]models.AttendanceStats{sess.ID: {Registered: 2, Attended: 1, MedianMinutes: 30}}, now)},
		PageAdminPanelForm: {PanelFormPage{}, NewPanelFormPage(frame, Site{}, "Edit", "/x", "Save", NewPanelInput(panel), map[string]string{"title": "Enter a title."})},
		PageAdminQuestions: {QuestionsPage{}, NewQuestionsPage(frame, panel, NewQuestionInputs(panel.Questions), nil)},
		PageAdminSession:   {RegistrantsPage{}, sessionPage},
		PageAdminSessionForm: {SessionFormPage{}, NewSessionFormPage(frame, "Edit session", "/x", "Save", "/y",
			NewSessionInput(sess), map[string]string{"starts_at": "Enter the start."}, now)},
		PageAdminConfirm:      {ConfirmPage{}, NewCancelConfirmPage(frame, panel, sess, 3, now)},
		PageAdminRegistrants:  {RegistrantsPage{}, NewRegistrantsPage(frame, "Registrants", list)},
		PageAdminOutbox:       {OutboxPage{}},
		PageAdminMail:         {MailPage{}},
		PageAdminAccounts:     {AccountsPage{}, NewAccountsPage(frame, []models.Account{*owner}, 1, AccountInput{}, nil)},
		PageAdminTokens:       {TokensPage{}, NewTokensPage(frame, []models.APIToken{{ID: 1, Name: "CRM"}}, nil, "", nil)},
		PageAdminTokenCreated: {TokenCreatedPage{}},
		PageAdminWebhooks: {WebhooksPage{}, NewWebhooksPage(frame, []models.WebhookEndpoint{{ID: 1, URL: "https://crm.example.com/hook", Active: true}},
			WebhookInput{}, map[string]string{"url": "Enter the endpoint's address."})},
		PageAdminWebhook: {WebhookPage{}, NewWebhookPage(frame, &models.WebhookEndpoint{ID: 1, URL: "https://crm.example.com/hook"},
			models.WebhookHealth{Delivered: 3}, []models.WebhookAttempt{{ID: 1, DeliveryID: 2, EventType: "registration.created", Error: "answered 500"}})},
		PageAdminWebhookSecret: {WebhookSecretPage{}},
		PageAdminAudit: {AuditPage{}, NewAuditPage(frame, []models.AuditEntry{{ID: 1, Actor: "owner@example.com (owner)",
			Channel: models.ChannelAdmin, Action: models.AuditRegistrantsExported, Subject: "panel 1", RowCount: 3}})},
		PageAdminAttendancePreview: {AttendancePreview{}, NewAttendancePreview(frame, panel, sess,
			&models.AttendanceImport{Format: "zoom_webinar", Matched: 2, Unmatched: 1, UnmatchedEmails: []string{"x@example.com"}},
			&models.AttendanceReport{Attendees: []models.ReportAttendee{{Email: "a@example.com", Minutes: 5, Attended: true}}})},
	}
	for name, datas := range pages {
		for i, data := range datas {
			var buf bytes.Buffer
			if err := engine.Render(&buf, name, data); err != nil {
				t.Errorf("render %s #%d: %v", name, i, err)
				continue
			}
			html := buf.String()
			if !strings.Contains(html, "</html>") || strings.Count(html, "<h1") != 1 || !strings.Contains(html, `action="/admin/logout"`) {
				t.Errorf("render %s #%d: want a whole page with one h1 and the sign-out form", name, i)
			}
			if strings.Contains(html, " style=") {
				t.Errorf("render %s #%d: inline style attribute (the CSP forbids them)", name, i)
			}
		}
	}
}

func TestRegistrationsChart_ScalesToRoundSteps(t *testing.T) {
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var days []models.DayCount
	for i, n := range []int{0, 3, 17, 0, 5} {
		days = append(days, models.DayCount{Day: day.AddDate(0, 0, i), Count: n})
	}
	c := NewRegistrationsChart(days)
	if c.Total != 25 || len(c.Bars) != 5 {
		t.Fatalf("total %d, %d bars; want 25 and 5", c.Total, len(c.Bars))
	}
	if top := c.YTicks[len(c.YTicks)-1].Label; top != "20" {
		t.Errorf("top of the scale = %s; want 20 (steps of 5)", top)
	}
	tallest := c.Bars[2]
	if tallest.Y < c.PlotTop || tallest.Y+tallest.Height != c.PlotBottom || c.Bars[0].Height != 0 {
		t.Errorf("bars do not stand on the axis within the plot: %+v", c.Bars)
	}
	if !strings.Contains(c.Desc, "25 registrations in total") || !strings.Contains(c.Desc, "the most on 3 Nov (17)") {
		t.Errorf("description = %q", c.Desc)
	}
}

func TestPanelInput_OrdersSpeakersByPositionAndDropsEmptyRows(t *testing.T) {
	in := PanelInput{
		Title: "T", LearningPoints: "  first \n\n second\n",
		Speakers: []SpeakerInput{
			{Position: "2", Name: "Bea"}, {Position: "1", Name: "Al"}, {Position: "3"},
			{Position: "", Name: "Cy"}, {Position: "1", Name: "Gone", Remove: true},
		},
		Reminders: []string{"1440", "15"},
	}.Normalised()
	var p models.Panel
	in.Apply(&p)
	var names []string
	for _, s := range p.Speakers {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "Al,Bea,Cy" || in.Speakers[2].Position != "3" {
		t.Errorf("speakers = %v (%+v); want Al, Bea, Cy renumbered", names, in.Speakers)
	}
	if len(p.LearningPoints) != 2 || p.LearningPoints[1].Text != "second" {
		t.Errorf("learning points = %+v", p.LearningPoints)
	}
	if len(p.ReminderMinutes) != 2 || p.ReminderMinutes[1] != 15 {
		t.Errorf("reminders = %v", p.ReminderMinutes)
	}
}

func TestSessionChanges_ListWhatTheInviteCarries(t *testing.T) {
	start := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	old := models.Session{StartsAt: start, DurationMinutes: 60, TimeZone: "Europe/London", JoinURL: "https://a.example", Capacity: 10}
	same := models.SessionUpdate{StartsAt: start, DurationMinutes: 60, TimeZone: "Europe/London", JoinURL: "https://a.example", Capacity: 50, Waitlist: true}
	if c := SessionChanges(old, same, start); len(c) != 0 {
		t.Errorf("capacity and waitlist changes = %+v; want none (not in the invite)", c)
	}
	moved := same
	moved.StartsAt, moved.Venue = start.Add(time.Hour), "Town hall"
	c := SessionChanges(old, moved, start)
	if len(c) != 2 || c[0].Label != "Time" || !strings.Contains(c[0].After, "4:00 PM") || c[1].After != "Town hall" {
		t.Errorf("changes = %+v; want the time and the venue", c)
	}
}

func TestPanelFormErrors_FileEachMessageUnderItsControl(t *testing.T) {
	errs := map[string]string{"title": "Enter a title.", "slug": "Use lower-case letters.",
		"learning_points[2]": "Keep this to one line of at most 300 characters.", "speakers[0].name": "Give the speaker's name."}
	got := panelFormErrors(errs, PanelInput{})
	if _, ok := got["slug"]; ok {
		t.Error("the empty address is blamed for the missing title")
	}
	if got["learning_points"] != "Line 3: Keep this to one line of at most 300 characters." {
		t.Errorf("learning points message = %q", got["learning_points"])
	}
	if got["speakers[0].name"] == "" || len(errs) != 4 {
		t.Errorf("got %v; the speaker's message must stay and the input must not change", got)
	}
	page := NewPanelFormPage(AdminPage{}, Site{}, "Edit", "/x", "Save", PanelInput{Speakers: []SpeakerInput{{Position: "1"}}}, errs)
	ids := map[string]bool{}
	for _, e := range page.Errors {
		ids[e.Field] = true
	}
	if !ids["field-learning-points"] || !ids["field-speakers-0-name"] {
		t.Errorf("summary links = %v", page.Errors)
	}
}
