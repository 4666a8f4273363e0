package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// LinkPurpose names what a registrant's personal link opens.
type LinkPurpose string

// Personal link purposes.
const (
	// LinkJoin is /j/{token}: the live session, then the replay.
	LinkJoin LinkPurpose = "join"
	// LinkWatch is /w/{token}: the replay.
	LinkWatch LinkPurpose = "watch"
)

// A personal link's token is an HMAC of the registration's id under a site
// key for its purpose, so every email and invite carries the same link and
// no token is kept; the SHA-256 of each token handed out is stored
// (registration_links), so a link is found by its hash like a manage link,
// and deleting the row kills it.
func linkToken(key []byte, registrationID int64) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(binary.BigEndian.AppendUint64(nil, uint64(registrationID)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// linkKeyPurpose names the signing key of a purpose's links.
func linkKeyPurpose(purpose LinkPurpose) string { return "link " + string(purpose) }

// insertLink stores the hash of a registration's personal link, in the
// sign-up's transaction.
func insertLink(tx *gorm.DB, key []byte, purpose LinkPurpose, registrationID int64, now time.Time) error {
	_, err := execSQL(tx, `INSERT INTO registration_links (token_hash, registration_id, purpose, created_at)
		VALUES (?, ?, ?, ?)`, hashToken(linkToken(key, registrationID)), registrationID, purpose, now)
	return err
}

// linkTokens mints the tokens of purpose for registrations and stores their
// hashes in tx; storing one twice is harmless.
func (s *Store) linkTokens(tx *gorm.DB, purpose LinkPurpose, now time.Time, registrationIDs []int64) (map[int64]string, error) {
	if len(registrationIDs) == 0 {
		return nil, nil
	}
	key, err := s.SigningKey(linkKeyPurpose(purpose))
	if err != nil {
		return nil, err
	}
	tokens := make(map[int64]string, len(registrationIDs))
	var values strings.Builder
	args := make([]any, 0, 4*len(registrationIDs))
	for _, id := range registrationIDs {
		if _, seen := tokens[id]; seen {
			continue
		}
		tokens[id] = linkToken(key, id)
		if len(args) > 0 {
			values.WriteString(", ")
		}
		values.WriteString("(?, ?, ?, ?)")
		args = append(args, hashToken(tokens[id]), id, purpose, now)
	}
	_, err = execSQL(tx, `INSERT INTO registration_links (token_hash, registration_id, purpose, created_at)
		VALUES `+values.String()+` ON CONFLICT DO NOTHING`, args...)
	return tokens, err
}

// PersonalLink is a registration's join or replay token for its manage
// page, stored first if no email has carried it yet.
func (s *Store) PersonalLink(ctx context.Context, registrationID int64, purpose LinkPurpose) (string, error) {
	key, err := s.SigningKey(linkKeyPurpose(purpose))
	if err != nil {
		return "", err
	}
	token := linkToken(key, registrationID)
	var n int64
	err = s.read.WithContext(ctx).Table("registration_links").Where("token_hash = ?", hashToken(token)).Count(&n).Error
	if err != nil || n > 0 {
		return token, err
	}
	err = s.inWriteTx(ctx, func(tx *gorm.DB) error {
		_, err := s.linkTokens(tx, purpose, s.Now(), []int64{registrationID})
		return err
	})
	return token, err
}

// registrationByLink finds the registration a personal link belongs to,
// with its session and panel.
func (s *Store) registrationByLink(ctx context.Context, purpose LinkPurpose, token string) (*Registration, error) {
	if len(token) != 43 {
		return nil, ErrNotFound
	}
	var reg Registration
	err := s.read.WithContext(ctx).Preload("Session.Panel").
		Joins("JOIN registration_links ON registration_links.registration_id = registrations.id").
		Where("registration_links.token_hash = ? AND registration_links.purpose = ?", hashToken(token), purpose).
		Take(&reg).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &reg, err
}

// RegistrationLinks are the personal link tokens a registrant's own page
// offers; each is empty when the registration has no such link now.
type RegistrationLinks struct {
	Join, Watch string
}

// LinksFor gives the registrant's personal links at now: the join link to a
// confirmed live place in an online session that has not ended, and the
// replay link once the session's replay is offered.
func (s *Store) LinksFor(ctx context.Context, reg *Registration) (RegistrationLinks, error) {
	var out RegistrationLinks
	now, sess := s.Now(), reg.Session
	if reg.Status != RegistrationConfirmed || sess.Status != SessionScheduled {
		return out, nil
	}
	var err error
	if !reg.OnDemand && sess.Online() && !sess.Ended(now) {
		out.Join, err = s.PersonalLink(ctx, reg.ID, LinkJoin)
	}
	if err == nil && sess.OnDemand(now) {
		out.Watch, err = s.PersonalLink(ctx, reg.ID, LinkWatch)
	}
	return out, err
}
