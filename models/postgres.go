package models

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Per-connection defaults a PostgreSQL URL may override with its own query
// parameters (pgx sends unknown parameters as the session's settings). A
// statement or a wait for a row lock that runs longer has gone wrong: it
// fails, and its request answers 503, instead of holding a connection.
var postgresDefaults = map[string]string{
	"lock_timeout":                        "5000",  // ms
	"idle_in_transaction_session_timeout": "30000", // ms
	"application_name":                    "podium",
}

// postgresDSN adds postgresDefaults and the statement timeout to the URL
// where it does not set them.
func postgresDSN(dsn string, statementTimeout time.Duration) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("open database: the PostgreSQL URL does not parse")
	}
	q := u.Query()
	if !q.Has("statement_timeout") {
		q.Set("statement_timeout", strconv.FormatInt(statementTimeout.Milliseconds(), 10))
	}
	for k, v := range postgresDefaults {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// connectPostgres opens one pool for reads and writes: PostgreSQL runs
// writers side by side, taking row locks where they meet.
func (s *Store) connectPostgres() error {
	s.dialect = postgresDialect{}
	dsn, err := postgresDSN(s.dsn, s.statementTimeout)
	if err != nil {
		return err
	}
	db, err := gorm.Open(postgres.Open(dsn), gormConfig())
	if err != nil {
		// The driver's text can carry the URL and its password.
		return fmt.Errorf("open database: cannot reach PostgreSQL")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	setPoolSize(sqlDB, s.poolSize)
	s.write, s.read = db, db
	s.limits = tableLimits{db: db}
	return nil
}

// RedactDSN is dsn fit for a log line: a PostgreSQL URL without its
// password, a SQLite path as it is.
func RedactDSN(dsn string) string {
	if !IsPostgresURL(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}
