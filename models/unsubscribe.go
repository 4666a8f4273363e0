package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"gorm.io/gorm"
)

// A reminder's one-click unsubscribe link (RFC 8058) names its registration
// and proves it was Podium's: the registration's id and an HMAC of it under
// a key of the site's, so no token needs storing and none can be guessed.
const unsubscribePurpose = "unsubscribe"

// UnsubscribeToken is the secret part of registrationID's "stop reminders"
// link.
func (s *Store) UnsubscribeToken(registrationID int64) (string, error) {
	key, err := s.SigningKey(unsubscribePurpose)
	if err != nil {
		return "", err
	}
	return unsubscribeToken(key, registrationID), nil
}

func unsubscribeToken(key []byte, registrationID int64) string {
	id := binary.BigEndian.AppendUint64(nil, uint64(registrationID))
	mac := hmac.New(sha256.New, key)
	mac.Write(id)
	return base64.RawURLEncoding.EncodeToString(append(id, mac.Sum(nil)[:16]...))
}

// RegistrationByUnsubscribeToken finds the registration a link names, with
// its session and panel, and whether its address has stopped the panel's
// reminders; a token that is not Podium's is ErrNotFound.
func (s *Store) RegistrationByUnsubscribeToken(ctx context.Context, token string) (*Registration, bool, error) {
	id, err := s.unsubscribeID(token)
	if err != nil {
		return nil, false, err
	}
	var reg Registration
	if err := s.read.WithContext(ctx).Preload("Session.Panel").Take(&reg, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, false, ErrNotFound
	} else if err != nil {
		return nil, false, err
	}
	var stopped int64
	err = s.read.WithContext(ctx).Table("email_opt_outs").
		Where("panel_id = ? AND email_key = ?", reg.Session.PanelID, reg.EmailKey).Count(&stopped).Error
	return &reg, stopped > 0, err
}

func (s *Store) unsubscribeID(token string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 24 {
		return 0, ErrNotFound
	}
	key, err := s.SigningKey(unsubscribePurpose)
	if err != nil {
		return 0, err
	}
	id := int64(binary.BigEndian.Uint64(raw[:8]))
	if !hmac.Equal([]byte(unsubscribeToken(key, id)), []byte(token)) {
		return 0, ErrNotFound
	}
	return id, nil
}

// StopReminders records that the address behind an unsubscribe link wants
// none of the panel's non-essential emails (reminders) for any of its
// sessions, and skips those already queued. Doing it twice is harmless.
// Confirmations, updates and cancellations are not affected.
func (s *Store) StopReminders(ctx context.Context, token string) (*Registration, error) {
	reg, _, err := s.RegistrationByUnsubscribeToken(ctx, token)
	if err != nil {
		return nil, err
	}
	err = s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		if err := tx.Exec(`INSERT INTO email_opt_outs (panel_id, email_key, created_at) VALUES (?, ?, ?)
			ON CONFLICT (panel_id, email_key) DO NOTHING`, reg.Session.PanelID, reg.EmailKey, now).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE outbox_messages SET status = ?, last_error = ? WHERE kind IN ? AND status = ?
			AND registration_id IN (SELECT r.id FROM registrations r JOIN sessions s ON s.id = r.session_id
				WHERE s.panel_id = ? AND r.email_key = ?)`,
			OutboxSkipped, "the registrant stopped reminders",
			[]OutboxKind{KindReminder, KindFollowUpAttended, KindFollowUpAbsent}, OutboxQueued,
			reg.Session.PanelID, reg.EmailKey).Error
	})
	if err != nil {
		return nil, err
	}
	return reg, nil
}
