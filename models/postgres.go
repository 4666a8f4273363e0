package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
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
	s.postgresURL = dsn
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

// listen keeps one connection of its own LISTENing for other instances'
// announcements, and sends this instance's through the pool with
// pg_notify. After the connection was lost it tells the subscribers that
// anything may have changed, since what was announced meanwhile is lost.
func (postgresDialect) listen(ctx context.Context, s *Store) error {
	go s.sendAnnouncements(ctx)
	wait := time.Second
	for {
		connected, err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			wait = time.Second
		}
		s.log.Warn("lost the link that tells other instances' changes; pages and workers poll until it is back",
			"err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, listenRetryMax)
	}
}

// listenOnce listens until the connection fails or ctx ends; connected
// says whether it got as far as listening.
func (s *Store) listenOnce(ctx context.Context) (connected bool, err error) {
	conn, err := pgx.Connect(ctx, s.postgresURL)
	if err != nil {
		// The driver's text can carry the URL and its password.
		return false, errors.New("cannot reach PostgreSQL")
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return false, err
	}
	s.changes.everything()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		s.changes.received(n.Payload)
	}
}

// sendAnnouncements sends what Announce queued, one NOTIFY per topic
// however many announcements came meanwhile, until ctx ends.
func (s *Store) sendAnnouncements(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changes.send:
		}
		for _, topic := range s.changes.takePending() {
			err := s.write.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", notifyChannel, s.changes.payload(topic)).Error
			if err != nil && ctx.Err() == nil {
				s.log.Warn("could not tell other instances of a change; they catch up by polling", "topic", topic, "err", err)
			}
		}
	}
}

// signUpStatement is a sign-up's whole write on PostgreSQL in one
// statement, one round trip while the session's row is held (measured in
// shared/POSTGRES.md: the row lock's hold time sets the pace): the seat,
// the registration, its manage link and its notice. Its parameters: 1
// session, 2-7 name, email, email key, organisation, job title, source, 8
// referrer, 9 now, 10 waitlist, 11 token hash, 12 token, 13 the session's
// calendar sequence, 14 the registration's id (reserved by the read), 15
// the hash of its personal join link, 16-19 utm_medium, utm_campaign,
// utm_term, utm_content, 20-22 the consents' purposes, sponsors (0 for
// none) and wording versions, as arrays, 23 their channel.
var signUpStatement = fmt.Sprintf(`WITH seat AS (
		UPDATE sessions SET seats_taken = seats_taken + 1
		WHERE id = $1 AND (capacity = 0 OR seats_taken < capacity) RETURNING id
	), reg AS (
		INSERT INTO registrations (id, session_id, name, email, email_key, organisation, job_title, source, referrer,
			utm_medium, utm_campaign, utm_term, utm_content, consent_at, created_at, updated_at, status)
		SELECT $14, $1, $2, $3, $4, $5, $6, $7, $8, $16, $17, $18, $19, $9, $9, $9,
			CASE WHEN EXISTS (SELECT 1 FROM seat) THEN '%[1]s' ELSE '%[2]s' END
		WHERE EXISTS (SELECT 1 FROM seat) OR $10::boolean
		ON CONFLICT (session_id, email_key) WHERE status <> 'cancelled' DO NOTHING
		RETURNING id, status
	), link AS (
		INSERT INTO manage_tokens (token_hash, registration_id, created_at) SELECT $11, id, $9 FROM reg
	), personal AS (
		INSERT INTO registration_links (token_hash, registration_id, purpose, created_at)
		SELECT $15, id, '%[7]s', $9 FROM reg
	), consent AS (
		INSERT INTO consents (registration_id, purpose, sponsor_id, consent_text_id, given, channel, created_at)
		SELECT reg.id, c.purpose, NULLIF(c.sponsor, 0), c.text, TRUE, $23, $9
		FROM reg, unnest($20::text[], $21::bigint[], $22::bigint[]) AS c (purpose, sponsor, text)
	), notice AS (
		INSERT INTO outbox_messages (kind, registration_id, manage_token, calendar_method, sequence, status,
			next_attempt_at, created_at)
		SELECT CASE WHEN reg.status = '%[1]s' THEN '%[3]s' ELSE '%[4]s' END, reg.id, $12,
			CASE WHEN reg.status = '%[1]s' THEN '%[5]s' ELSE '' END,
			CASE WHEN reg.status = '%[1]s' THEN $13::integer ELSE 0 END, '%[6]s', $9, $9
		FROM reg
	)
	SELECT EXISTS (SELECT 1 FROM seat), (SELECT id FROM reg), (SELECT status FROM reg)`,
	RegistrationConfirmed, RegistrationWaitlisted, KindConfirmation, KindWaitlisted, CalendarRequest, OutboxQueued,
	LinkJoin)

// writeSignUp runs signUpStatement; registrationNotice is its notice in Go,
// which the tests of both databases hold it to.
func (postgresDialect) writeSignUp(tx *gorm.DB, w signUpWrite) (bool, bool, error) {
	r := w.reg
	var seat bool
	var id sql.NullInt64
	var status sql.NullString
	purposes, sponsors, texts := make([]string, len(w.consents)), make([]int64, len(w.consents)), make([]int64, len(w.consents))
	for i, c := range w.consents {
		purposes[i], sponsors[i], texts[i] = string(c.purpose), c.sponsor, c.text
	}
	err := tx.Statement.ConnPool.QueryRowContext(tx.Statement.Context, signUpStatement,
		w.sess.ID, r.Name, r.Email, r.EmailKey, r.Organisation, r.JobTitle, r.Source, r.Referrer, w.now,
		w.sess.Waitlist, w.tokenHash, w.token, w.sess.Sequence, r.ID, hashToken(linkToken(w.joinKey, r.ID)),
		r.Medium, r.Campaign, r.Term, r.Content, purposes, sponsors, texts, w.channel).
		Scan(&seat, &id, &status)
	switch {
	case err != nil:
		return false, false, err
	case !seat && !w.sess.Waitlist:
		return false, false, ErrSessionFull
	case !id.Valid:
		return seat, false, nil
	}
	r.ID, r.Status = id.Int64, RegistrationStatus(status.String)
	return seat, true, nil
}
