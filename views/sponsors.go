package views

import (
	"strings"
	"time"

	"podium/models"
)

// Partner is a sponsor as a public page names it. Its logo is shown only
// when the site serves it (a path such as /public/img/acme.png): loading an
// image from the sponsor's own server would hand the sponsor every visitor's
// address before anyone agreed to anything.
type Partner struct {
	Name, WebsiteURL, LogoURL string
	// Before is what comes before the name in a sentence: "", ", " or
	// " and ".
	Before string
}

// NewPartners are the sponsors a public page names.
func NewPartners(sponsors []models.Sponsor) []Partner {
	out := make([]Partner, 0, len(sponsors))
	for i, sp := range sponsors {
		p := Partner{Name: sp.Name, WebsiteURL: sp.WebsiteURL}
		if strings.HasPrefix(sp.LogoURL, "/") {
			p.LogoURL = sp.LogoURL
		}
		switch i {
		case 0:
		case len(sponsors) - 1:
			p.Before = " and "
		default:
			p.Before = ", "
		}
		out = append(out, p)
	}
	return out
}

// ConsentBoxes are the sign-up form's consent checkboxes: the organizer's
// news and each sponsor's (carrying the version of its wording as its
// value), optional and unticked, then the registration's own.
type ConsentBoxes struct {
	Marketing    string
	Sponsors     []SponsorBox
	Registration string
}

// SponsorBox is one sponsor's checkbox.
type SponsorBox struct {
	ID         int64
	Name       string
	Label      string
	PrivacyURL string
	Version    int64
}

// NewConsentBoxes are the consent boxes of a panel's form.
func NewConsentBoxes(p *models.Panel) ConsentBoxes {
	boxes := ConsentBoxes{Marketing: models.MarketingConsentText(p.OrganizerName),
		Registration: models.RegistrationConsentWording}
	for _, sp := range p.Sponsors {
		box := SponsorBox{ID: sp.ID, Name: sp.Name, Label: models.SponsorConsentLabel(sp.Name), PrivacyURL: sp.PrivacyURL}
		if sp.ConsentTextID != nil {
			box.Version = *sp.ConsentTextID
		}
		boxes.Sponsors = append(boxes.Sponsors, box)
	}
	return boxes
}

// SponsorTicked says whether the form came back with the sponsor's box
// ticked.
func (f RegistrationForm) SponsorTicked(id int64) bool {
	_, ticked := f.Values.Sponsors[id]
	return ticked
}

// ConsentView is a consent as the person's own page lists it.
type ConsentView struct {
	Purpose   string
	SponsorID int64
	// What is the wording the person agreed to.
	What    string
	GivenAt string
	Current bool
	// WithdrawnAt is when it was withdrawn, for one that no longer stands.
	WithdrawnAt string
	// Withdrawable is false for the registration's own consent, which
	// goes with deleting one's data.
	Withdrawable bool
}

// NewConsentViews are a registration's consents for its page.
func NewConsentViews(states []models.ConsentState) []ConsentView {
	out := make([]ConsentView, 0, len(states))
	for _, st := range states {
		v := ConsentView{Purpose: string(st.Purpose), What: st.Text, GivenAt: longStamp(st.GivenAt),
			Current: st.Given, Withdrawable: st.Purpose != models.ConsentRegistration}
		if st.SponsorID != nil {
			v.SponsorID = *st.SponsorID
		}
		if !st.Given {
			v.WithdrawnAt = longStamp(st.CreatedAt)
		}
		out = append(out, v)
	}
	return out
}

// longStamp is an instant as a public page writes it: the month in full.
func longStamp(t time.Time) string { return t.UTC().Format("2 January 2006, 15:04 UTC") }
