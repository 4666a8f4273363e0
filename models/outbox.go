package models

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"
)

// OutboxKind names why an email is sent.
type OutboxKind string

// Email kinds.
const (
	KindConfirmation     OutboxKind = "confirmation"
	KindWaitlisted       OutboxKind = "waitlisted"
	KindPromoted         OutboxKind = "promoted"
	KindCancellation     OutboxKind = "cancellation"
	KindSessionUpdated   OutboxKind = "session_updated"
	KindSessionCancelled OutboxKind = "session_cancelled"
	KindReminder         OutboxKind = "reminder"
	// KindOnDemand confirms a registration for the replay, with its link.
	KindOnDemand OutboxKind = "on_demand"
	// KindFollowUpAttended thanks an attendee after the session;
	// KindFollowUpAbsent is the "sorry we missed you".
	KindFollowUpAttended OutboxKind = "follow_up_attended"
	KindFollowUpAbsent   OutboxKind = "follow_up_absent"
	// Gating's: confirm your address, your request waits for approval, the
	// organizer declined it.
	KindConfirmEmail OutboxKind = "confirm_email"
	KindPending      OutboxKind = "pending"
	KindDeclined     OutboxKind = "declined"
)

// CarriesJoinLink reports whether an email of this kind gives a confirmed
// registrant their personal join link.
func (k OutboxKind) CarriesJoinLink() bool {
	return k == KindConfirmation || k == KindPromoted || k == KindSessionUpdated || k == KindReminder
}

// CarriesReplayLink reports whether an email of this kind gives the
// registrant their personal replay link (when there is a recording).
func (k OutboxKind) CarriesReplayLink() bool {
	return k == KindOnDemand || k == KindFollowUpAttended || k == KindFollowUpAbsent
}

// OutboxStatus is where a message stands in delivery.
type OutboxStatus string

// Outbox statuses.
const (
	OutboxQueued  OutboxStatus = "queued"
	OutboxSending OutboxStatus = "sending"
	OutboxSent    OutboxStatus = "sent"
	OutboxFailed  OutboxStatus = "failed"
	// OutboxSkipped marks a message overtaken by events (a reminder for a
	// session that has started, a confirmation for a cancelled registration).
	OutboxSkipped OutboxStatus = "skipped"
)

// Calendar methods an outbox message can carry.
const (
	CalendarRequest = "REQUEST"
	CalendarCancel  = "CANCEL"
)

// OutboxMessage is one email waiting for, or done with, delivery.
type OutboxMessage struct {
	ID              int64
	Kind            OutboxKind
	RegistrationID  int64
	Registration    *Registration
	ManageToken     string // cleared once delivered
	CalendarMethod  string // "", REQUEST or CANCEL
	Sequence        int    // the calendar SEQUENCE, fixed so a retry repeats it
	ReminderMinutes int
	Status          OutboxStatus
	Attempts        int
	NextAttemptAt   time.Time
	LeaseUntil      *time.Time
	LastError       string
	CreatedAt       time.Time
	SentAt          *time.Time
	// UnsubscribeToken is a reminder's one-click "stop reminders" link
	// (StopReminders), set when the message is claimed; never stored.
	UnsubscribeToken string `gorm:"-"`
	// JoinToken and WatchToken are the registrant's personal join and
	// replay links (see linkToken), set when a message that carries one is
	// claimed; never stored in the outbox.
	JoinToken  string `gorm:"-"`
	WatchToken string `gorm:"-"`
}

// Delivery policy.
const (
	// MaxDeliveryAttempts with the backoff below spreads retries over about a day.
	MaxDeliveryAttempts = 30
	// DefaultRetryDelay is the wait after a first failed attempt.
	DefaultRetryDelay = 30 * time.Second
	maxRetryDelay     = time.Hour
	maxErrorLength    = 500
)

// enqueue writes a message inside the caller's transaction. It is on every
// sign-up's critical path, so it is one plain INSERT.
func enqueue(tx *gorm.DB, now time.Time, msg OutboxMessage) error {
	_, err := execSQL(tx, `INSERT INTO outbox_messages (kind, registration_id, manage_token, calendar_method, sequence,
		reminder_minutes, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		msg.Kind, msg.RegistrationID, msg.ManageToken, msg.CalendarMethod, msg.Sequence,
		msg.ReminderMinutes, OutboxQueued, now, now)
	return err
}

// enqueueWithToken mints a manage link for reg and queues a message carrying it.
func enqueueWithToken(tx *gorm.DB, now time.Time, reg *Registration, msg OutboxMessage) error {
	token, hash := newManageToken()
	if err := tx.Create(&ManageToken{TokenHash: hash, RegistrationID: reg.ID, CreatedAt: now}).Error; err != nil {
		return err
	}
	msg.RegistrationID, msg.ManageToken = reg.ID, token
	return enqueue(tx, now, msg)
}

// ClaimOutbox leases up to limit due messages for delivery, with their
// registration, session and panel. A message whose lease ran out (its sender
// died) is due again.
func (s *Store) ClaimOutbox(ctx context.Context, limit int, lease time.Duration) ([]OutboxMessage, error) {
	var ids []int64
	var links claimedLinks
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		var err error
		ids, err = s.dialect.claimDue(tx, mailQueue, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		err = tx.Model(&OutboxMessage{}).Where("id IN ?", ids).Updates(map[string]any{
			"status": OutboxSending, "lease_until": now.Add(lease), "attempts": gorm.Expr("attempts + 1"),
		}).Error
		if err != nil {
			return err
		}
		links, err = s.claimLinks(tx, now, ids)
		return err
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var msgs []OutboxMessage
	err = preloadMessage(s.read.WithContext(ctx)).
		Where("id IN ?", ids).Order("id").Find(&msgs).Error
	if err != nil {
		return nil, err
	}
	for i := range msgs {
		m := &msgs[i]
		// A batch may hold a join link's email and a replay link's for one
		// registrant: each carries only its own kind's.
		if m.Kind.CarriesJoinLink() {
			m.JoinToken = links.join[m.RegistrationID]
		}
		if m.Kind.CarriesReplayLink() {
			m.WatchToken = links.watch[m.RegistrationID]
		}
		if m.Kind == KindReminder {
			if m.UnsubscribeToken, err = s.UnsubscribeToken(m.RegistrationID); err != nil {
				return nil, err
			}
		}
	}
	return msgs, nil
}

// claimedLinks are the personal link tokens of a claimed batch's
// registrations, by registration id.
type claimedLinks struct{ join, watch map[int64]string }

// claimLinks mints (and stores the hashes of) the personal links the
// claimed messages carry, in the claim's transaction: the join link for the
// emails that give it, the replay link for the others that need one.
func (s *Store) claimLinks(tx *gorm.DB, now time.Time, ids []int64) (claimedLinks, error) {
	var rows []struct {
		RegistrationID int64
		Kind           OutboxKind
	}
	var out claimedLinks
	if err := tx.Model(&OutboxMessage{}).Select("registration_id, kind").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return out, err
	}
	var join, watch []int64
	for _, r := range rows {
		switch {
		case r.Kind.CarriesJoinLink():
			join = append(join, r.RegistrationID)
		case r.Kind.CarriesReplayLink():
			watch = append(watch, r.RegistrationID)
		}
	}
	var err error
	if out.join, err = s.linkTokens(tx, LinkJoin, now, join); err != nil {
		return out, err
	}
	out.watch, err = s.linkTokens(tx, LinkWatch, now, watch)
	return out, err
}

// DeliveryResult is the outcome of one delivery attempt.
type DeliveryResult struct {
	ID  int64
	Err error
	// Permanent means retrying cannot help (the server refused with 5xx).
	Permanent bool
	// Skip means the message was overtaken by events and was not sent.
	Skip bool
	// Attempts is the message's attempt count including this one, as
	// claimed. Every claim raises it, so it also names the claim: a result
	// is recorded only while the message is still under that claim.
	Attempts int
}

// RecordDeliveries stores a batch of outcomes in one transaction: delivered
// messages lose their manage token, temporary failures are retried with
// exponential backoff and jitter, and permanent ones fail at once. An
// outcome is recorded only while its message is under the claim it was
// delivered under: a sender slower than its lease, whose message another
// instance has claimed since, changes nothing.
func (s *Store) RecordDeliveries(ctx context.Context, results []DeliveryResult) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		// Delivered messages, nearly all of a batch, share one statement:
		// this transaction holds the write lock that sign-ups wait for.
		var sent [][]any
		for _, r := range results {
			if r.Outcome() == OutboxSent {
				sent = append(sent, []any{r.ID, r.Attempts})
				continue
			}
			if err := tx.Model(&OutboxMessage{}).Where("id = ? AND attempts = ? AND status = ?", r.ID, r.Attempts, OutboxSending).
				Updates(deliveryUpdate(r, now, s.retryDelay)).Error; err != nil {
				return err
			}
		}
		if len(sent) == 0 {
			return nil
		}
		delivered := DeliveryResult{} // no error: the update of a sent message
		return tx.Model(&OutboxMessage{}).Where("(id, attempts) IN ? AND status = ?", sent, OutboxSending).
			Updates(deliveryUpdate(delivered, now, s.retryDelay)).Error
	})
}

// Outcome is the status a delivery attempt leaves its message in: sent,
// skipped, failed (permanently refused, or out of attempts) or queued again.
func (r DeliveryResult) Outcome() OutboxStatus {
	switch {
	case r.Skip:
		return OutboxSkipped
	case r.Err == nil:
		return OutboxSent
	case r.Permanent || r.Attempts >= MaxDeliveryAttempts:
		return OutboxFailed
	}
	return OutboxQueued
}

func deliveryUpdate(r DeliveryResult, now time.Time, first time.Duration) map[string]any {
	switch r.Outcome() {
	case OutboxSkipped:
		return map[string]any{"status": OutboxSkipped, "manage_token": "", "lease_until": nil, "last_error": errorText(r.Err)}
	case OutboxSent:
		return map[string]any{"status": OutboxSent, "manage_token": "", "lease_until": nil, "sent_at": now, "last_error": ""}
	case OutboxFailed:
		return map[string]any{"status": OutboxFailed, "lease_until": nil, "last_error": errorText(r.Err)}
	}
	return map[string]any{
		"status": OutboxQueued, "lease_until": nil, "last_error": errorText(r.Err),
		"next_attempt_at": now.Add(RetryDelay(first, r.Attempts)),
	}
}

// OldestWaiting is when the oldest message not yet sent, failed or skipped
// was queued, for monitoring; zero when none waits.
func (s *Store) OldestWaiting(ctx context.Context) (time.Time, error) {
	var oldest []time.Time
	err := s.read.WithContext(ctx).Model(&OutboxMessage{}).
		Where("status IN ?", []OutboxStatus{OutboxQueued, OutboxSending}).
		Order("id").Limit(1).Pluck("created_at", &oldest).Error
	if err != nil || len(oldest) == 0 {
		return time.Time{}, err
	}
	return oldest[0], nil
}

// RetryDelay is the wait after the given number of failed attempts: doubling
// from first (30 seconds by default) up to an hour, with ±20% jitter so a
// recovering mail server is not hit by every message at once.
func RetryDelay(first time.Duration, attempts int) time.Duration {
	d := first
	for i := 1; i < attempts && d < maxRetryDelay; i++ {
		d *= 2
	}
	d = min(d, maxRetryDelay)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func errorText(err error) string {
	if err == nil {
		return ""
	}
	return clip(err.Error(), maxErrorLength)
}

// busyDeliveryLockKey is held by the one busy instance delivering mail at
// the moment ("podbsy" in ASCII).
const busyDeliveryLockKey = 0x706f64627379

// AsBusyDeliverer runs fn, one delivery batch of a server that is busy
// serving people, unless another instance on the same PostgreSQL is doing
// so right now; it reports whether fn ran. On SQLite it always runs fn:
// one process serves the file.
func (s *Store) AsBusyDeliverer(ctx context.Context, fn func() error) (bool, error) {
	return s.dialect.exclusive(ctx, s.write, busyDeliveryLockKey, false, fn)
}

// ReleaseInFlight makes every message left in "sending" by a process that
// died due again; it runs at start, before any worker claims. On PostgreSQL
// it does nothing: other live instances may hold those messages, and a dead
// instance's lease runs out instead (ClaimOutbox).
func (s *Store) ReleaseInFlight(ctx context.Context) (int64, error) {
	return s.releaseInFlight(ctx, mailQueue)
}

// ReleaseWebhooksInFlight is ReleaseInFlight for webhook deliveries.
func (s *Store) ReleaseWebhooksInFlight(ctx context.Context) (int64, error) {
	return s.releaseInFlight(ctx, webhookQueue)
}

func (s *Store) releaseInFlight(ctx context.Context, queue deliveryQueue) (int64, error) {
	if !s.dialect.releasesAtStart() {
		return 0, nil
	}
	var n int64
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		r := tx.Table(string(queue)).Where("status = ?", OutboxSending).
			Updates(map[string]any{"status": OutboxQueued, "lease_until": nil, "next_attempt_at": s.Now()})
		n = r.RowsAffected
		return r.Error
	})
	return n, err
}

// ResendMessage queues a failed message again, as an organizer's resend.
func (s *Store) ResendMessage(ctx context.Context, id int64) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&OutboxMessage{}).Where("id = ? AND status = ?", id, OutboxFailed).
			Updates(map[string]any{"status": OutboxQueued, "attempts": 0, "next_attempt_at": s.Now(), "last_error": ""})
		if r.Error == nil && r.RowsAffected == 0 {
			return ErrNotFound
		}
		return r.Error
	})
}

// OutboxCounts counts messages by status.
func (s *Store) OutboxCounts(ctx context.Context) (map[OutboxStatus]int, error) {
	var rows []struct {
		Status OutboxStatus
		N      int
	}
	err := s.read.WithContext(ctx).Model(&OutboxMessage{}).Select("status, COUNT(*) AS n").
		Group("status").Scan(&rows).Error
	counts := map[OutboxStatus]int{}
	for _, r := range rows {
		counts[r.Status] = r.N
	}
	return counts, err
}

// RecentMessages lists messages newest first, with id below before (0 for
// the newest), for the mail viewer.
func (s *Store) RecentMessages(ctx context.Context, before int64, limit int) ([]OutboxMessage, error) {
	q := preloadMessage(s.read.WithContext(ctx)).Order("id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var msgs []OutboxMessage
	return msgs, q.Find(&msgs).Error
}

// OutboxMessageByID returns one message with its registration, session and panel.
func (s *Store) OutboxMessageByID(ctx context.Context, id int64) (*OutboxMessage, error) {
	var msg OutboxMessage
	err := preloadMessage(s.read.WithContext(ctx)).Take(&msg, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &msg, err
}

// preloadMessage loads what rendering a message needs: the registration, its
// session, the panel and the panel's speakers in order.
func preloadMessage(db *gorm.DB) *gorm.DB {
	return db.Preload("Registration.Session.Panel.Speakers", func(db *gorm.DB) *gorm.DB { return db.Order("position") })
}
