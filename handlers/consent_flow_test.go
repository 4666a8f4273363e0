package handlers

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"podium/models"
	"podium/views"
)

// These tests follow a person's consents end to end: a sponsored panel made
// through the API, the public form, the sponsor's leads, the person's own
// page (withdraw, delete my data), the people API, gating and the admin's
// panel form.

const (
	acmeName    = "Acme Analytics"
	acmeSite    = "https://acme.example.com"
	acmePrivacy = "https://acme.example.com/privacy"
	bobAddress  = "bob@example.com"
)

// sponsorFlow is a published panel with one sponsor and one session, made
// by an owner through the API.
type sponsorFlow struct {
	env     *testEnv
	api     *apiClient
	panel   panelJSON
	sponsor sponsorJSON
}

func newSponsorFlow(t *testing.T) *sponsorFlow {
	t.Helper()
	env := newTestEnv(t)
	api := env.apiClient(t)
	body := map[string]any{
		"title": "Data and trust", "slug": "data-trust", "status": "published", "organizer_name": "Podium Events",
		"sponsors": []map[string]string{{"name": acmeName, "website_url": acmeSite, "privacy_url": acmePrivacy}},
		"sessions": []map[string]any{{"starts_at": "2026-12-03T15:00:00Z", "duration_minutes": 60,
			"time_zone": "Europe/London", "capacity": 50, "join_url": "https://meet.example.com/trust"}},
	}
	p := decodeAs[panelJSON](t, api.call(http.MethodPost, "/api/v1/panels", body), http.StatusCreated)
	if len(p.Sponsors) != 1 || p.Sponsors[0].ID == 0 || p.Sponsors[0].Name != acmeName ||
		p.Sponsors[0].PrivacyURL != acmePrivacy || len(p.Sessions) != 1 {
		t.Fatalf("created panel = %+v; want one sponsor with an id and one session", p)
	}
	return &sponsorFlow{env: env, api: api, panel: p, sponsor: p.Sponsors[0]}
}

func (f *sponsorFlow) panelURL() string { return "/panels/" + f.panel.Slug }

func (f *sponsorFlow) sponsorField() string { return fmt.Sprintf("sponsor_%d", f.sponsor.ID) }

func (f *sponsorFlow) leadsPath() string {
	return fmt.Sprintf("/api/v1/panels/%d/sponsors/%d/leads", f.panel.ID, f.sponsor.ID)
}

func (f *sponsorFlow) patchPanel(t *testing.T, patch map[string]any) panelJSON {
	t.Helper()
	return decodeAs[panelJSON](t, f.api.call(http.MethodPatch, fmt.Sprintf("/api/v1/panels/%d", f.panel.ID), patch),
		http.StatusOK)
}

// signUp opens path (the panel's page, maybe with a query) in b and sends
// its form as email, ticking the sponsor's box (with the version the page
// shows) when sponsor is set; it returns the answer to the form.
func (f *sponsorFlow) signUp(t *testing.T, b *browser, path, email string, sponsor bool) response {
	t.Helper()
	page := b.get(path)
	assertStatus(t, page, http.StatusOK)
	form := personForm(t, page.body, email)
	if sponsor {
		box := sponsorBox.FindStringSubmatch(page.body)
		if box == nil {
			t.Fatalf("no sponsor box on %s", path)
		}
		form.Set(box[1], box[2])
	}
	return b.post(f.panelURL()+"/register", form)
}

// registered signs email up from a new browser and returns the manage token.
func (f *sponsorFlow) registered(t *testing.T, email string, sponsor bool) (*browser, string) {
	t.Helper()
	b := f.env.browser(t)
	r := f.signUp(t, b, f.panelURL(), email, sponsor)
	assertStatus(t, r, http.StatusSeeOther)
	return b, manageToken(t, r)
}

func (f *sponsorFlow) leads(t *testing.T) leadsJSON {
	t.Helper()
	return decodeAs[leadsJSON](t, f.api.get(f.leadsPath()), http.StatusOK)
}

func (f *sponsorFlow) auditLog(t *testing.T) []auditEntryJSON {
	t.Helper()
	return decodeAs[listJSON[auditEntryJSON]](t, f.api.get("/api/v1/audit-log"), http.StatusOK).Data
}

// auditedAs are the audit log's entries of one action.
func auditedAs(entries []auditEntryJSON, action string) []auditEntryJSON {
	var out []auditEntryJSON
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// The sign-up form's consent boxes: a sponsor's (name, version, rest of the
// tag) and the organizer's news (version, rest of the tag).
var (
	sponsorBox   = regexp.MustCompile(`<input type="checkbox" name="(sponsor_\d+)" id="field-sponsor-\d+" value="(\d+)"([^>]*)>`)
	marketingBox = regexp.MustCompile(`<input type="checkbox" name="marketing" id="field-marketing" value="(yes)"([^>]*)>`)
)

// Forms as a browser submits them: hidden and typed fields, ticked boxes,
// textareas and chosen options; buttons are left out.
var formSyntax = struct{ form, input, textarea, sel, option, attr *regexp.Regexp }{
	form:     regexp.MustCompile(`(?s)<form ([^>]*)>(.*?)</form>`),
	input:    regexp.MustCompile(`<input ([^>]*)>`),
	textarea: regexp.MustCompile(`(?s)<textarea ([^>]*)>(.*?)</textarea>`),
	sel:      regexp.MustCompile(`(?s)<select ([^>]*)>(.*?)</select>`),
	option:   regexp.MustCompile(`<option ([^>]*)>`),
	attr:     regexp.MustCompile(`([a-z][a-z-]*)(?:="([^"]*)")?`),
}

// htmlAttrs reads a tag's attributes, unescaped; a bare one (checked) is "".
func htmlAttrs(raw string) map[string]string {
	out := map[string]string{}
	for _, m := range formSyntax.attr.FindAllStringSubmatch(raw, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// formsPostingTo are the page's forms whose action is action, each with
// the fields a browser would send.
func formsPostingTo(page, action string) []url.Values {
	var forms []url.Values
	for _, f := range formSyntax.form.FindAllStringSubmatch(page, -1) {
		if htmlAttrs(f[1])["action"] != action {
			continue
		}
		v := url.Values{}
		for _, m := range formSyntax.input.FindAllStringSubmatch(f[2], -1) {
			a := htmlAttrs(m[1])
			_, checked := a["checked"]
			switch typ := a["type"]; {
			case a["name"] == "" || typ == "submit" || typ == "button":
			case (typ == "checkbox" || typ == "radio") && !checked:
			default:
				v.Add(a["name"], a["value"])
			}
		}
		for _, m := range formSyntax.textarea.FindAllStringSubmatch(f[2], -1) {
			v.Add(htmlAttrs(m[1])["name"], html.UnescapeString(strings.TrimPrefix(m[2], "\n")))
		}
		for _, m := range formSyntax.sel.FindAllStringSubmatch(f[2], -1) {
			chosen := ""
			for i, o := range formSyntax.option.FindAllStringSubmatch(m[2], -1) {
				a := htmlAttrs(o[1])
				if _, selected := a["selected"]; selected || i == 0 {
					chosen = a["value"]
				}
			}
			v.Add(htmlAttrs(m[1])["name"], chosen)
		}
		forms = append(forms, v)
	}
	return forms
}

// theFormPostingTo is the one form of the page posting to action.
func theFormPostingTo(t *testing.T, page, action string) url.Values {
	t.Helper()
	forms := formsPostingTo(page, action)
	if len(forms) != 1 {
		t.Fatalf("%d forms post to %s; want 1:\n%s", len(forms), action, page)
	}
	return forms[0]
}

// getAsCSV asks the API for path as CSV.
func (a *apiClient) getAsCSV(path string) response {
	a.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Accept", "text/csv")
	return a.b.do(req)
}

// csvDownload checks a CSV download (UTF-8 with a BOM) and reads its rows.
func csvDownload(t *testing.T, r response) [][]string {
	t.Helper()
	assertStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type = %q; want text/csv; charset=utf-8", ct)
	}
	body, ok := strings.CutPrefix(r.body, views.CSVBOM)
	if !ok {
		t.Fatalf("the CSV does not start with a BOM: %q", r.body[:min(len(r.body), 20)])
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("read CSV: %v\n%s", err, body)
	}
	return rows
}

// csvColumn is the row's cell under the header's column.
func csvColumn(t *testing.T, header, row []string, column string) string {
	t.Helper()
	for i, h := range header {
		if h == column {
			return row[i]
		}
	}
	t.Fatalf("no column %q in %v", column, header)
	return ""
}

// The "done when": the panel page names the sponsor and offers
// its box and the organizer's news unticked; a visitor from a tagged link
// who ticks the sponsor's box is its one lead, with the tags, the time of
// the consent and the version of its wording, as JSON and as CSV; each
// download is audited with its row count and without anyone's address.
func TestConsentFlow_SponsorLeadsFromTheFormCarryFirstTouchAndAreAudited(t *testing.T) {
	f := newSponsorFlow(t)
	id := f.sponsor.ID

	page := f.env.browser(t).get(f.panelURL())
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, `<p class="partners">In partnership with <a href="`+acmeSite+
		`" rel="sponsored noopener noreferrer">`+acmeName+`</a></p>`,
		fmt.Sprintf(`<label for="field-sponsor-%d">%s <a href="%s" target="_blank" rel="noopener noreferrer">%s's privacy policy`,
			id, html.EscapeString(models.SponsorConsentLabel(acmeName)), acmePrivacy, acmeName),
		html.EscapeString(models.MarketingConsentText("Podium Events")))
	box := sponsorBox.FindStringSubmatch(page.body)
	if box == nil || box[1] != f.sponsorField() || box[2] == "0" || box[3] != "" {
		t.Fatalf("sponsor box = %q; want %s unticked, valued with its wording's version", box, f.sponsorField())
	}
	version := box[2]
	if news := marketingBox.FindStringSubmatch(page.body); news == nil || news[2] != "" {
		t.Fatalf("news box = %q; want it unticked", news)
	}

	ada := f.env.browser(t)
	ada.header.Set("Referer", "https://news.example.org/december")
	tagged := ada.get(f.panelURL() + "?utm_source=newsletter&utm_medium=email&utm_campaign=dec")
	delete(ada.header, "Referer")
	assertContains(t, tagged.body, `<input type="hidden" name="utm_source" value="newsletter">`,
		`<input type="hidden" name="utm_medium" value="email">`, `<input type="hidden" name="utm_campaign" value="dec">`,
		`<input type="hidden" name="utm_term" value="">`,
		`<input type="hidden" name="referrer" value="https://news.example.org/december">`)
	form := personForm(t, tagged.body, adaEmail)
	form.Set(f.sponsorField(), version)
	signedUp := ada.post(f.panelURL()+"/register", form)
	assertStatus(t, signedUp, http.StatusSeeOther)
	manageToken(t, signedUp)
	f.registered(t, bobAddress, false)

	got := f.leads(t)
	if got.PanelID != f.panel.ID || got.Sponsor.ID != id || got.Sponsor.Name != acmeName ||
		got.Sponsor.PrivacyURL != acmePrivacy || len(got.Leads) != 1 {
		t.Fatalf("leads = %+v; want the sponsor and exactly one lead", got)
	}
	lead := got.Leads[0]
	if lead.Email != adaEmail || lead.Name != "Ada Lovelace" || lead.Organisation != "Analytical Engines" ||
		lead.Status != "confirmed" || lead.SessionID != f.panel.Sessions[0].ID ||
		lead.SessionStartsAt != "2026-12-03T15:00:00Z" || lead.UTMSource != "newsletter" || lead.UTMMedium != "email" ||
		lead.UTMCampaign != "dec" || lead.UTMTerm != "" || lead.Referrer != "https://news.example.org/december" ||
		lead.ConsentGivenAt != "2026-11-20T09:00:00Z" || fmt.Sprint(lead.ConsentVersion) != version {
		t.Fatalf("lead = %+v; want Ada from the newsletter, consenting now to version %s", lead, version)
	}

	rows := csvDownload(t, f.api.getAsCSV(f.leadsPath()))
	if len(rows) != 2 || rows[0][0] != "Name" || rows[0][1] != "Email" {
		t.Fatalf("CSV rows = %q; want a header and exactly Ada", rows)
	}
	for column, want := range map[string]string{"Email": adaEmail, "Name": "Ada Lovelace", "utm_source": "newsletter",
		"utm_medium": "email", "utm_campaign": "dec", "Consent given (UTC)": "2026-11-20 09:00:00",
		"Consent wording version": version} {
		if got := csvColumn(t, rows[0], rows[1], column); got != want {
			t.Errorf("CSV %s = %q; want %q", column, got, want)
		}
	}

	owner := f.env.adminBrowser(t, models.RoleOwner)
	adminCSV := owner.get(fmt.Sprintf("/admin/panels/%d/sponsors/%d/leads.csv", f.panel.ID, id))
	if admin := csvDownload(t, adminCSV); fmt.Sprint(admin) != fmt.Sprint(rows) {
		t.Errorf("the admin's CSV = %q; want the API's %q", admin, rows)
	}

	entries := f.auditLog(t)
	subject := fmt.Sprintf("leads of sponsor %d (%s) of panel %d (%s)", id, acmeName, f.panel.ID, f.panel.Slug)
	wantChannels := []string{"admin", "api", "api"} // newest first
	exports := auditedAs(entries, models.AuditLeadsExported)
	if len(exports) != len(wantChannels) {
		t.Fatalf("leads.exported entries = %+v; want one per download", exports)
	}
	for i, e := range exports {
		if e.Rows != 1 || e.Channel != wantChannels[i] || e.Subject != subject {
			t.Errorf("audit entry %d = %+v; want %s of %q with 1 row", i, e, wantChannels[i], subject)
		}
	}
	if line := strings.ToLower(fmt.Sprintf("%+v", entries)); strings.Contains(line, adaEmail) ||
		strings.Contains(line, bobAddress) {
		t.Errorf("the audit log names a registrant: %s", line)
	}
}

// withdrawForm is the manage page's Withdraw form for the sponsor.
func (f *sponsorFlow) withdrawForm(t *testing.T, page, token string) url.Values {
	t.Helper()
	for _, form := range formsPostingTo(page, views.RegistrationURL(token)+"/consents/withdraw") {
		if form.Get("sponsor") == fmt.Sprint(f.sponsor.ID) {
			return form
		}
	}
	t.Fatalf("no Withdraw form for sponsor %d:\n%s", f.sponsor.ID, page)
	return nil
}

// A person withdraws the sponsor's consent from their page: the leads are
// empty afterwards and the page says when it was withdrawn. The
// registration's own consent cannot be withdrawn there, a form naming no
// consent of theirs is refused, and a form without its CSRF token changes
// nothing.
func TestConsentFlow_WithdrawingTheSponsorConsentEmptiesItsLeads(t *testing.T) {
	f := newSponsorFlow(t)
	ada, token := f.registered(t, adaEmail, true)
	manage := views.RegistrationURL(token)
	withdraw := manage + "/consents/withdraw"
	page := ada.get(manage)
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, "What you agreed to",
		html.EscapeString(models.SponsorConsentText(acmeName, acmePrivacy)),
		html.EscapeString(models.RegistrationConsentWording), "Needed to keep your place",
		"Agreed on 20 November 2026, 09:00 UTC.")
	form := f.withdrawForm(t, page.body, token)
	if form.Get("purpose") != "sponsor" || form.Get("_csrf") == "" {
		t.Fatalf("withdraw form = %v; want purpose sponsor with a CSRF token", form)
	}
	assertLeads := func(want int) {
		t.Helper()
		if n := len(f.leads(t).Leads); n != want {
			t.Fatalf("leads = %d; want %d", n, want)
		}
	}

	forged := url.Values{"purpose": {"sponsor"}, "sponsor": {fmt.Sprint(f.sponsor.ID)}}
	assertStatus(t, ada.post(withdraw, forged), http.StatusForbidden)
	assertLeads(1)

	refused := []struct {
		name, purpose, sponsor string
		status                 int
		message                string
	}{
		{"the registration's own", "registration", "", http.StatusUnprocessableEntity,
			"We need your details to manage your place. To withdraw this consent, delete your data from your page."},
		{"a sponsor that is not a number", "sponsor", "acme", http.StatusBadRequest, "The form named no consent we know."},
		{"a sponsor never agreed to", "sponsor", "999999", http.StatusBadRequest, "The form named no consent you gave."},
		{"no such purpose", "everything", "", http.StatusBadRequest, "The form named no consent you gave."},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			bad := url.Values{"_csrf": {form.Get("_csrf")}, "purpose": {tc.purpose}}
			if tc.sponsor != "" {
				bad.Set("sponsor", tc.sponsor)
			}
			r := ada.post(withdraw, bad)
			assertStatus(t, r, tc.status)
			assertContains(t, r.body, tc.message)
		})
	}
	assertLeads(1)

	f.env.clock.Set(testNow.Add(time.Hour))
	r := ada.post(withdraw, form)
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != manage+"?withdrawn=1" {
		t.Fatalf("Location = %q; want %s?withdrawn=1", loc, manage)
	}
	after := ada.get(r.header.Get("Location"))
	assertContains(t, after.body, "Done: you have withdrawn your consent. Nothing more is shared on its strength.",
		"Agreed on 20 November 2026, 09:00 UTC; withdrawn on 20 November 2026, 10:00 UTC.")
	if forms := formsPostingTo(after.body, withdraw); len(forms) != 0 {
		t.Errorf("the page still offers %d Withdraw forms: %v", len(forms), forms)
	}
	assertLeads(0)
	reg, err := f.env.store.RegistrationByToken(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	consents, err := f.env.store.Consents(t.Context(), reg.ID)
	if err != nil || len(consents) != 2 || !consents[0].Given || consents[1].Given ||
		consents[1].Channel != models.ChannelManage {
		t.Fatalf("consents = %+v, %v; want the registration's standing and the sponsor's withdrawn from the page", consents, err)
	}
	if reg.Status != models.RegistrationConfirmed {
		t.Fatalf("registration is %s after the withdrawal; want it kept", reg.Status)
	}
}

// "Delete my data" asks first, erases only once confirmed, then the page
// is gone, the stored row anonymous, the person no one's lead, and the
// erasure audited as the person's own.
func TestConsentFlow_DeleteMyDataFromTheManagePage(t *testing.T) {
	f := newSponsorFlow(t)
	ada, token := f.registered(t, adaEmail, true)
	manage := views.RegistrationURL(token)
	reg, err := f.env.store.RegistrationByToken(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	assertContains(t, ada.get(manage).body, `<a class="danger-link" href="`+manage+`/erase">Delete my data</a>`)

	ask := ada.get(manage + "/erase")
	assertStatus(t, ask, http.StatusOK)
	if cc := ask.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	assertContains(t, ask.body, "Delete your data?", adaEmail, "Yes, delete my data", `href="`+manage+`">Keep my data`)
	form := theFormPostingTo(t, ask.body, manage+"/erase")
	if form.Get("confirm") != "yes" || form.Get("_csrf") == "" {
		t.Fatalf("erase form = %v; want confirm=yes with a CSRF token", form)
	}

	again := ada.post(manage+"/erase", url.Values{"_csrf": {form.Get("_csrf")}})
	assertStatus(t, again, http.StatusOK)
	assertContains(t, again.body, "Delete your data?", `action="`+manage+`/erase"`)
	if got := f.env.registrationOf(t, reg.ID); got.Email != adaEmail || got.ErasedAt != nil {
		t.Fatalf("an unconfirmed erasure erased: %+v", got)
	}
	assertStatus(t, ada.get(manage), http.StatusOK)

	done := ada.post(manage+"/erase", form)
	assertStatus(t, done, http.StatusOK)
	assertContains(t, done.body, "Your data has been deleted")
	assertStatus(t, ada.get(manage), http.StatusNotFound)
	got := f.env.registrationOf(t, reg.ID)
	if got.Email != "" || got.Name != "" || got.Organisation != "" || got.Source != "" || got.ErasedAt == nil ||
		got.Status != models.RegistrationCancelled {
		t.Fatalf("registration after erasure = %+v; want anonymous, its place given up", got)
	}
	if n := len(f.leads(t).Leads); n != 0 {
		t.Errorf("leads after the erasure = %d; want 0", n)
	}
	entries := f.env.auditEntries(t)
	var erasures []models.AuditEntry
	for _, e := range entries {
		if e.Action == models.AuditPersonErased {
			erasures = append(erasures, e)
		}
	}
	if len(erasures) != 1 || erasures[0].Channel != models.ChannelManage || erasures[0].RowCount != 1 ||
		erasures[0].AccountID != nil || erasures[0].Actor != "the person, from their own page" {
		t.Fatalf("person.erased entries = %+v; want the person's one erasure through their page", erasures)
	}
	if line := strings.ToLower(fmt.Sprintf("%+v", entries)); strings.Contains(line, adaEmail) {
		t.Errorf("the audit log names the address: %s", line)
	}
}

// personPathAPI is the people API's path of an address.
func personPathAPI(email string) string { return "/api/v1/people/" + url.PathEscape(email) }

// The people API is an owner's: an organizer's token is refused and sees
// nothing; an owner reads a person's registrations with their consents and
// wordings and emails, is told plainly about a malformed or unknown
// address, and erases the person, which is audited.
func TestConsentFlow_PeopleAPIIsForOwnersAndErases(t *testing.T) {
	f := newSponsorFlow(t)
	b := f.env.browser(t)
	page := b.get(f.panelURL())
	form := personForm(t, page.body, "Ada@Example.com")
	box, news := sponsorBox.FindStringSubmatch(page.body), marketingBox.FindStringSubmatch(page.body)
	form.Set(box[1], box[2])
	form.Set("marketing", news[1])
	assertStatus(t, b.post(f.panelURL()+"/register", form), http.StatusSeeOther)
	f.registered(t, bobAddress, false)

	organizer := f.env.tokenClient(t, f.env.addAccount(t, "organizer@example.com", models.RoleOrganizer))
	assertProblem(t, organizer.get(personPathAPI(adaEmail)), http.StatusForbidden)
	assertProblem(t, organizer.send(http.MethodDelete, personPathAPI(adaEmail), "", ""), http.StatusForbidden)
	if entries := f.env.auditEntries(t); len(entries) != 0 {
		t.Fatalf("refused requests were audited: %+v", entries)
	}

	r := f.api.get(personPathAPI(adaEmail))
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	person := decodeAs[personJSON](t, r, http.StatusOK)
	if person.Email != adaEmail || len(person.Registrations) != 1 || len(person.OptOuts) != 0 {
		t.Fatalf("person = %+v; want Ada's one registration", person)
	}
	reg := person.Registrations[0]
	if reg.Email != "Ada@Example.com" || reg.PanelID != f.panel.ID || reg.PanelTitle != "Data and trust" ||
		reg.Status != "confirmed" || len(reg.Consents) != 3 {
		t.Fatalf("registration = %+v; want Ada's, with three consents", reg)
	}
	wantConsents := []consentJSON{
		{Purpose: "registration", Wording: models.RegistrationConsentWording},
		{Purpose: "marketing", Wording: models.MarketingConsentText("Podium Events")},
		{Purpose: "sponsor", SponsorID: &f.sponsor.ID, Sponsor: acmeName,
			Wording: models.SponsorConsentText(acmeName, acmePrivacy)},
	}
	sponsorOf := func(c consentJSON) int64 {
		if c.SponsorID == nil {
			return 0
		}
		return *c.SponsorID
	}
	for i, want := range wantConsents {
		got := reg.Consents[i]
		if got.Purpose != want.Purpose || sponsorOf(got) != sponsorOf(want) ||
			got.Sponsor != want.Sponsor || got.Wording != want.Wording || !got.Given || got.WithdrawnAt != nil ||
			got.Channel != "form" || got.GivenAt != "2026-11-20T09:00:00Z" || got.Version == 0 {
			t.Errorf("consent %d = %+v; want %s given on the form with its wording", i, got, want.Purpose)
		}
	}
	if len(reg.Emails) != 1 || reg.Emails[0].Kind != string(models.KindConfirmation) ||
		reg.Emails[0].Status != string(models.OutboxQueued) {
		t.Errorf("emails = %+v; want the queued confirmation", reg.Emails)
	}
	if strings.Contains(r.body, bobAddress) {
		t.Error("the answer shows another person's data")
	}

	for _, tc := range []struct {
		email  string
		status int
	}{{"not-an-address", http.StatusBadRequest}, {"ada@localhost", http.StatusBadRequest},
		{"nobody@example.com", http.StatusNotFound}} {
		assertProblem(t, f.api.get(personPathAPI(tc.email)), tc.status)
		assertProblem(t, f.api.send(http.MethodDelete, personPathAPI(tc.email), "", ""), tc.status)
	}

	erased := decodeAs[erasureJSON](t, f.api.send(http.MethodDelete, "/api/v1/people/ADA%40example.com", "", ""),
		http.StatusOK)
	if erased.Erased != 1 || erased.Promoted != 0 {
		t.Fatalf("erasure = %+v; want 1 registration erased", erased)
	}
	assertProblem(t, f.api.get(personPathAPI(adaEmail)), http.StatusNotFound)
	if n := len(f.leads(t).Leads); n != 0 {
		t.Errorf("leads after the erasure = %d; want 0", n)
	}
	if _, err := f.env.store.PersonData(t.Context(), bobAddress); err != nil {
		t.Fatal(err)
	}
	entries := f.auditLog(t)
	erasures := auditedAs(entries, models.AuditPersonErased)
	if len(erasures) != 1 || erasures[0].Channel != "api" || erasures[0].Rows != 1 ||
		erasures[0].Actor != "api-owner@example.com (owner)" || erasures[0].Subject != "a person, on request" {
		t.Fatalf("person.erased entries = %+v; want the owner's one erasure through the API", erasures)
	}
	if line := strings.ToLower(fmt.Sprintf("%+v", entries)); strings.Contains(line, adaEmail) {
		t.Errorf("the audit log names the address: %s", line)
	}
}

// A blocked domain is refused on the form with the reason on the email
// field, and nothing is stored; an address elsewhere still registers.
func TestConsentFlow_BlockedDomainIsRefusedOnTheEmailField(t *testing.T) {
	f := newSponsorFlow(t)
	if p := f.patchPanel(t, map[string]any{"blocked_email_domains": []string{"Gmail.com"}}); fmt.Sprint(p.BlockedEmailDomains) != "[gmail.com]" {
		t.Fatalf("blocked domains = %q; want [gmail.com]", p.BlockedEmailDomains)
	}
	sessionID := f.panel.Sessions[0].ID
	r := f.signUp(t, f.env.browser(t), f.panelURL(), "ada@gmail.com", true)
	assertStatus(t, r, http.StatusUnprocessableEntity)
	assertContains(t, r.body, `<a href="#field-email">`,
		`<p class="error-message" id="email-error">This event does not take registrations from gmail.com addresses: please use your work email address.</p>`,
		`name="email" id="field-email" value="ada@gmail.com"`, `aria-invalid="true" aria-describedby="email-error"`)
	if box := sponsorBox.FindStringSubmatch(r.body); box == nil || !strings.Contains(box[3], "checked") {
		t.Errorf("sponsor box after the refusal = %q; want it still ticked", box)
	}
	if counts := f.env.countRegistrations(t, sessionID); len(counts) != 0 {
		t.Fatalf("a refused sign-up stored registrations: %v", counts)
	}
	if n := len(f.leads(t).Leads); n != 0 {
		t.Fatalf("a refused sign-up is a lead (%d)", n)
	}
	f.registered(t, "ada@mail.example.com", false)
	if counts := f.env.countRegistrations(t, sessionID); counts[models.RegistrationConfirmed] != 1 || len(counts) != 1 {
		t.Fatalf("counts = %v; want the other address confirmed", counts)
	}
}

// With approval required a sign-up waits: the person's page says so, the
// admin's list offers Approve, Decline and a bulk decision, the bulk
// approval gives a place, and the API declines another once (then 409).
func TestConsentFlow_ApprovalThroughTheAdminAndTheAPI(t *testing.T) {
	f := newSponsorFlow(t)
	if p := f.patchPanel(t, map[string]any{"require_approval": true}); !p.RequireApproval {
		t.Fatalf("panel = %+v; want approval required", p)
	}
	ada, adaToken := f.registered(t, adaEmail, false)
	assertContains(t, ada.get(views.RegistrationURL(adaToken)).body, "Your registration is awaiting approval",
		"The organiser of")
	_, bobToken := f.registered(t, bobAddress, false)
	pendingID := func(token string) int64 {
		t.Helper()
		reg, err := f.env.store.RegistrationByToken(t.Context(), token)
		if err != nil || reg.Status != models.RegistrationPending {
			t.Fatalf("registration = %+v, %v; want pending", reg, err)
		}
		return reg.ID
	}
	adaID, bobID := pendingID(adaToken), pendingID(bobToken)

	admin := f.env.adminBrowser(t, models.RoleOrganizer)
	list := fmt.Sprintf("/admin/panels/%d/registrants", f.panel.ID)
	page := admin.get(list)
	assertStatus(t, page, http.StatusOK)
	for _, id := range []int64{adaID, bobID} {
		assertContains(t, page.body, fmt.Sprintf(`action="/admin/registrations/%d/approve"`, id),
			fmt.Sprintf(`action="/admin/registrations/%d/decline"`, id),
			fmt.Sprintf(`<input type="checkbox" form="bulk-decide" name="ids" value="%d"`, id))
	}
	assertContains(t, page.body, `<form method="post" action="/admin/registrations/decide" id="bulk-decide"`,
		`name="decision" value="approve"`, `name="decision" value="decline"`)
	bulk := theFormPostingTo(t, page.body, "/admin/registrations/decide")
	if bulk.Get("return") != list {
		t.Fatalf("bulk form returns to %q; want %s", bulk.Get("return"), list)
	}
	bulk.Set("ids", fmt.Sprint(adaID))
	bulk.Set("decision", "approve")
	assertFlash(t, admin, admin.post("/admin/registrations/decide", bulk), list, "ok:Approved 1; each person is told by email.")
	if got := f.env.registrationOf(t, adaID); got.Status != models.RegistrationConfirmed || got.DecidedAt == nil {
		t.Fatalf("Ada after approval = %+v; want confirmed", got)
	}
	assertContains(t, ada.get(views.RegistrationURL(adaToken)).body, "You're registered")

	declinePath := fmt.Sprintf("/api/v1/registrations/%d/decline", bobID)
	declined := decodeAs[registrationJSON](t, f.api.call(http.MethodPost, declinePath, nil), http.StatusOK)
	if declined.ID != bobID || declined.Status != "declined" {
		t.Fatalf("declined = %+v; want Bob declined", declined)
	}
	assertProblem(t, f.api.call(http.MethodPost, declinePath, nil), http.StatusConflict)
	if got := f.env.registrationOf(t, bobID); got.Status != models.RegistrationDeclined {
		t.Fatalf("Bob = %s; want declined", got.Status)
	}
	if counts := f.env.countRegistrations(t, f.panel.Sessions[0].ID); counts[models.RegistrationConfirmed] != 1 ||
		counts[models.RegistrationDeclined] != 1 || len(counts) != 2 {
		t.Fatalf("counts = %v; want Ada confirmed and Bob declined", counts)
	}
}

// With email confirmation required the person's page asks them to confirm
// with a button (a mail scanner following the link confirms nothing);
// confirming clears the hold, and only then is the person a sponsor's lead.
func TestConsentFlow_EmailConfirmationThroughTheManagePage(t *testing.T) {
	f := newSponsorFlow(t)
	if p := f.patchPanel(t, map[string]any{"require_email_confirmation": true}); !p.RequireEmailConfirmation {
		t.Fatalf("panel = %+v; want email confirmation required", p)
	}
	ada, token := f.registered(t, adaEmail, true)
	manage := views.RegistrationURL(token)
	page := ada.get(manage)
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, "<h1>Please confirm your email address</h1>", "until 22 November 2026, 09:00 UTC",
		`<form method="post" action="`+manage+`/confirm">`, "Confirm my email address")
	reg, err := f.env.store.RegistrationByToken(t.Context(), token)
	if err != nil || reg.ConfirmBy == nil || !reg.ConfirmBy.Equal(testNow.Add(models.ConfirmHold)) {
		t.Fatalf("registration = %+v, %v; want its place held 48 hours", reg, err)
	}
	if n := len(f.leads(t).Leads); n != 0 {
		t.Fatalf("an unconfirmed address is a lead (%d)", n)
	}

	confirm := theFormPostingTo(t, page.body, manage+"/confirm")
	r := ada.post(manage+"/confirm", confirm)
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != manage+"?confirmed=1" {
		t.Fatalf("Location = %q; want %s?confirmed=1", loc, manage)
	}
	assertContains(t, ada.get(r.header.Get("Location")).body, "Thank you: your email address is confirmed.",
		"You're registered")
	got := f.env.registrationOf(t, reg.ID)
	if got.ConfirmBy != nil || got.EmailConfirmedAt == nil || !got.EmailConfirmedAt.Equal(testNow) ||
		got.Status != models.RegistrationConfirmed {
		t.Fatalf("registration after confirming = %+v; want the hold cleared", got)
	}
	if leads := f.leads(t).Leads; len(leads) != 1 || leads[0].Email != adaEmail {
		t.Fatalf("leads after confirming = %+v; want Ada", leads)
	}
}

// The admin's panel form round-trips sponsors: renaming one keeps its id
// (and its leads), a new row adds one, ticking remove takes it off the
// panel; the other settings survive the form unchanged.
func TestConsentFlow_AdminPanelFormKeepsSponsorIDs(t *testing.T) {
	f := newSponsorFlow(t)
	before := f.patchPanel(t, map[string]any{"blocked_email_domains": []string{"mailinator.com"}, "retention_days": 30})
	f.registered(t, adaEmail, true)
	admin := f.env.adminBrowser(t, models.RoleOrganizer)
	edit := fmt.Sprintf("/admin/panels/%d/edit", f.panel.ID)
	action := fmt.Sprintf("/admin/panels/%d", f.panel.ID)
	id := fmt.Sprint(f.sponsor.ID)

	page := admin.get(edit)
	assertStatus(t, page, http.StatusOK)
	form := theFormPostingTo(t, page.body, action)
	if form.Get("sponsors[0].id") != id || form.Get("sponsors[0].name") != acmeName ||
		form.Get("sponsors[0].privacy_url") != acmePrivacy || form.Get("sponsors[1].position") == "" ||
		form.Get("sponsors[1].id") != "" || form.Get("blocked_email_domains") != "mailinator.com" ||
		form.Get("retention_days") != "30" {
		t.Fatalf("edit form = %v; want the sponsor with its id, an empty row and the settings", form)
	}
	form.Set("sponsors[0].name", "Acme Insights")
	form.Set("sponsors[1].name", "Beacon Labs")
	form.Set("sponsors[1].privacy_url", "https://beacon.example.org/privacy")
	assertFlash(t, admin, admin.post(action, form), action, "ok:Changes saved.")

	saved := decodeAs[panelJSON](t, f.api.get(fmt.Sprintf("/api/v1/panels/%d", f.panel.ID)), http.StatusOK)
	if len(saved.Sponsors) != 2 || saved.Sponsors[0].ID != f.sponsor.ID || saved.Sponsors[0].Name != "Acme Insights" ||
		saved.Sponsors[0].PrivacyURL != acmePrivacy || saved.Sponsors[0].WebsiteURL != acmeSite ||
		saved.Sponsors[1].ID == 0 || saved.Sponsors[1].ID == f.sponsor.ID || saved.Sponsors[1].Name != "Beacon Labs" {
		t.Fatalf("sponsors after the edit = %+v; want Acme renamed with id %s, then Beacon Labs", saved.Sponsors, id)
	}
	if saved.Title != before.Title || saved.Slug != before.Slug || saved.Status != before.Status ||
		fmt.Sprint(saved.BlockedEmailDomains) != "[mailinator.com]" || saved.RetentionDays == nil || *saved.RetentionDays != 30 ||
		fmt.Sprint(saved.ReminderMinutes) != fmt.Sprint(before.ReminderMinutes) ||
		saved.FollowUps != before.FollowUps || saved.OrganizerName != before.OrganizerName {
		t.Fatalf("panel after the round trip = %+v; want its other settings kept from %+v", saved, before)
	}
	leads := f.leads(t)
	if leads.Sponsor.Name != "Acme Insights" || len(leads.Leads) != 1 || leads.Leads[0].Email != adaEmail {
		t.Fatalf("leads after the rename = %+v; want Ada kept", leads)
	}

	form = theFormPostingTo(t, admin.get(edit).body, action)
	if form.Get("sponsors[0].id") != id || form.Get("sponsors[1].id") != fmt.Sprint(saved.Sponsors[1].ID) {
		t.Fatalf("edit form = %v; want both sponsors with their ids", form)
	}
	form.Set("sponsors[0].remove", "yes")
	assertFlash(t, admin, admin.post(action, form), action, "ok:Changes saved.")
	removed := decodeAs[panelJSON](t, f.api.get(fmt.Sprintf("/api/v1/panels/%d", f.panel.ID)), http.StatusOK)
	if len(removed.Sponsors) != 1 || removed.Sponsors[0].ID != saved.Sponsors[1].ID {
		t.Fatalf("sponsors after removing Acme = %+v; want Beacon Labs only", removed.Sponsors)
	}
	assertProblem(t, f.api.get(f.leadsPath()), http.StatusNotFound)
	public := f.env.browser(t).get(f.panelURL())
	if strings.Contains(public.body, "Acme") || !strings.Contains(public.body, "Beacon Labs") {
		t.Errorf("the panel page after the removal names Acme or misses Beacon Labs:\n%s", public.body)
	}
}
