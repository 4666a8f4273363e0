// Package models holds Podium's domain types, their rules and their persistence.
package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/callbacks"
	"gorm.io/gorm/logger"
)

// Store is Podium's persistence, on a SQLite file or a PostgreSQL database.
// On SQLite, writes go through one connection, so Go queues writers instead
// of SQLite's busy loop, and reads use a separate pool; on PostgreSQL both
// are one pool, shared with every other instance serving the database.
type Store struct {
	write   *gorm.DB
	read    *gorm.DB
	dialect dialect
	now     func() time.Time
	log     *slog.Logger
	// dsn is the SQLite file's path or the PostgreSQL URL.
	dsn string
	// postgresURL is dsn with the per-connection defaults (postgresDSN).
	postgresURL string
	// poolSize bounds PostgreSQL connections (see WithPoolSize).
	poolSize int
	// statementTimeout bounds one PostgreSQL statement (WithStatementTimeout).
	statementTimeout time.Duration
	// retryDelay is the wait after a message's first failed delivery.
	retryDelay time.Duration
	// group commits concurrent sign-ups together.
	group *txGroup
	// limits counts rate-limited hits (see Allow).
	limits limitCounter
	// changes relays announcements between instances (see Announce).
	changes *changes
	// secret is the site's secret, read by Migrate (see SigningKey).
	secret atomic.Pointer[[]byte]
	// keys holds the keys SigningKey derived from secret, by purpose.
	keys sync.Map
	// registrationText is the version of RegistrationConsentWording,
	// stored by Migrate, which every sign-up's consent names.
	registrationText int64
	// retentionDays is the site's default retention (WithRetentionDays).
	retentionDays int
}

// Option changes how Open builds a Store.
type Option func(*Store)

// WithClock replaces time.Now, for tests and reminders.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithLogger sets the logger used for slow or failed statements.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// WithRetryDelay sets the wait after a message's first failed delivery;
// later waits double from it, up to an hour.
func WithRetryDelay(d time.Duration) Option { return func(s *Store) { s.retryDelay = d } }

// WithPoolSize bounds how many connections a PostgreSQL store opens. On two
// cores a small pool beats a large one: more connections only queue on the
// session rows' locks (see README: PostgreSQL).
func WithPoolSize(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.poolSize = n
		}
	}
}

// WithStatementTimeout bounds how long one PostgreSQL statement may run
// unless the URL sets statement_timeout itself.
func WithStatementTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.statementTimeout = d
		}
	}
}

// PostgreSQL defaults: the pool's size and how long a statement may run.
const (
	DefaultPoolSize         = 8
	DefaultStatementTimeout = 15 * time.Second
)

// readPoolSize bounds concurrent readers; SQLite in WAL mode lets them run
// beside the single writer.
const readPoolSize = 8

// Open opens the database dsn names (a SQLite file, created if needed, or a
// postgres:// URL) and migrates it to the latest schema.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s, err := Connect(dsn, opts...)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.closePools()
		return nil, err
	}
	return s, nil
}

// Connect opens the database without migrating it, so a server can answer
// health checks while Migrate runs. Nothing else may use the store before
// Migrate returns.
func Connect(dsn string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now, log: slog.New(slog.DiscardHandler), dsn: dsn, poolSize: DefaultPoolSize,
		statementTimeout: DefaultStatementTimeout, retentionDays: DefaultRetentionDays,
		retryDelay: DefaultRetryDelay, group: newTxGroup(), changes: newChanges()}
	for _, o := range opts {
		o(s)
	}
	if IsPostgresURL(dsn) {
		return s, s.connectPostgres()
	}
	s.dialect = sqliteDialect{}
	s.limits = newMemoryLimits()
	path := dsn
	var err error
	if s.write, err = openPool(sqliteDSN(path, connWriter), 1); err != nil {
		return nil, err
	}
	if s.read, err = openPool(sqliteDSN(path, connReader), readPoolSize); err != nil {
		s.closePools()
		return nil, err
	}
	return s, nil
}

// connKind is what a pool's connections are for.
type connKind int

const (
	connWriter      connKind = iota // the single writer: BEGIN IMMEDIATE
	connReader                      // the read pool: query-only
	connMaintenance                 // one-off jobs such as backups
)

// sqliteDSN keeps every SQLite-specific setting in one place. The settings
// are per connection, so they belong in the DSN rather than in a one-off
// PRAGMA on a pool. Writers take the lock at BEGIN (IMMEDIATE), so a
// transaction that reads then writes never fails with "database is locked".
func sqliteDSN(path string, kind connKind) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "FULL")
	q.Set("_stmt_cache_size", "64")
	switch kind {
	case connWriter:
		q.Set("_txlock", "immediate")
		// What is deleted or overwritten is zeroed in the file, so an
		// erased address leaves no copy in free space (see Erase).
		q.Set("_secure_delete", "on")
	case connReader:
		q.Set("_query_only", "true")
	}
	return "file:" + path + "?" + q.Encode()
}

// gormConfig is the same for both databases: no logging of statements
// (they carry people's data), no transaction around single writes, UTC.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
}

func openPool(dsn string, size int) (*gorm.DB, error) {
	db, err := gorm.Open(sqlite.Open(dsn), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Inserts learn their new id from SQLite's last insert rowid rather
	// than RETURNING, which costs SQLite a temporary table per insert.
	if err := db.Callback().Create().Replace("gorm:create", callbacks.Create(&callbacks.Config{LastInsertIDReversed: true})); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	setPoolSize(sqlDB, size)
	return db, nil
}

func setPoolSize(db *sql.DB, size int) {
	db.SetMaxOpenConns(size)
	db.SetMaxIdleConns(size)
	db.SetConnMaxIdleTime(0)
}

// Close closes both pools.
func (s *Store) Close() error { return s.closePools() }

func (s *Store) closePools() error {
	if s.read == s.write {
		return closeDB(s.write)
	}
	return errors.Join(closeDB(s.read), closeDB(s.write))
}

func closeDB(db *gorm.DB) error {
	if db == nil {
		return nil
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// Now is the store's clock, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

// inWriteTx runs fn in one write transaction on the single write connection.
func (s *Store) inWriteTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.write.WithContext(ctx).Transaction(fn, &sql.TxOptions{})
}
