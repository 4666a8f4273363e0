package models

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql/driver"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Webhook event types (the "type" of each body).
const (
	EventRegistrationCreated   = "registration.created"
	EventRegistrationPromoted  = "registration.promoted"
	EventRegistrationCancelled = "registration.cancelled"
	EventSessionUpdated        = "session.updated"
	EventSessionCancelled      = "session.cancelled"
	EventAttendanceRecorded    = "attendance.recorded"
	// EventRegistrationErased tells a CRM that a registration's person had
	// their data erased, so it can erase its copy: the body names no one.
	EventRegistrationErased = "registration.erased"
	// EventWebhookTest is what "send a test event" sends, to one endpoint.
	EventWebhookTest = "webhook.test"
)

// WebhookEventTypes are the types an endpoint can subscribe to.
var WebhookEventTypes = []string{
	EventRegistrationCreated, EventRegistrationPromoted, EventRegistrationCancelled,
	EventSessionUpdated, EventSessionCancelled, EventAttendanceRecorded, EventRegistrationErased,
}

// EventTypes is an endpoint's subscription: nil or empty means every type.
// It is stored as ",a,b," (or "*"), so one LIKE finds the endpoints that
// want a type on either database.
type EventTypes []string

// Value stores the list.
func (e EventTypes) Value() (driver.Value, error) {
	if len(e) == 0 {
		return "*", nil
	}
	return "," + strings.Join(e, ",") + ",", nil
}

// Scan reads the list.
func (e *EventTypes) Scan(src any) error {
	text, err := scanText("event types", src)
	if err != nil {
		return err
	}
	*e = nil
	for _, t := range strings.Split(text, ",") {
		if t != "" && t != "*" {
			*e = append(*e, t)
		}
	}
	return nil
}

// Wants reports whether the subscription takes eventType.
func (e EventTypes) Wants(eventType string) bool {
	return len(e) == 0 || slices.Contains(e, eventType)
}

// wantsType is the SQL condition of the active endpoints that want
// eventType. The pattern is written into the SQL, not bound: SQLite
// prepares a statement again every time a LIKE's bound pattern changes
// (for its LIKE optimisation), which made every sign-up twice as slow.
// Event types are Podium's own constants; quotes are doubled all the same.
func wantsType(eventType string) string {
	return "active = TRUE AND (event_types = '*' OR event_types LIKE '%," + strings.ReplaceAll(eventType, "'", "''") + ",%')"
}

// WebhookEndpoint is an organizer's receiving URL.
type WebhookEndpoint struct {
	ID          int64
	URL         string
	Description string
	EventTypes  EventTypes
	// Secret and PreviousSecret are stored encrypted (sealSecret); the
	// previous one keeps signing until PreviousSecretUntil.
	Secret              string
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	Active              bool
	DisabledReason      string
	FailingSince        *time.Time
	AccountID           *int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// WebhookInput is an endpoint's editable fields.
type WebhookInput struct {
	URL         string
	Description string
	EventTypes  []string
	Active      bool
}

// Limits on endpoints.
const (
	maxWebhookURL         = 2000
	maxWebhookDescription = 200
	secretBytes           = 24
	// secretOverlap is how long a rotated-out secret keeps signing.
	secretOverlap = 24 * time.Hour
)

func (in *WebhookInput) validate() error {
	in.URL, in.Description = strings.TrimSpace(in.URL), strings.TrimSpace(in.Description)
	v := &validator{}
	u, err := url.Parse(in.URL)
	v.check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Hostname() != "" && u.User == nil &&
		validPort(u.Port()) &&
		len(in.URL) <= maxWebhookURL && isPlainLine(in.URL) && !strings.ContainsAny(in.URL, " \t"),
		"url", "Enter the endpoint's address, starting with https:// (or http://).")
	v.check(utf8.RuneCountInString(in.Description) <= maxWebhookDescription && isPlainLine(in.Description), "description",
		"Keep the description to one line of at most 200 characters.")
	for _, t := range in.EventTypes {
		v.check(slices.Contains(WebhookEventTypes, t), "event_types",
			"Choose event types among "+strings.Join(WebhookEventTypes, ", ")+".")
	}
	in.EventTypes = slices.Clone(in.EventTypes) // the caller's slice stays as it was
	slices.Sort(in.EventTypes)
	in.EventTypes = slices.Compact(in.EventTypes)
	return v.err()
}

// validPort is a URL's port: none, or 1 to 65535.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// newWebhookSecret is a Standard Webhooks secret: "whsec_" and the base64
// of 24 random bytes, which are the HMAC key.
func newWebhookSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// WebhookKey is the HMAC key of a "whsec_" secret.
func WebhookKey(secret string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
}

// sealSecret encrypts a secret for storage (AES-256-GCM under a site key).
func (s *Store) sealSecret(secret string) (string, error) {
	aead, err := s.secretCipher()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(secret), nil)), nil
}

// openSecret decrypts a stored secret; "" stays "".
func (s *Store) openSecret(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	aead, err := s.secretCipher()
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("webhook secret: not sealed by this site")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
	return string(plain), err
}

func (s *Store) secretCipher() (cipher.AEAD, error) {
	key, err := s.SigningKey("webhook secrets")
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// CreateWebhookEndpoint stores a new endpoint and returns it with its
// secret, which is shown this once.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, in WebhookInput, accountID int64) (*WebhookEndpoint, string, error) {
	if err := in.validate(); err != nil {
		return nil, "", err
	}
	secret := newWebhookSecret()
	sealed, err := s.sealSecret(secret)
	if err != nil {
		return nil, "", err
	}
	now := s.Now()
	ep := &WebhookEndpoint{URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Secret: sealed,
		Active: in.Active, CreatedAt: now, UpdatedAt: now}
	if accountID != 0 {
		ep.AccountID = &accountID
	}
	if err := s.write.WithContext(ctx).Create(ep).Error; err != nil {
		return nil, "", err
	}
	return ep, secret, nil
}

// WebhookEndpoints lists every endpoint, oldest first.
func (s *Store) WebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error) {
	var eps []WebhookEndpoint
	err := s.read.WithContext(ctx).Order("id").Find(&eps).Error
	return eps, err
}

// WebhookEndpointByID finds an endpoint.
func (s *Store) WebhookEndpointByID(ctx context.Context, id int64) (*WebhookEndpoint, error) {
	var ep WebhookEndpoint
	err := s.read.WithContext(ctx).Take(&ep, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &ep, err
}

// UpdateWebhookEndpoint changes an endpoint from its stored fields, in one
// write transaction. Turning it back on clears its failures.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, id int64, edit func(*WebhookEndpoint) WebhookInput) (*WebhookEndpoint, error) {
	var ep WebhookEndpoint
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if err := s.endpointForUpdate(tx, id, &ep); err != nil {
			return err
		}
		in := edit(&ep)
		if err := in.validate(); err != nil {
			return err
		}
		values := map[string]any{"url": in.URL, "description": in.Description, "event_types": EventTypes(in.EventTypes),
			"active": in.Active, "updated_at": s.Now()}
		if in.Active && !ep.Active {
			values["disabled_reason"], values["failing_since"] = "", nil
		}
		if err := tx.Model(&ep).Updates(values).Error; err != nil {
			return err
		}
		return tx.Take(&ep, id).Error
	})
	if err != nil {
		return nil, err
	}
	return &ep, nil
}

// endpointForUpdate reads an endpoint to change it, holding its row so that
// another instance's change waits instead of being overwritten.
func (s *Store) endpointForUpdate(tx *gorm.DB, id int64, ep *WebhookEndpoint) error {
	if err := s.dialect.lockRows(tx, "SELECT id FROM webhook_endpoints WHERE id = ?", id); err != nil {
		return err
	}
	if err := tx.Take(ep, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	return nil
}

// DeleteWebhookEndpoint removes an endpoint with its deliveries.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		r := tx.Delete(&WebhookEndpoint{}, id)
		if r.Error == nil && r.RowsAffected == 0 {
			return ErrNotFound
		}
		return r.Error
	})
}

// RotateWebhookSecret gives an endpoint a new secret, returned this once;
// the old one keeps signing beside it for 24 hours. Only one old secret is
// kept: rotating again within the day retires the first at once.
func (s *Store) RotateWebhookSecret(ctx context.Context, id int64) (*WebhookEndpoint, string, error) {
	secret := newWebhookSecret()
	sealed, err := s.sealSecret(secret)
	if err != nil {
		return nil, "", err
	}
	var ep WebhookEndpoint
	err = s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if err := s.endpointForUpdate(tx, id, &ep); err != nil {
			return err
		}
		now := s.Now()
		until := now.Add(secretOverlap)
		if err := tx.Model(&ep).Updates(map[string]any{"secret": sealed, "previous_secret": ep.Secret,
			"previous_secret_until": until, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Take(&ep, id).Error
	})
	if err != nil {
		return nil, "", err
	}
	return &ep, secret, nil
}

// SigningSecrets are the secrets an endpoint's deliveries are signed with
// at now: its secret, and the previous one while it overlaps.
func (s *Store) SigningSecrets(ep *WebhookEndpoint, now time.Time) ([]string, error) {
	current, err := s.openSecret(ep.Secret)
	if err != nil {
		return nil, err
	}
	secrets := []string{current}
	if ep.PreviousSecret != "" && ep.PreviousSecretUntil != nil && now.Before(*ep.PreviousSecretUntil) {
		previous, err := s.openSecret(ep.PreviousSecret)
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, previous)
	}
	return secrets, nil
}
