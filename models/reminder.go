package models

import (
	"context"
	"database/sql/driver"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Minutes is a list of reminder lead times in minutes, stored as "1440,60".
type Minutes []int

// DefaultReminders are a day and an hour before the start.
var DefaultReminders = Minutes{24 * 60, 60}

// Value stores the list as comma-separated text.
func (m Minutes) Value() (driver.Value, error) {
	parts := make([]string, len(m))
	for i, v := range m {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ","), nil
}

// Scan reads the comma-separated text.
func (m *Minutes) Scan(src any) error {
	text, err := scanText("minutes", src)
	if err != nil {
		return err
	}
	*m = nil
	for _, part := range strings.Split(text, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil {
			return fmt.Errorf("minutes: %w", err)
		}
		*m = append(*m, n)
	}
	return nil
}

// scanText reads a TEXT column for the list types' Scan methods.
func scanText(what string, src any) (string, error) {
	switch v := src.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case nil:
		return "", nil
	default:
		return "", fmt.Errorf("%s: cannot scan %T", what, src)
	}
}

// Limits on reminder rules.
const (
	maxReminderLead  = 14 * 24 * time.Hour
	maxReminderRules = 5
	reminderBatch    = 500
)

func validReminders(m Minutes) bool {
	if len(m) > maxReminderRules {
		return false
	}
	for _, v := range m {
		// Compared in minutes: a huge number of minutes overflows a Duration.
		if v <= 0 || v > int(maxReminderLead/time.Minute) {
			return false
		}
	}
	return true
}

// reminderStaleAfter is how long after its due time a reminder may still go
// out: a quarter of its lead (6 hours for a day's notice, 15 minutes for an
// hour's). A server that was down longer skips it rather than send it late.
func reminderStaleAfter(minutes int) time.Duration {
	return max(time.Duration(minutes)*time.Minute/4, 5*time.Minute)
}

// EnqueueDueReminders queues every reminder that is due now: for each rule of
// each upcoming session, to confirmed registrants who registered before the
// reminder's time and have not had it. It returns how many it queued.
func (s *Store) EnqueueDueReminders(ctx context.Context) (int, error) {
	now := s.Now()
	var sessions []Session
	err := s.read.WithContext(ctx).Joins("Panel").
		Where(`"Panel".status = ? AND sessions.status = ?`, PanelPublished, SessionScheduled).
		Where("sessions.starts_at > ? AND sessions.starts_at <= ?", now, now.Add(maxReminderLead)).
		Find(&sessions).Error
	if err != nil {
		return 0, err
	}
	total := 0
	for _, sess := range sessions {
		for _, minutes := range sess.Panel.ReminderMinutes {
			due := sess.StartsAt.Add(-time.Duration(minutes) * time.Minute)
			if now.Before(due) || !now.Before(due.Add(reminderStaleAfter(minutes))) {
				continue
			}
			n, err := s.enqueueReminders(ctx, sess.PanelID, sess.ID, minutes, due)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// enqueueReminders queues one rule's reminders in batches, each its own
// short write transaction, to everyone who has not stopped the panel's
// reminders (StopReminders).
func (s *Store) enqueueReminders(ctx context.Context, panelID, sessionID int64, minutes int, due time.Time) (int, error) {
	total := 0
	for {
		var regs []Registration
		err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
			err := tx.Where("session_id = ? AND status = ? AND confirm_by IS NULL AND created_at < ?",
				sessionID, RegistrationConfirmed, due).
				Where(`NOT EXISTS (SELECT 1 FROM outbox_messages o
					WHERE o.registration_id = registrations.id AND o.kind = ? AND o.reminder_minutes = ?)`,
					KindReminder, minutes).
				Where(`NOT EXISTS (SELECT 1 FROM email_opt_outs x
					WHERE x.panel_id = ? AND x.email_key = registrations.email_key)`, panelID).
				Order("id").Limit(reminderBatch).Find(&regs).Error
			if err != nil {
				return err
			}
			return enqueueBatch(tx, s.Now(), regs, OutboxMessage{Kind: KindReminder, ReminderMinutes: minutes}, true)
		})
		total += len(regs)
		if err != nil || len(regs) < reminderBatch {
			return total, err
		}
	}
}

// enqueueBatch queues one message per registration from a template message,
// minting a manage link for each when withToken is set.
func enqueueBatch(tx *gorm.DB, now time.Time, regs []Registration, tmpl OutboxMessage, withToken bool) error {
	if len(regs) == 0 {
		return nil
	}
	msgs := make([]OutboxMessage, len(regs))
	var tokens []ManageToken
	for i, reg := range regs {
		msg := tmpl
		msg.RegistrationID, msg.Status, msg.NextAttemptAt, msg.CreatedAt = reg.ID, OutboxQueued, now, now
		if withToken {
			token, hash := newManageToken()
			msg.ManageToken = token
			tokens = append(tokens, ManageToken{TokenHash: hash, RegistrationID: reg.ID, CreatedAt: now})
		}
		msgs[i] = msg
	}
	if len(tokens) > 0 {
		if err := tx.CreateInBatches(tokens, 250).Error; err != nil {
			return err
		}
	}
	return tx.CreateInBatches(msgs, 250).Error
}

// Overtaken reports whether a queued message no longer makes sense to send:
// a reminder once the session has started, an invite or reminder for a
// registration that was cancelled since, anything for a session that has ended.
func (m *OutboxMessage) Overtaken(now time.Time) bool {
	reg := m.Registration
	if reg == nil || reg.Session == nil {
		return true
	}
	sess := reg.Session
	switch {
	case !now.Before(sess.EndsAt()):
		return true
	case m.Kind == KindReminder:
		return !now.Before(sess.StartsAt) || reg.Status != RegistrationConfirmed || sess.Status != SessionScheduled
	case slices.Contains([]OutboxKind{KindConfirmation, KindPromoted, KindSessionUpdated, KindWaitlisted}, m.Kind):
		return reg.Status == RegistrationCancelled || sess.Status == SessionCancelled
	default:
		return false
	}
}
