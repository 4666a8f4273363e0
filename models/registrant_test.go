package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// seedRegistrations inserts n registrations straight into the table, one
// write, for list and export tests that need many rows quickly. They claim
// no seats.
func seedRegistrations(t *testing.T, s *Store, sessionID int64, n int, status RegistrationStatus) []Registration {
	t.Helper()
	regs := make([]Registration, n)
	for i := range regs {
		email := fmt.Sprintf("seed%d-%d@example.com", sessionID, i)
		regs[i] = Registration{SessionID: sessionID, Name: fmt.Sprintf("Seed %d", i), Email: email, EmailKey: email,
			ConsentAt: testNow, Status: status, CreatedAt: testNow, UpdatedAt: testNow}
	}
	if err := s.write.CreateInBatches(regs, 250).Error; err != nil {
		t.Fatalf("seed registrations: %v", err)
	}
	return regs
}

// newOtherPanel stores a second published panel with one unlimited session.
func newOtherPanel(t *testing.T, s *Store) (*Panel, *Session) {
	t.Helper()
	p := &Panel{Title: "Other panel", Status: PanelPublished, Sessions: []Session{{
		StartsAt: testNow.AddDate(0, 0, 5), DurationMinutes: 45, TimeZone: "UTC", Venue: "Hall"}}}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return p, &p.Sessions[0]
}

// registerPerson signs someone up through the public path.
func registerPerson(t *testing.T, s *Store, panelID, sessionID int64, name, email, org string) *Registration {
	t.Helper()
	in := validInput(sessionID, email)
	in.Name, in.Organisation = name, org
	res, err := s.Register(context.Background(), panelID, in)
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return &res.Registration
}

func ids(regs []Registration) []int64 {
	out := make([]int64, len(regs))
	for i, r := range regs {
		out[i] = r.ID
	}
	return out
}

func TestRegistrants_NewestFirstInKeysetPages(t *testing.T) {
	s, _ := newTestStore(t)
	_, sess := newTestPanel(t, s, 0, false)
	seeded := seedRegistrations(t, s, sess.ID, 7, RegistrationConfirmed)
	var got []int64
	cursor := int64(0)
	for pages := 0; ; pages++ {
		page, next, err := s.Registrants(context.Background(), RegistrantQuery{SessionID: sess.ID, Before: cursor, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if pages > 3 || len(page) > 3 {
			t.Fatalf("page %d has %d rows", pages, len(page))
		}
		got = append(got, ids(page)...)
		if next == 0 {
			break
		}
		cursor = next
	}
	want := ids(seeded)
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Fatalf("ids = %v; want %v", got, want)
	}
}

func TestRegistrants_LimitDefaultsTo50AndIsCappedAt500(t *testing.T) {
	s, _ := newTestStore(t)
	_, sess := newTestPanel(t, s, 0, false)
	seedRegistrations(t, s, sess.ID, 501, RegistrationWaitlisted)
	for _, tc := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {10, 10}, {10000, 500}} {
		page, next, err := s.Registrants(context.Background(), RegistrantQuery{Limit: tc.limit})
		if err != nil || len(page) != tc.want || next != page[len(page)-1].ID {
			t.Errorf("limit %d: %d rows, next %d, %v; want %d rows and a cursor", tc.limit, len(page), next, err, tc.want)
		}
	}
}

func TestRegistrants_SearchMatchesNameEmailOrOrganisationLiterally(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 0, false)
	ada := registerPerson(t, s, p.ID, sess.ID, "Ada Lovelace", "ada@example.com", "Analytical Engines")
	pct := registerPerson(t, s, p.ID, sess.ID, "Percy 100% Sure", "percy@example.com", "")
	under := registerPerson(t, s, p.ID, sess.ID, "Una Der", "una_der@example.com", `Back\slash Ltd`)
	grace := registerPerson(t, s, p.ID, sess.ID, "Grace Hopper", "GRACE@Navy.example", "US Navy")
	cases := []struct {
		search string
		want   []int64
	}{
		{"lovelace", []int64{ada.ID}},
		{"  ANALYTICAL ", []int64{ada.ID}},
		{"grace@navy", []int64{grace.ID}},
		{"navy", []int64{grace.ID}},
		{"100%", []int64{pct.ID}},
		{"%", []int64{pct.ID}},
		{"_", []int64{under.ID}},
		{"a_l", nil}, // "a l" would match Ada Lovelace if _ were a wildcard
		{`k\s`, []int64{under.ID}},
		{`\`, []int64{under.ID}},
		{"nobody", nil},
		{"", []int64{grace.ID, under.ID, pct.ID, ada.ID}},
	}
	for _, tc := range cases {
		page, _, err := s.Registrants(context.Background(), RegistrantQuery{PanelID: p.ID, Search: tc.search})
		if err != nil || !slices.Equal(ids(page), tc.want) {
			t.Errorf("search %q = %v, %v; want %v", tc.search, ids(page), err, tc.want)
		}
	}
}

func TestRegistrants_FiltersByPanelSessionAndStatus(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 1, true)
	second := addSession(t, s, p.ID, testNow.AddDate(0, 0, 10), 0)
	other, otherSess := newOtherPanel(t, s)
	a := registerPerson(t, s, p.ID, sess.ID, "A", "a@example.com", "")
	b := registerPerson(t, s, p.ID, sess.ID, "B", "b@example.com", "") // waitlisted
	c := registerPerson(t, s, p.ID, second.ID, "C", "c@example.com", "")
	d := registerPerson(t, s, other.ID, otherSess.ID, "D", "d@example.com", "")
	cases := []struct {
		name string
		q    RegistrantQuery
		want []int64
	}{
		{"panel", RegistrantQuery{PanelID: p.ID}, []int64{c.ID, b.ID, a.ID}},
		{"session", RegistrantQuery{SessionID: sess.ID}, []int64{b.ID, a.ID}},
		{"waitlisted", RegistrantQuery{PanelID: p.ID, Status: RegistrationWaitlisted}, []int64{b.ID}},
		{"confirmed everywhere", RegistrantQuery{Status: RegistrationConfirmed}, []int64{d.ID, c.ID, a.ID}},
		{"session of another panel", RegistrantQuery{PanelID: other.ID, SessionID: sess.ID}, nil},
	}
	for _, tc := range cases {
		page, _, err := s.Registrants(context.Background(), tc.q)
		if err != nil || !slices.Equal(ids(page), tc.want) {
			t.Errorf("%s = %v, %v; want %v", tc.name, ids(page), err, tc.want)
		}
	}
	var verr *ValidationError
	if _, _, err := s.Registrants(context.Background(), RegistrantQuery{Status: "deleted"}); !errors.As(err, &verr) {
		t.Fatalf("unknown status = %v; want a validation error", err)
	}
}

func TestRegistrants_LoadsSessionPanelAndAnswersInAFixedNumberOfQueries(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newQuestionPanel(t, s)
	second := addSession(t, s, p.ID, testNow.AddDate(0, 0, 8), 0)
	for i := range 6 {
		sessionID := sess.ID
		if i%2 == 1 {
			sessionID = second.ID
		}
		in := validInput(sessionID, fmt.Sprintf("p%d@example.com", i))
		in.Answers = answersFor(p)
		if _, err := s.Register(context.Background(), p.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[int]int64{}
	for _, limit := range []int{2, 6} {
		queries := countQueries(t, s.read)
		page, _, err := s.Registrants(context.Background(), RegistrantQuery{PanelID: p.ID, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if r.Session == nil || r.Session.Panel == nil || r.Session.Panel.Title != p.Title || len(r.Answers) != 5 {
				t.Fatalf("registration %d lacks its session, panel or answers: %+v", r.ID, r)
			}
		}
		counts[limit] = queries.Load()
	}
	if counts[2] != counts[6] || counts[6] > 4 {
		t.Fatalf("queries: %d for 2 rows, %d for 6; want the same, at most 4", counts[2], counts[6])
	}
}

func TestStreamRegistrants_VisitsEveryMatchInIDOrderAcrossBatches(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 0, false)
	_, otherSess := newOtherPanel(t, s)
	want := ids(seedRegistrations(t, s, sess.ID, 2*streamBatch+3, RegistrationConfirmed))
	seedRegistrations(t, s, otherSess.ID, 10, RegistrationConfirmed)
	var got []int64
	err := s.StreamRegistrants(context.Background(), RegistrantQuery{PanelID: p.ID, Limit: 1}, func(r *Registration) error {
		if r.Session == nil || r.Session.Panel == nil {
			t.Fatalf("registration %d without session or panel", r.ID)
		}
		got = append(got, r.ID)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("streamed %d rows, %v; want all %d in id order", len(got), err, len(want))
	}
	stop := errors.New("stop")
	n := 0
	err = s.StreamRegistrants(context.Background(), RegistrantQuery{}, func(*Registration) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("stream after fn error = %v after %d rows; want stop after 1", err, n)
	}
}

func TestRegistrantCounts_CountsByStatusWithAttendanceAndSeats(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 2, true)
	var regs []*Registration
	for i := range 4 {
		regs = append(regs, registerPerson(t, s, p.ID, sess.ID, "P", fmt.Sprintf("p%d@example.com", i), ""))
	}
	if _, err := s.CancelRegistration(ctx, regs[3].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAttended(ctx, regs[0].ID, true); err != nil {
		t.Fatal(err)
	}
	unlimited := addSession(t, s, p.ID, testNow.AddDate(0, 0, 9), 0)
	cases := []struct {
		name               string
		panelID, sessionID int64
		want               RegistrantTotals
	}{
		{"session", p.ID, sess.ID, RegistrantTotals{Confirmed: 2, Waitlisted: 1, Cancelled: 1, Attended: 1, SeatsLeft: 0}},
		{"unlimited session", 0, unlimited.ID, RegistrantTotals{SeatsLeft: -1}},
		{"panel", p.ID, 0, RegistrantTotals{Confirmed: 2, Waitlisted: 1, Cancelled: 1, Attended: 1, SeatsLeft: -1}},
	}
	for _, tc := range cases {
		got, err := s.RegistrantCounts(ctx, tc.panelID, tc.sessionID)
		if err != nil || got != tc.want {
			t.Errorf("%s = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	if _, err := s.RegistrantCounts(ctx, 0, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing session = %v; want ErrNotFound", err)
	}
}

func TestAddRegistrationByOrganizer_FollowsRegisterRulesBeyondTheDeadline(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p := &Panel{Title: "Draft panel", Status: PanelDraft, Sessions: []Session{{
		StartsAt: testNow.AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC", Capacity: 1, Waitlist: true, Venue: "Hall",
	}}}
	if err := s.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	sessionID := p.Sessions[0].ID
	clock.Set(p.Sessions[0].StartsAt.Add(30 * time.Minute)) // registration closed, session running
	first, err := s.AddRegistrationByOrganizer(ctx, sessionID, validInput(0, "a@example.com"), ChannelAdmin)
	if err != nil || first.Registration.Status != RegistrationConfirmed {
		t.Fatalf("add = %+v, %v; want confirmed on a draft panel after the deadline", first, err)
	}
	assertMessage(t, outboxFor(t, s, first.Registration.ID)[0], KindConfirmation, CalendarRequest, 0)
	second, err := s.AddRegistrationByOrganizer(ctx, sessionID, validInput(0, "b@example.com"), ChannelAdmin)
	if err != nil || second.Registration.Status != RegistrationWaitlisted {
		t.Fatalf("second = %+v, %v; want waitlisted", second, err)
	}
	again, err := s.AddRegistrationByOrganizer(ctx, sessionID, validInput(0, "A@example.com"), ChannelAdmin)
	if err != nil || !again.Duplicate || again.Registration.ID != first.Registration.ID {
		t.Fatalf("again = %+v, %v; want the duplicate answer", again, err)
	}
	if _, err := s.Register(ctx, p.ID, validInput(sessionID, "c@example.com")); err == nil {
		t.Fatal("the public path took a sign-up for a draft panel")
	}
	cases := []struct {
		name  string
		setup func()
		id    int64
		want  error
	}{
		{"session over", func() { clock.Set(p.Sessions[0].EndsAt()) }, sessionID, ErrRegistrationClosed},
		{"session cancelled", func() {
			clock.Set(testNow)
			if _, err := s.CancelSession(ctx, sessionID); err != nil {
				t.Fatal(err)
			}
		}, sessionID, ErrSessionCancelled},
		{"missing session", func() {}, 999, ErrNotFound},
	}
	for _, tc := range cases {
		tc.setup()
		if _, err := s.AddRegistrationByOrganizer(ctx, tc.id, validInput(0, "late@example.com"), ChannelAdmin); !errors.Is(err, tc.want) {
			t.Errorf("%s = %v; want %v", tc.name, err, tc.want)
		}
	}
	assertRegistrationCount(t, s, sessionID, 2)
}

func TestAddRegistrationByOrganizer_ChecksAnswersAndDetailsTogether(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newQuestionPanel(t, s)
	in := validInput(0, "not-an-email")
	var verr *ValidationError
	if _, err := s.AddRegistrationByOrganizer(context.Background(), sess.ID, in, ChannelAdmin); !errors.As(err, &verr) ||
		verr.Fields["email"] == "" || verr.Fields[p.Questions[0].FieldName()] == "" {
		t.Fatalf("add = %v; want messages for the email and the required question", err)
	}
}

func TestCancelRegistration_FreesTheSeatForTheWaitlist(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 1, true)
	a := registerPerson(t, s, p.ID, sess.ID, "A", "a@example.com", "")
	b := registerPerson(t, s, p.ID, sess.ID, "B", "b@example.com", "")
	res, err := s.CancelRegistration(ctx, a.ID)
	if err != nil || res.Registration.Status != RegistrationCancelled || res.Promoted == nil || res.Promoted.ID != b.ID {
		t.Fatalf("cancel = %+v, %v; want a cancelled and b promoted", res, err)
	}
	if _, err := s.CancelRegistration(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing registration = %v; want ErrNotFound", err)
	}
}

func TestPromoteRegistration_NeedsAFreeSeat(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 1, true)
	a := registerPerson(t, s, p.ID, sess.ID, "A", "a@example.com", "")
	b := registerPerson(t, s, p.ID, sess.ID, "B", "b@example.com", "")
	var verr *ValidationError
	if _, err := s.PromoteRegistration(ctx, b.ID); !errors.As(err, &verr) ||
		verr.Fields["capacity"] != "No free place: raise the capacity first" {
		t.Fatalf("promote into a full session = %v; want the capacity message", err)
	}
	assertStatusCount(t, s, sess.ID, RegistrationWaitlisted, 1)
	if err := s.write.Exec("UPDATE sessions SET capacity = 2 WHERE id = ?", sess.ID).Error; err != nil {
		t.Fatal(err)
	}
	got, err := s.PromoteRegistration(ctx, b.ID)
	if err != nil || got.Status != RegistrationConfirmed {
		t.Fatalf("promote = %+v, %v; want confirmed", got, err)
	}
	assertSeatsTaken(t, s, sess.ID, 2)
	msgs := outboxFor(t, s, b.ID)
	promo := msgs[len(msgs)-1]
	assertMessage(t, promo, KindPromoted, CalendarRequest, 0)
	if reg, err := s.RegistrationByToken(ctx, promo.ManageToken); err != nil || reg.ID != b.ID {
		t.Fatalf("promotion link = %v, %v", reg, err)
	}
	if again, err := s.PromoteRegistration(ctx, a.ID); err != nil || again.Status != RegistrationConfirmed {
		t.Fatalf("promoting a confirmed registrant = %+v, %v; want it unchanged", again, err)
	}
	assertSeatsTaken(t, s, sess.ID, 2)
	if _, err := s.CancelRegistration(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PromoteRegistration(ctx, a.ID); !errors.As(err, &verr) {
		t.Fatalf("promoting a cancelled registrant = %v; want a validation error", err)
	}
}

func TestResendInvite_QueuesTheNoticeAgainWithANewLink(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 1, true)
	a := registerPerson(t, s, p.ID, sess.ID, "A", "a@example.com", "")
	b := registerPerson(t, s, p.ID, sess.ID, "B", "b@example.com", "")
	cases := []struct {
		reg  *Registration
		kind OutboxKind
		meth string
	}{{a, KindConfirmation, CalendarRequest}, {b, KindWaitlisted, ""}}
	for _, tc := range cases {
		if err := s.ResendInvite(ctx, tc.reg.ID); err != nil {
			t.Fatal(err)
		}
		msgs := outboxFor(t, s, tc.reg.ID)
		if len(msgs) != 2 || msgs[1].ManageToken == msgs[0].ManageToken {
			t.Fatalf("outbox = %+v; want a second message with its own link", msgs)
		}
		assertMessage(t, msgs[1], tc.kind, tc.meth, 0)
		if reg, err := s.RegistrationByToken(ctx, msgs[1].ManageToken); err != nil || reg.ID != tc.reg.ID {
			t.Fatalf("new link = %v, %v", reg, err)
		}
	}
	if _, err := s.CancelRegistration(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	var verr *ValidationError
	if err := s.ResendInvite(ctx, b.ID); !errors.As(err, &verr) {
		t.Fatalf("resend to a cancelled registrant = %v; want a validation error", err)
	}
	if err := s.ResendInvite(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing registration = %v; want ErrNotFound", err)
	}
}

func TestSetAttended_MarksKeepsFirstTimeAndClears(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 0, false)
	reg := registerPerson(t, s, p.ID, sess.ID, "A", "a@example.com", "")
	attendedAt := func() *time.Time {
		t.Helper()
		got, err := s.RegistrationByID(ctx, reg.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.AttendedAt
	}
	steps := []struct {
		at       time.Time
		attended bool
		want     *time.Time
	}{
		{testNow, true, &testNow},
		{testNow.Add(time.Hour), true, &testNow}, // the first mark stays
		{testNow.Add(2 * time.Hour), false, nil},
	}
	for i, step := range steps {
		clock.Set(step.at)
		if err := s.SetAttended(ctx, reg.ID, step.attended); err != nil {
			t.Fatal(err)
		}
		got := attendedAt()
		if (got == nil) != (step.want == nil) || (got != nil && !got.Equal(*step.want)) {
			t.Fatalf("step %d: attended_at = %v; want %v", i, got, step.want)
		}
	}
	if err := s.SetAttended(ctx, 999, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing registration = %v; want ErrNotFound", err)
	}
}

func TestRegistrationByID_NotFound(t *testing.T) {
	s, _ := newTestStore(t)
	if _, err := s.RegistrationByID(context.Background(), 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RegistrationByID = %v; want ErrNotFound", err)
	}
}

func TestRegistrationsPerDay_CountsUTCDaysWithZeroDaysFilled(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 0, false)
	day := func(n int) time.Time { return time.Date(2026, 11, 17+n, 0, 0, 0, 0, time.UTC) }
	signUps := []time.Time{
		day(0).Add(23*time.Hour + 59*time.Minute), // 17th, late evening
		day(1).Add(time.Minute),                   // 18th, just after midnight
		day(1).Add(12 * time.Hour),
		day(3).Add(8 * time.Hour), // 20th; the 19th has none
	}
	for i, at := range signUps {
		clock.Set(at)
		registerPerson(t, s, p.ID, sess.ID, "P", fmt.Sprintf("p%d@example.com", i), "")
	}
	clock.Set(day(3).Add(9 * time.Hour))
	since := time.Date(2026, 11, 18, 10, 0, 0, 0, time.FixedZone("EST", -5*3600)) // the 18th, 3 PM UTC
	got, err := s.RegistrationsPerDay(ctx, since)
	if err != nil {
		t.Fatal(err)
	}
	want := []DayCount{{day(1), 2}, {day(2), 0}, {day(3), 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("per day = %v; want %v", got, want)
	}
	var verr *ValidationError
	if _, err := s.RegistrationsPerDay(ctx, day(3).AddDate(-2, 0, 0)); !errors.As(err, &verr) {
		t.Fatalf("two years = %v; want a validation error", err)
	}
}

func TestUpcomingSessionsOverview_ListsUnendedScheduledSessionsWithWaitlist(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 2, true)
	for i := range 3 {
		registerPerson(t, s, p.ID, sess.ID, "P", fmt.Sprintf("p%d@example.com", i), "")
	}
	draft := &Panel{Title: "Draft", Sessions: []Session{{StartsAt: testNow.Add(2 * time.Hour), DurationMinutes: 60, TimeZone: "UTC", Venue: "Hall"}}}
	if err := s.CreatePanel(ctx, draft); err != nil {
		t.Fatal(err)
	}
	cancelled := addSession(t, s, p.ID, testNow.AddDate(0, 0, 3), 0)
	if _, err := s.CancelSession(ctx, cancelled.ID); err != nil {
		t.Fatal(err)
	}
	addSession(t, s, p.ID, testNow.Add(-2*time.Hour), 0) // over
	clock.Set(testNow.Add(2*time.Hour + 30*time.Minute)) // the draft panel's session is running
	queries := countQueries(t, s.read)
	got, err := s.UpcomingSessionsOverview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := queries.Load(); n > 2 {
		t.Fatalf("overview ran %d queries; want at most 2", n)
	}
	if len(got) != 2 || got[0].Session.Panel.Title != "Draft" || got[0].FillPercent() != -1 ||
		got[1].Session.ID != sess.ID || got[1].Session.Panel.Title != p.Title || got[1].Session.SeatsTaken != 2 ||
		got[1].Waitlisted != 1 || got[1].FillPercent() != 100 {
		t.Fatalf("overview = %+v", got)
	}
}
