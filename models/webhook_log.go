package models

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"
)

// WebhookHealth is how an endpoint has been doing lately.
type WebhookHealth struct {
	// Delivered and Failed count attempts in the last 24 hours.
	Delivered, Failed int
	// Queued counts deliveries waiting for their first try or a retry.
	Queued        int
	LastAttemptAt *time.Time
}

// deliveredSQL is an attempt that succeeded: a 2xx, with no error.
const deliveredSQL = "(error = '' AND status_code BETWEEN 200 AND 299)"

// WebhookEndpointHealth sums up an endpoint's recent attempts.
func (s *Store) WebhookEndpointHealth(ctx context.Context, id int64) (WebhookHealth, error) {
	var h WebhookHealth
	db := s.read.WithContext(ctx)
	since := s.Now().Add(-24 * time.Hour)
	var row struct {
		Delivered, Failed int
		Last              *time.Time
	}
	err := db.Table("webhook_attempts").
		Select(`COALESCE(SUM(CASE WHEN `+deliveredSQL+` THEN 1 ELSE 0 END), 0) AS delivered,
			COALESCE(SUM(CASE WHEN `+deliveredSQL+` THEN 0 ELSE 1 END), 0) AS failed`).
		Where("endpoint_id = ? AND attempted_at >= ?", id, since).Scan(&row).Error
	if err != nil {
		return h, err
	}
	h.Delivered, h.Failed = row.Delivered, row.Failed
	var last []time.Time
	if err := db.Table("webhook_attempts").Where("endpoint_id = ?", id).Order("id DESC").Limit(1).
		Pluck("attempted_at", &last).Error; err != nil {
		return h, err
	}
	if len(last) == 1 {
		h.LastAttemptAt = &last[0]
	}
	var queued int64
	err = db.Table(string(webhookQueue)).Where("endpoint_id = ? AND status IN ?", id,
		[]OutboxStatus{OutboxQueued, OutboxSending}).Count(&queued).Error
	h.Queued = int(queued)
	return h, err
}

// WebhookAttempt is one try of a delivery, for the delivery log.
type WebhookAttempt struct {
	ID          int64
	DeliveryID  int64
	AttemptedAt time.Time
	EventType   string
	StatusCode  int
	Error       string
	DurationMS  int
	// Delivered is the delivery's state now: a later attempt may have
	// succeeded where this one failed.
	DeliveryStatus string
}

// WebhookAttempts lists an endpoint's attempts, newest first, below the
// cursor before (0 for the newest).
func (s *Store) WebhookAttempts(ctx context.Context, endpointID, before int64, limit int) ([]WebhookAttempt, error) {
	q := s.read.WithContext(ctx).Table("webhook_attempts a").
		Select(`a.id, a.delivery_id, a.attempted_at, e.type AS event_type, a.status_code, a.error, a.duration_ms,
			d.status AS delivery_status`).
		Joins("JOIN webhook_deliveries d ON d.id = a.delivery_id").
		Joins("JOIN webhook_events e ON e.id = d.event_id").
		Where("a.endpoint_id = ?", endpointID).Order("a.id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("a.id < ?", before)
	}
	var out []WebhookAttempt
	return out, q.Scan(&out).Error
}

// ReplayWebhookDelivery sends a delivery of the endpoint's again, now,
// with the same webhook-id, whatever its state: its retries start over.
func (s *Store) ReplayWebhookDelivery(ctx context.Context, endpointID, deliveryID int64) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		r := tx.Table(string(webhookQueue)).Where("id = ? AND endpoint_id = ? AND status <> ?", deliveryID, endpointID, OutboxSending).
			Updates(map[string]any{"status": OutboxQueued, "attempts": 0, "next_attempt_at": s.Now(), "lease_until": nil,
				"delivered_at": nil})
		if r.Error != nil || r.RowsAffected == 1 {
			return r.Error
		}
		var n int64
		if err := tx.Table(string(webhookQueue)).Where("id = ? AND endpoint_id = ?", deliveryID, endpointID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return &Error{Code: CodeConflict, Title: "Being sent", Message: "This delivery is being sent right now."}
	})
}

// SendTestWebhook queues a webhook.test event to this endpoint only,
// whatever it subscribes to, so its owner can check the receiver.
func (s *Store) SendTestWebhook(ctx context.Context, endpointID int64) (int64, error) {
	var eventID int64
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var ep WebhookEndpoint
		if err := tx.Take(&ep, endpointID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		now := s.Now()
		body, err := json.Marshal(webhookBody{Type: EventWebhookTest, Timestamp: RFC3339(now),
			Data: map[string]any{"endpoint_id": ep.ID, "message": "A test event from Podium."}})
		if err != nil {
			return err
		}
		event := webhookEventRow{Type: EventWebhookTest, Body: string(body), CreatedAt: now}
		if err := tx.Table("webhook_events").Create(&event).Error; err != nil {
			return err
		}
		eventID = event.ID
		_, err = execSQL(tx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
			VALUES (?, ?, 'queued', 0, ?, ?)`, ep.ID, event.ID, now, now)
		return err
	})
	return eventID, err
}
