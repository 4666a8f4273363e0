package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ShareLink lets a sponsor download its own leads without an account:
// a secret link (only its hash is kept) that expires and can be revoked.
type ShareLink struct {
	ID         int64
	SponsorID  int64
	TokenHash  string
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	AccountID  *int64
	CreatedAt  time.Time
	LastUsedAt *time.Time
	Uses       int
}

// TableName is the links' table.
func (ShareLink) TableName() string { return "sponsor_share_links" }

// Active says whether the link still opens at now.
func (l ShareLink) Active(now time.Time) bool { return l.RevokedAt == nil && now.Before(l.ExpiresAt) }

// Share links live from a day to 90 days; DefaultShareDays is the form's.
const (
	MaxShareDays     = 90
	DefaultShareDays = 14
)

// CreateShareLink makes a link to one of the panel's current sponsors'
// leads, valid for days, and returns it with its token, which is shown
// once and never stored.
func (s *Store) CreateShareLink(ctx context.Context, panelID, sponsorID int64, accountID *int64, days int) (*ShareLink, string, error) {
	if days < 1 || days > MaxShareDays {
		return nil, "", &ValidationError{Fields: map[string]string{"days": "Choose from 1 to 90 days."}}
	}
	token, hash := newManageToken()
	now := s.Now()
	link := &ShareLink{TokenHash: hash, ExpiresAt: now.AddDate(0, 0, days), AccountID: accountID, CreatedAt: now}
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		sp, err := sponsorOf(tx, panelID, sponsorID)
		if err != nil {
			return err
		}
		link.SponsorID = sp.ID
		return tx.Create(link).Error
	})
	if err != nil {
		return nil, "", err
	}
	return link, token, nil
}

// ShareLinks lists the share links of a panel's sponsors, newest first.
func (s *Store) ShareLinks(ctx context.Context, panelID int64) ([]ShareLink, error) {
	var links []ShareLink
	err := s.read.WithContext(ctx).
		Where("sponsor_id IN (SELECT id FROM sponsors WHERE panel_id = ?)", panelID).
		Order("id DESC").Find(&links).Error
	return links, err
}

// RevokeShareLink stops one of the panel's share links at once; revoking
// twice is harmless.
func (s *Store) RevokeShareLink(ctx context.Context, panelID, linkID int64) error {
	res := s.write.WithContext(ctx).Model(&ShareLink{}).
		Where("id = ? AND sponsor_id IN (SELECT id FROM sponsors WHERE panel_id = ?)", linkID, panelID).
		Update("revoked_at", gorm.Expr("coalesce(revoked_at, ?)", s.Now()))
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ErrShareLinkClosed is a share link that expired or was revoked.
var ErrShareLinkClosed = &Error{Code: CodeGone, Title: "Link no longer valid",
	Message: "This download link has expired or was withdrawn. Ask the organiser for a new one."}

// OpenShareLink counts a use of the share link behind token and returns it
// with its panel's id and sponsor, which must still be the panel's. An
// unknown token is ErrNotFound; an expired or revoked one
// ErrShareLinkClosed.
func (s *Store) OpenShareLink(ctx context.Context, token string) (*ShareLink, *Sponsor, error) {
	if len(token) != 43 {
		return nil, nil, ErrNotFound
	}
	var link ShareLink
	var sp Sponsor
	hash := hashToken(token)
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		// Opens on two instances at once count one after the other.
		if err := s.dialect.lockRows(tx, "SELECT id FROM sponsor_share_links WHERE token_hash = ?", hash); err != nil {
			return err
		}
		err := tx.Where("token_hash = ?", hash).Take(&link).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		now := s.Now()
		if !link.Active(now) {
			return ErrShareLinkClosed
		}
		if err := tx.Where("id = ? AND removed_at IS NULL", link.SponsorID).Take(&sp).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrShareLinkClosed // the sponsor left the panel
		} else if err != nil {
			return err
		}
		link.Uses++
		link.LastUsedAt = &now
		return tx.Model(&ShareLink{}).Where("id = ?", link.ID).
			Updates(map[string]any{"uses": gorm.Expr("uses + 1"), "last_used_at": now}).Error
	})
	if err != nil {
		return nil, nil, err
	}
	return &link, &sp, nil
}
