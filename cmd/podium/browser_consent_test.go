package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"podium/models"
)

// Consent in the browser: a sponsored panel names its partner and offers
// one unticked box for the organiser's news and one per sponsor; what the
// person ticks is listed on their own page, where they withdraw it or
// delete their data. The panel is seeded before Podium starts, as the
// on-demand tests seed theirs, and the store is read beside the running
// binary to see what was kept and what was erased.

const (
	sponsoredSlug    = "power-to-the-people"
	sponsorName      = "Gridline Energy"
	sponsorPrivacy   = "https://sponsor.example/privacy"
	sponsoredLanding = "/panels/" + sponsoredSlug + "?utm_source=newsletter&utm_campaign=dec"
)

// seedSponsoredPanel stores, before Podium starts, a published panel with
// one online session next month and one sponsor, and returns the sponsor's
// id.
func seedSponsoredPanel(t *testing.T, path string) int64 {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := &models.Panel{
		Slug: sponsoredSlug, Title: "Power to the people: community energy after the outages",
		Status: models.PanelPublished, Format: "Free virtual panel discussion", OrganizerName: "Civic Futures",
		Summary:  "How neighbourhoods keep the lights on when the grid cannot.",
		Speakers: []models.Speaker{{Name: "Grace Hopper", Role: "Rear admiral", Organisation: "US Navy"}},
		Sessions: []models.Session{{
			StartsAt: time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Minute), DurationMinutes: 60,
			TimeZone: "Europe/London", JoinURL: "https://meet.example.com/" + sponsoredSlug, Capacity: 50,
		}},
		Sponsors: []models.Sponsor{{Name: sponsorName, WebsiteURL: "https://sponsor.example", PrivacyURL: sponsorPrivacy}},
	}
	if err := store.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	return p.Sponsors[0].ID
}

func TestBrowser_SponsorConsentIsOptInWithdrawableAndErasedWithThePersonsData(t *testing.T) {
	axe := newAxe(t)
	db := filepath.Join(t.TempDir(), "podium.db")
	sponsorID := seedSponsoredPanel(t, db)
	b := newBrowser(t, startProcess(t, db, "PODIUM_DEMO=false").base)
	store, err := models.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	sponsorBox := fmt.Sprintf("#field-sponsor-%d", sponsorID)

	b.open(sponsoredLanding, 200)
	checkSponsoredForm(b, sponsorBox)
	axe.scan(b, "sponsored panel page")

	b.do(
		fill("#field-name", "Ada Lovelace"),
		fill("#field-email", "ada@example.com"),
		chromedp.Click(chromedp.CSS("#field-consent")),
		chromedp.Click(chromedp.CSS(sponsorBox)),
	)
	b.follow(200, "/registrations/", chromedp.Click(chromedp.CSS(`#register button[type=submit]`)))
	manage := eval[string](b, `location.pathname`)

	// The first touch is the landing URL's tags, carried by the form.
	reg, err := store.RegistrationByToken(context.Background(), strings.TrimPrefix(manage, "/registrations/"))
	if err != nil {
		t.Fatal(err)
	}
	if reg.Email != "ada@example.com" || reg.Source != "newsletter" || reg.Campaign != "dec" || reg.Medium != "" {
		t.Fatalf("stored after the sign-up: email %q, utm_source %q, utm_campaign %q, utm_medium %q; want ada@example.com, newsletter, dec and none",
			reg.Email, reg.Source, reg.Campaign, reg.Medium)
	}

	checkAgreedTo(b, []agreedConsent{
		{What: models.RegistrationConsentWording, Current: true},
		{What: models.SponsorConsentText(sponsorName, sponsorPrivacy), Current: true, Withdraw: true},
	})
	axe.scan(b, "manage page with consents")

	b.follow(200, manage, chromedp.Click(chromedp.CSS(`.consents-list form:has(input[name=sponsor]) button[type=submit]`)))
	if notice := b.text(".manage [role=status]"); !strings.HasPrefix(notice, "Done: you have withdrawn your consent.") {
		t.Errorf("after withdrawing, the page says %q", notice)
	}
	checkAgreedTo(b, []agreedConsent{
		{What: models.RegistrationConsentWording, Current: true},
		{What: models.SponsorConsentText(sponsorName, sponsorPrivacy)},
	})

	deleteMyData(b, axe, manage)

	erased, err := store.RegistrationByID(context.Background(), reg.ID)
	if err != nil {
		t.Fatal(err)
	}
	if erased.Email != "" || erased.Name != "" || erased.Source != "" || erased.ErasedAt == nil {
		t.Errorf("after erasure: email %q, name %q, utm_source %q, erased_at %v; want all empty and erased",
			erased.Email, erased.Name, erased.Source, erased.ErasedAt)
	}
	b.open(manage, 404)
}

// checkSponsoredForm checks the panel page the tab is on: the partner line,
// the optional boxes unticked, the sponsor's label naming it and linking
// its privacy policy, and the landing URL's tags in the hidden fields.
func checkSponsoredForm(b *tab, sponsorBox string) {
	b.t.Helper()
	if got := b.text(".partners"); got != "In partnership with "+sponsorName {
		b.t.Errorf("the partner line says %q", got)
	}
	type box struct {
		Present, Checked bool
		Label, Privacy   string
	}
	for _, sel := range []string{"#field-marketing", sponsorBox} {
		got := eval[box](b, fmt.Sprintf(`(e => e ? {Present: true, Checked: e.checked,
			Label: document.querySelector("label[for='" + e.id + "']").textContent.replace(/\s+/g, " ").trim(),
			Privacy: (document.querySelector("label[for='" + e.id + "'] a") || {}).href || ""} : {})(document.querySelector(%q))`, sel))
		if !got.Present || got.Checked {
			b.t.Errorf("%s: present %v, ticked %v; want an unticked box", sel, got.Present, got.Checked)
		}
		if sel == sponsorBox && (!strings.Contains(got.Label, sponsorName) || got.Privacy != sponsorPrivacy) {
			b.t.Errorf("the sponsor's label %q links %q; want it to name %s and link %s", got.Label, got.Privacy, sponsorName, sponsorPrivacy)
		}
	}
	if legend := b.text("#field-sponsors legend"); !strings.HasPrefix(legend, "Staying in touch") {
		b.t.Errorf("the optional boxes' legend says %q", legend)
	}
	tags := eval[[]string](b, `["utm_source", "utm_campaign", "utm_medium"].map(n => document.querySelector("#register input[name=" + n + "]").value)`)
	if tags[0] != "newsletter" || tags[1] != "dec" || tags[2] != "" {
		b.t.Errorf("the form's utm_source, utm_campaign and utm_medium are %q; want newsletter, dec and none", tags)
	}
}

// deleteMyData follows "Delete my data" from the manage page the tab is on,
// scans the confirmation page and confirms.
func deleteMyData(b *tab, axe *axeScanner, manage string) {
	b.t.Helper()
	b.follow(200, manage+"/erase", chromedp.Click(chromedp.CSS(`main a[href="`+manage+`/erase"]`)))
	if h1 := b.text("h1"); h1 != "Delete your data?" {
		b.t.Fatalf("the confirmation page says %q", h1)
	}
	axe.scan(b, "erase confirmation page")
	b.submit(`form[action="`+manage+`/erase"]`, 200, manage+"/erase")
	if h1 := b.text("h1"); h1 != "Your data has been deleted" {
		b.t.Fatalf("after confirming, the page says %q", h1)
	}
}

// agreedConsent is one entry of "What you agreed to" on the manage page.
type agreedConsent struct {
	What              string
	Current, Withdraw bool
}

// checkAgreedTo checks the manage page's consent list: the wordings in
// order, which stand, and which offer a Withdraw button.
func checkAgreedTo(b *tab, want []agreedConsent) {
	b.t.Helper()
	if h := b.text("#consents-heading"); h != "What you agreed to" {
		b.t.Fatalf("the consents heading says %q", h)
	}
	got := eval[[]agreedConsent](b, `[...document.querySelectorAll(".consents-list li.consent")].map(li => ({
		What: li.querySelector("p").textContent.replace(/\s+/g, " ").trim(),
		Current: !li.querySelector(".hint").textContent.includes("withdrawn on"),
		Withdraw: !!li.querySelector("form button[type=submit]")}))`)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		b.t.Fatalf("What you agreed to lists %+v; want %+v", got, want)
	}
}
