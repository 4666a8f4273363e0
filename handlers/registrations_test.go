package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"podium/models"
)

func TestShowIndex_ListsUpcomingPublishedPanels(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "upcoming", models.Session{Capacity: 10})
	env.addPanel(t, "past", models.Session{StartsAt: testNow.Add(-48 * time.Hour)})
	r := env.browser(t).get("/")
	assertStatus(t, r, http.StatusOK)
	assertContains(t, r.body, `href="/panels/upcoming"`, "10 places left", "9:00 AM – 10:00 AM GMT")
	if strings.Contains(r.body, "/panels/past") {
		t.Fatal("index lists a panel whose only session is over")
	}
}

func TestShowPanel_RendersLandingPageWithForm(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "ai-jobs", models.Session{StartsAt: time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC), Capacity: 50})
	r := env.browser(t).get("/panels/ai-jobs?utm_source=newsletter")
	assertStatus(t, r, http.StatusOK)
	assertContains(t, r.body,
		`<h1>Panel ai-jobs</h1>`, "Free virtual panel discussion", "Friday 27 November 2026", "3:00 PM – 4:00 PM GMT",
		"First point", "Second point", "Grace Hopper", "Rear Admiral, US Navy", "50 places left",
		`<form method="post" action="/panels/ai-jobs/register"`, `name="_csrf"`, `name="name"`, `name="email"`,
		`name="organisation"`, `name="job_title"`, `name="consent"`, `name="session" value="`,
		`name="utm_source" value="newsletter"`, `<html lang="en">`, `href="#main"`)
	if strings.Contains(r.body, "meet.example.com") {
		t.Fatal("the public page shows the join link, which is for registrants only")
	}
	if cc := r.header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Fatalf("Cache-Control = %q; a page with a CSRF token must not be shared-cached", cc)
	}
}

func TestShowPanel_UnknownOrDraftPanelIsNotFound(t *testing.T) {
	env := newTestEnv(t)
	draft := &models.Panel{Title: "Draft", Status: models.PanelDraft, Sessions: []models.Session{{
		StartsAt: testNow.Add(time.Hour), DurationMinutes: 30, TimeZone: "UTC", Venue: "Hall"}}}
	if err := env.store.CreatePanel(t.Context(), draft); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/panels/nope", "/panels/draft", "/panels/../etc/passwd", "/panels/%00", "/nowhere"} {
		r := env.browser(t).get(path)
		if r.status != http.StatusNotFound || !strings.Contains(r.body, "Page not found") {
			t.Errorf("GET %s = %d; want the 404 page", path, r.status)
		}
	}
}

func TestShowPanel_SeveralOpenSessionsOfferAChoice(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "twice", models.Session{}, models.Session{StartsAt: testNow.Add(8 * 24 * time.Hour)})
	b := env.browser(t)
	r := b.get("/panels/twice")
	assertContains(t, r.body, `type="radio" name="session"`, "Choose a session")
	// Submitting without choosing is a validation error, not a guess.
	resp := b.signUp("twice", person("ada@example.com"))
	assertStatus(t, resp, http.StatusUnprocessableEntity)
	assertContains(t, resp.body, "Choose a session.")
	fields := person("ada@example.com")
	fields["session"] = fmt.Sprint(mustSession(t, p, 1))
	resp = b.signUp("twice", fields)
	assertStatus(t, resp, http.StatusSeeOther)
	if n := env.countRegistrations(t, mustSession(t, p, 1))[models.RegistrationConfirmed]; n != 1 {
		t.Fatalf("confirmed in second session = %d; want 1", n)
	}
}

func TestCreateRegistration_HappyPathRedirectsToManagePage(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "happy", models.Session{Capacity: 10})
	b := env.browser(t)
	r := b.signUp("happy", person(" Ada@Example.com "))
	assertStatus(t, r, http.StatusSeeOther)
	token := manageToken(t, r)

	page := b.get("/registrations/" + token)
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, "You're registered", "Ada Lovelace", "Ada@Example.com", "Analytical Engines",
		"Your personal join link", "/j/", "Cancel my registration", `action="/registrations/`+token+`/cancel"`)
	if strings.Contains(page.body, "https://meet.example.com/happy") {
		t.Fatal("the manage page shows the session's shared join URL; want the personal link only")
	}
	if page.header.Get("Referrer-Policy") != "no-referrer" || page.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("manage page headers = %v; want no-referrer and no-store", page.header)
	}
	counts := env.countRegistrations(t, mustSession(t, p, 0))
	if counts[models.RegistrationConfirmed] != 1 || len(counts) != 1 {
		t.Fatalf("counts = %v; want one confirmed", counts)
	}
}

func TestCreateRegistration_InvalidFieldsKeepWhatWasTyped(t *testing.T) {
	cases := []struct {
		name    string
		fields  map[string]string
		message string
	}{
		{"empty name", map[string]string{"name": ""}, "Enter your name."},
		{"long name", map[string]string{"name": strings.Repeat("n", 201)}, "Keep your name under 200 characters."},
		{"name with newline", map[string]string{"name": "Eve\r\nBcc: x@example.com"}, "Your name contains characters we cannot accept."},
		{"empty email", map[string]string{"email": ""}, "Enter your email address."},
		{"bad email", map[string]string{"email": "not-an-email"}, "Enter a valid email address"},
		{"long organisation", map[string]string{"organisation": strings.Repeat("o", 201)}, "Keep this under 200 characters."},
		{"job title with control char", map[string]string{"job_title": "Boss\x07"}, "This contains characters we cannot accept."},
		{"no consent", map[string]string{"consent": ""}, "Tick the box to agree"},
		{"unknown session", map[string]string{"session": "999999"}, "Choose one of the sessions listed."},
		{"non-numeric session", map[string]string{"session": "1 OR 1=1"}, "Choose a session."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			p := env.addPanel(t, "check", models.Session{Capacity: 10})
			fields := person("typed@example.com")
			fields["organisation"] = `<script>alert("x")</script>`
			for k, v := range tc.fields {
				fields[k] = v
			}
			r := env.browser(t).signUp("check", fields)
			assertStatus(t, r, http.StatusUnprocessableEntity)
			assertContains(t, r.body, tc.message, `role="alert"`, `href="#field-`)
			if !strings.Contains(tc.name, "session") {
				assertContains(t, r.body, `aria-invalid="true"`)
			}
			if tc.fields["email"] == "" && tc.name != "empty email" {
				assertContains(t, r.body, `value="typed@example.com"`)
			}
			if strings.Contains(r.body, `<script>alert`) {
				t.Fatal("typed HTML came back unescaped")
			}
			if n := len(env.countRegistrations(t, mustSession(t, p, 0))); n != 0 {
				t.Fatalf("a rejected form stored %d registrations", n)
			}
		})
	}
}

func TestCreateRegistration_MissingOrWrongCSRFTokenRefused(t *testing.T) {
	cases := []struct {
		name string
		edit func(b *browser, form url.Values)
	}{
		{"no token", func(_ *browser, form url.Values) { form.Del("_csrf") }},
		{"wrong token", func(_ *browser, form url.Values) { form.Set("_csrf", "forged-token") }},
		{"no cookie", func(b *browser, _ url.Values) { delete(b.cookies, "podium_csrf") }},
		{"cookie and field both forged", func(b *browser, form url.Values) {
			b.cookies["podium_csrf"] = "forged"
			form.Set("_csrf", "forged")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			p := env.addPanel(t, "csrf", models.Session{Capacity: 10})
			b := env.browser(t)
			form := formFields(t, b.get("/panels/csrf").body)
			for k, v := range person("ada@example.com") {
				form.Set(k, v)
			}
			tc.edit(b, form)
			r := b.post("/panels/csrf/register", form)
			assertStatus(t, r, http.StatusForbidden)
			assertContains(t, r.body, "This form has expired")
			if n := len(env.countRegistrations(t, mustSession(t, p, 0))); n != 0 {
				t.Fatalf("a refused form stored %d registrations", n)
			}
		})
	}
}

func TestCreateRegistration_HoneypotRefused(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "honey", models.Session{Capacity: 10})
	fields := person("bot@example.com")
	fields["website"] = "http://spam.example.com"
	r := env.browser(t).signUp("honey", fields)
	assertStatus(t, r, http.StatusBadRequest)
	if n := len(env.countRegistrations(t, mustSession(t, p, 0))); n != 0 {
		t.Fatalf("honeypot submission stored %d registrations", n)
	}
}

func TestCreateRegistration_DuplicateLooksLikeAFirstRegistration(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "dup", models.Session{Capacity: 10})
	first := env.browser(t).signUp("dup", person("ada@example.com"))
	second := env.browser(t).signUp("dup", person("ADA@example.com"))
	for _, r := range []response{first, second} {
		assertStatus(t, r, http.StatusSeeOther)
		manageToken(t, r)
	}
	if first.body != second.body || len(first.header) != len(second.header) {
		t.Fatalf("duplicate answer differs:\n%v %q\n%v %q", first.header, first.body, second.header, second.body)
	}
	counts := env.countRegistrations(t, mustSession(t, p, 0))
	if counts[models.RegistrationConfirmed] != 1 || len(counts) != 1 {
		t.Fatalf("counts = %v; want one confirmed", counts)
	}
}

func TestCreateRegistration_FullAndClosedSessionsRefused(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "full", models.Session{Capacity: 1})
	env.addPanel(t, "closing", models.Session{Capacity: 5, StartsAt: testNow.Add(time.Hour)})
	// Both visitors open the page while a seat is still free.
	late, lateForm := openForm(t, env, "full", "b@example.com")
	assertStatus(t, env.browser(t).signUp("full", person("a@example.com")), http.StatusSeeOther)
	r := late.post("/panels/full/register", lateForm)
	assertStatus(t, r, http.StatusConflict)
	assertContains(t, r.body, "Fully booked")
	assertContains(t, env.browser(t).get("/panels/full").body, "Registration is closed", "Fully booked")

	b, form := openForm(t, env, "closing", "c@example.com")
	env.clock.Set(testNow.Add(2 * time.Hour))
	r = b.post("/panels/closing/register", form)
	assertStatus(t, r, http.StatusConflict)
	assertContains(t, r.body, "Registration closed")
}

// openForm opens a panel page in a new browser and fills in its form.
func openForm(t *testing.T, env *testEnv, slug, email string) (*browser, url.Values) {
	t.Helper()
	b := env.browser(t)
	form := formFields(t, b.get("/panels/"+slug).body)
	for k, v := range person(email) {
		form.Set(k, v)
	}
	return b, form
}

func (e *testEnv) mustPanel(t *testing.T, slug string) *models.Panel {
	t.Helper()
	p, err := e.store.PublishedPanel(t.Context(), slug)
	if err != nil {
		t.Fatalf("panel %s: %v", slug, err)
	}
	return p
}

func TestCreateRegistration_ConcurrentSignUpsNeverOverbook(t *testing.T) {
	for _, waitlist := range []bool{true, false} {
		t.Run(fmt.Sprintf("waitlist=%v", waitlist), func(t *testing.T) {
			env := newTestEnv(t)
			p := env.addPanel(t, "race", models.Session{Capacity: 20, Waitlist: waitlist})
			const n = 200
			browsers := make([]*browser, n)
			forms := make([]url.Values, n)
			for i := range n {
				browsers[i], forms[i] = openForm(t, env, "race", fmt.Sprintf("racer%d@example.com", i))
			}
			statuses := make(chan int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := browsers[i].post("/panels/race/register", forms[i])
					if strings.Contains(r.body, "locked") {
						t.Errorf("answer mentions a locked database: %s", r.body)
					}
					statuses <- r.status
				}()
			}
			wg.Wait()
			close(statuses)
			byStatus := map[int]int{}
			for s := range statuses {
				byStatus[s]++
			}
			counts := env.countRegistrations(t, mustSession(t, p, 0))
			if counts[models.RegistrationConfirmed] != 20 {
				t.Fatalf("confirmed = %d; want exactly 20 (answers %v)", counts[models.RegistrationConfirmed], byStatus)
			}
			want := map[int]int{http.StatusSeeOther: n, http.StatusConflict: 0}
			if !waitlist {
				want = map[int]int{http.StatusSeeOther: 20, http.StatusConflict: n - 20}
			}
			for status, count := range want {
				if byStatus[status] != count {
					t.Fatalf("answers = %v; want %v", byStatus, want)
				}
			}
			if waitlist && counts[models.RegistrationWaitlisted] != n-20 {
				t.Fatalf("waitlisted = %d; want %d (none lost)", counts[models.RegistrationWaitlisted], n-20)
			}
		})
	}
}

func TestCancelRegistration_FreesSeatForWaitlist(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "cancel", models.Session{Capacity: 1, Waitlist: true})
	alice := env.browser(t)
	token := manageToken(t, alice.signUp("cancel", person("alice@example.com")))
	bob := env.browser(t)
	bobToken := manageToken(t, bob.signUp("cancel", person("bob@example.com")))
	assertContains(t, bob.get("/registrations/"+bobToken).body, "on the waitlist")

	page := alice.get("/registrations/" + token)
	r := alice.post("/registrations/"+token+"/cancel", formFields(t, page.body))
	assertStatus(t, r, http.StatusSeeOther)
	assertContains(t, alice.get(r.header.Get("Location")).body, "Your registration is cancelled",
		"Your registration has been cancelled.")
	assertContains(t, bob.get("/registrations/"+bobToken).body, "You're registered", "Your personal join link")
	counts := env.countRegistrations(t, mustSession(t, p, 0))
	if counts[models.RegistrationConfirmed] != 1 || counts[models.RegistrationCancelled] != 1 {
		t.Fatalf("counts = %v; want bob confirmed, alice cancelled", counts)
	}
}

func TestCancelRegistration_RequiresCSRFToken(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "keep", models.Session{Capacity: 5})
	b := env.browser(t)
	token := manageToken(t, b.signUp("keep", person("ada@example.com")))
	r := b.post("/registrations/"+token+"/cancel", url.Values{})
	assertStatus(t, r, http.StatusForbidden)
	if n := env.countRegistrations(t, mustSession(t, p, 0))[models.RegistrationConfirmed]; n != 1 {
		t.Fatalf("confirmed = %d; a forged cancel must change nothing", n)
	}
}

func TestShowRegistration_UnknownTokenNotFound(t *testing.T) {
	env := newTestEnv(t)
	r := env.browser(t).get("/registrations/" + strings.Repeat("x", 43))
	assertStatus(t, r, http.StatusNotFound)
}

func TestCreateRegistration_RateLimitedPerClient(t *testing.T) {
	env := newTestEnv(t, func(c *Config) { c.RegisterLimit = 2 })
	env.addPanel(t, "limited", models.Session{Capacity: 10})
	b := env.browser(t)
	for i := range 2 {
		assertStatus(t, b.signUp("limited", person(fmt.Sprintf("p%d@example.com", i))), http.StatusSeeOther)
	}
	r := b.signUp("limited", person("p3@example.com"))
	assertStatus(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

func TestCreateRegistration_ForgedForwardedForDoesNotResetLimit(t *testing.T) {
	// app.Test connects from 0.0.0.0. Untrusted, its X-Forwarded-For is ignored.
	env := newTestEnv(t, func(c *Config) { c.RegisterLimit = 1 })
	env.addPanel(t, "xff", models.Session{Capacity: 10})
	b := env.browser(t)
	b.header.Set("X-Forwarded-For", "203.0.113.1")
	assertStatus(t, b.signUp("xff", person("a@example.com")), http.StatusSeeOther)
	b.header.Set("X-Forwarded-For", "203.0.113.2")
	assertStatus(t, b.signUp("xff", person("b@example.com")), http.StatusTooManyRequests)

	// Behind a trusted proxy, each real client has its own limit.
	trusted, err := ParseTrustedProxies("0.0.0.0")
	if err != nil {
		t.Fatal(err)
	}
	env = newTestEnv(t, func(c *Config) { c.RegisterLimit = 1; c.TrustedProxies = trusted })
	env.addPanel(t, "xff", models.Session{Capacity: 10})
	b = env.browser(t)
	b.header.Set("X-Forwarded-For", "203.0.113.1")
	assertStatus(t, b.signUp("xff", person("a@example.com")), http.StatusSeeOther)
	b.header.Set("X-Forwarded-For", "203.0.113.2")
	assertStatus(t, b.signUp("xff", person("b@example.com")), http.StatusSeeOther)
	b.header.Set("X-Forwarded-For", "198.51.100.7, 203.0.113.2")
	assertStatus(t, b.signUp("xff", person("c@example.com")), http.StatusTooManyRequests)
}

func TestCreateRegistration_OversizedBodyRefused(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "big", models.Session{Capacity: 10})
	_, form := openForm(t, env, "big", "big@example.com")
	form.Set("name", strings.Repeat("x", bodyLimit+1))
	// app.Test reports an oversized body as its own error, so this goes
	// through a real listener to see what a client sees.
	resp, err := http.PostForm(serveOnLoopback(t, env.app)+"/panels/big/register", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d; want 413", resp.StatusCode)
	}
	if n := len(env.countRegistrations(t, mustSession(t, p, 0))); n != 0 {
		t.Fatalf("an oversized form stored %d registrations", n)
	}
}

func TestHealthz_AnswersWhenDatabaseAnswers(t *testing.T) {
	env := newTestEnv(t)
	assertStatus(t, env.browser(t).get("/healthz"), http.StatusOK)
	_ = env.store.Close()
	assertStatus(t, env.browser(t).get("/healthz"), http.StatusServiceUnavailable)
}

func TestSecurityHeaders_OnPagesAndErrors(t *testing.T) {
	env := newTestEnv(t)
	for _, path := range []string{"/", "/nowhere"} {
		r := env.browser(t).get(path)
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
			if r.header.Get(h) == "" {
				t.Errorf("GET %s lacks %s", path, h)
			}
		}
		if r.header.Get("Server") != "" {
			t.Errorf("GET %s has a Server banner %q", path, r.header.Get("Server"))
		}
	}
}
