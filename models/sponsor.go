package models

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Sponsor is a panel's sponsor: named on the panel page, and a third party
// a registrant may agree to share their details with, each with a box of
// its own.
type Sponsor struct {
	ID         int64
	PanelID    int64
	Position   int
	Name       string
	WebsiteURL string
	PrivacyURL string
	LogoURL    string
	// ConsentTextID is the wording its checkbox shows now (ConsentText).
	ConsentTextID *int64
	RemovedAt     *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// maxSponsors bounds a panel's sponsors.
const maxSponsors = 10

// checkSponsors bounds and checks a panel's sponsors.
func (p *Panel) checkSponsors(v *validator) {
	v.check(len(p.Sponsors) <= maxSponsors, "sponsors", "Use at most 10 sponsors.")
	for i := range p.Sponsors {
		sp := &p.Sponsors[i]
		prefix := fmt.Sprintf("sponsors[%d].", i)
		sp.Name = strings.TrimSpace(sp.Name)
		sp.WebsiteURL, sp.PrivacyURL = strings.TrimSpace(sp.WebsiteURL), strings.TrimSpace(sp.PrivacyURL)
		sp.LogoURL = strings.TrimSpace(sp.LogoURL)
		v.check(sp.Name != "", prefix+"name", "Give the sponsor's name or remove the sponsor.")
		v.check(len([]rune(sp.Name)) <= maxShortText && isPlainLine(sp.Name), prefix+"name",
			"Keep the name to one line of at most 200 characters.")
		v.check(validJoinURL(sp.PrivacyURL), prefix+"privacy_url",
			"Give the sponsor's privacy policy as an https:// address: people read it before they agree.")
		v.check(sp.WebsiteURL == "" || validJoinURL(sp.WebsiteURL), prefix+"website_url",
			"Give the website as an https:// address, or leave it empty.")
		v.check(sp.LogoURL == "" || validJoinURL(sp.LogoURL) || validSitePath(sp.LogoURL), prefix+"logo_url",
			"Give the logo as an https:// address or a path on this site (/public/img/logo.png), or leave it empty.")
	}
}

// validSitePath is a path on this site, such as /public/img/logo.png:
// public pages show only logos the site serves itself (views.Partner).
func validSitePath(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && u.Scheme == "" &&
		u.Host == "" && len(raw) <= 2000 && !strings.ContainsAny(raw, " \t\r\n\"'<>\\") && isPlainLine(raw)
}

// replaceSponsors stores p's sponsors in slice order: a sponsor whose id is
// one of the panel's keeps it (and the consents given to it), the others
// are added, and the panel's sponsors left out are removed, not deleted, so
// their consents keep what they named. Each sponsor's checkbox wording is
// recorded as a version of its own (ConsentText).
func replaceSponsors(tx *gorm.DB, p *Panel, now time.Time) error {
	var existing []int64
	err := tx.Model(&Sponsor{}).Where("panel_id = ? AND removed_at IS NULL", p.ID).Pluck("id", &existing).Error
	if err != nil {
		return err
	}
	owned := make(map[int64]bool, len(existing))
	for _, id := range existing {
		owned[id] = true
	}
	for i := range p.Sponsors {
		sp := &p.Sponsors[i]
		sp.PanelID, sp.Position, sp.UpdatedAt, sp.RemovedAt = p.ID, i+1, now, nil
		if !owned[sp.ID] {
			sp.ID = 0 // new, or another panel's id: never take it over
		}
		delete(owned, sp.ID)
	}
	if len(owned) > 0 {
		removed := make([]int64, 0, len(owned))
		for id := range owned {
			removed = append(removed, id)
		}
		if err := tx.Model(&Sponsor{}).Where("id IN ?", removed).
			Updates(map[string]any{"removed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
	}
	for i := range p.Sponsors {
		if err := saveSponsor(tx, &p.Sponsors[i], now); err != nil {
			return err
		}
	}
	return nil
}

// saveSponsor inserts or updates one sponsor and points it at the version
// of its wording.
func saveSponsor(tx *gorm.DB, sp *Sponsor, now time.Time) error {
	if sp.ID == 0 {
		sp.CreatedAt = now
		if err := tx.Omit("ConsentTextID").Create(sp).Error; err != nil {
			return err
		}
	}
	textID, err := ensureConsentText(tx, ConsentSponsor, sp.ID, SponsorConsentText(sp.Name, sp.PrivacyURL), now)
	if err != nil {
		return err
	}
	sp.ConsentTextID = &textID
	return tx.Model(&Sponsor{}).Where("id = ?", sp.ID).Updates(map[string]any{
		"position": sp.Position, "name": sp.Name, "website_url": sp.WebsiteURL, "privacy_url": sp.PrivacyURL,
		"logo_url": sp.LogoURL, "consent_text_id": textID, "removed_at": nil, "updated_at": now,
	}).Error
}

// panelSponsors are a panel's current sponsors, in order.
func panelSponsors(db *gorm.DB) *gorm.DB {
	return db.Where("removed_at IS NULL").Order("position, id")
}

// sponsorOf finds one of a panel's current sponsors.
func sponsorOf(db *gorm.DB, panelID, sponsorID int64) (*Sponsor, error) {
	var sp Sponsor
	err := db.Where("id = ? AND panel_id = ? AND removed_at IS NULL", sponsorID, panelID).Take(&sp).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &sp, err
}
