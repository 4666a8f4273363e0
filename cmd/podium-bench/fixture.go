package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/mattn/go-sqlite3" // the driver Podium uses, for bulk fixtures

	"podium/models"
)

// prepare adds every phase's panels, the seeded registrations and an API
// token before the servers start, so no fixture write competes with a
// measurement or hides behind a page a server has cached.
func (b *bench) prepare(ctx context.Context) error {
	if err := b.addFixtures(ctx); err != nil {
		return err
	}
	if models.IsPostgresURL(b.dsn) {
		return analyze(ctx, b.dsn)
	}
	return nil
}

func (b *bench) addFixtures(ctx context.Context) error {
	var err error
	if _, err = addPanel(ctx, b.store, "bench-landing", false, 0); err != nil {
		return err
	}
	if b.register, err = addPanel(ctx, b.store, "bench-register", false, models.MaxCapacity); err != nil {
		return err
	}
	if err = seedRegistrations(ctx, b.dsn, b.register.Sessions[0].ID, b.o.seeded); err != nil {
		return err
	}
	if b.race, err = addPanel(ctx, b.store, "bench-race", true, b.o.raceSeats); err != nil {
		return err
	}
	if b.fanout, err = addPanel(ctx, b.store, "bench-fanout", false, 0); err != nil {
		return err
	}
	if err = seedRegistrations(ctx, b.dsn, b.fanout.Sessions[0].ID, b.o.fanout); err != nil {
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
		FollowUps:      models.DefaultFollowUps,
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
func seedRegistrations(ctx context.Context, dsn string, sessionID int64, n int) error {
	if models.IsPostgresURL(dsn) {
		return seedPostgres(ctx, dsn, sessionID, n)
	}
	return seedSQLite(ctx, dsn, sessionID, n)
}

func seedSQLite(ctx context.Context, path string, sessionID int64, n int) error {
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

// seedPostgres is seedSQLite's insert as one statement that PostgreSQL
// generates the rows for, in one transaction with the seat counter: about
// a second for 50,000, where a statement a row would take a round trip each.
// The columns are those of migrations/postgres (registrations, sessions).
func seedPostgres(ctx context.Context, dsn string, sessionID int64, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("seed registrations: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	now := time.Now().UTC().Add(-time.Hour)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO registrations
			(session_id, name, email, email_key, consent_at, status, created_at, updated_at)
			SELECT $1, 'Seeded Registrant', e, e, $2, 'confirmed', $2, $2
			FROM (SELECT $3::text || g::text || '@example.com' AS e FROM generate_series(0, $4::int - 1) AS g) AS seeds`,
			sessionID, now, fmt.Sprintf("seed-%d-", sessionID), n)
		if err != nil {
			return fmt.Errorf("seed registrations: %w", err)
		}
		_, err = tx.Exec(ctx, "UPDATE sessions SET seats_taken = seats_taken + $1 WHERE id = $2", n, sessionID)
		return err
	})
}

// analyze gathers the planner's statistics after the bulk load, as
// autovacuum would within a minute or so in production: without them the
// first minute's plans treat the 100,000-row registrations table as empty.
func analyze(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "ANALYZE")
	return err
}

// checkEmpty refuses a PostgreSQL database that holds any table, sequence
// or view outside the system schemas: the bench fills the database it is
// given and measures from a known start, and never wipes one.
func checkEmpty(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("--db %s: cannot connect: %s", models.RedactDSN(dsn), redact(err.Error(), dsn))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT n.nspname || '.' || c.relname
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
		ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("--db: list the database's tables: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("--db: list the database's tables: %w", err)
	}
	if len(names) > 0 {
		shown := names[:min(len(names), 5)]
		return fmt.Errorf("--db %s is not empty (%d tables, sequences or views, such as %s): the bench fills "+
			"the database it is given and never wipes one; give it a new one (createdb)",
			models.RedactDSN(dsn), len(names), strings.Join(shown, ", "))
	}
	return nil
}

// describePostgres names the server's version and the settings that move
// its figures most.
func describePostgres(ctx context.Context, dsn string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("--db: cannot connect: %s", redact(err.Error(), dsn))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var version, fsync, syncCommit, maxConns string
	err = conn.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('fsync'),
		current_setting('synchronous_commit'), current_setting('max_connections')`).Scan(&version, &fsync, &syncCommit, &maxConns)
	if err != nil {
		return "", fmt.Errorf("--db: read the server's settings: %w", err)
	}
	return fmt.Sprintf("PostgreSQL %s (fsync %s, synchronous_commit %s, max_connections %s)",
		strings.Fields(version)[0], fsync, syncCommit, maxConns), nil
}

// redact removes the URL, which may hold a password, from a driver's message.
func redact(msg, dsn string) string {
	return strings.ReplaceAll(msg, dsn, models.RedactDSN(dsn))
}
