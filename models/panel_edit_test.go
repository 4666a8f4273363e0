package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// countQueries counts the statements run on db (queries, preloads and raw
// scans) from now until the test ends.
func countQueries(t *testing.T, db *gorm.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	name := "test:count_queries"
	if err := db.Callback().Query().After("gorm:query").Register(name, count); err != nil {
		t.Fatal(err)
	}
	if err := db.Callback().Row().After("gorm:row").Register(name, count); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = db.Callback().Query().Remove(name)
		_ = db.Callback().Row().Remove(name)
	})
	return &n
}

// addSession stores another session on a panel, starting at start.
func addSession(t *testing.T, s *Store, panelID int64, start time.Time, capacity int) *Session {
	t.Helper()
	sess := &Session{StartsAt: start, DurationMinutes: 60, TimeZone: "UTC", Capacity: capacity, Waitlist: true, Venue: "Hall"}
	if err := s.AddSession(context.Background(), panelID, sess); err != nil {
		t.Fatalf("add session: %v", err)
	}
	return sess
}

func TestPanelByID_ReturnsAnyStatusWithEverythingInOrder(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p := &Panel{Title: "Draft", Status: PanelDraft,
		LearningPoints: []LearningPoint{{Text: "One"}, {Text: "Two"}},
		Speakers:       []Speaker{{Name: "Grace"}, {Name: "Ada"}},
		Questions:      []Question{{Kind: QuestionShortText, Label: "A"}, {Kind: QuestionCheckbox, Label: "B"}},
	}
	if err := s.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	addSession(t, s, p.ID, testNow.AddDate(0, 0, 9), 0)
	addSession(t, s, p.ID, testNow.AddDate(0, 0, -3), 0) // past sessions are included
	got, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LearningPoints[1].Text != "Two" || got.Speakers[1].Name != "Ada" || got.Questions[1].Label != "B" ||
		len(got.Sessions) != 2 || !got.Sessions[0].StartsAt.Before(got.Sessions[1].StartsAt) {
		t.Fatalf("panel = %+v", got)
	}
	if _, err := s.PanelByID(ctx, p.ID+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing panel = %v; want ErrNotFound", err)
	}
}

func TestAdminPanels_CountsEveryPanelInTwoQueries(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	first, sess := newTestPanel(t, s, 1, true)
	for i := range 3 {
		if _, err := s.Register(ctx, first.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
	}
	later := addSession(t, s, first.ID, testNow.AddDate(0, 0, 14), 0)
	earlier := addSession(t, s, first.ID, testNow.AddDate(0, 0, -1), 0) // over
	if _, err := s.CancelSession(ctx, later.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(testNow.Add(time.Minute))
	empty := &Panel{Title: "Empty"}
	if err := s.CreatePanel(ctx, empty); err != nil {
		t.Fatal(err)
	}
	queries := countQueries(t, s.read)
	list, err := s.AdminPanels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := queries.Load(); n > 2 {
		t.Fatalf("AdminPanels ran %d queries; want at most 2", n)
	}
	if len(list) != 2 || list[0].Panel.ID != empty.ID || list[0].Sessions != 0 || list[0].NextSession != nil {
		t.Fatalf("list = %+v; want the empty panel first, with nothing", list)
	}
	got := list[1]
	if got.Sessions != 3 || got.Confirmed != 1 || got.Waitlisted != 2 || got.NextSession == nil || got.NextSession.ID != sess.ID {
		t.Fatalf("summary = %+v; want 3 sessions, 1 confirmed, 2 waitlisted, next %d (not %d or %d)",
			got, sess.ID, earlier.ID, later.ID)
	}
}

func TestUpdatePanel_ReplacesFieldsPointsSpeakersAndQuestions(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newQuestionPanel(t, s)
	in := validInput(sess.ID, "ada@example.com")
	in.Answers = answersFor(p)
	res, err := s.Register(ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newTestPanel(t, s, 0, false)
	if err := s.UpdatePanel(ctx, &Panel{ID: other.ID, Title: "Other", Slug: "other", Status: PanelDraft,
		Questions: []Question{{Kind: QuestionShortText, Label: "Other's"}}}); err != nil {
		t.Fatal(err)
	}
	otherPanel, _ := s.PanelByID(ctx, other.ID)

	edit, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	role, sector := edit.Questions[0], edit.Questions[2]
	role.Label = "Your job"
	edit.Title, edit.Summary, edit.ReminderMinutes = "Renamed", "New summary", Minutes{30}
	edit.LearningPoints = []LearningPoint{{Text: "Only point"}}
	edit.Speakers = []Speaker{{Name: "Katherine Johnson"}}
	edit.Questions = []Question{
		sector, role, // kept, reordered
		{ID: otherPanel.Questions[0].ID, Kind: QuestionShortText, Label: "Not taken over"},
		{Kind: QuestionCheckbox, Label: "New one"},
	}
	if err := s.UpdatePanel(ctx, edit); err != nil {
		t.Fatal(err)
	}
	got, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "Renamed" || got.Summary != "New summary" || !slices.Equal(got.ReminderMinutes, Minutes{30}) ||
		len(got.LearningPoints) != 1 || got.Speakers[0].Name != "Katherine Johnson" || len(got.Sessions) != 1 {
		t.Fatalf("panel = %+v", got)
	}
	ids := []int64{got.Questions[0].ID, got.Questions[1].ID}
	if !slices.Equal(ids, []int64{sector.ID, role.ID}) || got.Questions[1].Label != "Your job" ||
		got.Questions[2].ID == otherPanel.Questions[0].ID || len(got.Questions) != 4 {
		t.Fatalf("questions = %+v; want sector and role kept by id, the rest new", got.Questions)
	}
	if still, _ := s.PanelByID(ctx, other.ID); still.Questions[0].Label != "Other's" {
		t.Fatalf("the other panel's question changed to %q", still.Questions[0].Label)
	}
	reg, err := s.RegistrationByID(ctx, res.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, a := range reg.Answers {
		kept = append(kept, a.Value)
	}
	if !slices.Equal(kept, []string{"Private", "Analyst"}) {
		t.Fatalf("answers after edit = %q; want the kept questions' answers, in the new order", kept)
	}
}

func TestUpdatePanel_RefusesWhatCreatePanelRefuses(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, _ := newTestPanel(t, s, 0, false)
	taken := &Panel{Title: "Taken", Slug: "taken"}
	if err := s.CreatePanel(ctx, taken); err != nil {
		t.Fatal(err)
	}
	noSessions := &Panel{Title: "No sessions"}
	if err := s.CreatePanel(ctx, noSessions); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		panel Panel
		field string
	}{
		{"slug of another panel", Panel{ID: p.ID, Title: "T", Slug: "taken", Status: PanelPublished}, "slug"},
		{"bad slug", Panel{ID: p.ID, Title: "T", Slug: "Not A Slug", Status: PanelPublished}, "slug"},
		{"empty title", Panel{ID: p.ID, Slug: "t", Status: PanelPublished}, "title"},
		{"bad question", Panel{ID: p.ID, Title: "T", Status: PanelPublished, Questions: []Question{{Kind: "x", Label: "Q"}}}, "questions[0].kind"},
		{"publish without sessions", Panel{ID: noSessions.ID, Title: "T", Status: PanelPublished}, "status"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var verr *ValidationError
			if err := s.UpdatePanel(ctx, &tc.panel); !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
				t.Fatalf("UpdatePanel = %v; want a message for %q", err, tc.field)
			}
		})
	}
	same := Panel{ID: p.ID, Title: "Same slug", Slug: p.Slug, Status: PanelPublished}
	if err := s.UpdatePanel(ctx, &same); err != nil {
		t.Fatalf("keeping its own slug: %v", err)
	}
	if err := s.UpdatePanel(ctx, &Panel{ID: 999, Title: "Gone", Status: PanelDraft}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing panel = %v; want ErrNotFound", err)
	}
}

func TestSetPanelStatus_PublishingNeedsASession(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	withSession, _ := newTestPanel(t, s, 0, false)
	bare := &Panel{Title: "Bare"}
	if err := s.CreatePanel(ctx, bare); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		id     int64
		status PanelStatus
		field  string
		err    error
	}{
		{"unpublish", withSession.ID, PanelDraft, "", nil},
		{"publish with a session", withSession.ID, PanelPublished, "", nil},
		{"archive", bare.ID, PanelArchived, "", nil},
		{"publish without a session", bare.ID, PanelPublished, "status", nil},
		{"unknown status", bare.ID, "deleted", "status", nil},
		{"missing panel", 999, PanelDraft, "", ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := s.SetPanelStatus(ctx, tc.id, tc.status)
			var verr *ValidationError
			switch {
			case tc.field != "":
				if !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
					t.Fatalf("SetPanelStatus = %v; want a message for %q", err, tc.field)
				}
			case !errors.Is(err, tc.err):
				t.Fatalf("SetPanelStatus = %v; want %v", err, tc.err)
			case err == nil:
				if got, _ := s.PanelByID(ctx, tc.id); got.Status != tc.status {
					t.Fatalf("status = %s; want %s", got.Status, tc.status)
				}
			}
		})
	}
	if got, _ := s.PanelByID(ctx, bare.ID); got.Status != PanelArchived {
		t.Fatalf("refused publish left status %s; want archived", got.Status)
	}
}

func TestDuplicatePanel_MakesADraftCopyWithoutSessions(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newQuestionPanel(t, s)
	in := validInput(sess.ID, "ada@example.com")
	in.Answers = answersFor(p)
	if _, err := s.Register(ctx, p.ID, in); err != nil {
		t.Fatal(err)
	}
	wantSlugs := []string{p.Slug + "-copy", p.Slug + "-copy-2", p.Slug + "-copy-3"}
	for _, want := range wantSlugs {
		dup, err := s.DuplicatePanel(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.PanelByID(ctx, dup.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Slug != want || got.Title != "Copy of "+p.Title || got.Status != PanelDraft || len(got.Sessions) != 0 ||
			len(got.Questions) != 5 || got.Questions[0].ID == p.Questions[0].ID ||
			!slices.Equal(got.Questions[2].Options, p.Questions[2].Options) ||
			!slices.Equal(got.ReminderMinutes, p.ReminderMinutes) {
			t.Fatalf("copy = %+v; want draft %q with questions and no sessions", got, want)
		}
	}
	if _, err := s.DuplicatePanel(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing panel = %v; want ErrNotFound", err)
	}
}

func TestDuplicatePanel_LongSlugAndTitleStayWithinLimits(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p := &Panel{Title: strings.Repeat("é", 100), Slug: strings.Repeat("a", 80)}
	if err := s.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		dup, err := s.DuplicatePanel(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(dup.Slug) > 80 || !strings.Contains(dup.Slug, "-copy") || len(dup.Title) > 200 ||
			!strings.HasPrefix(dup.Title, "Copy of é") {
			t.Fatalf("copy slug %q (%d), title %q (%d)", dup.Slug, len(dup.Slug), dup.Title, len(dup.Title))
		}
	}
}

func TestAddSession_ValidatesAndStartsAtSequenceZero(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, _ := newTestPanel(t, s, 0, false)
	sess := &Session{StartsAt: testNow.AddDate(0, 0, 3), DurationMinutes: 90, TimeZone: "Europe/Paris",
		Capacity: 5, Venue: "Room 1", Sequence: 7, SeatsTaken: 3, Status: SessionCancelled}
	if err := s.AddSession(ctx, p.ID, sess); err != nil {
		t.Fatal(err)
	}
	got, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	added := got.Sessions[0] // three days ahead, before the test panel's session
	if len(got.Sessions) != 2 || added.ID != sess.ID || added.Sequence != 0 || added.SeatsTaken != 0 ||
		added.Status != SessionScheduled || added.Capacity != 5 {
		t.Fatalf("added = %+v", added)
	}
	var verr *ValidationError
	bad := &Session{StartsAt: testNow, DurationMinutes: 0, TimeZone: "Local"}
	if err := s.AddSession(ctx, p.ID, bad); !errors.As(err, &verr) ||
		verr.Fields["duration_minutes"] == "" || verr.Fields["time_zone"] == "" || verr.Fields["join_url"] == "" {
		t.Fatalf("bad session = %v; want messages for duration, zone and place", err)
	}
	if err := s.AddSession(ctx, 999, &Session{StartsAt: testNow, DurationMinutes: 30, TimeZone: "UTC", Venue: "Hall"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing panel = %v; want ErrNotFound", err)
	}
}
