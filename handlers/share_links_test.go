package handlers

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"podium/models"
	"podium/views"
)

// These tests follow a sponsor's share link end to end: an organizer makes
// one on the admin's panel page and sees it once, the sponsor downloads its
// current leads as CSV without an account, every step is audited, and a
// revoked, expired or removed sponsor's link answers 410. The hostile
// cases at the end aim odd tokens at /leads/{token} and spoiled forms at
// making and revoking links.

// shareLinkShown is the new link on the page that shows it once.
var shareLinkShown = regexp.MustCompile(`value="http://localhost:3000/leads/([A-Za-z0-9_-]{43})"`)

// shareClosedMsg is what a revoked or expired link answers.
const shareClosedMsg = "This download link has expired or was withdrawn. Ask the organiser for a new one."

// adminPanelPath is the admin's page of the flow's panel.
func (f *sponsorFlow) adminPanelPath() string { return views.AdminPanelURL(f.panel.ID) }

// shareAction is where the panel page's form for the flow's sponsor posts.
func (f *sponsorFlow) shareAction() string {
	return fmt.Sprintf("/admin/panels/%d/sponsors/%d/share-links", f.panel.ID, f.sponsor.ID)
}

// revokeAction is where a link's Revoke button posts.
func (f *sponsorFlow) revokeAction(linkID int64) string {
	return fmt.Sprintf("/admin/panels/%d/share-links/%d/revoke", f.panel.ID, linkID)
}

// makeShareLink sends the panel page's share form for the sponsor, as the
// page fills it in but for days.
func (f *sponsorFlow) makeShareLink(t *testing.T, admin *browser, days string) response {
	t.Helper()
	page := admin.get(f.adminPanelPath())
	assertStatus(t, page, http.StatusOK)
	form := theFormPostingTo(t, page.body, f.shareAction())
	form.Set("days", days)
	return admin.post(f.shareAction(), form)
}

// shownShareLink checks the page that shows a new link, private and shown
// once, and returns the link's token.
func shownShareLink(t *testing.T, r response) string {
	t.Helper()
	assertStatus(t, r, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	m := shareLinkShown.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no share link on the page:\n%s", r.body)
	}
	if n := strings.Count(r.body, m[1]); n != 1 {
		t.Fatalf("the token is on the page %d times; want once:\n%s", n, r.body)
	}
	return m[1]
}

// shareLinks are the panel's links as stored, newest first.
func (f *sponsorFlow) shareLinks(t *testing.T) []models.ShareLink {
	t.Helper()
	links, err := f.env.store.ShareLinks(t.Context(), f.panel.ID)
	if err != nil {
		t.Fatal(err)
	}
	return links
}

// sharedLeads downloads the link's leads as an anonymous client and
// returns the addresses in the CSV, checking the headers of a private
// download.
func (f *sponsorFlow) sharedLeads(t *testing.T, token string) []string {
	t.Helper()
	r := f.env.browser(t).get(views.ShareLinkURL(token))
	rows := csvDownload(t, r)
	for header, want := range map[string]string{
		"Cache-Control":       "no-store",
		"Content-Disposition": `attachment; filename="data-trust-acme-analytics-leads.csv"`,
		"Referrer-Policy":     "no-referrer",
	} {
		if got := r.header.Get(header); got != want {
			t.Errorf("%s = %q; want %q", header, got, want)
		}
	}
	if cookies := r.header.Values("Set-Cookie"); len(cookies) != 0 {
		t.Errorf("the download sets cookies: %q", cookies)
	}
	if want := views.NewLeadsCSV(nil).Header(); len(rows) == 0 || !slices.Equal(rows[0], want) {
		t.Fatalf("CSV header = %q; want %q", rows[:min(len(rows), 1)], want)
	}
	var emails []string
	for _, row := range rows[1:] {
		emails = append(emails, csvColumn(t, rows[0], row, "Email"))
	}
	return emails
}

// assertShareClosed checks a link's 410 page and that it was neither
// counted nor audited.
func (f *sponsorFlow) assertShareClosed(t *testing.T, token string) {
	t.Helper()
	entries, uses := len(f.env.auditEntries(t)), f.shareLinks(t)[0].Uses
	r := f.env.browser(t).get(views.ShareLinkURL(token))
	assertStatus(t, r, http.StatusGone)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q; want an HTML page", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	assertContains(t, r.body, "Link no longer valid", shareClosedMsg)
	if strings.Contains(r.body, adaEmail) || r.header.Get("Content-Disposition") != "" {
		t.Fatalf("a closed link downloads something:\n%s", r.body)
	}
	if n := len(f.env.auditEntries(t)); n != entries {
		t.Errorf("a closed link wrote %d audit entries; want none", n-entries)
	}
	if got := f.shareLinks(t)[0].Uses; got != uses {
		t.Errorf("a closed link counted a use: %d, %d before", got, uses)
	}
}

// shareRow is the start of a link's row in the panel page's table.
func shareRow(sponsor, expires, uses, lastUsed, state string) string {
	return fmt.Sprintf(`<tr><th scope="row">%s</th><td>%s</td><td>%s</td><td>%s</td><td>%s</td>`,
		sponsor, expires, uses, lastUsed, state)
}

// The "done when": an organizer (no owner) makes a link on the
// panel page and sees it once; an anonymous client downloads exactly the
// sponsor's leads through it; the panel page lists it with its download
// and a Revoke button; the audit log has both steps and no registrant.
func TestShareLinks_OrganizerMakesALinkTheSponsorDownloadsItsLeads(t *testing.T) {
	f := newSponsorFlow(t)
	f.registered(t, adaEmail, true)
	f.registered(t, bobAddress, false)
	f.registered(t, "cat@example.com", true)
	admin := f.env.adminBrowser(t, models.RoleOrganizer)

	page := admin.get(f.adminPanelPath())
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, "Sponsors and their leads", "Make a share link for "+acmeName,
		`<input type="number" name="days" id="share-days-`+itoa(f.sponsor.ID)+`" value="14" min="1" max="90">`)
	if strings.Contains(page.body, "<caption>Share links</caption>") {
		t.Fatal("the panel page lists share links before any was made")
	}

	token := shownShareLink(t, f.makeShareLink(t, admin, "30"))
	links := f.shareLinks(t)
	if len(links) != 1 || links[0].SponsorID != f.sponsor.ID || !links[0].ExpiresAt.Equal(testNow.AddDate(0, 0, 30)) {
		t.Fatalf("share links = %+v; want one to the sponsor for 30 days", links)
	}
	link := links[0]

	if got := f.sharedLeads(t, token); !slices.Equal(got, []string{adaEmail, "cat@example.com"}) {
		t.Fatalf("shared leads = %q; want Ada and Cat, who ticked the sponsor's box", got)
	}
	page = admin.get(f.adminPanelPath())
	assertContains(t, page.body, "<caption>Share links</caption>",
		shareRow(acmeName, "20 Dec 2026, 09:00 UTC", "1", "20 Nov 2026, 09:00 UTC", "Active"),
		`aria-label="Revoke the share link of `+acmeName+`">Revoke</button>`)
	theFormPostingTo(t, page.body, f.revokeAction(link.ID))
	if strings.Contains(page.body, token) {
		t.Fatal("the panel page shows the token again")
	}

	entries := f.env.auditEntries(t)
	created := auditedOf(entries, models.AuditShareLinkCreated)
	wantCreated := fmt.Sprintf("share link %d to the leads of sponsor %d (%s) of panel %d (%s), for 30 days",
		link.ID, f.sponsor.ID, acmeName, f.panel.ID, f.panel.Slug)
	if len(created) != 1 || created[0].Channel != models.ChannelAdmin || created[0].AccountID == nil ||
		created[0].Actor != "organizer@example.com (organizer)" || created[0].Subject != wantCreated || created[0].RowCount != 0 {
		t.Fatalf("share_link.created entries = %+v; want the organizer's one, of %q", created, wantCreated)
	}
	var shares []models.AuditEntry
	for _, e := range auditedOf(entries, models.AuditLeadsExported) {
		if e.Channel == models.ChannelShare {
			shares = append(shares, e)
		}
	}
	wantSubject := fmt.Sprintf("leads of sponsor %d (%s) of panel %d (%s)", f.sponsor.ID, acmeName, f.panel.ID, f.panel.Slug)
	if len(shares) != 1 || shares[0].RowCount != 2 || shares[0].AccountID != nil || shares[0].Subject != wantSubject ||
		shares[0].Actor != fmt.Sprintf("%s, through share link %d", acmeName, link.ID) {
		t.Fatalf("leads.exported through share = %+v; want the one download, of 2 rows of %q, by the link", shares, wantSubject)
	}
	for _, e := range entries {
		line := strings.ToLower(fmt.Sprintf("%+v", e))
		for _, secret := range []string{adaEmail, bobAddress, "cat@example.com", strings.ToLower(token)} {
			if strings.Contains(line, secret) {
				t.Errorf("audit entry names %q: %s", secret, line)
			}
		}
	}
	owner := f.env.adminBrowser(t, models.RoleOwner)
	assertContains(t, owner.get("/admin/audit-log").body, "Made a sponsor&#39;s share link")

	// What the sponsor gets is what the organizer's own download gives.
	adminRows := csvDownload(t, owner.get(fmt.Sprintf("/admin/panels/%d/sponsors/%d/leads.csv", f.panel.ID, f.sponsor.ID)))
	shared := csvDownload(t, f.env.browser(t).get(views.ShareLinkURL(token)))
	if fmt.Sprint(shared) != fmt.Sprint(adminRows) {
		t.Errorf("the shared CSV = %q; want the admin's %q", shared, adminRows)
	}
}

// auditedOf are the audit log's entries of one action, newest first.
func auditedOf(entries []models.AuditEntry, action string) []models.AuditEntry {
	var out []models.AuditEntry
	for _, e := range entries {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// A link gives the leads as they stand at each download: a person who
// withdraws their consent is gone from the next one, and the audit entry
// counts what was sent.
func TestShareLinks_WithdrawnConsentLeavesTheNextDownload(t *testing.T) {
	f := newSponsorFlow(t)
	ada, adaToken := f.registered(t, adaEmail, true)
	f.registered(t, "cat@example.com", true)
	token := shownShareLink(t, f.makeShareLink(t, f.env.adminBrowser(t, models.RoleOrganizer), "7"))
	if got := f.sharedLeads(t, token); len(got) != 2 {
		t.Fatalf("shared leads = %q; want Ada and Cat", got)
	}

	f.env.clock.Set(testNow.Add(time.Hour))
	manage := views.RegistrationURL(adaToken)
	assertStatus(t, ada.post(manage+"/consents/withdraw", f.withdrawForm(t, ada.get(manage).body, adaToken)),
		http.StatusSeeOther)
	if got := f.sharedLeads(t, token); !slices.Equal(got, []string{"cat@example.com"}) {
		t.Fatalf("shared leads after Ada's withdrawal = %q; want Cat alone", got)
	}
	exports := auditedOf(f.env.auditEntries(t), models.AuditLeadsExported)
	if len(exports) != 2 || exports[0].RowCount != 1 || exports[1].RowCount != 2 {
		t.Fatalf("leads.exported entries = %+v; want 2 rows, then 1", exports)
	}
	if link := f.shareLinks(t)[0]; link.Uses != 2 || link.LastUsedAt == nil || !link.LastUsedAt.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("link after two downloads = %+v; want 2 uses, the last an hour in", link)
	}
}

// Revoke stops the link at once: it answers 410 with a page saying so,
// downloads nothing and audits nothing; the panel page says when it was
// revoked and offers no button; a link that never was is 404.
func TestShareLinks_RevokedLinkAnswersGone(t *testing.T) {
	f := newSponsorFlow(t)
	f.registered(t, adaEmail, true)
	admin := f.env.adminBrowser(t, models.RoleOrganizer)
	token := shownShareLink(t, f.makeShareLink(t, admin, "7"))
	f.sharedLeads(t, token)
	link := f.shareLinks(t)[0]

	page := admin.get(f.adminPanelPath())
	revoke := theFormPostingTo(t, page.body, f.revokeAction(link.ID))
	forged := url.Values{}
	assertStatus(t, admin.post(f.revokeAction(link.ID), forged), http.StatusForbidden)
	if got := f.shareLinks(t)[0]; got.RevokedAt != nil {
		t.Fatalf("a revocation without its CSRF token revoked: %+v", got)
	}

	f.env.clock.Set(testNow.Add(time.Hour))
	assertFlash(t, admin, admin.post(f.revokeAction(link.ID), revoke), f.adminPanelPath(),
		"ok:Revoked: the link no longer downloads anything.")
	f.assertShareClosed(t, token)
	page = admin.get(f.adminPanelPath())
	assertContains(t, page.body, shareRow(acmeName, "27 Nov 2026, 09:00 UTC", "1", "20 Nov 2026, 09:00 UTC",
		"Revoked 20 Nov 2026, 10:00 UTC"))
	if forms := formsPostingTo(page.body, f.revokeAction(link.ID)); len(forms) != 0 {
		t.Errorf("the panel page still offers Revoke for a revoked link")
	}
	revoked := auditedOf(f.env.auditEntries(t), models.AuditShareLinkRevoked)
	if want := fmt.Sprintf("share link %d of panel %d (%s)", link.ID, f.panel.ID, f.panel.Slug); len(revoked) != 1 ||
		revoked[0].Subject != want || revoked[0].Channel != models.ChannelAdmin ||
		revoked[0].Actor != "organizer@example.com (organizer)" {
		t.Fatalf("share_link.revoked entries = %+v; want the organizer's one, of %q", revoked, want)
	}

	// Revoking again is harmless: the link stays revoked as it was.
	assertFlash(t, admin, admin.post(f.revokeAction(link.ID), revoke), f.adminPanelPath(),
		"ok:Revoked: the link no longer downloads anything.")
	if got := f.shareLinks(t)[0]; got.RevokedAt == nil || !got.RevokedAt.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("link after revoking twice = %+v; want it revoked at the first time", got)
	}
	f.assertShareClosed(t, token)

	entries := len(f.env.auditEntries(t))
	for _, unknown := range []string{strings.Repeat("A", 43), token[:42], token + "A"} {
		r := f.env.browser(t).get(views.ShareLinkURL(unknown))
		assertStatus(t, r, http.StatusNotFound)
		assertContains(t, r.body, "We could not find that page")
	}
	if n := len(f.env.auditEntries(t)); n != entries {
		t.Errorf("unknown tokens wrote %d audit entries; want none", n-entries)
	}
}

// A link made for a day downloads until the day is over, then answers 410;
// the panel page then calls it expired and offers no button.
func TestShareLinks_ExpiredLinkAnswersGone(t *testing.T) {
	f := newSponsorFlow(t)
	f.registered(t, adaEmail, true)
	token := shownShareLink(t, f.makeShareLink(t, f.env.adminBrowser(t, models.RoleOrganizer), "1"))
	f.env.clock.Set(testNow.AddDate(0, 0, 1).Add(-time.Second))
	if got := f.sharedLeads(t, token); !slices.Equal(got, []string{adaEmail}) {
		t.Fatalf("shared leads a second before the expiry = %q; want Ada", got)
	}
	f.env.clock.Set(testNow.AddDate(0, 0, 1))
	f.assertShareClosed(t, token)

	// The organizer's sign-in has lapsed meanwhile: a new one.
	admin := f.env.browser(t)
	assertStatus(t, admin.signIn("organizer@example.com", ownerPassword), http.StatusSeeOther)
	page := admin.get(f.adminPanelPath())
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, shareRow(acmeName, "21 Nov 2026, 09:00 UTC", "1", "21 Nov 2026, 08:59 UTC", "Expired"))
	if forms := formsPostingTo(page.body, f.revokeAction(f.shareLinks(t)[0].ID)); len(forms) != 0 {
		t.Errorf("the panel page offers Revoke for an expired link")
	}
}

// A HEAD (a link checker, a chat app's preview) is no download: it counts
// no use and writes nothing to the audit log.
func TestShareLinks_HeadIsNoDownload(t *testing.T) {
	f := newSponsorFlow(t)
	f.registered(t, adaEmail, true)
	token := shownShareLink(t, f.makeShareLink(t, f.env.adminBrowser(t, models.RoleOrganizer), "7"))
	entries := len(f.env.auditEntries(t))
	r := f.env.browser(t).do(httptest.NewRequest(http.MethodHead, views.ShareLinkURL(token), nil))
	assertStatus(t, r, http.StatusOK)
	if r.body != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("HEAD answered %q with %q", r.header.Get("Content-Type"), r.body)
	}
	if uses := f.shareLinks(t)[0].Uses; uses != 0 {
		t.Errorf("uses = %d after a HEAD; want 0", uses)
	}
	if after := len(f.env.auditEntries(t)); after != entries {
		t.Errorf("audit entries %d -> %d after a HEAD; want none added", entries, after)
	}
}

// Taking the sponsor off the panel closes its links: 410, and the panel
// page names it as a removed sponsor without a Revoke button.
func TestShareLinks_RemovedSponsorsLinkAnswersGone(t *testing.T) {
	f := newSponsorFlow(t)
	f.registered(t, adaEmail, true)
	token := shownShareLink(t, f.makeShareLink(t, f.env.adminBrowser(t, models.RoleOrganizer), "7"))
	f.patchPanel(t, map[string]any{"sponsors": []map[string]string{
		{"name": "Beacon Labs", "privacy_url": "https://beacon.example.org/privacy"}}})
	f.assertShareClosed(t, token)
	admin := f.env.browser(t)
	assertStatus(t, admin.signIn("organizer@example.com", ownerPassword), http.StatusSeeOther)
	page := admin.get(f.adminPanelPath())
	assertContains(t, page.body, `<tr><th scope="row">a removed sponsor</th><td>27 Nov 2026, 09:00 UTC</td><td>0</td>`,
		`<td>Closed: the sponsor was removed</td>`)
	if forms := formsPostingTo(page.body, f.revokeAction(f.shareLinks(t)[0].ID)); len(forms) != 0 {
		t.Errorf("the panel page offers Revoke for a removed sponsor's link")
	}
}

// Days the form refuses (not a number, 0, over 90) go back to the panel
// page with the reason and make no link; a form without its CSRF token is
// refused and makes none either.
func TestShareLinks_RefusedFormsMakeNoLink(t *testing.T) {
	f := newSponsorFlow(t)
	admin := f.env.adminBrowser(t, models.RoleOrganizer)
	for _, days := range []string{"abc", "0", "91", "", "-3", "7.5", "1e1"} {
		t.Run("days "+days, func(t *testing.T) {
			r := f.makeShareLink(t, admin, days)
			assertFlash(t, admin, r, f.adminPanelPath(), "error:Choose from 1 to 90 days.")
			if strings.Contains(r.body, "/leads/") {
				t.Fatalf("a refusal shows a link:\n%s", r.body)
			}
		})
	}
	form := theFormPostingTo(t, admin.get(f.adminPanelPath()).body, f.shareAction())
	form.Del("_csrf")
	assertStatus(t, admin.post(f.shareAction(), form), http.StatusForbidden)
	if links := f.shareLinks(t); len(links) != 0 {
		t.Fatalf("refused forms made links: %+v", links)
	}
	if made := auditedOf(f.env.auditEntries(t), models.AuditShareLinkCreated); len(made) != 0 {
		t.Fatalf("refused forms were audited as made: %+v", made)
	}
}

// shareFixture is the consent corpus's fixture with share links to aim
// at: a live one to the hostile panel's first sponsor and one to the other
// panel's sponsor.
type shareFixture struct {
	*consentFixture
	link, othersLink int64
	token            string
}

func newShareFixture(t *testing.T) *shareFixture {
	t.Helper()
	sf := &shareFixture{consentFixture: newConsentFixture(t)}
	link, token, err := sf.env.store.CreateShareLink(t.Context(), sf.panel.ID, sf.sponsor, nil, 7)
	if err != nil {
		t.Fatal(err)
	}
	others, _, err := sf.env.store.CreateShareLink(t.Context(), sf.other.ID, sf.othersSponsor, nil, 7)
	if err != nil {
		t.Fatal(err)
	}
	sf.link, sf.othersLink, sf.token = link.ID, others.ID, token
	sf.last = nil
	return sf
}

// leadsTokenCases are GETs of /leads/{token} with tokens that name no link:
// each is 404 and counts nothing.
func (sf *shareFixture) leadsTokenCases() []queryCase {
	pad := func(s string) string { return s + strings.Repeat("a", max(0, 43-len(s))) }
	tokens := []struct{ name, token string }{
		{"42 characters", sf.token[:42]},
		{"44 characters", sf.token + "A"},
		{"the token twice", sf.token + sf.token},
		{"in capitals", strings.ToUpper(sf.token)},
		{"well-formed and unknown", strings.Repeat("A", 43)},
		{"path traversal", "..%2f..%2fadmin"},
		{"path traversal of 43 characters", pad("..%2f..%2fadmin%2f")},
		{"NUL at the end", sf.token[:42] + "%00"},
		{"NUL inside", sf.token[:20] + "%00" + sf.token[21:]},
		{"CR LF and a header", sf.token[:30] + "%0D%0ASet-Cookie:%20x=1"},
		{"SQL", "'%20OR%20'1'%3D'1'%20--"},
		{"SQL of 43 characters", pad("'%20OR%201%3D1%20--%20")},
		{"LIKE wildcards", strings.Repeat("%25", 43)},
		{"a star", "*"},
		{"the token's hash", fmt.Sprintf("%x", sha256.Sum256([]byte(sf.token)))},
		{"a manage token", sf.carolToken},
		{"the token percent-encoded", percentEncoded(sf.token)},
		{"script", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"},
		{"invalid UTF-8", pad("%FF%FE")},
		{"2000 characters", strings.Repeat("t", 2000)},
		{"nothing", ""},
	}
	cases := make([]queryCase, len(tokens))
	for i, tk := range tokens {
		cases[i] = queryCase{name: tk.name, as: "visitor", path: "/leads/" + tk.token, status: 404, absent: "carol@example.com"}
	}
	return cases
}

// percentEncoded writes every byte of s as %XX.
func percentEncoded(s string) string {
	var b strings.Builder
	for i := range len(s) {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func TestHostileShareLinks_OddTokensFindNothing(t *testing.T) {
	sf := newShareFixture(t)
	audited := len(sf.env.auditEntries(t))
	cases := sf.leadsTokenCases()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := sf.unchangedBy(t, func() response { return sf.env.browser(t).get(tc.path) })
			assertAnswer(t, r, tc.status, tc.msg)
			if strings.Contains(r.body, tc.absent) || r.header.Get("Content-Disposition") != "" {
				t.Fatalf("answer downloads something:\n%s", clipBody(r.body))
			}
		})
	}
	t.Run("a token too long for the request line", func(t *testing.T) {
		r := sf.unchangedBy(t, func() response {
			return sf.env.overTheWire(t, http.MethodGet, "/leads/"+strings.Repeat("t", 8000), "text/plain", 0, "",
				sf.env.browser(t))
		})
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status = %d; want 431", r.status)
		}
	})
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(method+" of the token", func(t *testing.T) {
			b := sf.env.browser(t)
			r := sf.unchangedBy(t, func() response { return b.send(method, "/leads/"+sf.token, "", "") })
			assertAnswer(t, r, http.StatusMethodNotAllowed, "That action is not available here.")
		})
	}
	if n := len(sf.env.auditEntries(t)); n != audited {
		t.Fatalf("odd tokens wrote %d audit entries; want none", n-audited)
	}
	t.Logf("ran %d hostile share token cases", len(cases)+5)
}

// shareDaysMsg is the refusal of days outside 1 to 90.
const shareDaysMsg = "Choose from 1 to 90 days."

// createShareTarget is the panel page's share form for the first sponsor:
// the valid form would make a link for 7 days.
func (sf *shareFixture) createShareTarget() formTarget {
	path := func(panel, sponsor any) string {
		return fmt.Sprintf("/admin/panels/%v/sponsors/%v/share-links", panel, sponsor)
	}
	days := func(d string) map[string]string { return map[string]string{"days": d} }
	var cases []formCase
	for _, d := range []string{"0", "-1", "91", "3650", "abc", "1e1", "7.5", "0x7", "٧", "9223372036854775808",
		"", " ", "7 days", "7 OR 1=1", "7\x00", strings.Repeat("9", 500)} {
		cases = append(cases, formCase{name: "days " + clipForName(fmt.Sprintf("%q", d)), set: days(d), status: 303,
			msg: shareDaysMsg})
	}
	cases = append(cases,
		formCase{name: "no days", drop: []string{"days"}, status: 303, msg: shareDaysMsg},
		formCase{name: "two days fields, the first a word", set: days("abc"), add: map[string][]string{"days": {"7"}},
			status: 303, msg: shareDaysMsg},
		formCase{name: "days refused, returning off the site", set: map[string]string{"days": "0", "return": "//evil.example/admin"},
			status: 303, msg: shareDaysMsg},
		formCase{name: "another panel's sponsor", path: path(fxPanel, sf.othersSponsor), status: 404},
		formCase{name: "a removed sponsor", path: path(fxPanel, sf.removed), status: 404},
		formCase{name: "the sponsor through another panel", path: path(sf.other.ID, sf.sponsor), status: 404},
		formCase{name: "the sponsor through the draft", path: path(fxDraft, sf.sponsor), status: 404},
		formCase{name: "a panel that never was", path: path(999999, sf.sponsor), status: 404},
		formCase{name: "a sponsor that never was", path: path(fxPanel, 999999), status: 404},
		formCase{name: "sponsor a word", path: path(fxPanel, "acme"), status: 404},
		formCase{name: "sponsor 0", path: path(fxPanel, 0), status: 404},
		formCase{name: "sponsor -1", path: path(fxPanel, -1), status: 404},
		formCase{name: "sponsor 2^63", path: path(fxPanel, "9223372036854775808"), status: 404},
		formCase{name: "sponsor with an encoded path traversal", path: path(fxPanel, itoa(sf.sponsor)+"%2F..%2F"+itoa(sf.othersSponsor)),
			status: 404},
	)
	return formTarget{name: "make a share link", page: "/admin/panels/" + fxPanel, path: path(fxPanel, sf.sponsor),
		valid: days("7"), cases: append(cases, transportCases()...)}
}

// revokeShareTarget is the panel page's Revoke button of the live link:
// the valid form would revoke it.
func (sf *shareFixture) revokeShareTarget() formTarget {
	path := func(panel, link any) string {
		return fmt.Sprintf("/admin/panels/%v/share-links/%v/revoke", panel, link)
	}
	cases := []formCase{
		{name: "another panel's link", path: path(fxPanel, sf.othersLink), status: 404},
		{name: "the link through another panel", path: path(sf.other.ID, sf.link), status: 404},
		{name: "the link through the draft", path: path(fxDraft, sf.link), status: 404},
		{name: "a panel that never was", path: path(999999, sf.link), status: 404},
		{name: "a link that never was", path: path(fxPanel, 999999), status: 404},
		{name: "link a word", path: path(fxPanel, "abc"), status: 404},
		{name: "link 0", path: path(fxPanel, 0), status: 404},
		{name: "link -1", path: path(fxPanel, -1), status: 404},
		{name: "link 1e3", path: path(fxPanel, "1e3"), status: 404},
		{name: "link 2^63", path: path(fxPanel, "9223372036854775808"), status: 404},
		{name: "link with SQL", path: path(fxPanel, itoa(sf.link)+"%20OR%201%3D1"), status: 404},
		{name: "link with an encoded path traversal", path: path(fxPanel, itoa(sf.link)+"%2F..%2F"+itoa(sf.othersLink)),
			status: 404},
	}
	return formTarget{name: "revoke a share link", page: "/admin/panels/" + fxPanel, path: path(fxPanel, sf.link),
		cases: append(cases, transportCases()...)}
}

func TestHostileShareLinks_AdminForms(t *testing.T) {
	sf := newShareFixture(t)
	unsigned := formCase{name: "not signed in", send: sendUnsignedAdmin, status: 401, msg: "Your session has ended."}
	targets := []formTarget{sf.createShareTarget(), sf.revokeShareTarget()}
	for i := range targets {
		targets[i].admin = true
		targets[i].cases = append(targets[i].cases, unsigned)
	}
	audited := len(sf.env.auditEntries(t))
	runFormTargets(t, targets, sf.runFormCase)
	if n := len(sf.env.auditEntries(t)); n != audited {
		t.Fatalf("refused forms wrote %d audit entries; want none", n-audited)
	}
}

// The valid forms the cases spoil do make and revoke a link, so the cases'
// "nothing changed" is the refusals' doing.
func TestHostileShareLinks_ValidFormsChangeThings(t *testing.T) {
	sf := newShareFixture(t)
	for _, f := range []struct {
		target formTarget
		status int
	}{{sf.createShareTarget(), http.StatusOK}, {sf.revokeShareTarget(), http.StatusSeeOther}} {
		t.Run(f.target.name, func(t *testing.T) {
			f.target.admin = true
			before := sf.env.snapshot(t)
			assertStatus(t, sf.sendFormCase(t, f.target, formCase{}), f.status)
			if equalSnapshots(before, sf.env.snapshot(t)) {
				t.Fatal("the valid form changed nothing")
			}
		})
	}
	assertAnswer(t, sf.env.browser(t).get("/leads/"+sf.token), http.StatusGone, shareClosedMsg)
}
