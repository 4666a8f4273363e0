package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// FollowUpSettings say whether and how a panel's follow-up emails go out
// after each session: a "thanks for attending" to attendees and a "sorry
// we missed you" to the others, both with the replay link when there is a
// recording. Empty subjects and texts mean Podium's own wording.
type FollowUpSettings struct {
	Enabled       bool `gorm:"column:follow_ups"`
	DelayMinutes  int  `gorm:"column:follow_up_delay_minutes"`
	ThanksSubject string
	ThanksText    string
	MissedSubject string
	MissedText    string
}

// DefaultFollowUps are on, two hours after the session ends.
var DefaultFollowUps = FollowUpSettings{Enabled: true, DelayMinutes: 120}

// Limits on follow-up settings.
const (
	maxFollowUpDelay = 14 * 24 * 60 // minutes
	maxFollowUpText  = 5000
	// followUpHorizon is how long after its end a session's automatic
	// follow-ups may still go out (after an outage, say); older sessions
	// are left alone.
	followUpHorizon = 7 * 24 * time.Hour
)

func (f *FollowUpSettings) check(v *validator) {
	f.ThanksSubject, f.MissedSubject = strings.TrimSpace(f.ThanksSubject), strings.TrimSpace(f.MissedSubject)
	f.ThanksText, f.MissedText = strings.TrimSpace(f.ThanksText), strings.TrimSpace(f.MissedText)
	v.check(f.DelayMinutes >= 0 && f.DelayMinutes <= maxFollowUpDelay, "follow_ups.delay_minutes",
		"Send follow-ups between 0 minutes and 14 days after the session ends.")
	for field, text := range map[string]string{"follow_ups.thanks_subject": f.ThanksSubject, "follow_ups.missed_subject": f.MissedSubject} {
		v.check(len(text) <= maxShortText && isPlainLine(text), field,
			"Keep the subject to one line of at most 200 characters.")
	}
	for field, text := range map[string]string{"follow_ups.thanks_text": f.ThanksText, "follow_ups.missed_text": f.MissedText} {
		v.check(len(text) <= maxFollowUpText && isPlainText(text), field,
			"Keep the text under 5,000 characters, without control characters.")
	}
}

// followUpDue reports whether a session's automatic follow-ups are due at
// now: the panel's delay after the end, or at the end once an attendance
// report has been applied.
func followUpDue(sess *Session, delayMinutes int, now time.Time) bool {
	if !sess.Ended(now) {
		return false
	}
	if sess.AttendanceImportedAt != nil {
		return true
	}
	return !now.Before(sess.EndsAt().Add(time.Duration(delayMinutes) * time.Minute))
}

// QueueFollowUps queues a session's follow-ups now, whatever the panel's
// settings say (the organizer's "Send follow-ups now"): one per confirmed
// live registrant that has none yet, "thanks" to those who attended and
// "sorry we missed you" to everyone else, unknown counting as absent.
// Replay registrants, cancelled and waitlisted ones get none, nor do
// addresses that stopped the panel's non-essential emails. It reports how
// many were queued; asking again queues only for those still without one.
func (s *Store) QueueFollowUps(ctx context.Context, sessionID int64) (int, error) {
	var n int
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		sess, err := s.sessionForUpdate(tx, sessionID)
		if err != nil {
			return err
		}
		now := s.Now()
		switch {
		case sess.Status == SessionCancelled:
			return ErrSessionCancelled
		case !sess.Ended(now):
			return &Error{Code: CodeConflict, Title: "Not ended yet",
				Message: "Follow-ups go out once the session has ended."}
		}
		n, err = queueFollowUps(tx, sess, now)
		return err
	})
	return n, err
}

// queueFollowUps writes the session's follow-ups in one statement, the
// unique index outbox_follow_up_once keeping each registrant to one.
func queueFollowUps(tx *gorm.DB, sess *Session, now time.Time) (int, error) {
	res, err := execSQL(tx, `INSERT INTO outbox_messages (kind, registration_id, status, next_attempt_at, created_at)
		SELECT CASE WHEN r.attendance = 'attended' THEN 'follow_up_attended' ELSE 'follow_up_absent' END,
			r.id, 'queued', ?, ?
		FROM registrations r
		WHERE r.session_id = ? AND r.status = 'confirmed' AND r.on_demand = FALSE AND r.confirm_by IS NULL
			AND NOT EXISTS (SELECT 1 FROM email_opt_outs o WHERE o.panel_id = ? AND o.email_key = r.email_key)
		ON CONFLICT (registration_id) WHERE kind IN ('follow_up_attended', 'follow_up_absent') DO NOTHING`,
		now, now, sess.ID, sess.PanelID)
	if err != nil {
		return 0, err
	}
	queued, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	_, err = execSQL(tx, "UPDATE sessions SET follow_ups_queued_at = COALESCE(follow_ups_queued_at, ?) WHERE id = ?",
		now, sess.ID)
	return int(queued), err
}

// QueueDueFollowUps queues the automatic follow-ups of every session whose
// time has come (see followUpDue), once per session, and reports how many
// emails it queued.
func (s *Store) QueueDueFollowUps(ctx context.Context) (int, error) {
	now := s.Now()
	var due []struct {
		Session
		DelayMinutes int
	}
	err := s.read.WithContext(ctx).Model(&Session{}).
		Select("sessions.*, panels.follow_up_delay_minutes AS delay_minutes").
		Joins("JOIN panels ON panels.id = sessions.panel_id").
		Where("sessions.follow_ups_queued_at IS NULL AND sessions.status = ? AND panels.follow_ups = ?",
			SessionScheduled, true).
		Where("sessions.starts_at <= ? AND sessions.starts_at > ?", now,
			now.Add(-followUpHorizon-maxSessionDuration-maxFollowUpDelay*time.Minute)).
		Order("sessions.starts_at, sessions.id").Scan(&due).Error
	if err != nil {
		return 0, err
	}
	total := 0
	for i := range due {
		dueAt := due[i].EndsAt().Add(time.Duration(due[i].DelayMinutes) * time.Minute)
		if !followUpDue(&due[i].Session, due[i].DelayMinutes, now) || now.After(dueAt.Add(followUpHorizon)) {
			continue
		}
		err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
			sess, err := s.sessionForUpdate(tx, due[i].ID)
			if err != nil || sess.FollowUpsQueuedAt != nil || sess.Status != SessionScheduled {
				return err // another instance or the organizer got there first
			}
			n, err := queueFollowUps(tx, sess, now)
			total += n
			return err
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
