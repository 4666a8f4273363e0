package main

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver Podium uses, for bulk fixtures

	"podium/models"
)

// prepare adds every phase's panels, the seeded registrations and an API
// token before the server starts, so no fixture write competes with a
// measurement or hides behind a page the server has cached.
func (b *bench) prepare(ctx context.Context, dbPath string) error {
	var err error
	if _, err = addPanel(ctx, b.store, "bench-landing", false, 0); err != nil {
		return err
	}
	if b.register, err = addPanel(ctx, b.store, "bench-register", false, models.MaxCapacity); err != nil {
		return err
	}
	if err = seedRegistrations(ctx, dbPath, b.register.Sessions[0].ID, b.o.seeded); err != nil {
		return err
	}
	if b.race, err = addPanel(ctx, b.store, "bench-race", true, b.o.raceSeats); err != nil {
		return err
	}
	if b.fanout, err = addPanel(ctx, b.store, "bench-fanout", false, 0); err != nil {
		return err
	}
	if err = seedRegistrations(ctx, dbPath, b.fanout.Sessions[0].ID, b.o.fanout); err != nil {
		return err
	}
	capacities := make([]int, 10)
	for i := range b.o.feedSessions / 10 {
		if _, err = addPanel(ctx, b.store, fmt.Sprintf("bench-feed-%d", i), false, capacities...); err != nil {
			return err
		}
	}
	b.token, err = addAPIToken(ctx, b.store)
	return err
}

// addAPIToken creates an owner account and an API token for it.
func addAPIToken(ctx context.Context, store *models.Store) (string, error) {
	acc, err := store.CreateAccount(ctx, models.NewAccount{Email: "owner@podium.example", Name: "Bench Owner",
		Password: "bench-owner-password", Role: models.RoleOwner})
	if err != nil {
		return "", err
	}
	secret, _, err := store.CreateAPIToken(ctx, acc.ID, "podium-bench")
	return secret, err
}

// addPanel creates a published panel with sessions of the given capacities,
// starting a week from now.
func addPanel(ctx context.Context, store *models.Store, slug string, waitlist bool, capacities ...int) (*models.Panel, error) {
	p := &models.Panel{
		Slug: slug, Title: "Bench panel " + slug, Format: "Free virtual panel discussion", Status: models.PanelPublished,
		Summary:        "A panel for the benchmark, with a summary of ordinary length to render.",
		LearningPoints: []models.LearningPoint{{Text: "One"}, {Text: "Two"}, {Text: "Three"}},
		Speakers:       []models.Speaker{{Name: "Ada Lovelace", Role: "Analyst", Organisation: "Engines"}},
	}
	start := time.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Hour)
	for i, c := range capacities {
		p.Sessions = append(p.Sessions, models.Session{
			StartsAt: start.Add(time.Duration(i) * time.Hour), DurationMinutes: 60, TimeZone: "Europe/London",
			Capacity: c, Waitlist: waitlist, JoinURL: "https://meet.example.com/" + slug,
		})
	}
	return p, store.CreatePanel(ctx, p)
}

// seedRegistrations bulk-inserts n confirmed registrations into a session
// through a separate connection, the way an import would, so the fixture
// takes seconds instead of n durable transactions.
func seedRegistrations(ctx context.Context, path string, sessionID int64, n int) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_foreign_keys=on")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO registrations
		(session_id, name, email, email_key, consent_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'confirmed', ?, ?)`)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Add(-time.Hour)
	for i := range n {
		email := fmt.Sprintf("seed-%d-%d@example.com", sessionID, i)
		if _, err := stmt.ExecContext(ctx, sessionID, "Seeded Registrant", email, email, now, now, now); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE sessions SET seats_taken = seats_taken + ? WHERE id = ?", n, sessionID); err != nil {
		return err
	}
	return tx.Commit()
}
