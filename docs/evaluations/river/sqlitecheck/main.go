// Command sqlitecheck tries River inside Podium-shaped transactions: on SQLite
// with Podium's single write connection (mattn/go-sqlite3, BEGIN IMMEDIATE,
// WAL, synchronous=FULL) and, through gorm, on both databases.
//
//	sqlitecheck func                 functional check on SQLite (gorm tx, rollback, unique, exactly-once)
//	sqlitecheck pggorm               the same enqueue through gorm on PostgreSQL (riverdatabasesql)
//	sqlitecheck enqueue -mode M -n N sign-ups on the single writer; M = none|outbox|river|riveruniq|outboxrun|riverrun
//	sqlitecheck idle -secs S         rows an idle River client writes through the single writer
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/mattn/go-sqlite3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

var pgDSN = func() string {
	if v := os.Getenv("BENCH_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:54329/bench?sslmode=disable"
}()

type MailArgs struct {
	MailKind        string `json:"kind" river:"unique"`
	RegistrationID  int64  `json:"registration_id" river:"unique"`
	ReminderMinutes int    `json:"reminder_minutes" river:"unique"`
}

func (MailArgs) Kind() string { return "mail" }

type MailWorker struct {
	river.WorkerDefaults[MailArgs]
	mu   sync.Mutex
	runs map[int64]int
}

func (w *MailWorker) Work(ctx context.Context, job *river.Job[MailArgs]) error {
	w.mu.Lock()
	w.runs[job.ID]++
	w.mu.Unlock()
	return nil
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// sqliteDSN is Podium's (models/store.go).
func sqliteDSN(path string, writer bool) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	q.Set("_stmt_cache_size", "64")
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Set("_query_only", "true")
	}
	return "file:" + path + "?" + q.Encode()
}

const sqliteSchema = `
CREATE TABLE sessions (id INTEGER PRIMARY KEY, seats_taken INTEGER NOT NULL DEFAULT 0, updated_at DATETIME);
CREATE TABLE registrations (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id),
  email TEXT NOT NULL, status TEXT NOT NULL, created_at DATETIME NOT NULL);
CREATE TABLE outbox_messages (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, registration_id INTEGER NOT NULL REFERENCES registrations(id),
  manage_token TEXT NOT NULL DEFAULT '', calendar_method TEXT NOT NULL DEFAULT '', sequence INTEGER NOT NULL DEFAULT 0,
  reminder_minutes INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL, lease_until DATETIME, last_error TEXT NOT NULL DEFAULT '', created_at DATETIME NOT NULL, sent_at DATETIME);
CREATE INDEX outbox_due ON outbox_messages (status, next_attempt_at, id);
CREATE INDEX outbox_registration ON outbox_messages (registration_id, id);
CREATE UNIQUE INDEX outbox_reminder_once ON outbox_messages (registration_id, reminder_minutes) WHERE kind = 'reminder';
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 100) INSERT INTO sessions (id) SELECT n FROM g;
`

type sqliteDB struct {
	dir           string
	writer, reads *sql.DB
}

func openSQLite(ctx context.Context) *sqliteDB {
	dir, err := os.MkdirTemp("", "sqlite-")
	must(err)
	path := filepath.Join(dir, "podium.db")
	w, err := sql.Open("sqlite3", sqliteDSN(path, true))
	must(err)
	w.SetMaxOpenConns(1) // Podium's single write connection
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	_, err = w.ExecContext(ctx, sqliteSchema)
	must(err)
	m, err := rivermigrate.New(riversqlite.New(w), nil)
	must(err)
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	must(err)
	r, err := sql.Open("sqlite3", sqliteDSN(path, false))
	must(err)
	r.SetMaxOpenConns(8)
	return &sqliteDB{dir: dir, writer: w, reads: r}
}

func (d *sqliteDB) close() {
	d.reads.Close()
	d.writer.Close()
	os.RemoveAll(d.dir)
}

func newWorkers() (*river.Workers, *MailWorker) {
	mw := &MailWorker{runs: map[int64]int{}}
	ws := river.NewWorkers()
	river.AddWorker(ws, mw)
	return ws, mw
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sqlitecheck func|pggorm|enqueue|idle")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	mode := fs.String("mode", "outbox", "")
	n := fs.Int("n", 5000, "")
	c := fs.Int("c", 16, "")
	secs := fs.Int("secs", 30, "")
	must(fs.Parse(os.Args[2:]))
	ctx := context.Background()
	switch os.Args[1] {
	case "func":
		funcCheck(ctx)
	case "pggorm":
		pgGorm(ctx)
	case "enqueue":
		enqueue(ctx, *mode, *n, *c)
	case "idle":
		idle(ctx, *secs)
	}
}

var errRollback = errors.New("deliberate rollback")

// funcCheck: River's SQLite driver on Podium's single writer, enqueue inside a
// gorm transaction on that writer, with a River client working the queue on
// the same one-connection pool.
func funcCheck(ctx context.Context) {
	db := openSQLite(ctx)
	defer db.close()
	fmt.Println("riversqlite migrations: ok on mattn/go-sqlite3 with Podium's writer DSN")
	gdb, err := gorm.Open(sqlite.New(sqlite.Config{Conn: db.writer}), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	must(err)
	ws, mw := newWorkers()
	client, err := river.NewClient(riversqlite.New(db.writer), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}},
		Workers: ws,
	})
	must(err)
	must(client.Start(ctx))

	const signups = 400
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > signups {
					return
				}
				tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
				err := gdb.WithContext(tctx).Transaction(func(tx *gorm.DB) error {
					if err := tx.Exec(`UPDATE sessions SET seats_taken = seats_taken + 1 WHERE id = ?`, i%100+1).Error; err != nil {
						return err
					}
					if err := tx.Exec(`INSERT INTO registrations (id, session_id, email, status, created_at) VALUES (?, ?, ?, 'confirmed', ?)`,
						i, i%100+1, fmt.Sprintf("p%d@example.com", i), time.Now()).Error; err != nil {
						return err
					}
					sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
					if !ok {
						return fmt.Errorf("gorm tx is %T, not *sql.Tx", tx.Statement.ConnPool)
					}
					if _, err := client.InsertTx(tctx, sqlTx, MailArgs{MailKind: "confirmation", RegistrationID: i}, nil); err != nil {
						return err
					}
					// Reminder, unique per (registration, minutes): a second insert is skipped.
					for range 2 {
						res, err := client.InsertTx(tctx, sqlTx, MailArgs{MailKind: "reminder", RegistrationID: i, ReminderMinutes: 60},
							&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
						if err != nil {
							return err
						}
						_ = res
					}
					if i%10 == 0 {
						return errRollback // every tenth sign-up rolls back: its jobs must vanish
					}
					return nil
				})
				cancel()
				if err != nil && !errors.Is(err, errRollback) {
					must(fmt.Errorf("sign-up %d: %w", i, err))
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("400 gorm sign-up transactions on the single writer with the River client running: ok in %.2fs (no deadlock)\n", time.Since(start).Seconds())
	// A unique duplicate in a later transaction is skipped too.
	must(gdb.Transaction(func(tx *gorm.DB) error {
		res, err := client.InsertTx(ctx, tx.Statement.ConnPool.(*sql.Tx), MailArgs{MailKind: "reminder", RegistrationID: 1, ReminderMinutes: 60},
			&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
		if err == nil {
			fmt.Printf("later duplicate reminder insert: UniqueSkippedAsDuplicate=%v\n", res.UniqueSkippedAsDuplicate)
		}
		return err
	}))
	want := signups - signups/10
	deadline := time.Now().Add(60 * time.Second)
	var completed, total int
	for time.Now().Before(deadline) {
		must(db.reads.QueryRowContext(ctx, `SELECT count(*), sum(state = 'completed') FROM river_job`).Scan(&total, &completed))
		if completed == total && total >= 2*want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	must(client.Stop(ctx))
	var regs int
	must(db.reads.QueryRowContext(ctx, `SELECT count(*) FROM registrations`).Scan(&regs))
	dup := 0
	for _, c := range mw.runs {
		if c > 1 {
			dup++
		}
	}
	fmt.Printf("registrations=%d (want %d) river_job rows=%d completed=%d (want %d: 1 confirmation + 1 unique reminder each) executed_ids=%d run_more_than_once=%d\n",
		regs, want, total, completed, 2*want, len(mw.runs), dup)
}

// pgGorm: the enqueue inside a gorm transaction on PostgreSQL, as Podium's
// store opens it (gorm's postgres driver on pgx stdlib), via riverdatabasesql.
func pgGorm(ctx context.Context) {
	sqlDB, err := sql.Open("pgx", pgDSN)
	must(err)
	defer sqlDB.Close()
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	must(err)
	ws, _ := newWorkers()
	client, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{Workers: ws})
	must(err)
	_, err = sqlDB.ExecContext(ctx, `TRUNCATE river_job`)
	must(err)
	var id int64
	err = gdb.Transaction(func(tx *gorm.DB) error {
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return fmt.Errorf("gorm tx is %T", tx.Statement.ConnPool)
		}
		res, err := client.InsertTx(ctx, sqlTx, MailArgs{MailKind: "confirmation", RegistrationID: 1}, nil)
		if err == nil {
			id = res.Job.ID
		}
		return err
	})
	must(err)
	err = gdb.Transaction(func(tx *gorm.DB) error {
		if _, err := client.InsertTx(ctx, tx.Statement.ConnPool.(*sql.Tx), MailArgs{MailKind: "confirmation", RegistrationID: 2}, nil); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		must(err)
	}
	var n int
	must(sqlDB.QueryRowContext(ctx, `SELECT count(*) FROM river_job`).Scan(&n))
	fmt.Printf("postgres gorm tx + riverdatabasesql InsertTx: committed job id=%d, rolled-back job gone: rows=%d (want 1)\n", id, n)
}

// enqueue times sign-up transactions on Podium's single SQLite writer.
// *run modes also run a worker on the same writer while sign-ups go on.
func enqueue(ctx context.Context, mode string, n, conc int) {
	db := openSQLite(ctx)
	defer db.close()
	ws, _ := newWorkers()
	var client *river.Client[*sql.Tx]
	var err error
	stopWorker := func() {}
	switch mode {
	case "river", "riveruniq":
		client, err = river.NewClient(riversqlite.New(db.writer), &river.Config{Workers: ws})
		must(err)
	case "riverrun":
		client, err = river.NewClient(riversqlite.New(db.writer), &river.Config{
			Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}, Workers: ws})
		must(err)
		must(client.Start(ctx))
		stopWorker = func() { must(client.Stop(ctx)) }
	case "outboxrun":
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); sqliteOutboxWorker(wctx, db.writer) }()
		stopWorker = func() { cancel(); <-done }
	}
	var next atomic.Int64
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				t0 := time.Now()
				tx, err := db.writer.BeginTx(ctx, nil)
				must(err)
				now := time.Now().UTC()
				_, err = tx.ExecContext(ctx, `UPDATE sessions SET seats_taken = seats_taken + 1, updated_at = ? WHERE id = ?`, now, i%100+1)
				must(err)
				res, err := tx.ExecContext(ctx, `INSERT INTO registrations (session_id, email, status, created_at) VALUES (?, ?, 'confirmed', ?)`,
					i%100+1, fmt.Sprintf("p%d@example.com", i), now)
				must(err)
				reg, _ := res.LastInsertId()
				switch mode {
				case "outbox", "outboxrun":
					_, err = tx.ExecContext(ctx, `INSERT INTO outbox_messages (kind, registration_id, manage_token, calendar_method, sequence,
						reminder_minutes, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
						"confirmation", reg, "tok", "REQUEST", 0, 0, "queued", now, now)
				case "river", "riverrun":
					_, err = client.InsertTx(ctx, tx, MailArgs{MailKind: "confirmation", RegistrationID: reg}, nil)
				case "riveruniq":
					_, err = client.InsertTx(ctx, tx, MailArgs{MailKind: "confirmation", RegistrationID: reg},
						&river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
				}
				must(err)
				must(tx.Commit())
				lat[g] = append(lat[g], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopWorker()
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000 }
	var jobs, outbox, doneJobs int
	must(db.reads.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM river_job), (SELECT count(*) FROM outbox_messages),
		(SELECT count(*) FROM river_job WHERE state = 'completed') + (SELECT count(*) FROM outbox_messages WHERE status = 'sent')`).Scan(&jobs, &outbox, &doneJobs))
	fmt.Printf("sqlite enqueue mode=%-9s n=%d c=%d elapsed=%.2fs tps=%.0f p50=%.2fms p99=%.2fms river_job=%d outbox=%d worked_during_run=%d\n",
		mode, n, conc, elapsed.Seconds(), float64(n)/elapsed.Seconds(), q(0.5), q(0.99), jobs, outbox, doneJobs)
}

// sqliteOutboxWorker is a minimal Podium-style worker on the single writer:
// claim up to 25 in one write transaction, "send", mark sent in another.
func sqliteOutboxWorker(ctx context.Context, w *sql.DB) {
	for ctx.Err() == nil {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return
		}
		rows, err := tx.QueryContext(ctx, `SELECT id FROM outbox_messages WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 25`, time.Now().UTC())
		if err != nil {
			tx.Rollback()
			return
		}
		var ids []any
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		if len(ids) == 0 {
			tx.Rollback()
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		in := "?" + string(slices.Repeat([]byte(",?"), len(ids)-1))
		args := append([]any{time.Now().UTC().Add(5 * time.Minute)}, ids...)
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_messages SET status = 'sending', lease_until = ?, attempts = attempts + 1 WHERE id IN (`+in+`)`, args...); err != nil {
			tx.Rollback()
			return
		}
		if tx.Commit() != nil {
			return
		}
		tx, err = w.BeginTx(ctx, nil)
		if err != nil {
			return
		}
		args[0] = time.Now().UTC()
		tx.ExecContext(ctx, `UPDATE outbox_messages SET status = 'sent', sent_at = ?, lease_until = NULL, manage_token = '' WHERE id IN (`+in+`)`, args...)
		tx.Commit()
	}
}

// idle counts the rows an idle, started River client changes through the
// single write connection: total_changes() of that one connection.
func idle(ctx context.Context, secs int) {
	db := openSQLite(ctx)
	defer db.close()
	ws, _ := newWorkers()
	client, err := river.NewClient(riversqlite.New(db.writer), &river.Config{
		Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}, Workers: ws})
	must(err)
	must(client.Start(ctx))
	time.Sleep(5 * time.Second)
	changes := func() (n int64) {
		must(db.writer.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&n))
		return
	}
	st0 := db.writer.Stats()
	c0 := changes()
	time.Sleep(time.Duration(secs) * time.Second)
	c1 := changes()
	st1 := db.writer.Stats()
	must(client.Stop(ctx))
	fmt.Printf("sqlite idle River client (1 queue) on the single writer, %ds: rows changed=%d, waits for the write connection=%d (total wait %.1fms)\n",
		secs, c1-c0, st1.WaitCount-st0.WaitCount, float64((st1.WaitDuration-st0.WaitDuration).Microseconds())/1000)
}
