package models

import (
	"podium/models/pgtest"

	"context"
	"testing"
	"time"
)

// A database made by the first schema (Podium's first release) moves forward
// at start without losing a row, and works afterwards.
func TestMigrate_DatabaseFromFirstSchemaMovesForwardWithoutLoss(t *testing.T) {
	ctx := context.Background()
	path := testDSN(t)
	old, err := Connect(path, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.migrateTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fixture := []string{
		`INSERT INTO panels (id, slug, title, status, created_at, updated_at)
		 VALUES (1, 'old-panel', 'Old panel', 'published', '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`,
		`INSERT INTO speakers (panel_id, position, name) VALUES (1, 1, 'Ada')`,
		`INSERT INTO learning_points (panel_id, position, text) VALUES (1, 1, 'A point')`,
		`INSERT INTO sessions (id, panel_id, starts_at, duration_minutes, time_zone, capacity, seats_taken, waitlist,
		 join_url, created_at, updated_at)
		 VALUES (1, 1, '2026-12-01 15:00:00+00:00', 60, 'Europe/London', 10, 1, TRUE, 'https://meet.example.com/x',
		 '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')`,
		`INSERT INTO registrations (id, session_id, name, email, email_key, consent_at, status, created_at, updated_at)
		 VALUES (1, 1, 'Grace', 'Grace@example.com', 'grace@example.com', '2026-01-02 00:00:00+00:00', 'confirmed',
		 '2026-01-02 00:00:00+00:00', '2026-01-02 00:00:00+00:00')`,
		`INSERT INTO manage_tokens (token_hash, registration_id, created_at)
		 VALUES ('` + hashToken("old-token-000000000000000000000000000000000") + `', 1, '2026-01-02 00:00:00+00:00')`,
	}
	if pgtest.Postgres() {
		// Rows with ids of their own leave the identity sequences behind.
		for _, table := range []string{"panels", "sessions", "registrations"} {
			fixture = append(fixture, "SELECT setval(pg_get_serial_sequence('"+table+"', 'id'), (SELECT MAX(id) FROM "+table+"))")
		}
	}
	for _, q := range fixture {
		if err := old.write.Exec(q).Error; err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	if v, _ := old.SchemaVersion(ctx); v != 1 {
		t.Fatalf("fixture schema version = %d; want 1", v)
	}
	_ = old.Close()

	s, err := Open(ctx, path, WithClock(func() time.Time { return testNow }))
	if err != nil {
		t.Fatalf("migrate forward: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != LatestSchemaVersion() || v < 2 {
		t.Fatalf("schema version = %d; want %d", v, LatestSchemaVersion())
	}
	p, err := s.PublishedPanel(ctx, "old-panel")
	if err != nil || len(p.Speakers) != 1 || len(p.LearningPoints) != 1 || len(p.Sessions) != 1 {
		t.Fatalf("panel after migration = %+v, %v", p, err)
	}
	if len(p.ReminderMinutes) != 2 || p.ReminderMinutes[0] != 1440 {
		t.Fatalf("reminders = %v; want the default day and hour", p.ReminderMinutes)
	}
	reg, err := s.RegistrationByToken(ctx, "old-token-000000000000000000000000000000000")
	if err != nil || reg.Email != "Grace@example.com" || reg.Session.SeatsTaken != 1 {
		t.Fatalf("registration after migration = %+v, %v", reg, err)
	}
	res, err := s.Register(ctx, p.ID, validInput(1, "new@example.com"))
	if err != nil || res.Registration.Status != RegistrationConfirmed {
		t.Fatalf("register after migration = %+v, %v", res, err)
	}
	assertSeatsTaken(t, s, 1, 2)
}

func TestMigrate_RefusesDatabaseFromNewerPodium(t *testing.T) {
	path := testDSN(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', ?)", testNow).Error; err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("opened a database from a newer Podium")
	}
}
