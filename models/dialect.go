package models

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	sqlite3 "github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// dialect is what differs between the two databases Podium runs on. Each
// database's SQL for the operations where they differ lives behind it; the
// rest of the package writes one query for both through GORM, whose own
// dialectors bind ? placeholders for each.
type dialect interface {
	// name is "sqlite" or "postgres", also the folder of its migrations.
	name() string
	// writeSignUp writes a checked sign-up in tx: a seat if one is free,
	// else a waitlist place if the session has a waitlist, else nothing and
	// ErrSessionFull; the registration with its status and id; its manage
	// link and its notice. It reports whether it took a seat, and whether
	// the registration went in: the unique index keeps it out when the
	// address took a place meanwhile, and then nothing but the seat is
	// written.
	writeSignUp(tx *gorm.DB, w signUpWrite) (seat, inserted bool, err error)
	// claimDue picks the ids of up to limit rows of a delivery queue
	// (outbox_messages, webhook_deliveries) to deliver: those whose lease
	// ran out (their sender died), then queued ones due at now, oldest due
	// first. The caller marks them sending in tx.
	claimDue(tx *gorm.DB, queue deliveryQueue, now time.Time, limit int) ([]int64, error)
	// releasesAtStart says whether messages left in "sending" belong to no
	// live process when this one starts: true with SQLite's one process per
	// file, false with several instances on one PostgreSQL, where a dead
	// instance's lease expires instead.
	releasesAtStart() bool
	// exclusive runs fn while no other process runs anything under the
	// same key: with wait it waits its turn, without it fn does not run
	// when the key is held. It reports whether fn ran.
	exclusive(ctx context.Context, db *gorm.DB, key int64, wait bool, fn func() error) (bool, error)
	// signUpLock is the clause that ends a sign-up's read of its session
	// row, holding the row until the sign-up commits: a session changed
	// meanwhile (another instance's reschedule) would otherwise be answered
	// with its old time and be missed by the change's fan-out.
	signUpLock() string
	// signUpNextID is the last column of a sign-up's read of its session:
	// on PostgreSQL the registration's id, reserved from its sequence so
	// that the personal join link (an HMAC of the id) goes into the one
	// write statement; 0 on SQLite, whose insert reports the id.
	signUpNextID() string
	// lockRows takes the row locks of a read-change-write in tx: the rows
	// query (a SELECT with ? placeholders) returns, until tx ends.
	lockRows(tx *gorm.DB, query string, args ...any) error
	// afterErasure removes the copies of erased data the database keeps
	// outside its tables, as far as it can (Store.erase).
	afterErasure(ctx context.Context, s *Store)
	// isUniqueViolation reports whether err is a unique index refusing a row.
	isUniqueViolation(err error) bool
	// listen relays s's announcements to and from other instances until
	// ctx ends (Store.Listen).
	listen(ctx context.Context, s *Store) error
}

// isBusy reports whether err is the database declining for now rather
// than failing: a lock or statement that timed out, a deadlock or
// serialization failure PostgreSQL broke, a connection limit reached, or
// SQLite busy past its timeout. Trying again shortly can succeed, so the
// HTTP layer answers 503, not 500.
func isBusy(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "55P03", "57014", "40001", "40P01", "53300":
			return true
		}
	}
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// IsPostgresURL reports whether dsn names a PostgreSQL database rather than
// a SQLite file.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

type sqliteDialect struct{}

func (sqliteDialect) name() string          { return "sqlite" }
func (sqliteDialect) releasesAtStart() bool { return true }

func (sqliteDialect) writeSignUp(tx *gorm.DB, w signUpWrite) (bool, bool, error) {
	return writeSignUpStepwise(tx, w)
}

// Two queries, each in the order of its index, so SQLite reads only the rows
// it claims: one query for both kinds with ORDER BY id sorted every due
// message instead, 23 ms per claim behind a 50,000-message fan-out, holding
// the write lock that sign-ups wait for.
// A SQLite file is served by one process, which migrates once at start and
// runs one jobs loop: nothing else can hold the key.
func (sqliteDialect) exclusive(_ context.Context, _ *gorm.DB, _ int64, _ bool, fn func() error) (bool, error) {
	return true, fn()
}

// SQLite's one writer holds the whole database for the transaction already:
// there are no rows to lock.
func (sqliteDialect) signUpLock() string                      { return "" }
func (sqliteDialect) signUpNextID() string                    { return "0" }
func (sqliteDialect) lockRows(*gorm.DB, string, ...any) error { return nil }

// afterErasure empties the write-ahead log into the database file, where
// secure_delete (sqliteDSN) has zeroed what the erasure overwrote, and
// truncates it: the log would otherwise keep the old pages until its next
// checkpoint. A reader holding an old snapshot can keep the checkpoint from
// finishing; the next erasure or checkpoint completes it.
func (sqliteDialect) afterErasure(ctx context.Context, s *Store) {
	if err := s.write.WithContext(ctx).Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		s.log.Warn("could not checkpoint the database after an erasure", "err", err)
	}
}

// One process serves a SQLite file: there is nobody to tell.
func (sqliteDialect) listen(context.Context, *Store) error { return nil }

func (sqliteDialect) claimDue(tx *gorm.DB, queue deliveryQueue, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := tx.Table(string(queue)).Where("status = ? AND lease_until < ?", OutboxSending, now).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	if err != nil || len(ids) >= limit {
		return ids, err
	}
	var due []int64
	err = dueRows(tx, queue, now, limit-len(ids), &due).Error
	return append(ids, due...), err
}

// deliveryQueue is a table of deliveries with the columns status ('queued',
// 'sending', …), next_attempt_at and lease_until.
type deliveryQueue string

// Podium's delivery queues.
const (
	mailQueue    deliveryQueue = "outbox_messages"
	webhookQueue deliveryQueue = "webhook_deliveries"
)

// dueRows plucks the ids of up to limit queued rows due at now.
func dueRows(tx *gorm.DB, queue deliveryQueue, now time.Time, limit int, ids *[]int64) *gorm.DB {
	return tx.Table(string(queue)).Where("status = ? AND next_attempt_at <= ?", OutboxQueued, now).
		Order("next_attempt_at, id").Limit(limit).Pluck("id", ids)
}

func (sqliteDialect) isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

type postgresDialect struct{}

func (postgresDialect) name() string          { return "postgres" }
func (postgresDialect) releasesAtStart() bool { return false }

// rebound caches each statement's $n form (see rebind): the statements that
// bypass GORM are few and fixed.
var rebound sync.Map

// rebind turns a statement written with ? placeholders into PostgreSQL's $n
// ones, for the statements that bypass GORM's binding (execSQL). No such
// statement has a ? inside a string literal.
func rebind(query string) string {
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	rebound.Store(query, b.String())
	return b.String()
}

// exclusive holds a session advisory lock on one connection of its own
// while fn runs, waiting for it (pg_advisory_lock) or only taking it if free
// (pg_try_advisory_lock).
func (postgresDialect) exclusive(ctx context.Context, db *gorm.DB, key int64, wait bool, fn func() error) (bool, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	got := true
	if wait {
		_, err = conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key)
	} else {
		err = conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got)
	}
	if err != nil || !got {
		return false, err
	}
	// Unlocked on the same connection; a context already cancelled must
	// not leave the lock held by a pooled connection.
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck
	return true, fn()
}

// On PostgreSQL several instances claim at once: FOR UPDATE SKIP LOCKED
// lets each take rows no other claim holds, without waiting for it.
func (postgresDialect) claimDue(tx *gorm.DB, queue deliveryQueue, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := tx.Raw(`SELECT id FROM `+string(queue)+` WHERE status = ? AND lease_until < ?
		ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, OutboxSending, now, limit).Scan(&ids).Error
	if err != nil || len(ids) >= limit {
		return ids, err
	}
	var due []int64
	err = tx.Raw(`SELECT id FROM `+string(queue)+` WHERE status = ? AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED`, OutboxQueued, now, limit-len(ids)).Scan(&due).Error
	return append(ids, due...), err
}

// FOR NO KEY UPDATE is the lock the seat counter's UPDATE takes anyway, so
// taking it at the read makes no new conflict with inserts that reference
// the session.
func (postgresDialect) signUpLock() string { return " FOR NO KEY UPDATE" }

// The identity column's sequence, named by PostgreSQL after its table and
// column (migrations/postgres/0001_init.sql).
func (postgresDialect) signUpNextID() string { return "nextval('registrations_id_seq')" }

func (postgresDialect) lockRows(tx *gorm.DB, query string, args ...any) error {
	return tx.Exec(query+" FOR UPDATE", args...).Error
}

// afterErasure leaves PostgreSQL's dead row versions to autovacuum: a dump
// (pg_dump) never contains them (see README: Erasure).
func (postgresDialect) afterErasure(context.Context, *Store) {}

func (postgresDialect) isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
