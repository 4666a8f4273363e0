package models

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RegistrantQuery selects registrations for the organizer's list and export.
// Zero fields select everything.
type RegistrantQuery struct {
	PanelID   int64
	SessionID int64
	Status    RegistrationStatus
	// Search is part of a name, email address or organisation, any case.
	Search string
	// Before is the cursor: only ids below it (0 starts from the newest).
	Before int64
	// Limit is the page size: 50 by default, at most 500.
	Limit int
}

// Registrant list limits.
const (
	DefaultRegistrantPage = 50
	MaxRegistrantPage     = 500
	streamBatch           = 500
	maxSearchLength       = 200
)

func (q RegistrantQuery) pageSize() int {
	switch {
	case q.Limit <= 0:
		return DefaultRegistrantPage
	case q.Limit > MaxRegistrantPage:
		return MaxRegistrantPage
	default:
		return q.Limit
	}
}

// Validate refuses a status the list cannot be filtered by.
func (q RegistrantQuery) Validate() error {
	switch q.Status {
	case "", RegistrationConfirmed, RegistrationWaitlisted, RegistrationCancelled, RegistrationPending, RegistrationDeclined:
		return nil
	}
	return &ValidationError{Fields: map[string]string{"status": "Choose confirmed, waitlisted, pending, declined or cancelled."}}
}

// filter adds the query's conditions, not its cursor or limit.
func (q RegistrantQuery) filter(db *gorm.DB) (*gorm.DB, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.SessionID != 0 {
		db = db.Where("registrations.session_id = ?", q.SessionID)
	}
	if q.PanelID != 0 {
		db = db.Where("registrations.session_id IN (SELECT id FROM sessions WHERE panel_id = ?)", q.PanelID)
	}
	if q.Status != "" {
		db = db.Where("registrations.status = ?", q.Status)
	}
	if term := strings.TrimSpace(q.Search); term != "" {
		// LOWER on both sides, since PostgreSQL's LIKE is case-sensitive;
		// email_key is stored lower-cased already.
		pattern := "%" + escapeLike(strings.ToLower(clip(term, maxSearchLength))) + "%"
		db = db.Where(`(LOWER(registrations.name) LIKE ? ESCAPE '\' OR registrations.email_key LIKE ? ESCAPE '\'
			OR LOWER(registrations.organisation) LIKE ? ESCAPE '\')`, pattern, pattern, pattern)
	}
	return db, nil
}

// escapeLike makes the user's text match literally inside a LIKE pattern
// with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// preloadRegistrant loads what the organizer sees of a registration: its
// session with the panel, and its answers in the form's order. It costs three
// queries whatever the number of registrations.
func preloadRegistrant(db *gorm.DB) *gorm.DB {
	return db.Preload("Session.Panel").Preload("Answers", func(db *gorm.DB) *gorm.DB {
		return db.Select("answers.*").Joins("JOIN questions ON questions.id = answers.question_id").
			Order("questions.position, questions.id")
	})
}

// Registrants lists one page of registrations, newest first, with their
// session, panel and answers. nextCursor is the Before of the next page, or
// 0 when this is the last. Pages follow ids (keyset), so a deep page costs
// what the first one does.
func (s *Store) Registrants(ctx context.Context, q RegistrantQuery) (page []Registration, nextCursor int64, err error) {
	limit := q.pageSize()
	db, err := q.filter(preloadRegistrant(s.read.WithContext(ctx)))
	if err != nil {
		return nil, 0, err
	}
	if q.Before > 0 {
		db = db.Where("registrations.id < ?", q.Before)
	}
	if err := db.Order("registrations.id DESC").Limit(limit + 1).Find(&page).Error; err != nil {
		return nil, 0, err
	}
	if len(page) > limit {
		page = page[:limit]
		nextCursor = page[limit-1].ID
	}
	return page, nextCursor, nil
}

// StreamRegistrants calls fn for every registration the query selects, in id
// order, with its session, panel and answers. It reads batches of 500 by id,
// so an export of any size holds one batch in memory. The query's Before and
// Limit are ignored; fn's error stops the stream and is returned.
func (s *Store) StreamRegistrants(ctx context.Context, q RegistrantQuery, fn func(*Registration) error) error {
	var after int64
	for {
		db, err := q.filter(preloadRegistrant(s.read.WithContext(ctx)))
		if err != nil {
			return err
		}
		var batch []Registration
		err = db.Where("registrations.id > ?", after).Order("registrations.id").Limit(streamBatch).Find(&batch).Error
		if err != nil {
			return err
		}
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		if len(batch) < streamBatch {
			return nil
		}
		after = batch[len(batch)-1].ID
	}
}

// RegistrantTotals counts registrations by status.
type RegistrantTotals struct {
	Confirmed  int
	Waitlisted int
	Cancelled  int
	// Pending awaits the organizer's approval (Gating).
	Pending int
	// Attended counts registrations marked as attended, whatever their status.
	Attended int
	// SeatsLeft is the session's free seats, or -1 when its capacity is
	// unlimited. Without a session it adds up the free seats of the scheduled
	// sessions that have not ended (-1 when any is unlimited).
	SeatsLeft int
}

// RegistrantCounts counts the registrations of a session, or of a panel's
// sessions when sessionID is 0 (of every panel when both are 0).
func (s *Store) RegistrantCounts(ctx context.Context, panelID, sessionID int64) (RegistrantTotals, error) {
	db := s.read.WithContext(ctx)
	var totals RegistrantTotals
	// Without a status the filter cannot fail.
	counted, _ := RegistrantQuery{PanelID: panelID, SessionID: sessionID}.filter(db.Model(&Registration{}))
	var rows []struct {
		Status   RegistrationStatus
		N        int
		Attended int
	}
	err := counted.Select("status, COUNT(*) AS n, SUM(CASE WHEN attendance = 'attended' THEN 1 ELSE 0 END) AS attended").
		Group("status").Scan(&rows).Error
	if err != nil {
		return totals, err
	}
	for _, r := range rows {
		totals.Attended += r.Attended
		switch r.Status {
		case RegistrationConfirmed:
			totals.Confirmed = r.N
		case RegistrationWaitlisted:
			totals.Waitlisted = r.N
		case RegistrationCancelled:
			totals.Cancelled = r.N
		case RegistrationPending:
			totals.Pending = r.N
		}
	}
	totals.SeatsLeft, err = s.seatsLeft(db, panelID, sessionID)
	return totals, err
}

// seatsLeft is a session's free seats, or those of the scheduled sessions
// (of a panel, or all) that have not ended; -1 means unlimited.
func (s *Store) seatsLeft(db *gorm.DB, panelID, sessionID int64) (int, error) {
	var sessions []Session
	now := s.Now()
	if sessionID != 0 {
		db = db.Where("id = ?", sessionID)
	} else {
		db = db.Where("status = ? AND starts_at > ?", SessionScheduled, now.Add(-maxSessionDuration))
	}
	if panelID != 0 {
		db = db.Where("panel_id = ?", panelID)
	}
	if err := db.Find(&sessions).Error; err != nil {
		return 0, err
	}
	if sessionID != 0 && len(sessions) == 0 {
		return 0, ErrNotFound
	}
	left := 0
	for _, sess := range sessions {
		switch {
		case sessionID == 0 && !sess.EndsAt().After(now):
		case sess.SeatsLeft() < 0:
			return -1, nil
		default:
			left += sess.SeatsLeft()
		}
	}
	return left, nil
}

// RegistrationByID returns a registration with its session, panel and answers.
func (s *Store) RegistrationByID(ctx context.Context, id int64) (*Registration, error) {
	var reg Registration
	err := preloadRegistrant(s.read.WithContext(ctx)).Take(&reg, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &reg, nil
}

// AddRegistrationByOrganizer registers someone for a session as the public
// form does (same validation, capacity, waitlist, duplicates and emails), but
// also after registration closed, until the session ends, and whatever the
// panel's status. A cancelled session takes no one. Consent is required as on
// the form: the organizer confirms the person agreed to be registered (and
// to the organizer's news and sponsors the input names), through channel.
func (s *Store) AddRegistrationByOrganizer(ctx context.Context, sessionID int64, in RegistrationInput, channel Channel) (*RegisterResult, error) {
	in.SessionID = sessionID
	return s.register(ctx, in, signUpRules{organizer: true, channel: channel})
}

// CancelRegistration is the organizer's cancel: the rules of CancelByToken
// (until the session starts; twice is harmless; the freed seat goes to the
// oldest waitlisted registrant).
func (s *Store) CancelRegistration(ctx context.Context, id int64) (*CancelResult, error) {
	res, err := s.cancel(ctx, id)
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return res, err
}

// registrationWithSession reads a registration and its session inside a
// write transaction.
func registrationWithSession(tx *gorm.DB, id int64) (*Registration, error) {
	var reg Registration
	err := tx.Preload("Session").Take(&reg, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &reg, nil
}

// checkSessionRuns refuses a session that is cancelled or over.
func checkSessionRuns(sess *Session, now time.Time) error {
	switch {
	case sess.Status == SessionCancelled:
		return ErrSessionCancelled
	case !now.Before(sess.EndsAt()):
		return ErrRegistrationClosed
	}
	return nil
}

// PromoteRegistration gives a waitlisted registrant a free seat, claimed with
// the guarded counter, and sends the promotion email with the invite. A
// registration that already has a seat is returned unchanged.
func (s *Store) PromoteRegistration(ctx context.Context, id int64) (*Registration, error) {
	var reg *Registration
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		var err error
		if reg, err = registrationWithSession(tx, id); err != nil {
			return err
		}
		switch {
		case reg.Status == RegistrationConfirmed:
			return nil
		case reg.Status != RegistrationWaitlisted:
			return &ValidationError{Fields: map[string]string{"status": "Only a waitlisted registration can be given a place: approve a pending one instead."}}
		case reg.Unconfirmed():
			return &ValidationError{Fields: map[string]string{"status": "The person has not confirmed their email address yet."}}
		}
		if err := checkSessionRuns(reg.Session, now); err != nil {
			return err
		}
		promoted, err := promote(tx, reg, reg.Session.Sequence, now)
		if err != nil {
			return err
		}
		if !promoted {
			return &ValidationError{Fields: map[string]string{"capacity": "No free place: raise the capacity first"}}
		}
		reg.Session.SeatsTaken++
		return nil
	})
	if err != nil {
		return nil, err
	}
	return reg, nil
}

// ResendInvite queues the registrant's notice again with a new manage link:
// the confirmation with the invite, or the waitlist notice. A cancelled
// registration, or one for a cancelled or past session, has nothing to resend.
func (s *Store) ResendInvite(ctx context.Context, id int64) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		reg, err := registrationWithSession(tx, id)
		if err != nil {
			return err
		}
		if reg.Status == RegistrationCancelled || reg.Status == RegistrationDeclined {
			return &ValidationError{Fields: map[string]string{"status": "This registration is " + string(reg.Status) + ": there is no invite to send."}}
		}
		if reg.Session.OnDemand(now) && reg.Status == RegistrationConfirmed {
			return enqueueWithToken(tx, now, reg, registrationNotice(reg, reg.Session, "", true))
		}
		if err := checkSessionRuns(reg.Session, now); err != nil {
			return err
		}
		return enqueueWithToken(tx, now, reg, registrationNotice(reg, reg.Session, "", false))
	})
}

// DayCount is the number of registrations made on one UTC day.
type DayCount struct {
	Day   time.Time
	Count int
}

// maxChartDays bounds RegistrationsPerDay to about a year.
const maxChartDays = 366

// RegistrationsPerDay counts registrations per UTC day from since's day to
// today, days without any included as zero, for the dashboard's chart.
func (s *Store) RegistrationsPerDay(ctx context.Context, since time.Time) ([]DayCount, error) {
	first, today := since.UTC().Truncate(24*time.Hour), s.Now().Truncate(24*time.Hour)
	if today.Sub(first) > maxChartDays*24*time.Hour {
		return nil, &ValidationError{Fields: map[string]string{"since": "Choose a period of at most a year."}}
	}
	var rows []struct {
		RegDay string
		N      int
	}
	err := s.read.WithContext(ctx).Model(&Registration{}).
		Select(sqlDayOf("created_at")+" AS reg_day, COUNT(*) AS n").
		Where("created_at >= ?", first).Group("reg_day").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(rows))
	for _, r := range rows {
		counts[r.RegDay] = r.N
	}
	var out []DayCount
	for d := first; !d.After(today); d = d.AddDate(0, 0, 1) {
		out = append(out, DayCount{Day: d, Count: counts[d.Format(time.DateOnly)]})
	}
	return out, nil
}

// sqlDayOf is the SQL for the UTC date ("2026-11-20") of a timestamp column.
// Times are stored in UTC; SQLite keeps them as text starting with the date,
// and PostgreSQL's text form of a timestamp (ISO DateStyle, the default)
// starts with it too, so the same expression serves both.
func sqlDayOf(column string) string {
	return "substr(CAST(" + column + " AS TEXT), 1, 10)"
}

// SessionOverview is an upcoming session on the dashboard.
type SessionOverview struct {
	// Session has its Panel; Capacity and SeatsTaken give the fill rate.
	Session    Session
	Waitlisted int
}

// FillPercent is the share of seats taken, 0 to 100, or -1 when the capacity
// is unlimited.
func (o SessionOverview) FillPercent() int {
	if o.Session.Capacity == 0 {
		return -1
	}
	return o.Session.SeatsTaken * 100 / o.Session.Capacity
}

// UpcomingSessionsOverview lists the scheduled sessions of every panel that
// have not ended, soonest first, with their panel and waitlist, in two queries.
func (s *Store) UpcomingSessionsOverview(ctx context.Context) ([]SessionOverview, error) {
	now := s.Now()
	var rows []sessionWithCounts
	err := withRegistrationCounts(s.read.WithContext(ctx)).Preload("Panel").
		Where("sessions.status = ? AND sessions.starts_at > ?", SessionScheduled, now.Add(-maxSessionDuration)).
		Order("sessions.starts_at, sessions.id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	var out []SessionOverview
	for _, r := range rows {
		if r.EndsAt().After(now) {
			out = append(out, SessionOverview{Session: r.Session, Waitlisted: r.Waitlisted})
		}
	}
	return out, nil
}
