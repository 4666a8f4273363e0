package models

import (
	"podium/models/pgtest"

	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests follow a person's erasure: on request, by their own link, and
// when their panel's retention runs out, across every copy Podium keeps.

// The person erased, with details found nowhere else in the database.
const (
	erasedEmail = "erase-me-7f3a@example.com"
	erasedName  = "Quorra Vantablack"
)

// erasedDetails are every detail the person typed or brought, as stored.
var erasedDetails = []string{erasedEmail, erasedName, "Vantablack Holdings", "Chief Erasure Officer",
	"utm-src-7f3a", "utm-medium-7f3a", "utm-campaign-7f3a", "utm-term-7f3a", "utm-content-7f3a",
	"https://referrer.example.com/7f3a", "Answer of Quorra 7f3a"}

// erasurePanel stores a published panel with one question, one sponsor and
// one session of capacity seats a week after testNow.
func erasurePanel(t *testing.T, s *Store, title string, capacity int, waitlist bool) (*Panel, *Session) {
	t.Helper()
	p := &Panel{Title: title, Status: PanelPublished, OrganizerName: testOrganizer,
		Sessions: []Session{{StartsAt: testNow.AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC",
			Capacity: capacity, Waitlist: waitlist, JoinURL: "https://meet.example.com/x"}},
		Questions: []Question{{Kind: QuestionShortText, Label: "Your role"}},
		Sponsors:  []Sponsor{{Name: "Globex", PrivacyURL: sponsorPrivacy("Globex")}},
	}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel %q: %v", title, err)
	}
	return p, &p.Sessions[0]
}

// signUpErased registers the erased person for an erasurePanel's session
// with every detail of erasedDetails, the organizer's news and the sponsor.
func signUpErased(t *testing.T, s *Store, p *Panel, sessionID int64) *RegisterResult {
	t.Helper()
	in := validInput(sessionID, erasedEmail)
	in.Name, in.Organisation, in.JobTitle = erasedName, erasedDetails[2], erasedDetails[3]
	in.Source, in.Medium, in.Campaign, in.Term, in.Content = erasedDetails[4], erasedDetails[5], erasedDetails[6],
		erasedDetails[7], erasedDetails[8]
	in.Referrer = erasedDetails[9]
	in.Answers = map[int64][]string{p.Questions[0].ID: {erasedDetails[10]}}
	in.Marketing, in.Sponsors = true, map[int64]int64{p.Sponsors[0].ID: 0}
	res, err := s.Register(context.Background(), p.ID, in)
	if err != nil {
		t.Fatalf("register the person to erase: %v", err)
	}
	return res
}

// holdsAny reports the first of needles text holds, ignoring case.
func holdsAny(text string, needles []string) (string, bool) {
	text = strings.ToLower(text)
	for _, n := range needles {
		if strings.Contains(text, strings.ToLower(n)) {
			return n, true
		}
	}
	return "", false
}

// tracesInTables searches every row of every table of the database, as
// text, for needles, and lists "table: needle" for each table holding one.
func tracesInTables(t *testing.T, s *Store, needles []string) []string {
	t.Helper()
	var tables []string
	listing := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if pgtest.Postgres() {
		listing = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	if err := s.read.Raw(listing).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	if len(tables) < 20 {
		t.Fatalf("found %d tables (%q); want the whole schema", len(tables), tables)
	}
	var traces []string
	for _, table := range tables {
		if needle, ok := holdsAny(tableText(t, s, table), needles); ok {
			traces = append(traces, table+": "+needle)
		}
	}
	return traces
}

// tableText is every row of table as text, one line a row.
func tableText(t *testing.T, s *Store, table string) string {
	t.Helper()
	query := `SELECT * FROM "` + table + `"`
	if pgtest.Postgres() {
		query = `SELECT t::text FROM "` + table + `" t`
	}
	rows, err := s.read.Raw(query).Rows()
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	columns, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	values := make([]any, len(columns))
	pointers := make([]any, len(columns))
	for i := range values {
		pointers[i] = &values[i]
	}
	for rows.Next() {
		if err := rows.Scan(pointers...); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		for _, v := range values {
			if raw, ok := v.([]byte); ok {
				v = string(raw)
			}
			fmt.Fprint(&b, v, "\t")
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	return b.String()
}

// eventsAbout are the stored webhook events about a registration,
// oldest first.
func eventsAbout(t *testing.T, s *Store, registrationID int64) []webhookEventRow {
	t.Helper()
	var out []webhookEventRow
	for _, e := range webhookEvents(t, s) {
		if e.RegistrationID.Valid && e.RegistrationID.Int64 == registrationID {
			out = append(out, e)
		}
	}
	return out
}

// assertErased fails unless the registration is the anonymous row an
// erasure at erasedAt leaves, with status.
func assertErased(t *testing.T, s *Store, id int64, erasedAt time.Time, status RegistrationStatus) *Registration {
	t.Helper()
	reg, err := s.RegistrationByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	personal := []string{reg.Name, reg.Email, reg.Organisation, reg.JobTitle, reg.Source, reg.Medium, reg.Campaign,
		reg.Term, reg.Content, reg.Referrer}
	if slices.ContainsFunc(personal, func(v string) bool { return v != "" }) {
		t.Errorf("registration %d keeps %q; want every detail empty", id, personal)
	}
	if reg.EmailKey != fmt.Sprintf("erased-%d", id) || reg.ErasedAt == nil || !reg.ErasedAt.Equal(erasedAt) ||
		reg.Status != status || len(reg.Answers) != 0 {
		t.Errorf("registration %d: key %q, erased at %s, %s, %d answers; want erased-%d at %s, %s, no answers",
			id, reg.EmailKey, stamp(reg.ErasedAt), reg.Status, len(reg.Answers), id, at(erasedAt), status)
	}
	return reg
}

func TestErasePerson_LeavesNoTraceAndGivesTheSeatToTheWaitlist(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	newWebhookEndpoint(t, s, hookURL) // every type: the events carry the person's details
	p, sess := erasurePanel(t, s, "Erasure panel", 1, true)
	other, otherSess := erasurePanel(t, s, "Second erasure panel", 0, false)
	mine := signUpErased(t, s, p, sess.ID)
	clock.Set(testNow.Add(time.Minute))
	waiting := signUp(t, s, p.ID, sess.ID, "wait@example.com")
	theirs := signUpErased(t, s, other, otherSess.ID)
	if mine.Registration.Status != RegistrationConfirmed || waiting.Registration.Status != RegistrationWaitlisted {
		t.Fatalf("before: %s and %s; want confirmed and waitlisted", mine.Registration.Status, waiting.Registration.Status)
	}
	stop, err := s.UnsubscribeToken(mine.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StopReminders(ctx, stop); err != nil {
		t.Fatal(err)
	}
	if err := s.write.Exec("INSERT INTO zoom_intervals (registration_id, joined_at, left_at) VALUES (?, ?, ?)",
		mine.Registration.ID, testNow, testNow.Add(time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	// The second panel's confirmation went out, and the server's answer
	// quoted the address.
	if err := s.write.Exec("UPDATE outbox_messages SET status = ?, sent_at = ?, last_error = ? WHERE registration_id = ?",
		OutboxSent, testNow, "250 accepted for "+erasedEmail, theirs.Registration.ID).Error; err != nil {
		t.Fatal(err)
	}
	mineID, theirsID := mine.Registration.ID, theirs.Registration.ID
	for table, want := range map[string]int64{"answers": 1, "manage_tokens": 1, "registration_links": 1,
		"zoom_intervals": 1, "consents": 3} {
		if n := countWebhookRows(t, s, table, "registration_id = ?", mineID); n != want {
			t.Fatalf("before: %d %s rows; want %d", n, table, want)
		}
	}
	if n := countWebhookRows(t, s, "email_opt_outs", "email_key = ?", erasedEmail); n != 1 {
		t.Fatalf("before: %d opt-outs; want 1", n)
	}
	held, err := s.PersonData(ctx, erasedEmail)
	if err != nil || len(held.Registrations) != 2 || len(held.Registrations[0].Consents) != 3 ||
		len(held.OptOuts) != 1 || held.OptOuts[0].PanelID != p.ID {
		t.Fatalf("before: person data = %+v, %v; want 2 registrations with 3 consents each and the opt-out", held, err)
	}
	// The search finds the person before, so that it finding nothing after
	// means something.
	if traces := tracesInTables(t, s, erasedDetails); len(traces) < 5 {
		t.Fatalf("before: traces %q; want the registrations, answers, events, opt-outs and outbox", traces)
	}

	erasedAt := testNow.Add(time.Hour)
	clock.Set(erasedAt)
	res, err := s.ErasePerson(ctx, "  Erase-Me-7F3A@Example.com ")
	if err != nil {
		t.Fatal(err)
	}
	if res.Registrations != 2 || len(res.Promoted) != 1 || res.Promoted[0].ID != waiting.Registration.ID ||
		res.Promoted[0].Status != RegistrationConfirmed {
		t.Fatalf("erasure = %+v; want 2 registrations and the waitlisted person promoted", res)
	}
	promoted, err := s.RegistrationByID(ctx, waiting.Registration.ID)
	if err != nil || promoted.Status != RegistrationConfirmed || promoted.Email != "wait@example.com" {
		t.Fatalf("the waitlisted person = %+v, %v; want confirmed, details kept", promoted, err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	assertSeatsTaken(t, s, otherSess.ID, 0)
	if msgs := outboxFor(t, s, waiting.Registration.ID); msgs[len(msgs)-1].Kind != KindPromoted {
		t.Fatalf("the promoted person's last email is %s; want the promotion", msgs[len(msgs)-1].Kind)
	}

	for _, id := range []int64{mineID, theirsID} {
		reg := assertErased(t, s, id, erasedAt, RegistrationCancelled)
		if reg.CancelledAt == nil || !reg.CancelledAt.Equal(erasedAt) {
			t.Errorf("registration %d cancelled at %s; want %s", id, stamp(reg.CancelledAt), at(erasedAt))
		}
		for _, table := range []string{"answers", "manage_tokens", "registration_links", "zoom_intervals"} {
			if n := countWebhookRows(t, s, table, "registration_id = ?", id); n != 0 {
				t.Errorf("registration %d: %d %s rows left; want none", id, n, table)
			}
		}
		// The consents stay, naming no one.
		if n := countWebhookRows(t, s, "consents", "registration_id = ?", id); n != 3 {
			t.Errorf("registration %d: %d consents; want its 3 kept", id, n)
		}
	}
	for _, m := range outboxFor(t, s, mineID) {
		if m.Status != OutboxSkipped || m.ManageToken != "" || m.LastError != "" {
			t.Errorf("queued message %d (%s) is %s with token %q, error %q; want skipped, both empty", m.ID, m.Kind, m.Status, m.ManageToken, m.LastError)
		}
	}
	for _, m := range outboxFor(t, s, theirsID) {
		if m.Status != OutboxSent || m.ManageToken != "" || m.LastError != "" {
			t.Errorf("sent message %d (%s) is %s with token %q, error %q; want sent, both empty", m.ID, m.Kind, m.Status, m.ManageToken, m.LastError)
		}
	}
	if n := countWebhookRows(t, s, "email_opt_outs", "email_key = ?", erasedEmail); n != 0 {
		t.Fatalf("%d opt-outs of the address left; want none", n)
	}
	if held, err := s.PersonData(ctx, erasedEmail); err != nil || len(held.Registrations) != 0 || len(held.OptOuts) != 0 {
		t.Fatalf("person data after = %+v, %v; want nothing held", held, err)
	}
	if _, err := s.RegistrationByToken(ctx, mine.Token); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the erased person's manage link = %v; want ErrNotFound", err)
	}
	if _, leads, err := s.SponsorLeads(ctx, p.ID, p.Sponsors[0].ID); err != nil || len(leads) != 0 {
		t.Fatalf("the sponsor's leads = %d, %v; want none", len(leads), err)
	}

	for _, e := range webhookEvents(t, s) {
		if needle, ok := holdsAny(e.Body, erasedDetails); ok {
			t.Errorf("event %d (%s) still holds %q: %s", e.ID, e.Type, needle, e.Body)
		}
	}
	for id, createdAt := range map[int64]time.Time{mineID: testNow, theirsID: testNow.Add(time.Minute)} {
		events := eventsAbout(t, s, id)
		if got := eventTypes(events); !slices.Equal(got, []string{EventRegistrationCreated, EventRegistrationErased}) {
			t.Fatalf("events about %d = %q; want created, then erased", id, got)
		}
		// The redacted event keeps what names no one.
		assertEventData(t, events[0], EventRegistrationCreated, createdAt, map[string]any{"registration_id": float64(id),
			"email": "", "name": "", "referrer": "", "utm_campaign": "", "status": "confirmed"})
		assertEventData(t, events[1], EventRegistrationErased, erasedAt, map[string]any{
			"registration_id": float64(id), "email": "", "name": "", "status": "cancelled"})
	}

	if traces := tracesInTables(t, s, erasedDetails); len(traces) != 0 {
		t.Fatalf("after the erasure the database still holds %q", traces)
	}
}

func TestErasePerson_SQLiteFileLogAndBackupKeepNoCopy(t *testing.T) {
	pgtest.SQLiteOnly(t, "the database file, its write-ahead log and a VACUUM INTO backup")
	s, _ := newTestStore(t)
	ctx := context.Background()
	newWebhookEndpoint(t, s, hookURL)
	p, sess := erasurePanel(t, s, "Erasure panel", 10, false)
	signUpErased(t, s, p, sess.ID)
	signUp(t, s, p.ID, sess.ID, "kept@example.com")
	path := s.dsn
	onDisk := func(file string) []string {
		t.Helper()
		b, err := os.ReadFile(file)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, d := range erasedDetails {
			if bytes.Contains(b, []byte(d)) {
				found = append(found, d)
			}
		}
		return found
	}
	// Into the file itself, not only the log, before the erasure.
	if err := s.write.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		t.Fatal(err)
	}
	if found := onDisk(path); !slices.Contains(found, erasedEmail) || !slices.Contains(found, erasedName) {
		t.Fatalf("before: the database file holds %q; want the address and name", found)
	}

	if res, err := s.ErasePerson(ctx, erasedEmail); err != nil || res.Registrations != 1 {
		t.Fatalf("erasure = %+v, %v; want one registration", res, err)
	}
	for _, file := range []string{path, path + "-wal", path + "-journal"} {
		if found := onDisk(file); len(found) != 0 {
			t.Errorf("%s still holds %q", filepath.Base(file), found)
		}
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("kept@example.com")) {
		t.Fatal("the backup lacks the person kept: not a copy of the database")
	}
	for _, d := range erasedDetails {
		if bytes.Contains(b, []byte(d)) {
			t.Errorf("the backup holds %q", d)
		}
	}
}

func TestErasePerson_PastSessionKeepsStatusAttendanceAndCounts(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 2, false)
	mine := signUp(t, s, p.ID, sess.ID, erasedEmail)
	kept := signUp(t, s, p.ID, sess.ID, "kept@example.com")
	clock.Set(sess.EndsAt().Add(time.Hour))
	if err := s.SetAttended(ctx, mine.Registration.ID, true); err != nil {
		t.Fatal(err)
	}
	totals, err := s.RegistrantCounts(ctx, p.ID, 0)
	if err != nil || totals.Confirmed != 2 || totals.Attended != 1 {
		t.Fatalf("before: %+v, %v; want 2 confirmed, 1 attended", totals, err)
	}
	stats, err := s.SessionAttendance(ctx, sess.ID)
	if err != nil || stats.Registered != 2 || stats.Attended != 1 {
		t.Fatalf("before: %+v, %v; want 2 registered, 1 attended", stats, err)
	}

	erasedAt := clock.Now().Add(time.Minute)
	clock.Set(erasedAt)
	res, err := s.ErasePerson(ctx, erasedEmail)
	if err != nil || res.Registrations != 1 || len(res.Promoted) != 0 {
		t.Fatalf("erasure = %+v, %v; want one registration, nobody promoted", res, err)
	}
	reg := assertErased(t, s, mine.Registration.ID, erasedAt, RegistrationConfirmed)
	if reg.Attendance != AttendanceAttended || reg.AttendedAt == nil || reg.CancelledAt != nil {
		t.Fatalf("erased registration: %s, attended at %s, cancelled at %s; want attended, not cancelled",
			reg.Attendance, stamp(reg.AttendedAt), stamp(reg.CancelledAt))
	}
	if after, err := s.RegistrantCounts(ctx, p.ID, 0); err != nil || after != totals {
		t.Fatalf("after: %+v, %v; want %+v", after, err, totals)
	}
	if after, err := s.SessionAttendance(ctx, sess.ID); err != nil || after != stats {
		t.Fatalf("after: %+v, %v; want %+v", after, err, stats)
	}
	assertSeatsTaken(t, s, sess.ID, 2)
	if other, err := s.RegistrationByID(ctx, kept.Registration.ID); err != nil || other.Email != "kept@example.com" || other.ErasedAt != nil {
		t.Fatalf("the other registrant = %+v, %v; want untouched", other, err)
	}

	for _, tc := range []struct {
		email string
		want  int
	}{{erasedEmail, 0}, {"nobody@example.com", 0}} {
		if res, err := s.ErasePerson(ctx, tc.email); err != nil || res.Registrations != tc.want || res.Promoted != nil {
			t.Errorf("erasing %s = %+v, %v; want %d registrations", tc.email, res, err, tc.want)
		}
	}
	for _, bad := range []string{"", "not an address", "Quorra <" + erasedEmail + ">"} {
		if res, err := s.ErasePerson(ctx, bad); !errors.Is(err, ErrNotFound) || res != nil {
			t.Errorf("erasing %q = %+v, %v; want ErrNotFound", bad, res, err)
		}
	}
	assertErased(t, s, mine.Registration.ID, erasedAt, RegistrationConfirmed)
}

func TestEraseByToken_ErasesTheAddressOnEveryPanel(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := newTestPanel(t, s, 10, false)
	other, otherSess := newOtherPanel(t, s)
	first := signUp(t, s, p.ID, sess.ID, erasedEmail)
	second := signUp(t, s, other.ID, otherSess.ID, "Erase-Me-7F3A@Example.COM")
	bystander := signUp(t, s, p.ID, sess.ID, "bystander@example.com")

	erasedAt := testNow.Add(time.Hour)
	clock.Set(erasedAt)
	res, err := s.EraseByToken(ctx, first.Token)
	if err != nil || res.Registrations != 2 {
		t.Fatalf("erase by token = %+v, %v; want both registrations", res, err)
	}
	assertErased(t, s, first.Registration.ID, erasedAt, RegistrationCancelled)
	assertErased(t, s, second.Registration.ID, erasedAt, RegistrationCancelled)
	if reg, err := s.RegistrationByID(ctx, bystander.Registration.ID); err != nil || reg.Email != "bystander@example.com" || reg.ErasedAt != nil {
		t.Fatalf("the bystander = %+v, %v; want untouched", reg, err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	for _, token := range []string{first.Token, second.Token, "short"} {
		if res, err := s.EraseByToken(ctx, token); !errors.Is(err, ErrNotFound) || res != nil {
			t.Errorf("erase by token %q = %+v, %v; want ErrNotFound", token, res, err)
		}
	}
	// The address is free to sign up again, as someone new.
	again := signUp(t, s, p.ID, sess.ID, erasedEmail)
	if again.Duplicate || again.Registration.ID == first.Registration.ID || again.Registration.Status != RegistrationConfirmed {
		t.Fatalf("signing up again = %+v; want a new confirmed registration", again)
	}
}

func TestEraseExpired_ErasesAPanelsRegistrantsOnceItsRetentionRunsOut(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	if s.RetentionDays() != DefaultRetentionDays || DefaultRetentionDays != 365 {
		t.Fatalf("the site's retention = %d; want the default 365", s.RetentionDays())
	}
	days := 30
	short := &Panel{Title: "Kept a month", Status: PanelPublished, RetentionDays: &days, Sessions: []Session{
		{StartsAt: testNow.AddDate(0, 0, 3), DurationMinutes: 90, TimeZone: "UTC", Venue: "Hall"},
		{StartsAt: testNow.AddDate(0, 0, 1), DurationMinutes: 60, TimeZone: "UTC", Venue: "Hall"},
	}}
	long := &Panel{Title: "Kept a year", Status: PanelPublished, Sessions: []Session{
		{StartsAt: testNow.AddDate(0, 0, 2), DurationMinutes: 60, TimeZone: "UTC", Venue: "Hall"}}}
	draft := &Panel{Title: "No sessions yet", Status: PanelDraft}
	for _, p := range []*Panel{short, long, draft} {
		if err := s.CreatePanel(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	shortA := signUp(t, s, short.ID, short.Sessions[0].ID, "a@example.com")
	shortB := signUp(t, s, short.ID, short.Sessions[1].ID, "b@example.com")
	longC := signUp(t, s, long.ID, long.Sessions[0].ID, "c@example.com")

	shortEnds := testNow.AddDate(0, 0, 3).Add(90 * time.Minute)
	longEnds := testNow.AddDate(0, 0, 2).Add(time.Hour)
	shortErase, longErase := shortEnds.AddDate(0, 0, 30), longEnds.AddDate(0, 0, 365)
	plans, err := s.RetentionPlans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 {
		t.Fatalf("plans = %+v; want the two panels with sessions", plans)
	}
	for i, want := range []struct {
		panel     *Panel
		ends      time.Time
		days      int
		panelDays *int
		eraseAt   time.Time
		n         int
	}{{short, shortEnds, 30, &days, shortErase, 2}, {long, longEnds, 365, nil, longErase, 1}} {
		got := plans[i]
		if got.PanelID != want.panel.ID || got.PanelTitle != want.panel.Title || !got.LastEnds.Equal(want.ends) ||
			got.Days != want.days || (got.PanelDays == nil) != (want.panelDays == nil) ||
			(got.PanelDays != nil && *got.PanelDays != *want.panelDays) || !got.EraseAt.Equal(want.eraseAt) ||
			got.Registrants != want.n {
			t.Fatalf("plan %d = %+v; want panel %d ending %s, %d days, erased at %s, %d registrants",
				i, got, want.panel.ID, at(want.ends), want.days, at(want.eraseAt), want.n)
		}
	}
	expiries := func() []AuditEntry {
		t.Helper()
		entries, err := s.AuditLog(ctx, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var out []AuditEntry
		for _, e := range entries {
			if e.Action == AuditRegistrantsExpired {
				out = append(out, e)
			}
		}
		return out
	}

	clock.Set(shortErase.Add(-time.Second))
	if erased, err := s.EraseExpired(ctx); err != nil || len(erased) != 0 {
		t.Fatalf("a second early: erased %v, %v; want nothing", erased, err)
	}
	for _, r := range []*RegisterResult{shortA, shortB, longC} {
		if reg, err := s.RegistrationByID(ctx, r.Registration.ID); err != nil || reg.ErasedAt != nil || reg.Email == "" {
			t.Fatalf("a second early: registration %d = %+v, %v; want it kept", r.Registration.ID, reg, err)
		}
	}
	if got := expiries(); len(got) != 0 {
		t.Fatalf("a second early: audit %+v; want nothing", got)
	}

	now := shortErase.Add(time.Second)
	clock.Set(now)
	erased, err := s.EraseExpired(ctx)
	if err != nil || len(erased) != 1 || erased[short.ID] != 2 {
		t.Fatalf("a second late: erased %v, %v; want the short panel's 2", erased, err)
	}
	for _, r := range []*RegisterResult{shortA, shortB} {
		reg := assertErased(t, s, r.Registration.ID, now, RegistrationConfirmed)
		if reg.Attendance != AttendanceUnknown {
			t.Errorf("registration %d's attendance became %s", reg.ID, reg.Attendance)
		}
	}
	if reg, err := s.RegistrationByID(ctx, longC.Registration.ID); err != nil || reg.ErasedAt != nil || reg.Email != "c@example.com" {
		t.Fatalf("the panel not yet due: %+v, %v; want its registrant kept", reg, err)
	}
	audit := expiries()
	if len(audit) != 1 || audit[0].Channel != ChannelSystem || audit[0].RowCount != 2 || audit[0].Actor != "retention" ||
		!strings.Contains(audit[0].Subject, short.Title) || !audit[0].CreatedAt.Equal(now) || audit[0].AccountID != nil {
		t.Fatalf("audit = %+v; want one system entry for the short panel's 2 registrants at %s", audit, at(now))
	}
	if plans, err := s.RetentionPlans(ctx); err != nil || plans[0].PanelID != short.ID || plans[0].Registrants != 0 || plans[1].Registrants != 1 {
		t.Fatalf("plans after = %+v, %v; want none left on the short panel, 1 on the other", plans, err)
	}

	// Nothing left to erase: no erasure, no audit line.
	clock.Set(now.Add(time.Hour))
	if erased, err := s.EraseExpired(ctx); err != nil || len(erased) != 0 {
		t.Fatalf("again: erased %v, %v; want nothing", erased, err)
	}
	if got := expiries(); len(got) != 1 {
		t.Fatalf("again: %d audit entries; want still 1", len(got))
	}
	clock.Set(longErase)
	if erased, err := s.EraseExpired(ctx); err != nil || erased[long.ID] != 1 || len(erased) != 1 {
		t.Fatalf("at the long panel's time: erased %v, %v; want its 1", erased, err)
	}
}

func TestPanelRetentionDays_BoundedToTenYears(t *testing.T) {
	s, _ := newTestStore(t)
	for _, days := range []int{0, -1, maxRetentionDays + 1} {
		p := &Panel{Title: "Retention", Status: PanelDraft, RetentionDays: &days}
		var verr *ValidationError
		if err := s.CreatePanel(context.Background(), p); !errors.As(err, &verr) || verr.Fields["retention_days"] == "" {
			t.Errorf("retention of %d days = %v; want a message for retention_days", days, err)
		}
	}
	for _, tc := range []struct{ n, want int }{{0, DefaultRetentionDays}, {-5, DefaultRetentionDays}, {90, 90},
		{maxRetentionDays + 100, maxRetentionDays}} {
		st := &Store{retentionDays: DefaultRetentionDays}
		WithRetentionDays(tc.n)(st)
		if st.RetentionDays() != tc.want {
			t.Errorf("WithRetentionDays(%d) = %d; want %d", tc.n, st.RetentionDays(), tc.want)
		}
	}
}
