package handlers

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"podium/models"
	"podium/views"
)

const adaEmail = "ada@example.com"

// registerAda signs Ada up for the question panel with everything a
// registration can hold: answers, first-touch tags, the organizer's news
// (then withdrawn), and returns her registration.
func (e *testEnv) registerAda(t *testing.T, p *models.Panel) models.Registration {
	t.Helper()
	q := p.Questions
	res, err := e.store.Register(t.Context(), p.ID, models.RegistrationInput{
		SessionID: p.Sessions[0].ID, Name: "Ada Lovelace", Email: "Ada@Example.com", Organisation: "Analytical Engines",
		JobTitle: "Mathematician", Consent: true, Marketing: true,
		Source: "newsletter", Medium: "email", Campaign: "autumn-launch", Referrer: "https://news.example.org/",
		Answers: map[int64][]string{q[0].ID: {"Speaker"}, q[1].ID: {"Cloud", "Security"}, q[2].ID: {models.CheckboxAnswer}},
	})
	if err != nil {
		t.Fatalf("register Ada: %v", err)
	}
	if _, err := e.store.WithdrawConsent(t.Context(), res.Registration.ID, models.ConsentMarketing, 0, models.ChannelManage); err != nil {
		t.Fatal(err)
	}
	return res.Registration
}

// personPath is the people page looking up email.
func personPath(email string) string { return views.PeopleURL + "?email=" + url.QueryEscape(email) }

// auditEntries is the audit log, newest first.
func (e *testEnv) auditEntries(t *testing.T) []models.AuditEntry {
	t.Helper()
	entries, err := e.store.AuditLog(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// assertAuditedWithoutAddress checks the newest audit entry and that no
// entry names the address.
func assertAuditedWithoutAddress(t *testing.T, entries []models.AuditEntry, action, subject string, rows int, email string) {
	t.Helper()
	if len(entries) == 0 {
		t.Fatal("nothing in the audit log")
	}
	got := entries[0]
	if got.Action != action || got.Channel != models.ChannelAdmin || got.Subject != subject || got.RowCount != rows ||
		got.Actor != "owner@example.com (owner)" {
		t.Errorf("audit entry = %+v; want %s through admin of %q with %d rows", got, action, subject, rows)
	}
	for _, e := range entries {
		if line := strings.ToLower(fmt.Sprintf("%+v", e)); strings.Contains(line, strings.ToLower(email)) {
			t.Errorf("audit entry names the address: %s", line)
		}
	}
}

// Only owners reach a person's data, its erasure and the retention plan:
// an organizer is refused, and the refused lookup and erasure leave no
// trace and erase nothing.
func TestPeopleAdmin_OrganizersAreRefused(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "refused", models.Session{Capacity: 5})
	reg := env.register(t, p, p.Sessions[0].ID, adaEmail).Registration
	organizer := env.adminBrowser(t, models.RoleOrganizer)
	assertStatus(t, organizer.get(views.PeopleURL), http.StatusForbidden)
	assertStatus(t, organizer.get(personPath(adaEmail)), http.StatusForbidden)
	assertStatus(t, organizer.get(views.RetentionURL), http.StatusForbidden)
	assertStatus(t, organizer.postForm(views.EraseURL, url.Values{"email": {adaEmail}, "confirm": {"yes"}}), http.StatusForbidden)
	if strings.Contains(organizer.get("/admin").body, `href="/admin/people"`) {
		t.Error("an organizer's navigation links to people's data")
	}
	if got := env.registrationOf(t, reg.ID); got.Email != adaEmail || got.ErasedAt != nil {
		t.Fatalf("an organizer's erasure erased: %+v", got)
	}
	if entries := env.auditEntries(t); len(entries) != 0 {
		t.Fatalf("refused requests were audited: %+v", entries)
	}
}

// A lookup shows every registration of the address with its details,
// answers, consents and emails, and nothing of anyone else; it is audited
// without the address, and the page is never cached.
func TestPeopleAdmin_LookupShowsThePersonsDataAndIsAudited(t *testing.T) {
	env := newTestEnv(t)
	p := env.addQuestionPanel(t, "held")
	other := env.addPanel(t, "other", models.Session{Capacity: 5})
	ada := env.registerAda(t, p)
	env.register(t, other, other.Sessions[0].ID, adaEmail)
	env.register(t, other, other.Sessions[0].ID, "bob@example.com")
	owner := env.adminBrowser(t, models.RoleOwner)

	empty := owner.get(views.PeopleURL)
	assertStatus(t, empty, http.StatusOK)
	assertContains(t, empty.body, `<label for="field-email">Email address`, `method="get" action="/admin/people"`,
		`href="/admin/retention"`)

	page := owner.get(personPath("  ADA@example.com "))
	assertStatus(t, page, http.StatusOK)
	if cc := page.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	assertContains(t, page.body, "Panel held", "Panel other", "Ada Lovelace", "Ada@Example.com", "Analytical Engines",
		"Mathematician", "newsletter", "autumn-launch", "https://news.example.org/", "Your role", "Speaker",
		"Cloud; Security", "Confirmed", "20 Nov 2026, 09:00 UTC", "27 Nov 2026, 09:00 UTC", "Confirmation",
		"Withdrawn 20 Nov 2026", "Their own manage page", "Sign-up form",
		`action="/admin/people/erase"`, `<input type="hidden" name="email" value="ada@example.com">`,
		`name="confirm"`, "cannot be undone", "offered to the waitlist")
	consents, err := env.store.Consents(t.Context(), ada.ID)
	if err != nil || len(consents) != 2 {
		t.Fatalf("consents = %+v, %v; want the registration's and the withdrawn news", consents, err)
	}
	for _, c := range consents {
		assertContains(t, page.body, html.EscapeString(c.Text))
	}
	if strings.Contains(page.body, "bob@example.com") {
		t.Error("the page shows another person's data")
	}
	assertAuditedWithoutAddress(t, env.auditEntries(t), models.AuditPersonAccessed, "a person's data", 2, adaEmail)

	nobody := owner.get(personPath("nobody@example.com"))
	assertStatus(t, nobody, http.StatusOK)
	assertContains(t, nobody.body, "Podium holds nothing about nobody@example.com.")
	if strings.Contains(nobody.body, `action="/admin/people/erase"`) {
		t.Error("the page offers to erase an address Podium does not hold")
	}
	assertAuditedWithoutAddress(t, env.auditEntries(t), models.AuditPersonAccessed, "a person's data", 0, "nobody@example.com")
}

// A malformed address comes back to the form with a message (422), never
// a server error, and is not audited.
func TestPeopleAdmin_MalformedAddressIsRefused(t *testing.T) {
	env := newTestEnv(t)
	owner := env.adminBrowser(t, models.RoleOwner)
	for _, email := range []string{"", "not-an-address", "ada@localhost", "Ada <ada@example.com>", "ada@example.com\x00",
		"<script>@example.com", strings.Repeat("a", 300) + "@example.com"} {
		t.Run(fmt.Sprintf("%q", email), func(t *testing.T) {
			r := owner.get(personPath(email))
			assertStatus(t, r, http.StatusUnprocessableEntity)
			assertContains(t, r.body, "Enter a valid email address, like name@example.com.", `aria-invalid="true"`,
				"<title>Error: People&#39;s data")
			if strings.Contains(r.body, "<script>@") {
				t.Error("the typed address is not escaped")
			}
		})
	}
	if entries := env.auditEntries(t); len(entries) != 0 {
		t.Fatalf("malformed lookups were audited: %+v", entries)
	}
}

// An erasure that is not confirmed, names a malformed address or one
// Podium does not hold changes nothing.
func TestPeopleAdmin_EraseWithoutConfirmChangesNothing(t *testing.T) {
	env := newHostileEnv(t)
	p := env.addPanel(t, "kept", models.Session{Capacity: 5})
	env.register(t, p, p.Sessions[0].ID, adaEmail)
	owner := env.adminBrowser(t, models.RoleOwner)
	cases := []struct {
		name, email, confirm string
		status               int
		message              string
	}{
		{"no confirm", adaEmail, "", http.StatusUnprocessableEntity, "Tick the box to confirm the erasure: nothing was erased."},
		{"confirm no", adaEmail, "no", http.StatusUnprocessableEntity, "Tick the box to confirm the erasure"},
		{"confirm on", adaEmail, "on", http.StatusUnprocessableEntity, "Tick the box to confirm the erasure"},
		{"malformed", "ada@@example.com", "yes", http.StatusUnprocessableEntity, "Enter a valid email address"},
		{"no email", "", "yes", http.StatusUnprocessableEntity, "Enter a valid email address"},
		{"not held", "nobody@example.com", "yes", http.StatusSeeOther, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := env.snapshot(t)
			form := url.Values{"email": {tc.email}}
			if tc.confirm != "" {
				form.Set("confirm", tc.confirm)
			}
			r := owner.postForm(views.EraseURL, form)
			assertStatus(t, r, tc.status)
			assertUnchanged(t, before, env.snapshot(t))
			if tc.status == http.StatusSeeOther {
				if loc := r.header.Get("Location"); loc != views.PeopleURL {
					t.Fatalf("Location = %q; want %s", loc, views.PeopleURL)
				}
				assertContains(t, owner.get(views.PeopleURL).body, "Podium holds nothing about this address.", "flash-error")
				return
			}
			assertContains(t, r.body, tc.message)
		})
	}
	// The unconfirmed form comes back with the person's data and the box
	// marked, ready to tick.
	r := owner.postForm(views.EraseURL, url.Values{"email": {adaEmail}})
	assertContains(t, r.body, "Reg ada@example.com", `href="#field-confirm"`, `id="field-confirm"`, `aria-invalid="true"`)
}

// A confirmed erasure erases every registration of the address, gives the
// freed place to the waitlist, is audited without the address and leaves
// the address out of the page it returns to.
func TestPeopleAdmin_ConfirmedEraseErasesAndAudits(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "erased", models.Session{Capacity: 1, Waitlist: true})
	other := env.addPanel(t, "also", models.Session{Capacity: 5})
	ada := env.register(t, p, p.Sessions[0].ID, adaEmail).Registration
	cy := env.register(t, p, p.Sessions[0].ID, "cy@example.com").Registration
	adaOther := env.register(t, other, other.Sessions[0].ID, adaEmail).Registration
	if cy.Status != models.RegistrationWaitlisted {
		t.Fatalf("Cy is %s; want waitlisted", cy.Status)
	}
	owner := env.adminBrowser(t, models.RoleOwner)
	page := owner.get(personPath(adaEmail))
	assertStatus(t, page, http.StatusOK)
	form := formFields(t, page.body)
	form.Set("confirm", "yes")
	r := owner.post(views.EraseURL, form)
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != views.PeopleURL {
		t.Fatalf("Location = %q; want %s, without the address", loc, views.PeopleURL)
	}
	done := owner.get(views.PeopleURL)
	assertContains(t, done.body, "Erased 2 registrations", "1 place freed went to the waitlist.")
	if strings.Contains(done.body, adaEmail) {
		t.Error("the page after the erasure shows the address")
	}
	for _, id := range []int64{ada.ID, adaOther.ID} {
		if got := env.registrationOf(t, id); got.Name != "" || got.Email != "" || got.ErasedAt == nil {
			t.Errorf("registration %d after erasure = %+v; want anonymous", id, got)
		}
	}
	if got := env.registrationOf(t, cy.ID); got.Status != models.RegistrationConfirmed {
		t.Errorf("Cy is %s after the erasure; want the freed place", got.Status)
	}
	assertAuditedWithoutAddress(t, env.auditEntries(t), models.AuditPersonErased, "a person, on request", 2, adaEmail)
	assertContains(t, owner.get(personPath(adaEmail)).body, "Podium holds nothing about ada@example.com.")
}

// The retention plan lists each panel with its last session, the days it
// is kept, its erase date and the registrants held, marks the plans due,
// and says how to change the default.
func TestRetentionAdmin_ListsPlansAndMarksDue(t *testing.T) {
	env := newTestEnv(t)
	kept := env.addPanel(t, "kept", models.Session{Capacity: 5})
	env.register(t, kept, kept.Sessions[0].ID, adaEmail)
	short := env.addPanel(t, "short", models.Session{Capacity: 5, StartsAt: testNow.Add(24 * time.Hour)})
	if _, err := env.store.EditPanel(t.Context(), short.ID, func(p *models.Panel) { p.RetentionDays = new(1) }); err != nil {
		t.Fatalf("set the panel's retention: %v", err)
	}
	env.register(t, short, short.Sessions[0].ID, adaEmail)
	env.register(t, short, short.Sessions[0].ID, "bob@example.com")
	owner := env.adminBrowser(t, models.RoleOwner)

	page := owner.get(views.RetentionURL)
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, `<a href="/admin/panels/`+itoa(kept.ID)+`">Panel kept</a>`,
		"27 Nov 2026, 10:00 UTC", "Site default (365 days)", "27 Nov 2027, 10:00 UTC",
		`<a href="/admin/panels/`+itoa(short.ID)+`">Panel short</a>`, "1 day", "22 Nov 2026, 10:00 UTC",
		"PODIUM_RETENTION_DAYS", "Keep registrants for (days)", `href="/admin/panels/`+itoa(short.ID)+`/edit"`,
		`<th scope="col">Erased on</th>`, `href="/admin/people"`)
	if strings.Contains(page.body, "Due:") {
		t.Error("a plan is due before its date")
	}

	// Three days on, the owner signs in again (a sign-in does not last so
	// long) and finds the short panel due.
	env.clock.Set(testNow.Add(3 * 24 * time.Hour))
	owner = env.browser(t)
	assertStatus(t, owner.signIn("owner@example.com", ownerPassword), http.StatusSeeOther)
	due := owner.get(views.RetentionURL)
	assertContains(t, due.body, "1 panel&#39;s registrants are due", `class="retention-due"`, "Due: erased within the hour")
	if strings.Count(due.body, "Due: erased") != 1 {
		t.Error("want only the short panel due")
	}
}

// The people and retention pages render from their zero values too, with
// one h1 (views' own render test does not list them yet).
func TestPeopleAdmin_PagesRenderFromZeroValues(t *testing.T) {
	engine, err := views.NewEngine(func(name string) string { return "/public/" + name })
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]any{views.PageAdminPeople: views.PersonPage{},
		views.PageAdminRetention: views.RetentionPage{}} {
		var buf strings.Builder
		if err := engine.Render(&buf, name, data); err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		if page := buf.String(); strings.Count(page, "<h1") != 1 || strings.Contains(page, " style=") {
			t.Errorf("render %s: want one h1 and no inline style", name)
		}
	}
}
