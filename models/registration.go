package models

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"gorm.io/gorm"
)

// RegistrationStatus is where a registration stands.
type RegistrationStatus string

// Registration statuses.
const (
	RegistrationConfirmed  RegistrationStatus = "confirmed"
	RegistrationWaitlisted RegistrationStatus = "waitlisted"
	RegistrationCancelled  RegistrationStatus = "cancelled"
	// RegistrationPending and RegistrationDeclined are gating's (gating.go).
)

// Registration is one person's place (or waitlist entry) for a session.
type Registration struct {
	ID           int64
	SessionID    int64
	Session      *Session
	Name         string
	Email        string // as typed (trimmed)
	EmailKey     string // trimmed and lower-cased, for comparisons
	Organisation string
	JobTitle     string
	ConsentAt    time.Time
	Status       RegistrationStatus
	// Source and the tags after it are the first touch: the utm_* tags of
	// the page the person signed up from, and its referrer.
	Source      string // utm_source
	Medium      string `gorm:"column:utm_medium"`
	Campaign    string `gorm:"column:utm_campaign"`
	Term        string `gorm:"column:utm_term"`
	Content     string `gorm:"column:utm_content"`
	Referrer    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CancelledAt *time.Time
	// ErasedAt is when the person's data was erased; the row stays,
	// anonymous, so counts and dashboards stay right.
	ErasedAt *time.Time
	// ConfirmBy is set while the address waits to be confirmed (Gating):
	// the place is freed then. EmailConfirmedAt is when it was confirmed;
	// DecidedAt when the organizer approved or declined the registration.
	ConfirmBy        *time.Time
	EmailConfirmedAt *time.Time
	DecidedAt        *time.Time
	// AttendedAt is when the organizer marked the registrant as attended.
	AttendedAt *time.Time
	// OnDemand is a registration for the replay, made after the live
	// session ended: it holds no seat and has no join link.
	OnDemand bool
	// Attendance is what is known of the registrant's attending; see
	// AttendanceSource for where it came from.
	Attendance       Attendance `gorm:"default:unknown"`
	AttendanceSource AttendanceSource
	// AttendedMinutes is the time spent in the live session, when a report
	// or Zoom said; nil when unknown.
	AttendedMinutes *int
	// JoinedAt and LastJoinedAt are the first and last use of the personal
	// join link (or Zoom's join events); WatchedAt and LastWatchedAt the
	// first and last opening of the replay.
	JoinedAt      *time.Time
	LastJoinedAt  *time.Time
	WatchedAt     *time.Time
	LastWatchedAt *time.Time
	// Answers are the registrant's answers to the panel's custom questions.
	Answers []Answer `gorm:"constraint:OnDelete:CASCADE"`
}

// ManageToken links a secret manage URL to a registration; only the hash of
// the token is stored.
type ManageToken struct {
	TokenHash      string `gorm:"primaryKey"`
	RegistrationID int64
	CreatedAt      time.Time
}

// RegisterResult is the outcome of Register. Token is the secret for the
// manage page; it is never stored.
type RegisterResult struct {
	Registration Registration
	Token        string
	// Duplicate is true when the address already held a place: nothing new
	// was registered. The attendee sees the same answer either way.
	Duplicate bool
	// Full is true when this sign-up took the session's last seat or found
	// it full: what the panel page says about the session has changed.
	Full bool
}

// Register signs someone up for a session of a published panel. It claims a
// seat with a guarded counter update inside the write transaction that
// inserts the registration, so capacity holds whatever the concurrency.
// Answers to the panel's questions are checked and stored in the same
// transaction; a duplicate sign-up stores nothing new.
func (s *Store) Register(ctx context.Context, panelID int64, in RegistrationInput) (*RegisterResult, error) {
	return s.register(ctx, in, signUpRules{panelID: panelID, channel: ChannelForm})
}

// signUpRules say which sessions a sign-up may reach: the public form needs
// a published panel and open registration; an organizer adds people to any
// panel's session until it ends.
type signUpRules struct {
	panelID   int64 // the public form's panel
	organizer bool
	channel   Channel // where the consents were given
}

// session reads the session inside the write transaction, holding its row
// (lock is the dialect's locking clause), with the place emailKey holds in
// it, if any, and checks that it takes a registration at now.
func (r signUpRules) session(tx *gorm.DB, d dialect, sessionID int64, emailKey string, now time.Time) (*signUpTarget, error) {
	t, err := readSignUpTarget(tx, d, sessionID, emailKey)
	if r.organizer {
		switch {
		case err != nil:
			return nil, err
		case t.Status == SessionCancelled:
			return nil, ErrSessionCancelled
		case !now.Before(t.EndsAt()) && !t.OnDemand(now):
			return nil, ErrRegistrationClosed
		}
		return t, nil
	}
	if errors.Is(err, ErrNotFound) || (err == nil && (t.PanelID != r.panelID || !t.panelPublished)) {
		return nil, &ValidationError{Fields: map[string]string{"session": "Choose one of the sessions listed."}}
	}
	if err != nil {
		return nil, err
	}
	switch t.Availability(now) {
	case AvailableCanceled:
		return nil, ErrSessionCancelled
	case AvailableClosed:
		return nil, ErrRegistrationClosed
	}
	return t, nil
}

// register is the one sign-up path, for the public form and for organizers.
func (s *Store) register(ctx context.Context, in RegistrationInput, rules signUpRules) (*RegisterResult, error) {
	if err := in.Validate(); err != nil {
		return nil, s.withAnswerMessages(ctx, err, rules, in)
	}
	emailKey, _ := normaliseEmail(in.Email)
	token, tokenHash := newManageToken()
	var wordings map[int64]int64
	if rules.panelID != 0 && (in.Marketing || len(in.Sponsors) > 0) {
		var err error
		if wordings, err = currentWordings(s.read.WithContext(ctx), rules.panelID); err != nil {
			return nil, err
		}
	}
	res := &RegisterResult{}
	err := s.inGroupTx(ctx, in.SessionID, func(tx *gorm.DB) error {
		*res = RegisterResult{Token: token} // the group may run this twice
		now := s.Now()
		target, err := rules.session(tx, s.dialect, in.SessionID, emailKey, now)
		if err != nil {
			return err
		}
		sess := &target.Session
		gated := !rules.organizer && target.Gated() && !sess.OnDemand(now)
		if !rules.organizer {
			if why := target.refuses(emailKey); why != "" {
				return &ValidationError{Fields: map[string]string{"email": why}}
			}
		}
		answers, err := validAnswers(tx, target, in.Answers)
		if err != nil {
			return err
		}
		// An address that already holds a place is told again, with a
		// fresh link; the submitter is told nothing new.
		if target.heldBy != 0 {
			return answerDuplicate(tx, now, res, target.heldBy, sess, token, tokenHash)
		}
		// Up to here a failure is one of the models' own errors and nothing
		// is written; from the seat on, only the database fails (inGroupTx).
		res.Registration = Registration{
			SessionID: sess.ID, Name: in.Name, Email: in.Email, EmailKey: emailKey,
			Organisation: in.Organisation, JobTitle: in.JobTitle, ConsentAt: now,
			Source: in.Source, Medium: in.Medium, Campaign: in.Campaign, Term: in.Term, Content: in.Content,
			Referrer: in.Referrer, CreatedAt: now, UpdatedAt: now, Attendance: AttendanceUnknown, ID: target.nextID,
		}
		w := signUpWrite{reg: &res.Registration, sess: sess, token: token, tokenHash: tokenHash, now: now,
			channel: rules.channel}
		if w.consents, err = s.signUpConsents(tx, sess.PanelID, &in, wordings); err != nil {
			return err
		}
		purpose := LinkJoin
		if sess.OnDemand(now) {
			purpose = LinkWatch
		}
		if w.joinKey, err = s.SigningKey(linkKeyPurpose(purpose)); err != nil {
			return err
		}
		var seat, inserted bool
		switch {
		case gated:
			seat, inserted, err = writeGatedSignUp(tx, w, target.Gating)
		case sess.OnDemand(now):
			inserted, err = writeOnDemandSignUp(tx, w)
		default:
			seat, inserted, err = s.dialect.writeSignUp(tx, w)
		}
		if errors.Is(err, ErrSessionFull) || (err == nil && !inserted) {
			// The address took a place through another instance after the
			// read above (the unique index kept this row out), or took the
			// last seat: give back the seat taken, if any, and answer as a
			// duplicate.
			return answerLateDuplicate(tx, w, res, seat, err)
		}
		if err != nil {
			return err
		}
		res.Full = !res.Registration.OnDemand && res.Registration.Status != RegistrationPending &&
			(res.Registration.Status == RegistrationWaitlisted || (sess.Capacity > 0 && sess.SeatsTaken+1 >= sess.Capacity))
		res.Registration.Answers = answers
		if err := saveAnswers(tx, res.Registration.ID, answers); err != nil || !target.webhooks {
			return err
		}
		return registrationEvent(tx, now, EventRegistrationCreated, res.Registration.ID)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// answerDuplicate tells the owner of an address that already holds a place
// where they stand again, with a fresh link, instead of telling the
// submitter anything.
func answerDuplicate(tx *gorm.DB, now time.Time, res *RegisterResult, existingID int64, sess *Session, token, tokenHash string) error {
	if err := tx.Take(&res.Registration, existingID).Error; err != nil {
		return err
	}
	res.Duplicate, res.Full = true, false
	if res.Registration.Status == RegistrationWaitlisted && sess.OnDemand(now) {
		if err := waitlistToReplay(tx, &res.Registration, now); err != nil {
			return err
		}
	}
	return notifyWithToken(tx, now, &res.Registration, sess, token, tokenHash)
}

// waitlistToReplay turns a waitlist place of a session that has ended into
// a registration for its replay, when the person signs up for the replay:
// the live session is over, so there is nothing left to wait for.
func waitlistToReplay(tx *gorm.DB, reg *Registration, now time.Time) error {
	reg.Status, reg.OnDemand, reg.UpdatedAt = RegistrationConfirmed, true, now
	// Its replay link is stored when the email carrying it is claimed.
	_, err := execSQL(tx, "UPDATE registrations SET status = ?, on_demand = TRUE, updated_at = ? WHERE id = ?",
		reg.Status, now, reg.ID)
	return err
}

// writeOnDemandSignUp writes a registration for the replay of a session
// that has ended: no seat, no waitlist, no invite. It reports false when
// the address already holds a place (the unique index kept the row out).
func writeOnDemandSignUp(tx *gorm.DB, w signUpWrite) (inserted bool, err error) {
	w.reg.Status, w.reg.OnDemand = RegistrationConfirmed, true
	err = queryRowSQL(tx, `INSERT INTO registrations (`+registrationColumns+`, on_demand)
		VALUES (`+registrationValues+`, TRUE)
		ON CONFLICT (session_id, email_key) WHERE status <> 'cancelled' DO NOTHING RETURNING id`,
		w.reg.insertArgs()...).Scan(&w.reg.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := insertLink(tx, w.joinKey, LinkWatch, w.reg.ID, w.now); err != nil {
		return false, err
	}
	if err := insertConsents(tx, w.reg.ID, w.consents, w.channel, w.now); err != nil {
		return false, err
	}
	return true, notifyWithToken(tx, w.now, w.reg, w.sess, w.token, w.tokenHash)
}

// answerLateDuplicate answers a sign-up whose write found the address
// registered after all (writeSignUp wrote no row): as a duplicate when it
// is, giving back the seat the write took, if any; otherwise with failed,
// the write's own error (ErrSessionFull).
func answerLateDuplicate(tx *gorm.DB, w signUpWrite, res *RegisterResult, seat bool, failed error) error {
	var existingID int64
	err := queryRowSQL(tx, "SELECT id FROM registrations WHERE session_id = ? AND email_key = ? AND status <> 'cancelled'",
		w.sess.ID, w.reg.EmailKey).Scan(&existingID)
	if errors.Is(err, sql.ErrNoRows) {
		if failed != nil {
			return failed
		}
		return errors.New("register: the unique index refused a registration that is not there")
	}
	if err != nil {
		return err
	}
	if seat {
		if err := releaseSeat(tx, w.sess.ID); err != nil {
			return err
		}
	}
	return answerDuplicate(tx, w.now, res, existingID, w.sess, w.token, w.tokenHash)
}

// signUpWrite is what a sign-up writes once its checks have passed: the
// registration (all but its status, and its id unless the read reserved
// one), and the manage link, personal link and notice that go with it.
type signUpWrite struct {
	reg              *Registration
	sess             *Session
	token, tokenHash string
	// joinKey signs the personal link: the join link for a live place,
	// the replay link for an on-demand one.
	joinKey []byte
	// consents are the consents the sign-up gives, through channel.
	consents []consentRow
	channel  Channel
	now      time.Time
}

// registrationColumns are the columns a sign-up writes, in the order of
// Registration.insertArgs.
const (
	registrationColumns = `session_id, name, email, email_key, organisation, job_title, consent_at, status,
		source, utm_medium, utm_campaign, utm_term, utm_content, referrer, created_at, updated_at`
	registrationValues = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
)

func (r *Registration) insertArgs() []any {
	return []any{r.SessionID, r.Name, r.Email, r.EmailKey, r.Organisation, r.JobTitle, r.ConsentAt, r.Status,
		r.Source, r.Medium, r.Campaign, r.Term, r.Content, r.Referrer, r.CreatedAt, r.UpdatedAt}
}

// writeSignUpStepwise is writeSignUp one statement at a time, for SQLite,
// whose statements cost no round trip.
func writeSignUpStepwise(tx *gorm.DB, w signUpWrite) (seat, inserted bool, err error) {
	status, err := claimSeat(tx, w.sess)
	if err != nil {
		return false, false, err
	}
	seat, w.reg.Status = status == RegistrationConfirmed, status
	res, err := execSQL(tx, `INSERT INTO registrations (`+registrationColumns+`) VALUES (`+registrationValues+`)
		ON CONFLICT (session_id, email_key) WHERE status <> 'cancelled' DO NOTHING`, w.reg.insertArgs()...)
	if err != nil {
		return seat, false, err
	}
	// SQLite reports the new id without RETURNING, which would cost it a
	// temporary table per insert.
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return seat, false, err
	}
	if w.reg.ID, err = res.LastInsertId(); err != nil {
		return seat, false, err
	}
	if err := insertLink(tx, w.joinKey, LinkJoin, w.reg.ID, w.now); err != nil {
		return seat, false, err
	}
	if err := insertConsents(tx, w.reg.ID, w.consents, w.channel, w.now); err != nil {
		return seat, false, err
	}
	return seat, true, notifyWithToken(tx, w.now, w.reg, w.sess, w.token, w.tokenHash)
}

// notifyWithToken stores a manage link for reg and queues the notice that
// tells the registrant where they stand.
func notifyWithToken(tx *gorm.DB, now time.Time, reg *Registration, sess *Session, token, tokenHash string) error {
	if err := insertManageToken(tx, tokenHash, reg.ID, now); err != nil {
		return err
	}
	return enqueue(tx, now, registrationNotice(reg, sess, token, sess.Ended(now)))
}

// The statements below are on every sign-up's path through the single write
// connection, where nothing else can write while they run, so they name
// their columns and run through execSQL and queryRowSQL: a session read by
// primary key took 31 µs through GORM's Take, 10 µs as a raw row.

// signUpTarget is what a sign-up needs to know of its session and panel.
type signUpTarget struct {
	Session
	panelPublished bool
	panelQuestions int   // how many custom questions the panel asks
	heldBy         int64 // the registration holding the address's place, or 0
	webhooks       bool  // an endpoint wants registration.created
	nextID         int64 // the new registration's reserved id (dialect.signUpNextID), or 0
	Gating               // the panel's rules for the public form
}

// wantsCreated is the condition of the endpoints a sign-up tells, written
// once: a sign-up's read asks it every time.
var wantsCreated = wantsType(EventRegistrationCreated)

// readSignUpTarget reads the session with its panel's status and number of
// questions, and the place emailKey holds in it, in one statement ending
// with the dialect's lock (see dialect.signUpLock). The other facts are subqueries by
// key: SQLite ran the same read as a join several times slower than as
// separate reads, and as one statement with subqueries three times faster
// than the reads one after another. The status is written out, not bound,
// so SQLite can use the partial unique index on active registrations.
func readSignUpTarget(tx *gorm.DB, d dialect, id int64, emailKey string) (*signUpTarget, error) {
	t := signUpTarget{Session: Session{ID: id}}
	var closes, onDemandUntil sql.NullTime
	var heldBy sql.NullInt64
	var panelStatus PanelStatus
	var gated bool
	err := queryRowSQL(tx, `SELECT panel_id, starts_at, duration_minutes, capacity, seats_taken, waitlist,
		registration_closes_at, status, sequence, recording_url, on_demand_until,
		(SELECT status FROM panels WHERE id = sessions.panel_id),
		(SELECT count(*) FROM questions WHERE panel_id = sessions.panel_id),
		(SELECT require_email_confirmation OR require_approval OR blocked_email_domains <> ''
			OR allowed_email_domains <> '' FROM panels WHERE id = sessions.panel_id),
		(SELECT id FROM registrations WHERE session_id = sessions.id AND email_key = ? AND status <> 'cancelled'),
		EXISTS (SELECT 1 FROM webhook_endpoints WHERE `+wantsCreated+`),
		`+d.signUpNextID()+` FROM sessions WHERE id = ?`+d.signUpLock(), emailKey, id).
		Scan(&t.PanelID, &t.StartsAt, &t.DurationMinutes, &t.Capacity, &t.SeatsTaken,
			&t.Waitlist, &closes, &t.Status, &t.Sequence, &t.RecordingURL, &onDemandUntil,
			&panelStatus, &t.panelQuestions, &gated, &heldBy, &t.webhooks, &t.nextID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if closes.Valid {
		t.RegistrationClosesAt = &closes.Time
	}
	if onDemandUntil.Valid {
		t.OnDemandUntil = &onDemandUntil.Time
	}
	t.panelPublished, t.heldBy = panelStatus == PanelPublished, heldBy.Int64
	if gated { // rare: the panel's rules, read only when it has some
		err := queryRowSQL(tx, `SELECT blocked_email_domains, allowed_email_domains, require_email_confirmation,
			require_approval FROM panels WHERE id = ?`, t.PanelID).Scan(&t.BlockedEmailDomains, &t.AllowedEmailDomains,
			&t.RequireEmailConfirmation, &t.RequireApproval)
		if err != nil {
			return nil, err
		}
	}
	return &t, nil
}

func insertManageToken(tx *gorm.DB, tokenHash string, registrationID int64, now time.Time) error {
	_, err := execSQL(tx, "INSERT INTO manage_tokens (token_hash, registration_id, created_at) VALUES (?, ?, ?)",
		tokenHash, registrationID, now)
	return err
}

// validAnswers checks answers against the panel's questions inside the write
// transaction, so they match the questions as they are when stored. Most
// panels ask none, and then there is nothing more to read.
func validAnswers(tx *gorm.DB, t *signUpTarget, submitted map[int64][]string) ([]Answer, error) {
	var questions []Question
	if t.panelQuestions > 0 {
		var err error
		if questions, err = panelQuestions(tx, t.PanelID); err != nil {
			return nil, err
		}
	}
	answers, messages := checkAnswers(questions, submitted)
	if len(messages) > 0 {
		return nil, &ValidationError{Fields: messages}
	}
	return answers, nil
}

// withAnswerMessages adds the answers' messages to an invalid input's, so a
// form shows every problem at once without taking the write lock.
func (s *Store) withAnswerMessages(ctx context.Context, inputErr error, rules signUpRules, in RegistrationInput) error {
	var verr *ValidationError
	if !errors.As(inputErr, &verr) {
		return inputErr
	}
	db := s.read.WithContext(ctx)
	panelID := rules.panelID
	if rules.organizer {
		var ids []int64
		if err := db.Model(&Session{}).Where("id = ?", in.SessionID).Pluck("panel_id", &ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return inputErr
		}
		panelID = ids[0]
	}
	questions, err := panelQuestions(db, panelID)
	if err != nil {
		return err
	}
	_, messages := checkAnswers(questions, in.Answers)
	for field, msg := range messages {
		if _, seen := verr.Fields[field]; !seen {
			verr.Fields[field] = msg
		}
	}
	return verr
}

// registrationNotice is the email that tells a registrant where they stand:
// a confirmation with the invite, or the waitlist notice; once the session
// has ended, the replay link. Gating's come first: an address not yet
// confirmed is asked to confirm, a pending registration told it waits, a
// declined one that it was declined.
func registrationNotice(reg *Registration, sess *Session, token string, ended bool) OutboxMessage {
	msg := OutboxMessage{RegistrationID: reg.ID, ManageToken: token, Kind: KindWaitlisted}
	switch {
	case reg.Status == RegistrationDeclined:
		msg.Kind = KindDeclined
	case reg.Unconfirmed():
		msg.Kind = KindConfirmEmail // gating: nothing else until the address is confirmed
	case reg.Status == RegistrationPending:
		msg.Kind = KindPending
	case reg.OnDemand || (ended && reg.Status == RegistrationConfirmed):
		msg.Kind = KindOnDemand
	case reg.Status == RegistrationConfirmed:
		msg.Kind, msg.CalendarMethod, msg.Sequence = KindConfirmation, CalendarRequest, sess.Sequence
	}
	return msg
}

// claimSeat takes a seat if one is free, else a waitlist place if the session
// has a waitlist, else fails with ErrSessionFull.
func claimSeat(tx *gorm.DB, sess *Session) (RegistrationStatus, error) {
	claimed, err := takeSeat(tx, sess.ID)
	if err != nil {
		return "", err
	}
	switch {
	case claimed:
		return RegistrationConfirmed, nil
	case sess.Waitlist:
		return RegistrationWaitlisted, nil
	default:
		return "", ErrSessionFull
	}
}

// takeSeat is the guarded counter update; it reports whether a seat was free.
func takeSeat(tx *gorm.DB, sessionID int64) (bool, error) {
	r, err := execSQL(tx, `UPDATE sessions SET seats_taken = seats_taken + 1
		WHERE id = ? AND (capacity = 0 OR seats_taken < capacity)`, sessionID)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}

// releaseSeat gives a seat back to the session.
func releaseSeat(tx *gorm.DB, sessionID int64) error {
	_, err := execSQL(tx, "UPDATE sessions SET seats_taken = seats_taken - 1 WHERE id = ?", sessionID)
	return err
}

// RegistrationByToken finds the registration a manage token belongs to, with
// its session and panel.
func (s *Store) RegistrationByToken(ctx context.Context, token string) (*Registration, error) {
	if len(token) != 43 {
		return nil, ErrNotFound
	}
	var reg Registration
	err := s.read.WithContext(ctx).
		Preload("Session.Panel.Speakers", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Joins("JOIN manage_tokens ON manage_tokens.registration_id = registrations.id").
		Where("manage_tokens.token_hash = ?", hashToken(token)).
		Take(&reg).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &reg, err
}

// CancelResult is the outcome of a cancellation.
type CancelResult struct {
	Registration Registration
	// Promoted is the waitlisted registration that took the freed seat, if any.
	Promoted *Registration
}

// CancelByToken cancels the registration behind a manage token. Cancelling
// twice is harmless. A freed seat goes to the oldest waitlisted registrant in
// the same transaction.
func (s *Store) CancelByToken(ctx context.Context, token string) (*CancelResult, error) {
	reg, err := s.RegistrationByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.cancel(ctx, reg.ID)
}

func (s *Store) cancel(ctx context.Context, registrationID int64) (*CancelResult, error) {
	res := &CancelResult{}
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		// Two cancellations of one place at once (two instances) free
		// one seat: the second waits here and finds it cancelled.
		if err := s.dialect.lockRows(tx, "SELECT id FROM registrations WHERE id = ?", registrationID); err != nil {
			return err
		}
		if err := tx.Preload("Session.Panel").Take(&res.Registration, registrationID).Error; err != nil {
			return err
		}
		reg := &res.Registration
		if reg.Status == RegistrationCancelled {
			return nil
		}
		if !now.Before(reg.Session.StartsAt) && !reg.OnDemand {
			return ErrRegistrationClosed
		}
		// A replay registration holds no seat and no invite.
		wasConfirmed := reg.Status == RegistrationConfirmed && !reg.OnDemand
		if err := tx.Model(reg).Updates(map[string]any{
			"status": RegistrationCancelled, "cancelled_at": now, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		reg.Status, reg.CancelledAt = RegistrationCancelled, &now
		if err := registrationEvent(tx, now, EventRegistrationCancelled, reg.ID); err != nil {
			return err
		}
		notice := OutboxMessage{RegistrationID: reg.ID, Kind: KindCancellation}
		if wasConfirmed {
			// Above every REQUEST sent for this session so far.
			notice.CalendarMethod, notice.Sequence = CalendarCancel, reg.Session.Sequence+1
		}
		if err := enqueue(tx, now, notice); err != nil || !wasConfirmed {
			return err
		}
		if err := releaseSeat(tx, reg.SessionID); err != nil {
			return err
		}
		promoted, err := promoteNext(tx, reg.SessionID, now)
		res.Promoted = promoted
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// promoteNext gives a free seat to the oldest waitlisted registration.
func promoteNext(tx *gorm.DB, sessionID int64, now time.Time) (*Registration, error) {
	var next Registration
	// An address not yet confirmed waits until it is (ConfirmEmail).
	err := tx.Where("session_id = ? AND status = ? AND confirm_by IS NULL", sessionID, RegistrationWaitlisted).
		Order("created_at, id").Take(&next).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var sequence int
	if err := tx.Model(&Session{}).Where("id = ?", sessionID).Pluck("sequence", &sequence).Error; err != nil {
		return nil, err
	}
	if promoted, err := promote(tx, &next, sequence, now); err != nil || !promoted {
		return nil, err
	}
	return &next, nil
}

// promote gives a waitlisted registration a seat if one is free: the
// guarded counter, the status, and the promotion email with the invite, all
// in the caller's transaction. It reports whether a seat was free.
func promote(tx *gorm.DB, reg *Registration, sequence int, now time.Time) (bool, error) {
	claimed, err := takeSeat(tx, reg.SessionID)
	if err != nil || !claimed {
		return false, err
	}
	reg.Status, reg.UpdatedAt = RegistrationConfirmed, now
	if err := tx.Model(reg).Updates(map[string]any{"status": reg.Status, "updated_at": now}).Error; err != nil {
		return false, err
	}
	if err := enqueueWithToken(tx, now, reg, OutboxMessage{
		Kind: KindPromoted, CalendarMethod: CalendarRequest, Sequence: sequence,
	}); err != nil {
		return false, err
	}
	return true, registrationEvent(tx, now, EventRegistrationPromoted, reg.ID)
}

// RegistrationCounts counts a session's registrations by status.
func (s *Store) RegistrationCounts(ctx context.Context, sessionID int64) (map[RegistrationStatus]int, error) {
	var rows []struct {
		Status RegistrationStatus
		N      int
	}
	err := s.read.WithContext(ctx).Model(&Registration{}).Select("status, COUNT(*) AS n").
		Where("session_id = ?", sessionID).Group("status").Scan(&rows).Error
	counts := map[RegistrationStatus]int{}
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, err
}
