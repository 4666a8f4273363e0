package models

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ConsentPurpose is what a consent agrees to.
type ConsentPurpose string

// Consent purposes: handling the registration itself (required to
// register), the organizer's own news, and sharing one's details with one
// named sponsor.
const (
	ConsentRegistration ConsentPurpose = "registration"
	ConsentMarketing    ConsentPurpose = "marketing"
	ConsentSponsor      ConsentPurpose = "sponsor"
)

// Channel is where a consent was given or withdrawn, or an audited action
// came from.
type Channel string

// Channels: the public sign-up form, the person's own manage page, the
// admin, the API, and Podium's own background jobs (the audit log's only).
const (
	ChannelForm   Channel = "form"
	ChannelManage Channel = "manage"
	ChannelAdmin  Channel = "admin"
	ChannelAPI    Channel = "api"
	ChannelSystem Channel = "system"
	// ChannelShare is a sponsor's share link (the audit log's only).
	ChannelShare Channel = "share"
)

// The wordings of the consent checkboxes. What a box showed is stored as a
// version of its own (ConsentText) the first time it is shown, and every
// consent names the version its person saw: changing a wording here, or a
// sponsor's name or privacy policy, makes a new version, never a change to
// an old one.
const (
	RegistrationConsentWording = "I agree that the organiser may store my details to manage my place and email me about this event."
	marketingConsentWording    = "Email me news of future events from %s."
	sponsorConsentWording      = "Share my name, email address, organisation, job title, answers and attendance with %s, who may contact me about their products and services. I can withdraw this at any time."
)

// MarketingConsentText is the organizer's-news checkbox's wording for a
// panel whose organizer is organizer.
func MarketingConsentText(organizer string) string {
	if organizer = strings.TrimSpace(organizer); organizer == "" {
		organizer = "the organiser"
	}
	return fmt.Sprintf(marketingConsentWording, organizer)
}

// SponsorConsentLabel is a sponsor's checkbox label without its privacy
// policy, which the page links after it.
func SponsorConsentLabel(name string) string { return fmt.Sprintf(sponsorConsentWording, name) }

// SponsorConsentText is a sponsor's whole wording as stored: the label and
// the privacy policy it links.
func SponsorConsentText(name, privacyURL string) string {
	return SponsorConsentLabel(name) + " " + name + "'s privacy policy: " + privacyURL
}

// ConsentText is one version of a checkbox's wording.
type ConsentText struct {
	ID        int64
	Purpose   ConsentPurpose
	SponsorID *int64
	Text      string
	CreatedAt time.Time
}

// Consent is one consent given or withdrawn (Given false): the latest row
// of a registration, purpose and sponsor says whether it stands.
type Consent struct {
	ID             int64
	RegistrationID int64
	Purpose        ConsentPurpose
	SponsorID      *int64
	ConsentTextID  int64
	Given          bool
	Channel        Channel
	CreatedAt      time.Time
}

// ensureConsentText returns the id of the version of a wording, storing it
// the first time; the unique index settles two instances storing it at
// once.
func ensureConsentText(tx *gorm.DB, purpose ConsentPurpose, sponsorID int64, text string, now time.Time) (int64, error) {
	var sponsor any
	if sponsorID != 0 {
		sponsor = sponsorID
	}
	if _, err := execSQL(tx, `INSERT INTO consent_texts (purpose, sponsor_id, text, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (purpose, coalesce(sponsor_id, 0), text) DO NOTHING`, purpose, sponsor, text, now); err != nil {
		return 0, err
	}
	var id int64
	err := queryRowSQL(tx, "SELECT id FROM consent_texts WHERE purpose = ? AND coalesce(sponsor_id, 0) = ? AND text = ?",
		purpose, sponsorID, text).Scan(&id)
	return id, err
}

// loadConsentWording stores the registration consent's wording, if new,
// and keeps its id for every sign-up to name.
func (s *Store) loadConsentWording(ctx context.Context) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		id, err := ensureConsentText(tx, ConsentRegistration, 0, RegistrationConsentWording, s.Now())
		s.registrationText = id
		return err
	})
}

// consentRow is a consent a sign-up gives.
type consentRow struct {
	purpose ConsentPurpose
	sponsor int64 // 0 for none
	text    int64
}

// signUpConsents resolves the consents a sign-up gives: the registration's
// own, and the organizer's news and sponsors that were ticked, each naming
// the version of the wording its page showed when that version is the
// box's (a page older than a rewording), else the current one. A sponsor
// that is not (or no longer) the panel's is refused. current is the
// panel's currentWordings, read before the transaction; nil reads them in
// it.
func (s *Store) signUpConsents(tx *gorm.DB, panelID int64, in *RegistrationInput, current map[int64]int64) ([]consentRow, error) {
	rows := []consentRow{{purpose: ConsentRegistration, text: s.registrationText}}
	if !in.Marketing && len(in.Sponsors) == 0 {
		return rows, nil
	}
	var err error
	if current == nil {
		if current, err = currentWordings(tx, panelID); err != nil {
			return nil, err
		}
	}
	if in.Marketing {
		id := current[0]
		if id == 0 { // a panel saved before consents were recorded
			if id, err = panelMarketingText(tx, panelID, s.Now()); err != nil {
				return nil, err
			}
		}
		rows = append(rows, consentRow{purpose: ConsentMarketing, text: id})
	}
	ids := make([]int64, 0, len(in.Sponsors))
	for id := range in.Sponsors {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		text, ok := current[id]
		if !ok || id == 0 {
			return nil, &ValidationError{Fields: map[string]string{"sponsors": fmt.Sprintf(
				"Sponsor %d is not one of this event's sponsors any more: reload the page to see who is.", id)}}
		}
		if shown := in.Sponsors[id]; shown != 0 && shown != text {
			text = shownVersion(tx, shown, ConsentSponsor, id, text)
		}
		rows = append(rows, consentRow{purpose: ConsentSponsor, sponsor: id, text: text})
	}
	return rows, nil
}

// currentWordings are the versions a panel's boxes show now: the
// organizer's news under 0 (0 when the panel has none yet), and each
// current sponsor's under its id, in one statement. The public form reads
// them before its write transaction, so the session's row is not held
// for it: versions never change, and a sponsor added or removed meanwhile
// is the organizer's change racing the person's, either order being right.
func currentWordings(tx *gorm.DB, panelID int64) (map[int64]int64, error) {
	rows, err := querySQL(tx, `SELECT 0, coalesce(marketing_text_id, 0) FROM panels WHERE id = ?
		UNION ALL SELECT id, coalesce(consent_text_id, 0) FROM sponsors WHERE panel_id = ? AND removed_at IS NULL`,
		panelID, panelID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	current := map[int64]int64{}
	for rows.Next() {
		var id, text int64
		if err := rows.Scan(&id, &text); err != nil {
			return nil, err
		}
		current[id] = text
	}
	return current, rows.Err()
}

// shownVersion is version when it is a wording of this purpose and
// sponsor, else current.
func shownVersion(tx *gorm.DB, version int64, purpose ConsentPurpose, sponsorID, current int64) int64 {
	var n int64
	err := tx.Model(&ConsentText{}).Where("id = ? AND purpose = ? AND coalesce(sponsor_id, 0) = ?", version, purpose, sponsorID).
		Count(&n).Error
	if err != nil || n == 0 {
		return current
	}
	return version
}

// panelMarketingText is the version of the panel's organizer's-news
// wording, stored when the panel was saved (or now, for a panel saved
// before consents were recorded).
func panelMarketingText(tx *gorm.DB, panelID int64, now time.Time) (int64, error) {
	var p Panel
	if err := tx.Select("id", "organizer_name", "marketing_text_id").Take(&p, panelID).Error; err != nil {
		return 0, err
	}
	if p.MarketingTextID != nil {
		return *p.MarketingTextID, nil
	}
	return saveMarketingText(tx, &p, now)
}

// saveMarketingText stores the version of the panel's organizer's-news
// wording and points the panel at it.
func saveMarketingText(tx *gorm.DB, p *Panel, now time.Time) (int64, error) {
	id, err := ensureConsentText(tx, ConsentMarketing, 0, MarketingConsentText(p.OrganizerName), now)
	if err != nil {
		return 0, err
	}
	p.MarketingTextID = &id
	return id, tx.Model(&Panel{}).Where("id = ?", p.ID).Update("marketing_text_id", id).Error
}

// consentInserts are the statements that store n consents at once, written
// once: a sign-up's text is the same every time, so SQLite prepares it once.
var consentInserts = func() (out [maxSponsors + 3]string) {
	values := "(?, ?, ?, ?, TRUE, ?, ?)"
	for n := 1; n < len(out); n++ {
		out[n] = "INSERT INTO consents (registration_id, purpose, sponsor_id, consent_text_id, given, channel, created_at) VALUES " +
			values + strings.Repeat(", "+values, n-1)
	}
	return out
}()

// insertConsents stores the consents a sign-up gave, one statement for all.
func insertConsents(tx *gorm.DB, registrationID int64, rows []consentRow, channel Channel, now time.Time) error {
	if len(rows) >= len(consentInserts) { // the registration's, the news and at most maxSponsors
		return fmt.Errorf("insert consents: %d at once", len(rows))
	}
	args := make([]any, 0, 6*len(rows))
	for _, r := range rows {
		var sponsor any
		if r.sponsor != 0 {
			sponsor = r.sponsor
		}
		args = append(args, registrationID, r.purpose, sponsor, r.text, channel, now)
	}
	_, err := execSQL(tx, consentInserts[len(rows)], args...)
	return err
}

// ConsentState is a consent as it stands: the latest row of its purpose and
// sponsor (Given says whether it stands), with the wording it named.
type ConsentState struct {
	Consent
	Text        string
	SponsorName string
	// GivenAt is when the consent was given, even once withdrawn.
	GivenAt time.Time
}

// Consents lists a registration's consents as they stand, the registration
// first, then the organizer's news, then each sponsor in the panel's order.
func (s *Store) Consents(ctx context.Context, registrationID int64) ([]ConsentState, error) {
	return consentStates(s.read.WithContext(ctx), registrationID)
}

func consentStates(db *gorm.DB, registrationID int64) ([]ConsentState, error) {
	var rows []struct {
		Consent
		Text        string
		SponsorName *string
		Position    *int
	}
	err := db.Raw(`SELECT c.*, t.text, sp.name AS sponsor_name, sp.position FROM consents c
		JOIN consent_texts t ON t.id = c.consent_text_id
		LEFT JOIN sponsors sp ON sp.id = c.sponsor_id
		WHERE c.registration_id = ? ORDER BY c.id`, registrationID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	type key struct {
		purpose ConsentPurpose
		sponsor int64
	}
	byKey := map[key]*ConsentState{}
	var order []key
	positions := map[key]int{}
	for _, r := range rows {
		k := key{r.Purpose, deref(r.SponsorID)}
		st, seen := byKey[k]
		if !seen {
			st = &ConsentState{}
			byKey[k] = st
			order = append(order, k)
			if r.Position != nil {
				positions[k] = *r.Position
			}
		}
		givenAt := st.GivenAt
		if r.Given {
			givenAt = r.CreatedAt
		}
		*st = ConsentState{Consent: r.Consent, Text: r.Text, SponsorName: deref(r.SponsorName), GivenAt: givenAt}
	}
	rank := map[ConsentPurpose]int{ConsentRegistration: 0, ConsentMarketing: 1, ConsentSponsor: 2}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if rank[a.purpose] != rank[b.purpose] {
			return rank[a.purpose] < rank[b.purpose]
		}
		return positions[a] < positions[b]
	})
	out := make([]ConsentState, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ErrConsentRequired is a withdrawal of the registration's own consent,
// which is withdrawn by cancelling the place or erasing one's data.
var ErrConsentRequired = &Error{Code: CodeConflict, Title: "Needed for the registration",
	Message: "The consent to handle a registration is withdrawn by cancelling it or deleting one's data."}

// WithdrawConsent records that the consent of this purpose (and sponsor)
// is withdrawn, through channel, for the registration and every other
// registration of its address for the same panel (a person signed up for
// two sessions withdraws once), and reports whether one stood. The consents
// given stay on record; every later export leaves the person out.
func (s *Store) WithdrawConsent(ctx context.Context, registrationID int64, purpose ConsentPurpose, sponsorID int64, channel Channel) (bool, error) {
	if purpose == ConsentRegistration {
		return false, ErrConsentRequired
	}
	if purpose != ConsentMarketing && purpose != ConsentSponsor {
		return false, ErrNotFound
	}
	withdrawn := false
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		// The person's registrations for the panel: same address, a
		// session of the same panel.
		const samePerson = `SELECT id FROM registrations
			WHERE email_key = (SELECT email_key FROM registrations WHERE id = ?)
			AND session_id IN (SELECT id FROM sessions WHERE panel_id =
				(SELECT panel_id FROM sessions WHERE id = (SELECT session_id FROM registrations WHERE id = ?)))`
		if err := s.dialect.lockRows(tx, samePerson, registrationID, registrationID); err != nil {
			return err
		}
		var ids []int64
		if err := tx.Raw(samePerson, registrationID, registrationID).Scan(&ids).Error; err != nil {
			return err
		}
		found, now := false, s.Now()
		for _, id := range ids {
			var latest Consent
			err := tx.Where("registration_id = ? AND purpose = ? AND coalesce(sponsor_id, 0) = ?", id, purpose, sponsorID).
				Order("id DESC").Take(&latest).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			found = true
			if !latest.Given {
				continue
			}
			withdrawn = true
			row := Consent{RegistrationID: id, Purpose: purpose, SponsorID: latest.SponsorID,
				ConsentTextID: latest.ConsentTextID, Given: false, Channel: channel, CreatedAt: now}
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
		}
		if !found {
			return ErrNotFound
		}
		return nil
	})
	return withdrawn, err
}
