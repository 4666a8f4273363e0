package models

import (
	"podium/models/pgtest"

	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// gatingFixture is a database at version 10 (before gating) holding one row
// of every table that refers to registrations, written as raw SQL both
// databases read.
var gatingFixture = []string{
	`INSERT INTO panels (id, slug, title, status, created_at, updated_at)
	 VALUES (1, 'old-panel', 'Old panel', 'published', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`,
	`INSERT INTO sessions (id, panel_id, starts_at, duration_minutes, time_zone, capacity, seats_taken, waitlist,
	 join_url, created_at, updated_at)
	 VALUES (1, 1, '2026-12-01 15:00:00+00:00', 60, 'Europe/London', 1, 1, TRUE, 'https://meet.example.com/x',
	 '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`,
	`INSERT INTO registrations (id, session_id, name, email, email_key, organisation, job_title, consent_at, status,
	 source, utm_medium, utm_campaign, referrer, created_at, updated_at, attendance, attendance_source)
	 VALUES (1, 1, 'Grace', 'Grace@example.com', 'grace@example.com', 'Navy', 'Rear Admiral', '2026-01-02 00:00:00+00:00',
	 'confirmed', 'newsletter', 'email', 'spring', 'https://ref.example.com/', '2026-01-02 00:00:00+00:00',
	 '2026-01-02 00:00:00+00:00', 'attended', 'manual')`,
	`INSERT INTO registrations (id, session_id, name, email, email_key, consent_at, status, created_at, updated_at)
	 VALUES (2, 1, 'Ada', 'ada@example.com', 'ada@example.com', '2026-01-03 00:00:00+00:00', 'waitlisted',
	 '2026-01-03 00:00:00+00:00', '2026-01-03 00:00:00+00:00')`,
	`INSERT INTO questions (id, panel_id, position, kind, label) VALUES (1, 1, 1, 'short_text', 'Your role')`,
	`INSERT INTO answers (registration_id, question_id, value) VALUES (1, 1, 'Engineer')`,
	`INSERT INTO manage_tokens (token_hash, registration_id, created_at)
	 VALUES ('` + hashToken(gatingFixtureToken) + `', 1, '2026-01-02 00:00:00+00:00')`,
	`INSERT INTO registration_links (token_hash, registration_id, purpose, created_at)
	 VALUES ('old-join-link', 1, 'join', '2026-01-02 00:00:00+00:00')`,
	`INSERT INTO consent_texts (id, purpose, text, created_at)
	 VALUES (1, 'registration', 'An old wording', '2026-01-01 00:00:00+00:00')`,
	`INSERT INTO consents (id, registration_id, purpose, consent_text_id, given, channel, created_at)
	 VALUES (1, 1, 'registration', 1, TRUE, 'form', '2026-01-02 00:00:00+00:00')`,
	`INSERT INTO outbox_messages (id, kind, registration_id, calendar_method, status, attempts, next_attempt_at,
	 created_at, sent_at)
	 VALUES (1, 'confirmation', 1, 'REQUEST', 'sent', 1, '2026-01-02 00:00:00+00:00', '2026-01-02 00:00:00+00:00',
	 '2026-01-02 00:01:00+00:00')`,
	`INSERT INTO webhook_events (id, type, body, registration_id, created_at)
	 VALUES (1, 'registration.created', '{"type":"registration.created"}', 1, '2026-01-02 00:00:00+00:00')`,
	`INSERT INTO zoom_intervals (registration_id, joined_at, left_at)
	 VALUES (1, '2026-12-01 15:00:00+00:00', '2026-12-01 15:40:00+00:00')`,
}

const gatingFixtureToken = "old-token-000000000000000000000000000000000"

// gatingFixtureTables are the fixture's tables, each holding one row but
// registrations (two).
var gatingFixtureTables = []string{"panels", "sessions", "registrations", "questions", "answers", "manage_tokens",
	"registration_links", "consents", "outbox_messages", "webhook_events", "zoom_intervals"}

// openAtVersion10 stores gatingFixture in a database migrated to version
// 10, and returns its DSN.
func openAtVersion10(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dsn := testDSN(t)
	old, err := Connect(dsn, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	if err := old.migrateTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	fixture := gatingFixture
	if pgtest.Postgres() {
		// Rows with ids of their own leave the identity sequences behind.
		for _, table := range []string{"panels", "sessions", "registrations", "questions", "consent_texts", "consents",
			"outbox_messages", "webhook_events"} {
			fixture = append(fixture, "SELECT setval(pg_get_serial_sequence('"+table+"', 'id'), (SELECT MAX(id) FROM "+table+"))")
		}
	}
	for _, q := range fixture {
		if err := old.write.Exec(q).Error; err != nil {
			t.Fatalf("fixture: %v\n%s", err, q)
		}
	}
	if v, _ := old.SchemaVersion(ctx); v != 10 {
		t.Fatalf("fixture schema version = %d; want 10", v)
	}
	return dsn
}

// assertCheckRefuses fails unless err is a CHECK constraint's refusal.
func assertCheckRefuses(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "check") {
		t.Fatalf("%s = %v; want a CHECK constraint failure", what, err)
	}
}

func TestMigrate_GatingKeepsRegistrationsAndWhatRefersToThem(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, openAtVersion10(t), WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatalf("migrate forward: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != LatestSchemaVersion() || v < 11 {
		t.Fatalf("schema version = %d; want %d", v, LatestSchemaVersion())
	}

	for _, table := range gatingFixtureTables {
		want := int64(1)
		if table == "registrations" {
			want = 2
		}
		if n := countWebhookRows(t, s, table, "1 = 1"); n != want {
			t.Errorf("%s: %d rows after the migration; want %d", table, n, want)
		}
	}
	if n := countWebhookRows(t, s, "consent_texts", "id = 1 AND text = ?", "An old wording"); n != 1 {
		t.Errorf("the old consent wording is gone (%d rows)", n)
	}
	if n := countWebhookRows(t, s, "outbox_messages", "id = 1 AND kind = 'confirmation' AND status = 'sent' AND registration_id = 1"); n != 1 {
		t.Errorf("the sent confirmation changed (%d rows as stored)", n)
	}
	if t.Failed() {
		t.FailNow()
	}

	grace, err := s.RegistrationByToken(ctx, gatingFixtureToken)
	if err != nil {
		t.Fatalf("registration by its old manage token: %v", err)
	}
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	if grace.ID != 1 || grace.Name != "Grace" || grace.Email != "Grace@example.com" || grace.EmailKey != "grace@example.com" ||
		grace.Organisation != "Navy" || grace.JobTitle != "Rear Admiral" || grace.Status != RegistrationConfirmed ||
		grace.Source != "newsletter" || grace.Medium != "email" || grace.Campaign != "spring" ||
		grace.Referrer != "https://ref.example.com/" || grace.Attendance != AttendanceAttended ||
		!grace.ConsentAt.Equal(day(2)) || !grace.CreatedAt.Equal(day(2)) || grace.CancelledAt != nil {
		t.Fatalf("grace after the migration = %+v", grace)
	}
	if grace.ConfirmBy != nil || grace.EmailConfirmedAt != nil || grace.DecidedAt != nil {
		t.Fatalf("gating columns of an old registration = %v, %v, %v; want all NULL", grace.ConfirmBy, grace.EmailConfirmedAt, grace.DecidedAt)
	}
	if grace.Session.SeatsTaken != 1 || grace.Session.Panel == nil || grace.Session.Panel.Gating.Gated() ||
		len(grace.Session.Panel.BlockedEmailDomains)+len(grace.Session.Panel.AllowedEmailDomains) != 0 {
		t.Fatalf("session and panel after the migration = %+v / %+v", grace.Session, grace.Session.Panel)
	}
	ada := assertStored(t, s, "ada", 2, RegistrationWaitlisted)
	if ada.Email != "ada@example.com" || !ada.CreatedAt.Equal(day(3)) || ada.ConfirmBy != nil {
		t.Fatalf("ada after the migration = %+v", ada)
	}

	// The partial unique index came back: the same address is a duplicate.
	again, err := s.Register(ctx, 1, validInput(1, "GRACE@example.com"))
	if err != nil || !again.Duplicate || again.Registration.ID != 1 {
		t.Fatalf("register grace again = %+v, %v; want a duplicate of 1", again, err)
	}
	err = s.write.Exec(`INSERT INTO registrations (session_id, name, email, email_key, consent_at, status, created_at, updated_at)
		VALUES (1, 'Grace', 'grace@example.com', 'grace@example.com', ?, 'waitlisted', ?, ?)`, testNow, testNow, testNow).Error
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "unique") {
		t.Fatalf("a second active registration of the address = %v; want a unique index failure", err)
	}

	// The new statuses and emails are taken, others still refused.
	if err := s.write.Exec("UPDATE registrations SET status = 'pending' WHERE id = 2").Error; err != nil {
		t.Fatalf("status pending: %v", err)
	}
	if err := s.write.Exec("UPDATE registrations SET status = 'declined' WHERE id = 2").Error; err != nil {
		t.Fatalf("status declined: %v", err)
	}
	assertCheckRefuses(t, "status bogus", s.write.Exec("UPDATE registrations SET status = 'bogus' WHERE id = 2").Error)
	assertStored(t, s, "ada", 2, RegistrationDeclined)
	for _, kind := range []OutboxKind{KindConfirmEmail, KindPending, KindDeclined} {
		if err := enqueue(s.write, testNow, OutboxMessage{RegistrationID: 2, Kind: kind}); err != nil {
			t.Fatalf("queue %s: %v", kind, err)
		}
	}
	assertCheckRefuses(t, "kind bogus", enqueue(s.write, testNow, OutboxMessage{RegistrationID: 2, Kind: "bogus"}))

	// Foreign keys still point at registrations, and still cascade.
	if err := s.write.Exec("DELETE FROM sessions WHERE id = 1").Error; err != nil {
		t.Fatalf("delete the session: %v", err)
	}
	for _, table := range gatingFixtureTables[2:] {
		if table == "webhook_events" || table == "questions" {
			continue
		}
		if n := countWebhookRows(t, s, table, "1 = 1"); n != 0 {
			t.Errorf("%s: %d rows after deleting the session; want none", table, n)
		}
	}
	if n := countWebhookRows(t, s, "webhook_events", "id = 1 AND registration_id IS NULL"); n != 1 {
		t.Errorf("the webhook event was not kept with its registration_id set NULL (%d rows)", n)
	}
	if n := countWebhookRows(t, s, "questions", "1 = 1"); n != 1 {
		t.Errorf("questions: %d rows; want the panel's one kept", n)
	}
}

// A fresh sign-up on a migrated database goes through gating once the
// organizer turns it on: the new columns are written and read.
func TestMigrate_GatingWorksOnAnUpgradedDatabase(t *testing.T) {
	ctx := context.Background()
	clock := &testClock{now: testNow}
	s, err := Open(ctx, openAtVersion10(t), WithClock(clock.Now))
	if err != nil {
		t.Fatalf("migrate forward: %v", err)
	}
	defer s.Close()
	if _, err := s.EditPanel(ctx, 1, func(p *Panel) {
		p.Gating = Gating{RequireEmailConfirmation: true, RequireApproval: true, BlockedEmailDomains: Lines{"gmail.com"}}
	}); err != nil {
		t.Fatal(err)
	}
	var verr *ValidationError
	if _, err := s.Register(ctx, 1, validInput(1, "x@gmail.com")); !errors.As(err, &verr) || verr.Fields["email"] == "" {
		t.Fatalf("register a blocked address = %v; want refused", err)
	}
	res, err := s.Register(ctx, 1, validInput(1, "new@example.com"))
	if err != nil || res.Registration.Status != RegistrationPending || !res.Registration.Unconfirmed() {
		t.Fatalf("register after the migration = %+v, %v; want pending and unconfirmed", res, err)
	}
	if res.Registration.ID <= 2 {
		t.Fatalf("new registration id = %d; want one after the old rows", res.Registration.ID)
	}
	confirmEmail(t, s, "new", res.Token)
	if _, err := s.Decline(ctx, res.Registration.ID); err != nil {
		t.Fatal(err)
	}
	assertKinds(t, s, "new", res.Registration.ID, KindConfirmEmail, KindPending, KindDeclined)
	assertSeatsTaken(t, s, 1, 1)
}
