package models

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// webhookBody is every event's body (Standard Webhooks' shape).
type webhookBody struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      any    `json:"data"`
}

// RegistrationEventData is a registration event's data: enough for a CRM
// without a second call.
type RegistrationEventData struct {
	RegistrationID int64  `json:"registration_id"`
	Status         string `json:"status"`
	OnDemand       bool   `json:"on_demand"`
	Name           string `json:"name"`
	Email          string `json:"email"`
	Organisation   string `json:"organisation"`
	JobTitle       string `json:"job_title"`
	// Source is utm_source, under its first name.
	Source          string  `json:"source"`
	UTMSource       string  `json:"utm_source"`
	UTMMedium       string  `json:"utm_medium"`
	UTMCampaign     string  `json:"utm_campaign"`
	UTMTerm         string  `json:"utm_term"`
	UTMContent      string  `json:"utm_content"`
	Referrer        string  `json:"referrer"`
	RegisteredAt    string  `json:"registered_at"`
	Attendance      string  `json:"attendance"`
	AttendedMinutes *int    `json:"attended_minutes"`
	JoinedAt        *string `json:"joined_at"`
	WatchedAt       *string `json:"watched_at"`
	SessionEventData
}

// SessionEventData is a session event's data, and the session part of a
// registration event's.
type SessionEventData struct {
	SessionID       int64  `json:"session_id"`
	SessionStartsAt string `json:"session_starts_at"`
	SessionEndsAt   string `json:"session_ends_at"`
	SessionTimeZone string `json:"session_time_zone"`
	SessionStatus   string `json:"session_status"`
	PanelID         int64  `json:"panel_id"`
	PanelSlug       string `json:"panel_slug"`
	PanelTitle      string `json:"panel_title"`
}

// RFC3339 is how Podium writes an instant in JSON (the API, webhook
// bodies): RFC 3339 in UTC, to the second.
func RFC3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// RFC3339Ptr is RFC3339 of an optional instant: nil stays nil (null).
func RFC3339Ptr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := RFC3339(*t)
	return &s
}

func sessionEventData(s *Session, p *Panel) SessionEventData {
	return SessionEventData{SessionID: s.ID, SessionStartsAt: RFC3339(s.StartsAt), SessionEndsAt: RFC3339(s.EndsAt()),
		SessionTimeZone: s.TimeZone, SessionStatus: string(s.Status), PanelID: p.ID, PanelSlug: p.Slug, PanelTitle: p.Title}
}

// webhooksWant reports whether an active endpoint wants eventType, in tx.
func webhooksWant(tx *gorm.DB, eventType string) (bool, error) {
	var want bool
	err := queryRowSQL(tx, "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE "+wantsType(eventType)+")").Scan(&want)
	return want, err
}

// enqueueWebhook writes an event and one delivery to each active endpoint
// that wants its type, in the caller's transaction, so an event goes out
// exactly when its change commits. With no such endpoint it writes nothing.
// data is built only when needed.
func enqueueWebhook(tx *gorm.DB, now time.Time, eventType string, registrationID int64, data func() (any, error)) error {
	want, err := webhooksWant(tx, eventType)
	if err != nil || !want {
		return err
	}
	d, err := data()
	if err != nil {
		return err
	}
	body, err := json.Marshal(webhookBody{Type: eventType, Timestamp: RFC3339(now), Data: d})
	if err != nil {
		return err
	}
	var regID sql.NullInt64
	if registrationID != 0 {
		regID = sql.NullInt64{Int64: registrationID, Valid: true}
	}
	event := webhookEventRow{Type: eventType, Body: string(body), RegistrationID: regID, CreatedAt: now}
	if err := tx.Table("webhook_events").Create(&event).Error; err != nil {
		return err
	}
	_, err = execSQL(tx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
		SELECT id, ?, 'queued', 0, ?, ? FROM webhook_endpoints WHERE `+wantsType(eventType),
		event.ID, now, now)
	return err
}

// webhookEventRow is a row of webhook_events.
type webhookEventRow struct {
	ID             int64
	Type           string
	Body           string
	RegistrationID sql.NullInt64
	CreatedAt      time.Time
}

// registrationEvent queues a registration event with the registration as
// it is now in tx.
func registrationEvent(tx *gorm.DB, now time.Time, eventType string, registrationID int64) error {
	return enqueueWebhook(tx, now, eventType, registrationID, func() (any, error) {
		var reg Registration
		if err := tx.Preload("Session.Panel").Take(&reg, registrationID).Error; err != nil {
			return nil, err
		}
		return registrationEventData(&reg), nil
	})
}

// registrationEvents queues one event per registration, asking once
// whether any endpoint wants them.
func registrationEvents(tx *gorm.DB, now time.Time, eventType string, registrationIDs []int64) error {
	if want, err := webhooksWant(tx, eventType); err != nil || !want {
		return err
	}
	for _, id := range registrationIDs {
		if err := registrationEvent(tx, now, eventType, id); err != nil {
			return err
		}
	}
	return nil
}

func registrationEventData(r *Registration) RegistrationEventData {
	return RegistrationEventData{
		RegistrationID: r.ID, Status: string(r.Status), OnDemand: r.OnDemand, Name: r.Name, Email: r.Email,
		Organisation: r.Organisation, JobTitle: r.JobTitle, Source: r.Source, UTMSource: r.Source,
		UTMMedium: r.Medium, UTMCampaign: r.Campaign, UTMTerm: r.Term, UTMContent: r.Content, Referrer: r.Referrer,
		RegisteredAt: RFC3339(r.CreatedAt), Attendance: string(r.Attendance), AttendedMinutes: r.AttendedMinutes,
		JoinedAt: RFC3339Ptr(r.JoinedAt), WatchedAt: RFC3339Ptr(r.WatchedAt),
		SessionEventData: sessionEventData(r.Session, r.Session.Panel),
	}
}

// sessionEvent queues a session event with the session as it is in tx.
func sessionEvent(tx *gorm.DB, now time.Time, eventType string, sessionID int64) error {
	return enqueueWebhook(tx, now, eventType, 0, func() (any, error) {
		var sess Session
		if err := tx.Preload("Panel").Take(&sess, sessionID).Error; err != nil {
			return nil, err
		}
		return sessionEventData(&sess, sess.Panel), nil
	})
}

// WebhookDelivery is a claimed delivery: what to send where, and how to
// sign it.
type WebhookDelivery struct {
	ID, EndpointID, EventID int64
	// Attempts counts this one; it names the claim (see RecordWebhookResults).
	Attempts  int
	URL       string
	Secrets   []string
	EventType string
	Body      []byte
}

// MessageID is the webhook-id header: the event's, the same on every
// retry and to every endpoint, the receiver's idempotency key.
func (d WebhookDelivery) MessageID() string { return "msg_" + strconv.FormatInt(d.EventID, 10) }

// ClaimWebhookDeliveries leases up to limit due deliveries, oldest first,
// with their endpoint's URL and signing secrets and their event's body.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, limit int, lease time.Duration) ([]WebhookDelivery, error) {
	var ids []int64
	now := s.Now()
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var err error
		if ids, err = s.dialect.claimDue(tx, webhookQueue, now, limit); err != nil || len(ids) == 0 {
			return err
		}
		// An endpoint turned off since (by its owner, a 410 or three days
		// of failures) gets nothing more: its deliveries fail unsent, and
		// the owner can send them again once it is back on.
		off := "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE active = FALSE)"
		if err := tx.Table(string(webhookQueue)).Where("id IN ?", ids).Where(off).
			Updates(map[string]any{"status": OutboxFailed, "lease_until": nil}).Error; err != nil {
			return err
		}
		return tx.Table(string(webhookQueue)).Where("id IN ?", ids).Not(off).Updates(map[string]any{
			"status": OutboxSending, "lease_until": now.Add(lease), "attempts": gorm.Expr("attempts + 1"),
		}).Error
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var rows []struct {
		ID, EndpointID, EventID int64
		Attempts                int
		Type, Body              string
		WebhookEndpoint         `gorm:"embedded;embeddedPrefix:ep_"`
	}
	err = s.read.WithContext(ctx).Table("webhook_deliveries d").
		Select(`d.id, d.endpoint_id, d.event_id, d.attempts, e.type, e.body, p.id AS ep_id, p.url AS ep_url,
			p.secret AS ep_secret, p.previous_secret AS ep_previous_secret,
			p.previous_secret_until AS ep_previous_secret_until`).
		Joins("JOIN webhook_events e ON e.id = d.event_id").
		Joins("JOIN webhook_endpoints p ON p.id = d.endpoint_id").
		Where("d.id IN ? AND d.status = ?", ids, OutboxSending).Order("d.id").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]WebhookDelivery, 0, len(rows))
	for _, r := range rows {
		secrets, err := s.SigningSecrets(&r.WebhookEndpoint, now)
		if err != nil {
			return nil, err
		}
		out = append(out, WebhookDelivery{ID: r.ID, EndpointID: r.EndpointID, EventID: r.EventID, Attempts: r.Attempts,
			URL: r.WebhookEndpoint.URL, Secrets: secrets, EventType: r.Type, Body: []byte(r.Body)})
	}
	return out, nil
}

// WebhookResult is the outcome of one delivery attempt.
type WebhookResult struct {
	ID, EndpointID int64
	// Attempts is the delivery's attempts as claimed: a result is recorded
	// only while the delivery is still under that claim.
	Attempts int
	// StatusCode is the receiver's answer, 0 when none came.
	StatusCode int
	// Err says why it failed, without the body; "" on success.
	Err      string
	Duration time.Duration
	// RetryAfter is what a 429 or 503 asked for, if anything.
	RetryAfter time.Duration
	// Gone is a 410: the receiver wants no more.
	Gone bool
}

// Succeeded reports a 2xx.
func (r WebhookResult) Succeeded() bool {
	return r.Err == "" && r.StatusCode >= 200 && r.StatusCode < 300
}

// webhookRetries are the waits after each failed attempt: Standard
// Webhooks' schedule (5 seconds, 5 minutes, 30 minutes, 2, 5, 10 and 10
// hours) and two more days, so a receiver down for about three days still
// gets everything; jittered by up to a tenth.
var webhookRetries = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour, 24 * time.Hour, 24 * time.Hour}

// Endpoint health.
const (
	// webhookFailingLimit disables an endpoint that has failed this long
	// without a success.
	webhookFailingLimit = 72 * time.Hour
	maxRetryAfter       = 24 * time.Hour
	maxWebhookError     = 300
)

// nextWebhookAttempt is when a delivery that failed its attempts-th attempt
// is tried again, or false when it has had its last.
func nextWebhookAttempt(now time.Time, attempts int, retryAfter time.Duration) (time.Time, bool) {
	if attempts < 1 || attempts > len(webhookRetries) {
		return time.Time{}, false
	}
	wait := webhookRetries[attempts-1]
	wait += time.Duration(rand.Int64N(int64(wait)/10 + 1))
	wait = max(wait, min(retryAfter, maxRetryAfter))
	return now.Add(wait), true
}

// DisabledEndpoint is an endpoint RecordWebhookResults turned off, for the
// worker to tell its owner.
type DisabledEndpoint struct {
	ID        int64
	URL       string
	Reason    string
	AccountID *int64
}

// RecordWebhookResults stores a batch of attempts in one transaction: each
// attempt in the delivery log; a success marks the delivery delivered and
// the endpoint healthy; a failure schedules the next try, or fails the
// delivery after its last. A 410 disables its endpoint at once, and so does
// failing for three days without a success. It returns the endpoints it
// disabled.
func (s *Store) RecordWebhookResults(ctx context.Context, results []WebhookResult) ([]DisabledEndpoint, error) {
	var disabled []DisabledEndpoint
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		disabled = disabled[:0]
		now := s.Now()
		for _, r := range results {
			off, err := s.recordWebhookResult(tx, now, r)
			if err != nil {
				return err
			}
			if off != nil {
				disabled = append(disabled, *off)
			}
		}
		return nil
	})
	return disabled, err
}

func (s *Store) recordWebhookResult(tx *gorm.DB, now time.Time, r WebhookResult) (*DisabledEndpoint, error) {
	status := "delivered"
	values := map[string]any{"lease_until": nil}
	switch next, again := nextWebhookAttempt(now, r.Attempts, r.RetryAfter); {
	case r.Succeeded():
		values["delivered_at"] = now
	case again && !r.Gone:
		status, values["next_attempt_at"] = string(OutboxQueued), next
	default:
		status = string(OutboxFailed)
	}
	values["status"] = status
	res := tx.Table(string(webhookQueue)).Where("id = ? AND status = ? AND attempts = ?", r.ID, OutboxSending, r.Attempts).
		Updates(values)
	if res.Error != nil || res.RowsAffected == 0 {
		return nil, res.Error // another claim has it now
	}
	_, err := execSQL(tx, `INSERT INTO webhook_attempts (delivery_id, endpoint_id, attempted_at, status_code, error, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?)`, r.ID, r.EndpointID, now, r.StatusCode, clip(r.Err, maxWebhookError), r.Duration.Milliseconds())
	if err != nil {
		return nil, err
	}
	return s.endpointHealth(tx, now, r)
}

// endpointHealth notes a success or failure on the endpoint, disabling it
// after a 410 or three days of failures.
func (s *Store) endpointHealth(tx *gorm.DB, now time.Time, r WebhookResult) (*DisabledEndpoint, error) {
	if r.Succeeded() {
		_, err := execSQL(tx, "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL", r.EndpointID)
		return nil, err
	}
	var ep WebhookEndpoint
	if err := tx.Take(&ep, r.EndpointID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if !ep.Active {
		return nil, nil
	}
	reason := ""
	switch {
	case r.Gone:
		reason = "The endpoint answered 410 Gone: it asked for no more events."
	case ep.FailingSince != nil && !now.Before(ep.FailingSince.Add(webhookFailingLimit)):
		reason = "Every delivery failed for three days."
	}
	values := map[string]any{"failing_since": gorm.Expr("COALESCE(failing_since, ?)", now)}
	if reason != "" {
		values["active"], values["disabled_reason"], values["updated_at"] = false, reason, now
	}
	if err := tx.Model(&WebhookEndpoint{ID: ep.ID}).UpdateColumns(values).Error; err != nil || reason == "" {
		return nil, err
	}
	return &DisabledEndpoint{ID: ep.ID, URL: ep.URL, Reason: reason, AccountID: ep.AccountID}, nil
}
