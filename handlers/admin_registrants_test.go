package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// withQuestions gives the panel a short text question and a multiple
// choice one, through the admin's questions form.
func withQuestions(t *testing.T, b *browser, p *models.Panel) {
	t.Helper()
	b.follow(b.postForm(panelPath(p)+"/questions", url.Values{
		"questions[0].position": {"1"}, "questions[0].kind": {"short_text"}, "questions[0].label": {"Dietary needs"},
		"questions[1].position": {"2"}, "questions[1].kind": {"multiple_choice"}, "questions[1].label": {"=Topics"},
		"questions[1].options": {"AI\nJobs"}, "questions[1].required": {"yes"},
	}))
}

func questionIDs(t *testing.T, env *testEnv, p *models.Panel) []int64 {
	t.Helper()
	got, err := env.store.PanelByID(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(got.Questions))
	for i, q := range got.Questions {
		ids[i] = q.ID
	}
	return ids
}

func TestAdminRegistrants_AddSendsTheInviteOrKeepsWhatWasTyped(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "add", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	withQuestions(t, b, p)
	q := questionIDs(t, env, p)
	path := sessionPath(p, 0) + "/registrants"

	bad := b.postForm(path, url.Values{"name": {"Ada Lovelace"}, "email": {""}, fmt.Sprintf("q_%d", q[0]): {"Vegan"}})
	assertStatus(t, bad, http.StatusUnprocessableEntity)
	assertContains(t, bad.body, "Ada Lovelace", "Vegan", `href="#field-email"`, `href="#field-consent"`,
		fmt.Sprintf(`href="#field-q-%d"`, q[1]), "Confirm that this person agreed")

	good := b.postForm(path, url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}, "consent": {"yes"},
		fmt.Sprintf("q_%d", q[0]): {"Vegan"}, fmt.Sprintf("q_%d", q[1]): {"AI", "Jobs"}})
	page := b.follow(good)
	assertContains(t, page.body, "Ada Lovelace is registered and an invite is on its way", "Vegan", "AI; Jobs")
	if n := env.countOutbox(t, models.KindConfirmation); n != 1 {
		t.Fatalf("%d confirmations queued; want 1", n)
	}
}

func TestAdminRegistrants_ListCountsSearchesAndPages(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "list", models.Session{Capacity: 55, Waitlist: true})
	sid := mustSession(t, p, 0)
	env.addRegistrants(t, sid, 60)
	b := env.adminBrowser(t, models.RoleOrganizer)

	first := b.get(sessionPath(p, 0))
	assertContains(t, first.body, `<span class="stat-value">55</span> <span class="stat-label">confirmed`,
		`<span class="stat-value">5</span> <span class="stat-label">waitlisted`, "Person 59", "Older registrants")
	if n := strings.Count(first.body, `<th scope="row">Person`); n != 50 {
		t.Fatalf("first page lists %d registrants; want 50", n)
	}
	older := regexp.MustCompile(`href="([^"]*before=\d+)"`).FindStringSubmatch(first.body)
	if older == nil {
		t.Fatal("no link to older registrants")
	}
	second := b.get(strings.ReplaceAll(older[1], "&amp;", "&"))
	if n := strings.Count(second.body, `<th scope="row">Person`); n != 10 || strings.Contains(second.body, "Older registrants") {
		t.Fatalf("second page lists %d registrants; want the last 10 and no further link", n)
	}
	assertContains(t, second.body, "Person 0", "Newest")

	found := b.get(sessionPath(p, 0) + "?q=person5%40&status=confirmed")
	if n := strings.Count(found.body, `<th scope="row">Person`); n != 1 {
		t.Fatalf("search lists %d; want Person 5 only", n)
	}
	waiting := b.get(panelPath(p) + "/registrants?status=waitlisted")
	if n := strings.Count(waiting.body, `<th scope="row">Person`); n != 5 {
		t.Fatalf("waitlist filter lists %d; want 5", n)
	}
	literal := b.get(sessionPath(p, 0) + "?q=%25")
	assertContains(t, literal.body, "Nobody matches this search.")
}

func TestAdminRegistrants_Actions(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "acts", models.Session{Capacity: 1, Waitlist: true})
	sid := mustSession(t, p, 0)
	regs := env.addRegistrants(t, sid, 2) // one confirmed, one waitlisted
	b := env.adminBrowser(t, models.RoleOrganizer)
	back := sessionPath(p, 0)
	act := func(id int64, action string, extra url.Values) response {
		t.Helper()
		form := url.Values{"return": {back}}
		for k, v := range extra {
			form[k] = v
		}
		r := b.postForm(fmt.Sprintf("/admin/registrations/%d/%s", id, action), form)
		if loc := r.header.Get("Location"); loc != back {
			t.Fatalf("%s: Location = %q; want back to %q", action, loc, back)
		}
		return b.follow(r)
	}
	assertContains(t, act(regs[0].ID, "attended", url.Values{"value": {"yes"}}).body, "Marked as attended.", "Attended 20 Nov 2026")
	assertContains(t, act(regs[0].ID, "attended", url.Values{"value": {"no"}}).body, "Attendance cleared.")
	assertContains(t, act(regs[0].ID, "resend", nil).body, "Sent again")
	assertContains(t, act(regs[1].ID, "promote", nil).body, "No free place: raise the capacity first", "flash-error")
	assertContains(t, act(regs[0].ID, "cancel", nil).body, "Registration cancelled", "Person 1 got the place from the waitlist")
	if c := env.countRegistrations(t, sid); c[models.RegistrationConfirmed] != 1 || c[models.RegistrationCancelled] != 1 {
		t.Fatalf("counts = %v", c)
	}
	env.clock.Set(p.Sessions[0].StartsAt.Add(time.Minute))
	b.signIn("organizer@example.com", ownerPassword) // the session ran out with the clock
	assertContains(t, act(regs[1].ID, "cancel", nil).body, "already started", "flash-error")
}

func TestAdminRegistrants_CSVExport(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "export", models.Session{Capacity: 10})
	env.addRegistrants(t, mustSession(t, p, 0), 2)
	b := env.adminBrowser(t, models.RoleOrganizer)
	withQuestions(t, b, p)
	q := questionIDs(t, env, p)
	_, err := env.store.AddRegistrationByOrganizer(context.Background(), mustSession(t, p, 0), models.RegistrationInput{
		Name: "=HYPERLINK(\"https://evil.example\")", Email: "ada@example.com", Organisation: "Engines, \"Ltd\"",
		Consent: true, Answers: map[int64][]string{q[0]: {"@SUM(1)"}, q[1]: {"AI", "Jobs"}},
	}, models.ChannelAdmin)
	if err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{panelPath(p) + "/registrants.csv", sessionPath(p, 0) + "/registrants.csv"} {
		r := b.get(path)
		assertStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("Content-Type = %q", ct)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="export-`) {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		body, ok := strings.CutPrefix(r.body, "\uFEFF")
		if !ok {
			t.Fatal("the export does not start with a UTF-8 byte order mark")
		}
		if !strings.Contains(body, "\r\n") {
			t.Fatal("rows are not CRLF-terminated")
		}
		records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("not valid CSV: %v", err)
		}
		header := records[0]
		if len(records) != 4 || header[0] != "Registration ID" || header[len(header)-2] != "Dietary needs" || header[len(header)-1] != "'=Topics" {
			t.Fatalf("%d records, header %q", len(records), header)
		}
		ada := records[3] // the export runs oldest first, and Ada came last

		if ada[2] != `'=HYPERLINK("https://evil.example")` || ada[4] != `Engines, "Ltd"` ||
			ada[len(ada)-2] != "'@SUM(1)" || ada[len(ada)-1] != "AI; Jobs" {
			t.Fatalf("row = %q", ada)
		}
	}
	filtered := b.get(panelPath(p) + "/registrants.csv?q=ada")
	if records, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(filtered.body, "\uFEFF"))).ReadAll(); len(records) != 2 {
		t.Fatalf("the filtered export has %d records; want the header and Ada", len(records))
	}
}

// An organizer adding someone records the optional consents the person gave
// them (the organizer's news, a sponsor), through the admin, and nothing the
// form did not tick.
func TestAdminRegistrants_AddRecordsTheConsentsTicked(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "add-consents", models.Session{Capacity: 10})
	p, err := env.store.EditPanel(t.Context(), p.ID, func(p *models.Panel) {
		p.Sponsors = []models.Sponsor{{Name: "Acme", PrivacyURL: "https://acme.example/privacy"},
			{Name: "Globex", PrivacyURL: "https://globex.example/privacy"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	acme := p.Sponsors[0].ID
	b := env.adminBrowser(t, models.RoleOrganizer)
	page := b.get(sessionPath(p, 0))
	assertContains(t, page.body, `name="marketing"`, fmt.Sprintf(`name="sponsor_%d"`, acme),
		"They agreed to share their details with Acme", "They agreed to share their details with Globex")
	b.follow(b.postForm(sessionPath(p, 0)+"/registrants", url.Values{"name": {"Ada Lovelace"},
		"email": {"ada@example.com"}, "consent": {"yes"}, "marketing": {"yes"}, fmt.Sprintf("sponsor_%d", acme): {"yes"}}))
	regs, _, err := env.store.Registrants(t.Context(), models.RegistrantQuery{SessionID: mustSession(t, p, 0)})
	if err != nil || len(regs) != 1 {
		t.Fatalf("registrants = %v, %v", regs, err)
	}
	consents, err := env.store.Consents(t.Context(), regs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range consents {
		if c.Channel != models.ChannelAdmin || !c.Given {
			t.Errorf("consent %+v; want given through the admin", c)
		}
		got = append(got, string(c.Purpose)+" "+c.SponsorName)
	}
	if want := []string{"registration ", "marketing ", "sponsor Acme"}; !slices.Equal(got, want) {
		t.Fatalf("consents = %q; want %q", got, want)
	}
}
