package models

import (
	"context"
	"time"
)

// Audited actions.
const (
	AuditRegistrantsExported = "registrants.exported"
	AuditWebhookCreated      = "webhook.created"
	AuditWebhookChanged      = "webhook.changed"
	AuditWebhookDeleted      = "webhook.deleted"
	AuditWebhookSecretRotate = "webhook.secret_rotated"
	AuditLeadsExported       = "leads.exported"
	AuditShareLinkCreated    = "share_link.created"
	AuditShareLinkRevoked    = "share_link.revoked"
	AuditPersonAccessed      = "person.accessed"
	AuditPersonErased        = "person.erased"
	// AuditRegistrantsExpired is the retention job's erasure of a panel's
	// registrants.
	AuditRegistrantsExpired = "registrants.expired"
)

// AuditEntry is one line of the audit log: who took people's data out of
// Podium, or changed where it flows, when, and how many rows.
type AuditEntry struct {
	ID        int64
	AccountID *int64
	// Actor names who did it as they were then: an account's address and
	// role, so the line survives the account's deletion.
	Actor string
	// Channel is admin, api, system (the jobs) or manage (the person's own
	// page).
	Channel   Channel
	Action    string
	Subject   string
	RowCount  int
	CreatedAt time.Time
}

// TableName is the audit log's table.
func (AuditEntry) TableName() string { return "audit_log" }

// AuditActor is how an account appears in the audit log.
func AuditActor(acc *Account) (id *int64, actor string) {
	if acc == nil {
		return nil, "Podium"
	}
	return &acc.ID, acc.Email + " (" + string(acc.Role) + ")"
}

// Audit records an entry, stamped now.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	e.ID, e.CreatedAt = 0, s.Now()
	return s.write.WithContext(ctx).Create(&e).Error
}

// AuditLog lists entries newest first, below the cursor before (0 for the
// newest).
func (s *Store) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	q := s.read.WithContext(ctx).Order("id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var out []AuditEntry
	return out, q.Find(&out).Error
}
