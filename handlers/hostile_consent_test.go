package handlers

// The hostile-input corpus for consent and people's data: the sign-up
// form's consent and first-touch fields, the person's own page (withdraw a
// consent, confirm the address, delete my data), sponsor leads, a person's
// data and approval decisions in the API, a panel's sponsors, gating and
// retention (API and admin form), bulk decisions, the people pages and the
// tracked-link builder. As everywhere in the corpus (hostile_test.go), a
// refusal is a clear 4xx without Go's error text and changes no table; what
// a sign-up accepts on purpose (odd consent values, first-touch tags it
// cleans and clips) is checked for what it stores and how it is shown.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"podium/models"
	"podium/views"
)

// consentFixture is the corpus fixture with consents to aim at. The
// hostile panel has an organizer, two sponsors and one removed; the other
// panel has a sponsor of its own. Carol signed up for the hostile panel's
// open session ticking the organizer's news (withdrawn since) and both
// sponsors. A gated panel (approval and email confirmation) holds Pat's
// pending registration with a confirmed address, Uma's pending one whose
// address is not confirmed, and Dee's declined one.
type consentFixture struct {
	*fixture
	sponsor, second, removed, othersSponsor int64
	carol                                   int64
	carolToken                              string
	gated                                   *models.Panel
	pending, unconfirmed, declined          int64
	// The manage tokens of Pat, Uma and Dee.
	pendingToken, unconfirmedToken, declinedToken string
	// organizerSecret is the API token of an organizer, who is no owner;
	// organizer is that organizer signed in to the admin.
	organizerSecret string
	organizer       *browser
}

func newConsentFixture(t *testing.T) *consentFixture {
	t.Helper()
	cf := &consentFixture{fixture: newFixture(t)}
	cf.addSponsors(t)
	cf.addGatedRegistrations(t)
	cf.addOrganizer(t)
	cf.last = nil
	return cf
}

// addSponsors gives the panels their sponsors and Carol her consents.
func (cf *consentFixture) addSponsors(t *testing.T) {
	t.Helper()
	store, ctx := cf.env.store, t.Context()
	sponsor := func(name string) models.Sponsor {
		return models.Sponsor{Name: name, WebsiteURL: "https://" + name + ".example.com",
			PrivacyURL: "https://" + name + ".example.com/privacy"}
	}
	setSponsors := func(panelID int64, sponsors ...models.Sponsor) []models.Sponsor {
		p, err := store.EditPanel(ctx, panelID, func(p *models.Panel) {
			p.OrganizerName, p.Sponsors = "Panel "+itoa(panelID)+" Events", sponsors
		})
		if err != nil || len(p.Sponsors) != len(sponsors) {
			t.Fatalf("sponsors of panel %d: %+v, %v", panelID, p, err)
		}
		return p.Sponsors
	}
	three := setSponsors(cf.panel.ID, sponsor("acme"), sponsor("globex"), sponsor("initech"))
	cf.sponsor, cf.second, cf.removed = three[0].ID, three[1].ID, three[2].ID
	setSponsors(cf.panel.ID, three[0], three[1])
	cf.othersSponsor = setSponsors(cf.other.ID, sponsor("umbrella"))[0].ID

	carol, err := store.Register(ctx, cf.panel.ID, models.RegistrationInput{SessionID: cf.panel.Sessions[1].ID,
		Name: "Carol Consent", Email: "carol@example.com", Consent: true, Marketing: true,
		Sponsors: map[int64]int64{cf.sponsor: 0, cf.second: 0},
		Answers:  map[int64][]string{cf.panel.Questions[2].ID: {"A"}}})
	if err != nil {
		t.Fatal(err)
	}
	cf.carol, cf.carolToken = carol.Registration.ID, carol.Token
	if _, err := store.WithdrawConsent(ctx, cf.carol, models.ConsentMarketing, 0, models.ChannelManage); err != nil {
		t.Fatal(err)
	}
}

// addGatedRegistrations makes the gated panel and its three registrations.
func (cf *consentFixture) addGatedRegistrations(t *testing.T) {
	t.Helper()
	store, ctx := cf.env.store, t.Context()
	cf.gated = cf.env.addPanel(t, "gated", models.Session{Capacity: 10})
	if _, err := store.EditPanel(ctx, cf.gated.ID, func(p *models.Panel) {
		p.RequireApproval, p.RequireEmailConfirmation = true, true
	}); err != nil {
		t.Fatal(err)
	}
	signUp := func(email string, confirm bool) *models.RegisterResult {
		res := cf.env.register(t, cf.gated, cf.gated.Sessions[0].ID, email)
		if res.Registration.Status != models.RegistrationPending {
			t.Fatalf("%s is %s; want pending", email, res.Registration.Status)
		}
		if confirm {
			if _, err := store.ConfirmEmail(ctx, res.Token); err != nil {
				t.Fatal(err)
			}
		}
		return res
	}
	pat, uma, dee := signUp("pat@example.com", true), signUp("uma@example.com", false), signUp("dee@example.com", true)
	cf.pending, cf.pendingToken = pat.Registration.ID, pat.Token
	cf.unconfirmed, cf.unconfirmedToken = uma.Registration.ID, uma.Token
	cf.declined, cf.declinedToken = dee.Registration.ID, dee.Token
	if _, err := store.Decline(ctx, cf.declined); err != nil {
		t.Fatal(err)
	}
}

// addOrganizer adds an organizer with an API token, used once, and signs
// them in to the admin.
func (cf *consentFixture) addOrganizer(t *testing.T) {
	t.Helper()
	org := cf.env.addAccount(t, "organizer@example.com", models.RoleOrganizer)
	var err error
	if cf.organizerSecret, _, err = cf.env.store.CreateAPIToken(t.Context(), org.ID, "organizer"); err != nil {
		t.Fatal(err)
	}
	// A token's first use is noted; later ones within a minute are not.
	api := cf.env.browser(t)
	api.header.Set("Authorization", "Bearer "+cf.organizerSecret)
	assertStatus(t, api.get("/api/v1/panels"), http.StatusOK)
	cf.organizer = cf.env.browser(t)
	cf.organizer.header.Set("X-Forwarded-For", cf.env.nextClient())
	assertStatus(t, cf.organizer.signIn("organizer@example.com", ownerPassword), http.StatusSeeOther)
}

// consentBox is the sign-up form's checkbox field of a sponsor.
func consentBox(id any) string { return fmt.Sprintf("sponsor_%v", id) }

// ownPage is a path under a registration's own page.
func ownPage(token, action string) string { return "/registrations/" + token + action }

// Messages of the sign-up's consents and of the person's own page.
const (
	notOurSponsor  = "is not one of this event's sponsors any more"
	noConsentKnown = "The form named no consent we know."
	noConsentGiven = "The form named no consent you gave."
	withPlace      = "This one goes with your place"
	eraseQuestion  = "Delete your data?"
)

// signUpConsentTarget spoils the sign-up form's sponsor boxes: each names
// a sponsor the panel does not offer, and the whole sign-up is refused.
func (cf *consentFixture) signUpConsentTarget() formTarget {
	tick := func(ids ...int64) map[string]string {
		out := map[string]string{}
		for _, id := range ids {
			out[consentBox(id)] = "1"
		}
		return out
	}
	twenty := map[string]string{}
	for i := range 20 {
		twenty[consentBox(900_000+i)] = "1"
	}
	return formTarget{
		name: "sign-up consents", page: "/panels/" + fxSlug, path: "/panels/" + fxSlug + "/register",
		valid: map[string]string{"session": fxOpenSession, "name": "Nina New", "email": "nina@example.com", "consent": "yes",
			"q_" + questionKeys[2]: "A", "marketing": "1", consentBox(cf.sponsor): "1"},
		cases: append([]formCase{
			{name: "another panel's sponsor", set: tick(cf.othersSponsor), status: 422, msg: notOurSponsor},
			{name: "a removed sponsor", set: tick(cf.removed), status: 422, msg: notOurSponsor},
			{name: "an unknown sponsor", set: tick(999_999), status: 422, msg: notOurSponsor},
			{name: "sponsor 2^63-1", set: tick(math.MaxInt64), status: 422, msg: notOurSponsor},
			{name: "twenty unknown sponsors", set: twenty, status: 422, msg: notOurSponsor},
			{name: "both sponsors and another panel's", set: tick(cf.sponsor, cf.second, cf.othersSponsor), status: 422,
				msg: notOurSponsor},
			{name: "another panel's sponsor with another sponsor's wording", set: map[string]string{
				consentBox(cf.othersSponsor): itoa(cf.sponsor)}, status: 422, msg: notOurSponsor},
			{name: "a sponsor ticked without the registration's consent", drop: []string{"consent"}, status: 422,
				msg: "Tick the box to agree"},
			{name: "news ticked with an address refused", set: map[string]string{"email": "nobody"}, status: 422,
				msg: "Enter a valid email address"},
			{name: "another panel's sponsor on its own panel's form", path: "/panels/" + fxOtherSlug + "/register",
				set: map[string]string{"session": fxOtherSession, consentBox(cf.sponsor): "1"}, drop: []string{"q_" + questionKeys[2]},
				status: 422, msg: notOurSponsor},
		}, transportCases()...),
	}
}

// withdrawTarget is the Withdraw button of Carol's page: the valid form
// would withdraw her consent to the first sponsor.
func (cf *consentFixture) withdrawTarget() formTarget {
	path := ownPage(cf.carolToken, "/consents/withdraw")
	purpose := func(p string) map[string]string { return map[string]string{"purpose": p} }
	sponsor := func(s string) map[string]string { return map[string]string{"sponsor": s} }
	cases := []formCase{
		{name: "no purpose", drop: []string{"purpose"}, status: 400, msg: noConsentGiven},
		{name: "an unknown purpose", set: purpose("everything"), status: 400, msg: noConsentGiven},
		{name: "purpose in capitals", set: purpose("SPONSOR"), status: 400, msg: noConsentGiven},
		{name: "purpose with SQL", set: purpose("sponsor' OR '1'='1"), status: 400, msg: noConsentGiven},
		{name: "purpose with NUL", set: purpose("sponsor\x00"), status: 400, msg: noConsentGiven},
		{name: "the registration's own consent", set: purpose("registration"), status: 422, msg: withPlace},
		{name: "news never ticked", path: ownPage(fxToken, "/consents/withdraw"), set: purpose("marketing"),
			drop: []string{"sponsor"}, status: 400, msg: noConsentGiven},
		{name: "a sponsor never ticked", path: ownPage(fxToken, "/consents/withdraw"), status: 400, msg: noConsentGiven},
		{name: "sponsor not a number", set: sponsor("acme"), status: 400, msg: noConsentKnown},
		{name: "sponsor -1", set: sponsor("-1"), status: 400, msg: noConsentKnown},
		{name: "sponsor 2^63", set: sponsor("9223372036854775808"), status: 400, msg: noConsentKnown},
		{name: "sponsor 1e3", set: sponsor("1e3"), status: 400, msg: noConsentKnown},
		{name: "sponsor with SQL", set: sponsor(itoa(cf.sponsor) + " OR 1=1"), status: 400, msg: noConsentKnown},
		{name: "sponsor missing", drop: []string{"sponsor"}, status: 400, msg: noConsentGiven},
		{name: "sponsor 0", set: sponsor("0"), status: 400, msg: noConsentGiven},
		{name: "another panel's sponsor", set: sponsor(itoa(cf.othersSponsor)), status: 400, msg: noConsentGiven},
		{name: "a removed sponsor never ticked", set: sponsor(itoa(cf.removed)), status: 400, msg: noConsentGiven},
		{name: "an unknown sponsor", set: sponsor("999999"), status: 400, msg: noConsentGiven},
		{name: "news with a sponsor", set: purpose("marketing"), status: 400, msg: noConsentGiven},
		{name: "two sponsor fields, the first another's", set: sponsor(itoa(cf.othersSponsor)),
			add: map[string][]string{"sponsor": {itoa(cf.sponsor)}}, status: 400, msg: noConsentGiven},
		// Withdrawing what is withdrawn already is harmless: back to the
		// page, nothing recorded twice.
		{name: "news withdrawn already", set: purpose("marketing"), drop: []string{"sponsor"}, status: 303, msg: "?withdrawn=1"},
		{name: "body over 4 KiB", set: map[string]string{"padding": strings.Repeat("p", 5000)}, status: 413},
	}
	cases = append(cases, badManageTokens("/consents/withdraw")...)
	return formTarget{name: "withdraw a consent", page: ownPage(cf.carolToken, ""), path: path,
		valid: map[string]string{"purpose": "sponsor", "sponsor": itoa(cf.sponsor)}, cases: append(cases, transportCases()...)}
}

// badManageTokens are paths with manage tokens that name no registration.
func badManageTokens(action string) []formCase {
	tokens := []struct{ name, token string }{
		{"short token", "abc"},
		{"well-formed unknown token", strings.Repeat("A", 43)},
		{"token with SQL", "'%20OR%201%3D1%20--%20" + strings.Repeat("a", 28)},
		{"token with NUL", strings.Repeat("a", 42) + "%00"},
		{"token with LIKE wildcards", strings.Repeat("%25", 43)},
		{"token of 2000 characters", strings.Repeat("t", 2000)},
	}
	out := make([]formCase, len(tokens))
	for i, tk := range tokens {
		out[i] = formCase{name: tk.name, path: ownPage(tk.token, action), status: 404}
	}
	return out
}

// eraseTarget is "Yes, delete my data" of Ada's page: the valid form would
// erase her.
func (cf *consentFixture) eraseTarget() formTarget {
	confirm := func(v string) map[string]string { return map[string]string{"confirm": v} }
	cases := []formCase{
		{name: "no confirm", drop: []string{"confirm"}, status: 200, msg: eraseQuestion},
		{name: "confirm no", set: confirm("no"), status: 200, msg: eraseQuestion},
		{name: "confirm YES", set: confirm("YES"), status: 200, msg: eraseQuestion},
		{name: "confirm with a trailing space", set: confirm("yes "), status: 200, msg: eraseQuestion},
		{name: "confirm on", set: confirm("on"), status: 200, msg: eraseQuestion},
		{name: "two confirm fields, the first no", set: confirm("no"), add: map[string][]string{"confirm": {"yes"}},
			status: 200, msg: eraseQuestion},
		{name: "body over 4 KiB", set: map[string]string{"padding": strings.Repeat("p", 5000)}, status: 413},
	}
	cases = append(cases, badManageTokens("/erase")...)
	return formTarget{name: "delete my data", page: ownPage(fxToken, "/erase"), path: ownPage(fxToken, "/erase"),
		valid: confirm("yes"), cases: append(cases, transportCases()...)}
}

// confirmTarget is "Confirm my email address" of Uma's page: the valid form
// would confirm it. Confirming an address that needs none, or twice, is
// harmless: back to the page, nothing changed.
func (cf *consentFixture) confirmTarget() formTarget {
	cases := []formCase{
		{name: "an address that needed no confirmation", path: ownPage(fxToken, "/confirm"), status: 303, msg: "?confirmed=1"},
		{name: "an address confirmed already, awaiting approval", path: ownPage(cf.pendingToken, "/confirm"), status: 303,
			msg: "?confirmed=1"},
		{name: "a declined registration", path: ownPage(cf.declinedToken, "/confirm"), status: 303, msg: "?confirmed=1"},
		{name: "body over 4 KiB", set: map[string]string{"padding": strings.Repeat("p", 5000)}, status: 413},
	}
	cases = append(cases, badManageTokens("/confirm")...)
	return formTarget{name: "confirm the address", page: ownPage(cf.unconfirmedToken, ""),
		path: ownPage(cf.unconfirmedToken, "/confirm"), cases: append(cases, transportCases()...)}
}

// runManageCase is runFormCase for the person's own page: a harmless
// action answers 303 back to the page, with msg in its query.
func (cf *consentFixture) runManageCase(t *testing.T, target formTarget, tc formCase) {
	r := cf.unchangedBy(t, func() response { return cf.sendFormCase(t, target, tc) })
	if tc.status != http.StatusSeeOther {
		assertAnswer(t, r, tc.status, tc.msg)
		return
	}
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); !strings.HasPrefix(loc, "/registrations/") || !strings.HasSuffix(loc, tc.msg) {
		t.Fatalf("Location = %q; want the person's page with %q", loc, tc.msg)
	}
}

func TestHostileConsent_PublicForms(t *testing.T) {
	cf := newConsentFixture(t)
	runFormTargets(t, []formTarget{cf.signUpConsentTarget(), cf.withdrawTarget(), cf.eraseTarget(), cf.confirmTarget()},
		cf.runManageCase)
}

// runFormTargets sends every case of the targets through run, each as a
// subtest of its target.
func runFormTargets(t *testing.T, targets []formTarget, run func(*testing.T, formTarget, formCase)) {
	t.Helper()
	ran := 0
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { run(t, target, tc) })
			}
		})
	}
	t.Logf("ran %d hostile form cases", ran)
}

// The odd consent values a sign-up accepts: a box's value is only the
// version of the wording the page showed, so any other value records the
// box's current wording, and a sponsor_ field that names no sponsor ticks
// nothing. Each sign-up goes through and records exactly the consents
// below.
func TestHostileConsent_SignUpRecordsOnlyTheWordingsOffered(t *testing.T) {
	cf := newConsentFixture(t)
	ctx := t.Context()
	p, err := cf.env.store.PanelByID(ctx, cf.panel.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := cf.env.store.PanelByID(ctx, cf.other.ID)
	if err != nil {
		t.Fatal(err)
	}
	news, othersNews := *p.MarketingTextID, *other.MarketingTextID
	acme, globex := *p.Sponsors[0].ConsentTextID, *p.Sponsors[1].ConsentTextID
	if news == othersNews {
		t.Fatal("the two panels' news wordings are one: the fixture's organizers should differ")
	}
	cases := []struct {
		name   string
		fields map[string]string
		// news and sponsors are the wording versions wanted (0: no consent).
		news     int64
		sponsors map[int64]int64
	}{
		{name: "news ticked with a word", fields: map[string]string{"marketing": "yes"}, news: news},
		{name: "news ticked with -1", fields: map[string]string{"marketing": "-1"}, news: news},
		{name: "news ticked with 2^63", fields: map[string]string{"marketing": "9223372036854775808"}, news: news},
		{name: "news ticked with SQL", fields: map[string]string{"marketing": "1 OR 1=1"}, news: news},
		{name: "news ticked with a sponsor's wording", fields: map[string]string{"marketing": itoa(acme)}, news: news},
		{name: "news ticked with an unknown wording", fields: map[string]string{"marketing": "999999"}, news: news},
		{name: "news ticked with another panel's wording", fields: map[string]string{"marketing": itoa(othersNews)},
			news: news},
		{name: "news left empty", fields: map[string]string{"marketing": ""}},
		{name: "a box with another sponsor's wording", fields: map[string]string{consentBox(cf.sponsor): itoa(globex)},
			sponsors: map[int64]int64{cf.sponsor: acme}},
		{name: "a box with the news wording", fields: map[string]string{consentBox(cf.sponsor): itoa(news)},
			sponsors: map[int64]int64{cf.sponsor: acme}},
		{name: "a box with a word", fields: map[string]string{consentBox(cf.second): "on"},
			sponsors: map[int64]int64{cf.second: globex}},
		{name: "a box left empty", fields: map[string]string{consentBox(cf.sponsor): ""}},
		{name: "boxes that name no sponsor", fields: map[string]string{consentBox(-1): "1", consentBox(0): "1",
			consentBox("abc"): "1", consentBox(""): "1", consentBox("9223372036854775808"): "1", consentBox("1e3"): "1",
			consentBox(" " + itoa(cf.sponsor)): "1", "sponsor" + itoa(cf.sponsor): "1", "SPONSOR_" + itoa(cf.sponsor): "1"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, consents, _ := cf.signUpWith(t, fmt.Sprintf("odd%d@example.com", i), tc.fields)
			var gotNews int64
			gotSponsors := map[int64]int64{}
			for _, c := range consents {
				switch c.Purpose {
				case models.ConsentMarketing:
					gotNews = c.ConsentTextID
				case models.ConsentSponsor:
					gotSponsors[*c.SponsorID] = c.ConsentTextID
				}
			}
			if gotNews != tc.news || !maps.Equal(gotSponsors, cmpOrMap(tc.sponsors)) || consents[0].Purpose != models.ConsentRegistration {
				t.Fatalf("consents = news %d, sponsors %v (%+v); want news %d, sponsors %v", gotNews, gotSponsors, consents,
					tc.news, tc.sponsors)
			}
		})
	}
}

// signUpWith signs a new visitor up for the hostile panel through its form,
// with fields set over a valid sign-up (a place on the full session's
// waitlist, which takes everyone), and returns what was stored.
func (cf *consentFixture) signUpWith(t *testing.T, email string, fields map[string]string) (*models.Registration,
	[]models.ConsentState, string) {
	t.Helper()
	form := map[string]string{"session": itoa(cf.panel.Sessions[0].ID), "q_" + itoa(cf.panel.Questions[2].ID): "A"}
	maps.Copy(form, person(email))
	maps.Copy(form, fields)
	b := cf.env.browser(t)
	b.header.Set("X-Forwarded-For", cf.env.nextClient())
	r := b.signUp(cf.panel.Slug, form)
	assertNoGoErrors(t, r.body)
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-up = %d:\n%s", r.status, clipBody(r.body))
	}
	token := manageToken(t, r)
	reg, err := cf.env.store.RegistrationByToken(t.Context(), token)
	if err != nil {
		t.Fatal(err)
	}
	consents, err := cf.env.store.Consents(t.Context(), reg.ID)
	if err != nil {
		t.Fatal(err)
	}
	return reg, consents, token
}

func cmpOrMap(m map[int64]int64) map[int64]int64 {
	if m == nil {
		return map[int64]int64{}
	}
	return m
}

// hostileTouch are first-touch fields a sign-up accepts, and what it must
// keep of each: control and format characters dropped, spaces trimmed,
// each tag cut to 100 characters and the referrer to 500.
var hostileTouch = []struct{ field, sent, kept string }{
	{"utm_source", " \x00<script>alert(\"source\")</script>\r\n", `<script>alert("source")</script>`},
	{"utm_medium", strings.Repeat("m", 10_000), strings.Repeat("m", 100)},
	{"utm_campaign", "camp\u202eaign\u200b" + strings.Repeat("é", 200), "campaign" + strings.Repeat("é", 92)},
	{"utm_term", "a\tb\x1bc\x7fd\u0085e\ufefff\u2066g\u2069", "abcdefg"},
	{"utm_content", "=HYPERLINK(\"http://evil.example\",\"x\")\x00", `=HYPERLINK("http://evil.example","x")`},
	{"referrer", "https://evil.example/\"><img src=x onerror=alert(1)>?" + strings.Repeat("r", 10_000),
		("https://evil.example/\"><img src=x onerror=alert(1)>?" + strings.Repeat("r", 500))[:500]},
}

// hostileSponsorName is a sponsor name the rules accept (one plain line)
// that only looks like markup.
const hostileSponsorName = `<script>alert("sponsor")</script> & "Co"`

// A sign-up's first-touch tags are cleaned and clipped, not refused; what
// is stored holds no control or format character, and every page, export
// and API answer that shows the tags (or a sponsor named like markup)
// shows them as text.
func TestHostileConsent_FirstTouchIsCleanedClippedAndShownAsText(t *testing.T) {
	cf := newConsentFixture(t)
	if _, err := cf.env.store.EditPanel(t.Context(), cf.panel.ID, func(p *models.Panel) {
		p.Sponsors[1].Name = hostileSponsorName
	}); err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{consentBox(cf.sponsor): "1", consentBox(cf.second): "1"}
	for _, f := range hostileTouch {
		fields[f.field] = f.sent
	}
	reg, _, token := cf.signUpWith(t, "touch@example.com", fields)
	stored := map[string]string{"utm_source": reg.Source, "utm_medium": reg.Medium, "utm_campaign": reg.Campaign,
		"utm_term": reg.Term, "utm_content": reg.Content, "referrer": reg.Referrer}
	for _, f := range hostileTouch {
		if got := stored[f.field]; got != f.kept || !cleanTag(got) {
			t.Errorf("%s stored as %q; want %q", f.field, got, f.kept)
		}
	}
	t.Run("pages", func(t *testing.T) { cf.checkTouchPages(t, token, reg.Email) })
	t.Run("CSV exports", func(t *testing.T) { cf.checkTouchExports(t) })
	t.Run("API", func(t *testing.T) { cf.checkTouchAPI(t, reg.Email) })
}

// cleanTag says whether s holds no control, format or line-separating
// character.
func cleanTag(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

// keptTouch is what hostileTouch keeps, by field.
func keptTouch() map[string]string {
	out := map[string]string{}
	for _, f := range hostileTouch {
		out[f.field] = f.kept
	}
	return out
}

// checkTouchPages looks at the pages that show the tags or the sponsor (the
// person's own page shows the sponsor's wording, not the tags): no markup
// of theirs unescaped (hostileMarkup), and the texts there once unescaped.
func (cf *consentFixture) checkTouchPages(t *testing.T, token, email string) {
	kept := keptTouch()
	visitor, owner := cf.env.browser(t), cf.owner.browserFor(t)
	sponsorWording := models.SponsorConsentLabel(hostileSponsorName)
	pages := []struct {
		path  string
		b     *browser
		wants []string
	}{
		{"/panels/" + cf.panel.Slug, visitor, []string{hostileSponsorName, sponsorWording}},
		{"/panels/" + cf.panel.Slug + "/embed", visitor, nil},
		{ownPage(token, ""), visitor, []string{sponsorWording}},
		{ownPage(token, "/erase"), visitor, nil},
		{"/admin", owner, []string{kept["utm_source"], kept["utm_medium"], kept["utm_campaign"]}},
		{"/admin/panels/" + itoa(cf.panel.ID), owner, []string{hostileSponsorName}},
		{"/admin/panels/" + itoa(cf.panel.ID) + "/edit", owner, []string{hostileSponsorName}},
		{"/admin/panels/" + itoa(cf.panel.ID) + "/links", owner, []string{kept["utm_source"], kept["utm_medium"], kept["utm_campaign"]}},
		{"/admin/people?email=" + url.QueryEscape(email), owner, append(slices.Collect(maps.Values(kept)), sponsorWording)},
	}
	for _, page := range pages {
		r := page.b.get(page.path)
		assertNoGoErrors(t, r.body)
		assertShownAsText(t, page.path, r, page.wants...)
	}
}

// checkTouchExports reads the registrants' export and both sponsors'
// leads: the tags as stored, a cell a spreadsheet would run as a formula
// neutralised.
func (cf *consentFixture) checkTouchExports(t *testing.T) {
	kept := keptTouch()
	want := map[string]string{"utm_source": kept["utm_source"], "utm_medium": kept["utm_medium"],
		"utm_campaign": kept["utm_campaign"], "utm_term": kept["utm_term"], "utm_content": "'" + kept["utm_content"],
		"Referrer": kept["referrer"]}
	owner := cf.owner.browserFor(t)
	for _, path := range []string{
		"/admin/panels/" + itoa(cf.panel.ID) + "/registrants.csv",
		fmt.Sprintf("/admin/panels/%d/sponsors/%d/leads.csv", cf.panel.ID, cf.sponsor),
		fmt.Sprintf("/admin/panels/%d/sponsors/%d/leads.csv", cf.panel.ID, cf.second),
	} {
		r := owner.get(path)
		assertStatus(t, r, http.StatusOK)
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, views.CSVBOM))).ReadAll()
		if err != nil || len(rows) < 2 {
			t.Fatalf("%s = %v (%v)", path, rows, err)
		}
		cells := csvRowOf(rows, "touch@example.com")
		if cells == nil {
			t.Fatalf("%s has no row for touch@example.com:\n%s", path, r.body)
		}
		for header, w := range want {
			if got, ok := cells[header]; !ok || got != w {
				t.Errorf("%s: %s = %q (column present: %v); want %q", path, header, got, ok, w)
			}
		}
		if disp := r.header.Get("Content-Disposition"); strings.ContainsAny(disp, "<>\r\n") {
			t.Errorf("%s: Content-Disposition = %q", path, disp)
		}
	}
}

// csvRowOf is the row whose cells include email, by header.
func csvRowOf(rows [][]string, email string) map[string]string {
	for _, row := range rows[1:] {
		if slices.Contains(row, email) {
			cells := map[string]string{}
			for i, header := range rows[0] {
				cells[header] = row[i]
			}
			return cells
		}
	}
	return nil
}

// checkTouchAPI reads the person's data and the leads through the API: the
// tags exactly as stored.
func (cf *consentFixture) checkTouchAPI(t *testing.T, email string) {
	kept := keptTouch()
	api := cf.env.browser(t)
	api.header.Set("Authorization", "Bearer "+cf.apiSecret)
	same := func(where string, got firstTouchJSON) {
		t.Helper()
		want := firstTouchJSON{UTMSource: kept["utm_source"], UTMMedium: kept["utm_medium"], UTMCampaign: kept["utm_campaign"],
			UTMTerm: kept["utm_term"], UTMContent: kept["utm_content"], Referrer: kept["referrer"]}
		if got != want {
			t.Errorf("%s first touch = %+v; want %+v", where, got, want)
		}
	}
	data := decodeAs[personJSON](t, api.get("/api/v1/people/"+url.PathEscape(email)), http.StatusOK)
	if len(data.Registrations) != 1 {
		t.Fatalf("person = %+v", data)
	}
	same("person", data.Registrations[0].firstTouchJSON)
	var sponsorNames []string
	for _, c := range data.Registrations[0].Consents {
		sponsorNames = append(sponsorNames, c.Sponsor)
	}
	if !slices.Contains(sponsorNames, hostileSponsorName) {
		t.Errorf("person's consents name sponsors %q; want %q among them", sponsorNames, hostileSponsorName)
	}
	leads := decodeAs[leadsJSON](t, api.get(fmt.Sprintf("/api/v1/panels/%d/sponsors/%d/leads", cf.panel.ID, cf.second)),
		http.StatusOK)
	if leads.Sponsor.Name != hostileSponsorName {
		t.Errorf("leads' sponsor = %q; want %q", leads.Sponsor.Name, hostileSponsorName)
	}
	for _, l := range leads.Leads {
		if l.Email == email {
			same("lead", firstTouchJSON{UTMSource: l.UTMSource, UTMMedium: l.UTMMedium, UTMCampaign: l.UTMCampaign,
				UTMTerm: l.UTMTerm, UTMContent: l.UTMContent, Referrer: l.Referrer})
			return
		}
	}
	t.Errorf("leads = %+v; want %s among them", leads.Leads, email)
}

// The line and paragraph separators are no control or format characters,
// but they break a line like one: the tags must not keep them either (the
// tracked-link builder refuses them as "a line break").
func TestHostileConsent_FirstTouchDropsLineSeparators(t *testing.T) {
	cf := newConsentFixture(t)
	reg, _, _ := cf.signUpWith(t, "separators@example.com", map[string]string{"utm_source": "news\u2028letter",
		"utm_campaign": "autumn\u2029launch", "referrer": "https://news.example.org/\u2028x"})
	if reg.Source != "newsletter" || reg.Campaign != "autumnlaunch" || reg.Referrer != "https://news.example.org/x" {
		t.Fatalf("stored %q, %q, %q; want the separators dropped", reg.Source, reg.Campaign, reg.Referrer)
	}
}

// notPodiums is the bulk decision's reason for an id that names no
// registration.
const notPodiums = "one of them is not a registration of Podium's."

// Messages of the API's consent routes.
const (
	personPathMsg = "The address in the path does not decode: percent-encode it."
	personAddrMsg = "Give a valid email address, like name@example.com, percent-encoded."
	nothingMsg    = "Podium holds nothing about this address."
	notPendingMsg = "This registration is not waiting for approval"
	notOwnerMsg   = "Only an owner's token"
	ownersOnly    = "Only an owner can manage"
)

// leadsTarget asks for the first sponsor's leads through bad ids and
// sponsors that are not the panel's.
func (cf *consentFixture) leadsTarget() apiTarget {
	path := func(panel, sponsor any) string {
		return fmt.Sprintf("/api/v1/panels/%v/sponsors/%v/leads", panel, sponsor)
	}
	cases := apiBadIDs(path("%s", cf.sponsor))
	for _, c := range apiBadIDs(path(cf.panel.ID, "%s")) {
		c.name = "sponsor " + c.name
		cases = append(cases, c)
	}
	noSponsor := "There is no sponsor with id"
	cases = append(cases,
		apiCase{name: "another panel's sponsor", path: path(cf.panel.ID, cf.othersSponsor), status: 404, msg: noSponsor},
		apiCase{name: "a removed sponsor", path: path(cf.panel.ID, cf.removed), status: 404, msg: noSponsor},
		apiCase{name: "the sponsor through another panel", path: path(cf.other.ID, cf.sponsor), status: 404, msg: noSponsor},
		apiCase{name: "the sponsor through the draft", path: path(cf.draft.ID, cf.sponsor), status: 404, msg: noSponsor},
		apiCase{name: "sponsor id with an encoded path traversal", path: path(cf.panel.ID, itoa(cf.sponsor)+"%2F..%2F"+itoa(cf.othersSponsor)),
			status: 404},
		apiCase{name: "POST", method: http.MethodPost, status: 405},
		apiCase{name: "DELETE", method: http.MethodDelete, status: 405},
	)
	return apiTarget{name: "API sponsor leads", method: http.MethodGet, path: path(cf.panel.ID, cf.sponsor),
		cases: append(cases, apiAuthCases()...)}
}

// peopleTarget reads (GET) or erases (DELETE) a person's data by an
// address that is malformed, names no one, or is sent with a token that may
// not; a valid DELETE would erase Ada.
func (cf *consentFixture) peopleTarget(method string) apiTarget {
	people := func(email string) string { return "/api/v1/people/" + email }
	cases := []apiCase{
		{name: "300 characters", path: people(strings.Repeat("a", 288) + "%40example.com"), status: 400, msg: personAddrMsg},
		{name: "CR LF", path: people("ada%40example.com%0D%0ABcc%3A%20eve%40example.com"), status: 400, msg: personAddrMsg},
		{name: "NUL", path: people("ada%00%40example.com"), status: 400, msg: personAddrMsg},
		{name: "bidi override", path: people("ada%E2%80%AE%40example.com"), status: 400, msg: personAddrMsg},
		{name: "invalid UTF-8", path: people("ad%FFa%40example.com"), status: 400, msg: personAddrMsg},
		{name: "SQL", path: people("%27%20OR%201%3D1%20--"), status: 400, msg: personAddrMsg},
		{name: "display name", path: people("Ada%20%3Cada%40example.com%3E"), status: 400, msg: personAddrMsg},
		{name: "script", path: people("%3Cscript%3E%40example.com"), status: 400, msg: personAddrMsg},
		{name: "path traversal", path: people("..%2F..%2Fadmin"), status: 400, msg: personAddrMsg},
		{name: "no @", path: people("ada.example.com"), status: 400, msg: personAddrMsg},
		{name: "a space", path: people("%20"), status: 400, msg: personAddrMsg},
		// Addresses that are well formed but hold no one: none may reach
		// Ada, whatever its characters mean to SQL or LIKE.
		{name: "SQL inside a valid address", path: people("x'or'1'%3D'1%40example.com"), status: 404, msg: nothingMsg},
		{name: "LIKE %", path: people("%25%40example.com"), status: 404, msg: nothingMsg},
		{name: "LIKE _", path: people("_da%40example.com"), status: 404, msg: nothingMsg},
		{name: "percent-encoded twice", path: people("ada%2540example.com%40example.com"), status: 404, msg: nothingMsg},
		{name: "a slash encoded", path: people("ada%2Fx%40example.com"), status: 404, msg: nothingMsg},
		{name: "not percent-encoded, unknown", path: people("nobody@example.com"), status: 404, msg: nothingMsg},
		{name: "Ada's domain only", path: people("%40example.com"), status: 400, msg: personAddrMsg},
		{name: "an organizer's token", path: people("ada%40example.com"), auth: "Bearer " + cf.organizerSecret, status: 403,
			msg: notOwnerMsg},
		{name: "nothing", path: "/api/v1/people/", status: 404},
	}
	return apiTarget{name: "API people " + method, method: method, path: people("ada%40example.com"),
		cases: append(cases, apiAuthCases()...)}
}

// undecodablePeopleCases are addresses whose percent-encoding does not
// decode, which only a raw request line carries (rawPathRequest).
func undecodablePeopleCases() []apiCase {
	return []apiCase{
		{name: "%zz", path: "/api/v1/people/ada%zz%40example.com", status: 400, msg: personPathMsg},
		{name: "a lone %", path: "/api/v1/people/ada%@example.com", status: 400, msg: personPathMsg},
		{name: "% at the end", path: "/api/v1/people/ada%40example.com%", status: 400, msg: personPathMsg},
		{name: "%4", path: "/api/v1/people/ada%4", status: 400, msg: personPathMsg},
	}
}

// rawPathRequest is a request whose path goes out exactly as written, even
// an escape that does not decode, which httptest.NewRequest refuses.
func rawPathRequest(method, path string) *http.Request {
	req := httptest.NewRequest(method, "/", nil)
	req.URL.Opaque, req.RequestURI = path, path
	return req
}

// decisionTarget approves or declines Pat's pending registration: the
// cases name registrations that wait for no decision, or none; a body is
// ignored.
func (cf *consentFixture) decisionTarget(action string) apiTarget {
	path := func(id any) string { return fmt.Sprintf("/api/v1/registrations/%v/%s", id, action) }
	cases := apiBadIDs(path("%s"))
	cases = append(cases,
		apiCase{name: "id 2^63-1", path: path(int64(math.MaxInt64)), status: 404},
		apiCase{name: "a confirmed registration", path: path(cf.ada.ID), status: 409, msg: notPendingMsg},
		apiCase{name: "a waitlisted registration", path: path(cf.bob.ID), status: 409, msg: notPendingMsg},
		apiCase{name: "a declined registration", path: path(cf.declined), status: 409, msg: notPendingMsg},
		apiCase{name: "a confirmed registration, with a body asking for pending", path: path(cf.ada.ID),
			raw: `{"status": "pending", "id": 1}`, sendRaw: true, status: 409, msg: notPendingMsg},
		apiCase{name: "a declined registration, with a binary body", path: path(cf.declined), raw: "\x00\xff\xfe",
			sendRaw: true, contentType: "application/octet-stream", status: 409, msg: notPendingMsg},
		apiCase{name: "GET", method: http.MethodGet, status: 405},
	)
	if action == "approve" {
		cases = append(cases, apiCase{name: "an address not confirmed", path: path(cf.unconfirmed), status: 409,
			msg: "has not confirmed their email address"})
	}
	return apiTarget{name: "API " + action, method: http.MethodPost, path: path(cf.pending), cases: append(cases, apiAuthCases()...)}
}

// Messages of a panel's sponsors, gating and retention.
const (
	tooManySponsors = "Use at most 10 sponsors."
	sponsorNameMsg  = "Keep the name to one line of at most 200 characters."
	noSponsorName   = "Give the sponsor's name or remove the sponsor."
	privacyMsg      = "Give the sponsor's privacy policy as an https:// address"
	websiteMsg      = "Give the website as an https:// address, or leave it empty."
	logoMsg         = "Give the logo as an https:// address or a path on this site"
	retentionMsg    = "Keep registrants between 1 and 3,650 days after the last session"
	notDomainMsg    = "is not a domain: write one per line, like example.com."
	manyDomainsMsg  = "List at most 500 domains."
)

// hostileSponsorFields are a sponsor's fields the rules refuse, for the API
// and the admin form, with the message each gets.
func hostileSponsorFields() []struct{ name, field, value, msg string } {
	return []struct{ name, field, value, msg string }{
		{"privacy javascript:", "privacy_url", "javascript:alert(1)", privacyMsg},
		{"privacy http://", "privacy_url", "http://acme.example.com/privacy", privacyMsg},
		{"privacy data:", "privacy_url", "data:text/html,<script>alert(1)</script>", privacyMsg},
		{"privacy empty", "privacy_url", "", privacyMsg},
		{"privacy with CR LF", "privacy_url", "https://acme.example.com/privacy\r\nX-Injected: 1", privacyMsg},
		{"privacy with credentials", "privacy_url", "https://user:pass@acme.example.com/privacy", privacyMsg},
		{"privacy breaking out of the attribute", "privacy_url", `https://acme.example.com/"><script>alert(1)</script>`, privacyMsg},
		{"privacy with bidi override", "privacy_url", "https://acme.example.com/\u202efdp.exe", privacyMsg},
		{"name of 5 kB", "name", strings.Repeat("n", 5000), sponsorNameMsg},
		{"name with CR LF", "name", "Acme\r\nBcc: victim@example.com", sponsorNameMsg},
		{"name with NUL", "name", "Acme\x00", sponsorNameMsg},
		{"name with bidi override", "name", "Acme \u202eemcA", sponsorNameMsg},
		{"name with zero-width space", "name", "Ac\u200bme", sponsorNameMsg},
		{"name blank", "name", "  ", noSponsorName},
		{"logo scheme-relative", "logo_url", "//evil.example/x.png", logoMsg},
		{"logo with a backslash", "logo_url", `/\evil.example/x.png`, logoMsg},
		{"logo javascript:", "logo_url", "javascript:alert(1)", logoMsg},
		{"logo http://", "logo_url", "http://evil.example/x.png", logoMsg},
		{"logo path with a quote", "logo_url", `/public/img/"onerror="alert(1).png`, logoMsg},
		{"logo relative path", "logo_url", "public/img/acme.png", logoMsg},
		{"website javascript:", "website_url", "javascript:alert(1)", websiteMsg},
		{"website http://", "website_url", "http://acme.example.com", websiteMsg},
		{"website without a host", "website_url", "https://", websiteMsg},
	}
}

// hostileDomains are domain list entries the rules refuse.
func hostileDomains() []struct{ name, domain string } {
	return []struct{ name, domain string }{
		{"not a domain", "not a domain"},
		{"a space inside", "exa mple.com"},
		{"a label of 300 characters", strings.Repeat("a", 300) + ".com"},
		{"a newline inside", "exa\nmple.com"},
		{"a wildcard", "*.example.com"},
		{"a path", "example.com/evil"},
		{"an address", "ada@example.com"},
		{"no dot", "localhost"},
		{"a leading dash", "-example.com"},
		{"an underscore", "ex_ample.com"},
		{"SQL", "example.com' OR '1'='1"},
		{"a LIKE wildcard", "%.com"},
		{"a NUL", "example.com\x00"},
		{"a non-ASCII label", "exämple.com"},
	}
}

// panelConsentPatchTarget spoils a panel's sponsors, gating and retention
// through PATCH /api/v1/panels/{id}; the valid body would change the
// summary, so a spoiled body that still succeeds shows in the snapshot.
func (cf *consentFixture) panelConsentPatchTarget() apiTarget {
	set := func(field string, value any) map[string]any { return map[string]any{field: value} }
	good := func() map[string]any {
		return map[string]any{"name": "Acme", "privacy_url": "https://acme.example.com/privacy"}
	}
	withSponsor := func(field string, value any) map[string]any {
		s := good()
		s[field] = value
		return set("sponsors", []any{s})
	}
	var cases []apiCase
	for _, f := range hostileSponsorFields() {
		cases = append(cases, apiCase{name: "sponsor " + f.name, set: withSponsor(f.field, f.value), status: 422,
			field: "sponsors[0]." + f.field, msg: f.msg})
	}
	eleven := make([]any, 11)
	for i := range eleven {
		eleven[i] = good()
	}
	cases = append(cases,
		apiCase{name: "11 sponsors", set: set("sponsors", eleven), status: 422, field: "sponsors", msg: tooManySponsors},
		apiCase{name: "sponsor name as a number", set: withSponsor("name", 42), status: 422, msg: typeText},
		apiCase{name: "sponsor id as a string", set: withSponsor("id", itoa(cf.sponsor)), status: 422, msg: "Give a whole number"},
		apiCase{name: "sponsor id 2^63", set: withSponsor("id", json.Number("9223372036854775808")), status: 422,
			msg: "Give a whole number"},
		apiCase{name: "sponsor with an unknown field", set: withSponsor("consent_text_id", 1), status: 422,
			field: "consent_text_id", msg: unknownField},
		apiCase{name: "sponsor removed_at", set: withSponsor("removed_at", nil), status: 422, field: "removed_at", msg: unknownField},
		apiCase{name: "a null sponsor", set: set("sponsors", []any{nil}), status: 422, field: "sponsors[0].name", msg: noSponsorName},
		apiCase{name: "sponsors as an object", set: set("sponsors", good()), status: 422, msg: arrayMsg},
		apiCase{name: "sponsors as a string", set: set("sponsors", "Acme"), status: 422, msg: arrayMsg},
		apiCase{name: "sponsors null", set: set("sponsors", nil), status: 422, msg: nullMsg},
		apiCase{name: "another panel's sponsor id with a javascript: privacy", set: map[string]any{"sponsors": []any{
			map[string]any{"id": cf.othersSponsor, "name": "Umbrella", "privacy_url": "javascript:alert(1)"}}}, status: 422,
			field: "sponsors[0].privacy_url", msg: privacyMsg},
		apiCase{name: "retention 0", set: set("retention_days", 0), status: 422, field: "retention_days", msg: retentionMsg},
		apiCase{name: "retention -1", set: set("retention_days", -1), status: 422, field: "retention_days", msg: retentionMsg},
		apiCase{name: "retention 3651", set: set("retention_days", 3651), status: 422, field: "retention_days", msg: retentionMsg},
		apiCase{name: "retention 2^31", set: set("retention_days", json.Number("2147483648")), status: 422,
			field: "retention_days", msg: retentionMsg},
		apiCase{name: "retention 2^63", set: set("retention_days", json.Number("9223372036854775808")), status: 422,
			msg: "Give a whole number"},
		apiCase{name: "retention as a string", set: set("retention_days", "365"), status: 422, msg: "Give a whole number"},
		apiCase{name: "retention 1.5", set: set("retention_days", 1.5), status: 422, msg: "Give a whole number"},
		apiCase{name: "retention 1e3", set: set("retention_days", json.Number("1e3")), status: 422, msg: "Give a whole number"},
		apiCase{name: "retention true", set: set("retention_days", true), status: 422, msg: "Give a whole number"},
		apiCase{name: "retention as an array", set: set("retention_days", []int{365}), status: 422, msg: "Give a whole number"},
	)
	for _, list := range []string{"blocked_email_domains", "allowed_email_domains"} {
		for _, d := range hostileDomains() {
			cases = append(cases, apiCase{name: list + " " + d.name, set: set(list, []string{"example.org", d.domain}),
				status: 422, field: list, msg: notDomainMsg})
		}
		cases = append(cases,
			apiCase{name: list + " as a string", set: set(list, "example.com"), status: 422, msg: arrayMsg},
			apiCase{name: list + " as an object", set: set(list, map[string]any{"0": "example.com"}), status: 422, msg: arrayMsg},
			apiCase{name: list + " null", set: set(list, nil), status: 422, msg: nullMsg},
			apiCase{name: list + " of numbers", set: set(list, []int{1, 2}), status: 422, msg: typeText},
			apiCase{name: list + " of 501", set: set(list, manyDomains(501)), status: 422, field: list, msg: manyDomainsMsg},
		)
	}
	for _, flag := range []string{"require_email_confirmation", "require_approval"} {
		cases = append(cases,
			apiCase{name: flag + " as a string", set: set(flag, "true"), status: 422, field: flag, msg: boolMsg},
			apiCase{name: flag + " as a number", set: set(flag, 1), status: 422, field: flag, msg: boolMsg},
			apiCase{name: flag + " as an array", set: set(flag, []bool{true}), status: 422, field: flag, msg: boolMsg},
			apiCase{name: flag + " null", set: set(flag, nil), status: 422, field: flag, msg: nullMsg},
		)
	}
	return apiTarget{name: "API panel sponsors, gating and retention", method: http.MethodPatch,
		path: "/api/v1/panels/" + fxPanel, valid: map[string]any{"summary": "Changed by the corpus."}, cases: cases}
}

// manyDomains is n different domains.
func manyDomains(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("d%d.example.com", i)
	}
	return out
}

func TestHostileConsent_API(t *testing.T) {
	cf := newConsentFixture(t)
	ran := 0
	targets := []apiTarget{cf.leadsTarget(), cf.peopleTarget(http.MethodGet), cf.peopleTarget(http.MethodDelete),
		cf.decisionTarget("approve"), cf.decisionTarget("decline"), cf.panelConsentPatchTarget()}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			for _, tc := range target.cases {
				ran++
				t.Run(tc.name, func(t *testing.T) { cf.runAPICase(t, target, tc) })
			}
		})
	}
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		for _, tc := range undecodablePeopleCases() {
			ran++
			t.Run("API people "+method+"/"+tc.name, func(t *testing.T) {
				b := cf.env.browser(t)
				b.header.Set("Authorization", "Bearer "+cf.apiSecret)
				r := cf.unchangedBy(t, func() response { return b.do(rawPathRequest(method, tc.path)) })
				assertProblemSays(t, r, tc.status, tc.msg, "")
			})
		}
	}
	t.Logf("ran %d hostile consent API cases", ran)
}

// A PATCH may name a sponsor by an id that is another panel's: the panel
// gets a new sponsor of its own, and the other panel's sponsor, with the
// consents given to it, stays as it was. A null retention clears it.
func TestHostileConsent_PatchCannotTakeOverAnotherPanelsSponsor(t *testing.T) {
	cf := newConsentFixture(t)
	ctx := t.Context()
	before, err := cf.env.store.PanelByID(ctx, cf.other.ID)
	if err != nil {
		t.Fatal(err)
	}
	api := cf.env.browser(t)
	api.header.Set("Authorization", "Bearer "+cf.apiSecret)
	body := fmt.Sprintf(`{"sponsors": [{"id": %d, "name": "Taken over", "privacy_url": "https://taken.example.com/privacy"},
		{"id": %d, "name": "Acme", "privacy_url": "https://acme.example.com/privacy"}], "retention_days": null}`,
		cf.othersSponsor, cf.sponsor)
	r := api.send(http.MethodPatch, "/api/v1/panels/"+itoa(cf.panel.ID), "application/json", body)
	assertStatus(t, r, http.StatusOK)
	after, err := cf.env.store.PanelByID(ctx, cf.other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Sponsors) != 1 || after.Sponsors[0].ID != cf.othersSponsor || after.Sponsors[0].Name != before.Sponsors[0].Name ||
		after.Sponsors[0].PanelID != cf.other.ID {
		t.Fatalf("other panel's sponsors = %+v; want %+v", after.Sponsors, before.Sponsors)
	}
	p, err := cf.env.store.PanelByID(ctx, cf.panel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sponsors) != 2 || p.Sponsors[0].ID == cf.othersSponsor || p.Sponsors[0].Name != "Taken over" ||
		p.Sponsors[1].ID != cf.sponsor || p.RetentionDays != nil {
		t.Fatalf("panel's sponsors = %+v, retention %v; want a new sponsor, then Acme kept", p.Sponsors, p.RetentionDays)
	}
	// The other panel's leads are still its sponsor's, and this panel
	// cannot read them through the new sponsor.
	leads := api.get(fmt.Sprintf("/api/v1/panels/%d/sponsors/%d/leads", cf.panel.ID, cf.othersSponsor))
	assertProblemSays(t, leads, http.StatusNotFound, "There is no sponsor with id", "")
}

// panelConsentFormTarget spoils the panel edit form's sponsor rows, gating
// fields and retention. The valid form keeps the panel's two sponsors and
// adds a third, which the cases spoil.
func (cf *consentFixture) panelConsentFormTarget() formTarget {
	valid := validPanelForm()
	for i, sp := range []struct {
		id   int64
		name string
	}{{cf.sponsor, "acme"}, {cf.second, "globex"}} {
		key := fmt.Sprintf("sponsors[%d].", i)
		valid[key+"position"], valid[key+"id"], valid[key+"name"] = itoa(int64(i+1)), itoa(sp.id), sp.name
		valid[key+"privacy_url"] = "https://" + sp.name + ".example.com/privacy"
	}
	valid["sponsors[2].position"], valid["sponsors[2].name"] = "3", "Newco"
	valid["sponsors[2].privacy_url"] = "https://newco.example.com/privacy"
	row := func(field, value string) map[string]string { return map[string]string{"sponsors[2]." + field: value} }
	set := func(field, value string) map[string]string { return map[string]string{field: value} }
	var cases []formCase
	for _, f := range hostileSponsorFields() {
		cases = append(cases, formCase{name: "sponsor " + f.name, set: row(f.field, f.value), status: 422, msg: f.msg})
	}
	eleven := map[string]string{}
	for i := 3; i < 11; i++ {
		key := fmt.Sprintf("sponsors[%d].", i)
		eleven[key+"position"], eleven[key+"name"] = itoa(int64(i+1)), fmt.Sprintf("Sponsor %d", i+1)
		eleven[key+"privacy_url"] = fmt.Sprintf("https://s%d.example.com/privacy", i+1)
	}
	cases = append(cases,
		formCase{name: "11 sponsors", set: eleven, status: 422, msg: tooManySponsors},
		formCase{name: "sponsor name with invalid UTF-8", set: row("name", invalidUTF8), status: 422, msg: sponsorNameMsg},
		formCase{name: "another panel's sponsor id with a javascript: privacy", set: map[string]string{
			"sponsors[2].id": itoa(cf.othersSponsor), "sponsors[2].privacy_url": "javascript:alert(1)"}, status: 422, msg: privacyMsg},
		formCase{name: "two name fields, the first with CR LF", set: row("name", "Newco\r\nBcc: x"),
			add: map[string][]string{"sponsors[2].name": {"Newco"}}, status: 422, msg: sponsorNameMsg},
	)
	for _, days := range []string{"0", "-1", "3651", "abc", "1e3", "365.5", "0x16D", "٣٦٥", "9223372036854775808", "365 days"} {
		cases = append(cases, formCase{name: "retention " + days, set: set("retention_days", days), status: 422, msg: retentionMsg})
	}
	for _, list := range []string{"blocked_email_domains", "allowed_email_domains"} {
		for _, d := range hostileDomains() {
			if d.name == "a newline inside" {
				continue // a line of the textarea each
			}
			cases = append(cases, formCase{name: list + " " + d.name, set: set(list, "example.org\n"+d.domain), status: 422,
				msg: notDomainMsg})
		}
		cases = append(cases, formCase{name: list + " of 501", set: set(list, strings.Join(manyDomains(501), "\n")),
			status: 422, msg: manyDomainsMsg})
	}
	return formTarget{name: "panel sponsors, gating and retention", page: "/admin/panels/" + fxPanel + "/edit",
		path: "/admin/panels/" + fxPanel, valid: valid, cases: append(cases, transportCases()...)}
}

// decideTarget is the registrants page's bulk decision: the valid form
// would approve Pat.
func (cf *consentFixture) decideTarget() formTarget {
	const (
		tick   = "Tick between 1 and 500 registrations awaiting approval."
		choose = "Choose approve or decline."
	)
	ids := func(id string) map[string]string { return map[string]string{"ids": id} }
	decision := func(d string) map[string]string { return map[string]string{"decision": d} }
	many := make([]string, 500)
	for i := range many {
		many[i] = "999999"
	}
	cases := []formCase{
		{name: "no ids", drop: []string{"ids"}, status: 303, msg: tick},
		{name: "501 ids", set: ids("999999"), add: map[string][]string{"ids": many}, status: 303, msg: tick},
		{name: "an empty id", set: ids(""), status: 303, msg: notPodiums},
		{name: "a word", set: ids("abc"), status: 303, msg: notPodiums},
		{name: "id 1e3", set: ids("1e3"), status: 303, msg: notPodiums},
		{name: "id with SQL", set: ids("1 OR 1=1"), status: 303, msg: notPodiums},
		{name: "an unknown id", set: ids("999999"), status: 303, msg: notPodiums},
		{name: "id 2^63-1", set: ids("9223372036854775807"), status: 303, msg: notPodiums},
		{name: "a confirmed registration", set: ids(itoa(cf.ada.ID)), status: 303, msg: notPendingMsg},
		{name: "a waitlisted registration, declined", set: map[string]string{"ids": itoa(cf.bob.ID), "decision": "decline"},
			status: 303, msg: notPendingMsg},
		{name: "a declined registration", set: ids(itoa(cf.declined)), status: 303, msg: notPendingMsg},
		{name: "an address not confirmed", set: ids(itoa(cf.unconfirmed)), status: 303, msg: "has not confirmed their email address"},
		{name: "no decision", drop: []string{"decision"}, status: 303, msg: choose},
		{name: "an unknown decision", set: decision("approve all"), status: 303, msg: choose},
		{name: "decision in capitals", set: decision("APPROVE"), status: 303, msg: choose},
		{name: "decision with SQL", set: decision("approve' OR '1'='1"), status: 303, msg: choose},
		{name: "two decisions, the first unknown", set: decision("delete"), add: map[string][]string{"decision": {"approve"}},
			status: 303, msg: choose},
		{name: "an unknown decision returning off the site", set: map[string]string{"decision": "x", "return": "//evil.example/admin"},
			status: 303, msg: choose},
	}
	return formTarget{name: "bulk decision", page: "/admin/panels/" + itoa(cf.gated.ID) + "/registrants",
		path: "/admin/registrations/decide", valid: map[string]string{"decision": "approve", "ids": itoa(cf.pending)},
		cases: append(cases, transportCases()...)}
}

// peopleEraseTarget is the people page's erase form: the valid form would
// erase Ada.
func peopleEraseTarget() formTarget {
	const badAddress = "Enter a valid email address, like name@example.com."
	email := func(e string) map[string]string { return map[string]string{"email": e} }
	confirm := func(c string) map[string]string { return map[string]string{"confirm": c} }
	cases := []formCase{
		{name: "no confirm", drop: []string{"confirm"}, status: 422, msg: "Tick the box to confirm the erasure"},
		{name: "confirm no", set: confirm("no"), status: 422, msg: "Tick the box to confirm the erasure"},
		{name: "confirm YES", set: confirm("YES"), status: 422, msg: "Tick the box to confirm the erasure"},
		{name: "two confirm fields, the first no", set: confirm("no"), add: map[string][]string{"confirm": {"yes"}},
			status: 422, msg: "Tick the box to confirm the erasure"},
		{name: "Ada in capitals without confirm", set: email("ADA@EXAMPLE.COM"), drop: []string{"confirm"}, status: 422,
			msg: "Tick the box to confirm the erasure"},
		{name: "no email", drop: []string{"email"}, status: 422, msg: badAddress},
		{name: "email blank", set: email("   "), status: 422, msg: badAddress},
		{name: "email with CR LF", set: email("ada@example.com\r\nBcc: eve@example.com"), status: 422, msg: badAddress},
		{name: "email with NUL", set: email("ada@example.com\x00"), status: 422, msg: badAddress},
		{name: "email of 300 characters", set: email(strings.Repeat("a", 288) + "@example.com"), status: 422, msg: badAddress},
		{name: "email with a display name", set: email("Ada <ada@example.com>"), status: 422, msg: badAddress},
		{name: "email with SQL", set: email("' OR 1=1 --"), status: 422, msg: badAddress},
		{name: "email with invalid UTF-8", set: email("ad\xffa@example.com"), status: 422, msg: badAddress},
		{name: "two addresses", set: email("ada@example.com, bob@example.com"), status: 422, msg: badAddress},
		{name: "email as a LIKE pattern", set: email("%@example.com"), status: 303, msg: nothingMsg},
		{name: "email with a LIKE wildcard", set: email("_da@example.com"), status: 303, msg: nothingMsg},
		{name: "multipart without confirm", drop: []string{"confirm"}, send: sendMultipart, status: 422,
			msg: "Tick the box to confirm the erasure"},
	}
	return formTarget{name: "people erase", page: "/admin/people", path: "/admin/people/erase",
		valid: map[string]string{"email": "ada@example.com", "confirm": "yes"}, cases: append(cases, transportCases()...)}
}

func TestHostileConsent_AdminForms(t *testing.T) {
	cf := newConsentFixture(t)
	unsigned := formCase{name: "not signed in", send: sendUnsignedAdmin, status: 401, msg: "Your session has ended."}
	targets := []formTarget{cf.panelConsentFormTarget(), cf.decideTarget(), peopleEraseTarget()}
	for i := range targets {
		targets[i].admin = true
		targets[i].cases = append(targets[i].cases, unsigned)
	}
	runFormTargets(t, targets, cf.runFormCase)
	// An organizer is no owner: the people pages are not theirs.
	t.Run("people erase as an organizer", func(t *testing.T) {
		token := csrfFrom(t, cf.organizer, "/admin")
		r := cf.unchangedBy(t, func() response {
			return cf.organizer.post("/admin/people/erase", url.Values{"_csrf": {token}, "email": {"ada@example.com"},
				"confirm": {"yes"}})
		})
		assertAnswer(t, r, http.StatusForbidden, ownersOnly)
	})
}

// The valid forms and requests the cases spoil do change what they say,
// so the cases' "nothing changed" is the refusals' doing.
func TestHostileConsent_ValidRequestsChangeThings(t *testing.T) {
	cf := newConsentFixture(t)
	forms := []struct {
		target formTarget
		admin  bool
		set    map[string]string
		status int
	}{
		{cf.withdrawTarget(), false, nil, http.StatusSeeOther},
		{cf.confirmTarget(), false, nil, http.StatusSeeOther},
		{cf.decideTarget(), true, nil, http.StatusSeeOther},
		{cf.panelConsentFormTarget(), true, nil, http.StatusSeeOther},
		{cf.eraseTarget(), false, nil, http.StatusOK},
		{peopleEraseTarget(), true, map[string]string{"email": "carol@example.com"}, http.StatusSeeOther},
	}
	for _, f := range forms {
		t.Run(f.target.name, func(t *testing.T) {
			f.target.admin = f.admin
			before := cf.env.snapshot(t)
			assertStatus(t, cf.sendFormCase(t, f.target, formCase{set: f.set}), f.status)
			if equalSnapshots(before, cf.env.snapshot(t)) {
				t.Fatal("the valid form changed nothing")
			}
		})
	}
	api := cf.env.browser(t)
	api.header.Set("Authorization", "Bearer "+cf.apiSecret)
	calls := []struct{ method, path, body string }{
		{http.MethodPost, fmt.Sprintf("/api/v1/registrations/%d/decline", cf.unconfirmed), ""},
		{http.MethodPatch, "/api/v1/panels/" + itoa(cf.panel.ID), `{"summary": "Changed by the corpus.", "retention_days": 30}`},
		{http.MethodDelete, "/api/v1/people/bob%40example.com", ""},
	}
	for _, c := range calls {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			before := cf.env.snapshot(t)
			assertStatus(t, api.send(c.method, c.path, "application/json", c.body), http.StatusOK)
			if equalSnapshots(before, cf.env.snapshot(t)) {
				t.Fatal("the valid request changed nothing")
			}
		})
	}
}

// A bulk decision naming ids that are no registration's, however they
// are spelled, is refused with the reason and changes nothing.
func TestHostileConsent_BulkDecisionIDsThatNameNoRegistration(t *testing.T) {
	cf := newConsentFixture(t)
	target := cf.decideTarget()
	target.admin = true
	for _, id := range []string{"-1", "0", "9223372036854775808"} {
		t.Run("id "+id, func(t *testing.T) {
			r := cf.unchangedBy(t, func() response {
				return cf.sendFormCase(t, target, formCase{set: map[string]string{"ids": id}})
			})
			flash := flashMessage(cf.owner)
			assertStatus(t, r, http.StatusSeeOther)
			if !strings.HasPrefix(flash, "error:") || !strings.Contains(flash, notPodiums) {
				t.Fatalf("flash = %q; want an error saying %q", flash, notPodiums)
			}
		})
	}
}

// A form sent as multipart/form-data is read whole, like the same form
// urlencoded: a spoiled row is refused, and no row is lost.
func TestHostileConsent_MultipartFormsKeepTheirRows(t *testing.T) {
	cf := newConsentFixture(t)
	t.Run("panel form with a javascript: privacy link", func(t *testing.T) {
		target := cf.panelConsentFormTarget()
		target.admin = true
		before := cf.env.snapshot(t)
		r := cf.sendFormCase(t, target, formCase{set: map[string]string{"sponsors[2].privacy_url": "javascript:alert(1)"},
			send: sendMultipart})
		assertAnswer(t, r, http.StatusUnprocessableEntity, privacyMsg)
		assertUnchanged(t, before, cf.env.snapshot(t))
	})
	t.Run("questions form without its rows' fields", func(t *testing.T) {
		target := formTarget{page: "/admin/panels/" + fxPanel + "/questions", path: "/admin/panels/" + fxPanel + "/questions",
			admin: true}
		valid := questionsTarget().valid
		delete(valid, "questions[5].position")
		target.valid = valid
		before := cf.env.snapshot(t)
		r := cf.sendFormCase(t, target, formCase{send: sendMultipart})
		after := cf.env.snapshot(t)
		if len(after["questions"]) != len(before["questions"]) {
			t.Fatalf("questions: %d before, %d after", len(before["questions"]), len(after["questions"]))
		}
		assertStatus(t, r, http.StatusSeeOther)
		if len(after["answers"]) != len(before["answers"]) {
			t.Fatalf("answers: %d before, %d after", len(before["answers"]), len(after["answers"]))
		}
	})
	t.Run("sign-up ticking a sponsor", func(t *testing.T) {
		b := cf.env.browser(t)
		b.header.Set("X-Forwarded-For", cf.env.nextClient())
		form := formFields(t, b.get("/panels/"+cf.other.Slug).body)
		for k, v := range person("multipart@example.com") {
			form.Set(k, v)
		}
		form.Set(consentBox(cf.othersSponsor), "1")
		r := cf.sendForm(t, b, "/panels/"+cf.other.Slug+"/register", form, sendMultipart)
		reg, err := cf.env.store.RegistrationByToken(t.Context(), manageToken(t, r))
		if err != nil {
			t.Fatal(err)
		}
		consents, err := cf.env.store.Consents(t.Context(), reg.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(consents) != 2 || consents[1].SponsorID == nil || *consents[1].SponsorID != cf.othersSponsor {
			t.Fatalf("consents = %+v; want the registration's and the sponsor's", consents)
		}
	})
}

// consentQueryCases are GETs with hostile query parameters and headers:
// the people lookup, the tracked-link builder, and the leads downloads.
func (cf *consentFixture) consentQueryCases() []queryCase {
	const (
		badAddress  = "Enter a valid email address, like name@example.com."
		cannotCarry = "characters a link cannot carry"
	)
	people := "/admin/people?email="
	links := "/admin/panels/" + itoa(cf.panel.ID) + "/links?channel=custom&source=podcast"
	leads := fmt.Sprintf("/api/v1/panels/%d/sponsors/%d/leads", cf.panel.ID, cf.sponsor)
	const noSponsor = "There is no sponsor with id"
	adminLeads := func(panel, sponsor any) string {
		return fmt.Sprintf("/admin/panels/%v/sponsors/%v/leads.csv", panel, sponsor)
	}
	cases := []queryCase{
		{name: "people with an empty address", as: "owner", path: people, status: 422, msg: badAddress},
		{name: "people with CR LF", as: "owner", path: people + "ada%40example.com%0D%0ABcc%3A%20eve%40example.com", status: 422, msg: badAddress},
		{name: "people with NUL", as: "owner", path: people + "ada%00%40example.com", status: 422, msg: badAddress},
		{name: "people with 300 characters", as: "owner", path: people + strings.Repeat("a", 288) + "%40example.com", status: 422, msg: badAddress},
		{name: "people with script", as: "owner", path: people + "%3Cscript%3Ealert(1)%3C%2Fscript%3E%40example.com", status: 422,
			msg: badAddress, absent: scriptTag},
		{name: "people with SQL", as: "owner", path: people + "%27%20OR%201%3D1%20--", status: 422, msg: badAddress},
		{name: "people with invalid UTF-8", as: "owner", path: people + "ad%FFa%40example.com", status: 422, msg: badAddress},
		{name: "people with a LIKE pattern", as: "owner", path: people + "%25%40example.com", status: 200,
			msg: "Podium holds nothing about", absent: "Ada Lovelace"},
		{name: "people with a LIKE wildcard", as: "owner", path: people + "_da%40example.com", status: 200,
			msg: "Podium holds nothing about", absent: "Ada Lovelace"},
		{name: "people with a bad escape", as: "owner", path: people + "ada%zz%40example.com", status: 200, absent: "Ada Lovelace"},
		{name: "people as an organizer", as: "organizer", path: people + "ada%40example.com", status: 403, msg: ownersOnly,
			absent: "Ada Lovelace"},
		{name: "retention as an organizer", as: "organizer", path: "/admin/retention", status: 403, msg: ownersOnly},
		{name: "links with an unknown channel", as: "owner", path: strings.Replace(links, "custom", "everywhere", 1), status: 422,
			msg: "Choose where the link will be shared."},
		{name: "links with SQL for the channel", as: "owner", path: strings.Replace(links, "custom", "custom'%20OR%201%3D1", 1),
			status: 422, msg: "Choose where the link will be shared."},
		{name: "links without a source", as: "owner", path: strings.Replace(links, "podcast", "", 1), status: 422,
			msg: "Enter a source"},
		{name: "links with a source of 101 characters", as: "owner", path: links + strings.Repeat("%C3%A9", 94), status: 422,
			msg: "Keep the source to 100 characters or fewer."},
		{name: "links with a medium of 101 characters", as: "owner", path: links + "&medium=" + strings.Repeat("m", 101), status: 422,
			msg: "Keep the medium to 100 characters or fewer."},
		{name: "links with a campaign of 3000 characters", as: "owner", path: links + "&campaign=" + strings.Repeat("c", 3000), status: 422,
			msg: "Keep the campaign to 100 characters or fewer."},
		{name: "links with NUL in the source", as: "owner", path: links + "%00", status: 422, msg: cannotCarry},
		{name: "links with LF in the medium", as: "owner", path: links + "&medium=e%0Amail", status: 422, msg: cannotCarry},
		{name: "links with a tab in the campaign", as: "owner", path: links + "&campaign=a%09b", status: 422, msg: cannotCarry},
		{name: "links with ESC in the content", as: "owner", path: links + "&content=%1B%5B31m", status: 422, msg: cannotCarry},
		{name: "links with bidi override in the content", as: "owner", path: links + "&content=%E2%80%AEtoof", status: 422, msg: cannotCarry},
		{name: "links with a line separator in the campaign", as: "owner", path: links + "&campaign=a%E2%80%A8b", status: 422, msg: cannotCarry},
		{name: "links with invalid UTF-8 in the source", as: "owner", path: links + "%FF", status: 422, msg: cannotCarry},
		{name: "links with script in the campaign", as: "owner", path: links + "&campaign=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
			status: 200, absent: scriptTag},
		{name: "links with a quote breaking out of the snippet", as: "owner", path: links + "&content=%22%3E%3Csvg%20onload%3Dalert(1)%3E",
			status: 200, absent: `"><svg`},
		{name: "links with a preset channel and a bad source", as: "owner",
			path: "/admin/panels/" + itoa(cf.panel.ID) + "/links?channel=newsletter&source=%00", status: 200},
		{name: "links of an unknown panel", as: "owner", path: "/admin/panels/999999/links?channel=custom&source=x", status: 404},
		{name: "leads download of another panel's sponsor", as: "owner", path: adminLeads(cf.panel.ID, cf.othersSponsor), status: 404, msg: noSponsor},
		{name: "leads download of a removed sponsor", as: "owner", path: adminLeads(cf.panel.ID, cf.removed), status: 404, msg: noSponsor},
		{name: "leads download with a word for a sponsor", as: "owner", path: adminLeads(cf.panel.ID, "abc"), status: 404, msg: noSponsor},
		{name: "leads download with sponsor 2^63", as: "owner", path: adminLeads(cf.panel.ID, "9223372036854775808"), status: 404, msg: noSponsor},
		{name: "leads download through another panel", as: "owner", path: adminLeads(cf.other.ID, cf.sponsor), status: 404, msg: noSponsor},
		{name: "leads download as a visitor", as: "visitor", path: adminLeads(cf.panel.ID, cf.sponsor), status: 303,
			absent: "carol@example.com"},
		{name: "person not percent-encoded", as: "api", path: "/api/v1/people/ada@example.com", status: 200, msg: `"ada@example.com"`},
		{name: "person in capitals", as: "api", path: "/api/v1/people/ADA%40EXAMPLE.COM", status: 200, msg: `"ada@example.com"`},
	}
	for _, accept := range []string{"text/csv;q=0", "text/csv;q=abc", "text/csv;q=0.5, application/json;q=0.9", "*/*;q=0",
		"image/png", ",,,;;;", "text/*", strings.Repeat("text/csv;q=0.1, ", 150) + "application/json", "text/csv; charset=\"x"} {
		cases = append(cases, queryCase{name: "leads with Accept " + clipForName(accept), as: "api", path: leads,
			header: map[string]string{"Accept": accept}, status: 200, msg: "carol@example.com"})
	}
	return cases
}

// clipForName keeps a subtest's name short.
func clipForName(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func TestHostileConsent_QueryParameters(t *testing.T) {
	cf := newConsentFixture(t)
	cases := cf.consentQueryCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := cf.env.browser(t)
			switch tc.as {
			case "owner":
				b.cookies = cf.owner.cookies
			case "organizer":
				b.cookies = cf.organizer.cookies
			case "api":
				b.header.Set("Authorization", "Bearer "+cf.apiSecret)
			}
			for k, v := range tc.header {
				b.header.Set(k, v)
			}
			r := cf.unchangedBy(t, func() response { return b.get(tc.path) })
			if tc.as == "api" && tc.status >= 400 {
				assertProblemSays(t, r, tc.status, tc.msg, "")
			} else {
				assertAnswer(t, r, tc.status, tc.msg)
			}
			if tc.absent != "" && strings.Contains(r.body, tc.absent) {
				t.Fatalf("answer contains %q:\n%s", tc.absent, clipBody(r.body))
			}
		})
	}
	t.Logf("ran %d hostile consent query cases", len(cases))
}
