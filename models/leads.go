package models

import (
	"context"
	"time"
)

// Lead is a registrant whose consent to share their details with a sponsor
// stands: their registration (with session and answers) and the consent.
type Lead struct {
	Registration
	// ConsentGivenAt and ConsentTextID are when the consent was given and
	// the version of the wording the person agreed to.
	ConsentGivenAt time.Time
	ConsentTextID  int64
}

// SponsorLeads are the registrants of the panel whose consent to share
// their details with the sponsor stands as the call reads it: the latest
// consent row of their registration for that sponsor gives it. A person
// registered for several of the panel's sessions is one lead, from the
// latest consent. Erased registrations have no consents left standing, and
// an address not yet confirmed (Gating) is no one's lead until it is.
func (s *Store) SponsorLeads(ctx context.Context, panelID, sponsorID int64) (*Sponsor, []Lead, error) {
	db := s.read.WithContext(ctx)
	sp, err := sponsorOf(db, panelID, sponsorID)
	if err != nil {
		return nil, nil, err
	}
	var standing []struct {
		RegistrationID int64
		EmailKey       string
		CreatedAt      time.Time
		ConsentTextID  int64
	}
	err = db.Raw(`SELECT c.registration_id, r.email_key, c.created_at, c.consent_text_id
		FROM consents c JOIN registrations r ON r.id = c.registration_id
		WHERE c.sponsor_id = ? AND c.given AND r.erased_at IS NULL AND r.confirm_by IS NULL
		AND c.id = (SELECT max(l.id) FROM consents l WHERE l.registration_id = c.registration_id AND l.sponsor_id = c.sponsor_id)
		ORDER BY c.id DESC`, sponsorID).Scan(&standing).Error
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]bool, len(standing))
	leads := make([]Lead, 0, len(standing))
	byID := make(map[int64]int, len(standing))
	ids := make([]int64, 0, len(standing))
	for _, c := range standing {
		if seen[c.EmailKey] {
			continue
		}
		seen[c.EmailKey] = true
		byID[c.RegistrationID] = len(leads)
		ids = append(ids, c.RegistrationID)
		leads = append(leads, Lead{ConsentGivenAt: c.CreatedAt, ConsentTextID: c.ConsentTextID})
	}
	for start := 0; start < len(ids); start += 500 {
		var regs []Registration
		batch := ids[start:min(start+500, len(ids))]
		if err := preloadRegistrant(db).Where("id IN ?", batch).Find(&regs).Error; err != nil {
			return nil, nil, err
		}
		for _, r := range regs {
			leads[byID[r.ID]].Registration = r
		}
	}
	// Oldest consent first, as a list that grows reads best.
	for i, j := 0, len(leads)-1; i < j; i, j = i+1, j-1 {
		leads[i], leads[j] = leads[j], leads[i]
	}
	return sp, leads, nil
}

// SponsorByID finds one of a panel's current sponsors.
func (s *Store) SponsorByID(ctx context.Context, panelID, sponsorID int64) (*Sponsor, error) {
	return sponsorOf(s.read.WithContext(ctx), panelID, sponsorID)
}
