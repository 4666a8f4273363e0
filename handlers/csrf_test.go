package handlers

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"podium/models"
)

func TestCSRF_AFormOpenedBeforeARestartCanBeSentAfterIt(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "restart", models.Session{Capacity: 5})
	b, form := openForm(t, env, "restart", "before@example.com")

	// A new process on the same database: a new store and a new app.
	store, err := models.Open(context.Background(), env.path, models.WithClock(env.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b.app, err = New(Config{Store: store, BaseURL: "http://localhost:3000"})
	if err != nil {
		t.Fatal(err)
	}
	assertStatus(t, b.post("/panels/restart/register", form), http.StatusSeeOther)
}

func TestCSRF_TokensLastTheirLifetimeFromFirstIssue(t *testing.T) {
	env := newTestEnv(t)
	session := mustSession(t, env.addPanel(t, "lifetime", models.Session{Capacity: 5}), 0)

	// A page viewed again within the lifetime keeps the visitor's token.
	b, form := openForm(t, env, "lifetime", "kept@example.com")
	env.clock.Set(testNow.Add(csrfLifetime - time.Hour))
	if again := csrfFrom(t, b, "/panels/lifetime"); again != form.Get("_csrf") {
		t.Fatalf("a second page view changed the token from %q to %q", form.Get("_csrf"), again)
	}
	assertStatus(t, b.post("/panels/lifetime/register", form), http.StatusSeeOther)

	// Past it, the form is refused kindly and nothing is stored; the next
	// page view issues a new token that works.
	b, form = openForm(t, env, "lifetime", "late@example.com")
	env.clock.Set(testNow.Add(2*csrfLifetime + time.Minute))
	r := b.post("/panels/lifetime/register", form)
	assertStatus(t, r, http.StatusForbidden)
	assertContains(t, r.body, "This form has expired", "reload the page")
	if n := env.countRegistrations(t, session)[models.RegistrationConfirmed]; n != 1 {
		t.Fatalf("%d confirmed after the expired form; want 1", n)
	}
	fresh := formFields(t, b.get("/panels/lifetime").body)
	if fresh.Get("_csrf") == form.Get("_csrf") {
		t.Fatal("the expired token was handed out again")
	}
	form.Set("_csrf", fresh.Get("_csrf"))
	assertStatus(t, b.post("/panels/lifetime/register", form), http.StatusSeeOther)
}

func TestCSRF_RefusesTokensPodiumDidNotSign(t *testing.T) {
	env := newTestEnv(t)
	session := mustSession(t, env.addPanel(t, "signed", models.Session{Capacity: 5}), 0)
	// Another Podium's token is well formed and correctly signed, but under
	// another site's secret; the others are damaged copies of a real one.
	other := newTestEnv(t)
	other.addPanel(t, "signed", models.Session{Capacity: 5})
	foreign := csrfFrom(t, other.browser(t), "/panels/signed")
	real := csrfFrom(t, env.browser(t), "/panels/signed")
	flipped := []byte(real)
	flipped[len(flipped)-1] ^= 1
	tokens := map[string]string{
		"another site's": foreign,
		"a changed MAC":  string(flipped),
		"cut short":      real[:len(real)-4],
		"made longer":    real + "AAAA",
		"not base64":     strings.Repeat("!", len(real)),
		"a Fiber UUID":   "d6a0c6a4-0c8e-4d1b-9c61-000000000000",
		"a changed time": "x" + real[1:],
	}
	for name, token := range tokens {
		t.Run(name, func(t *testing.T) {
			// The attacker sets both the cookie and the field (double submit
			// alone would accept them: they match).
			b := env.browser(t)
			form := formFields(t, b.get("/panels/signed").body)
			for k, v := range person("forged@example.com") {
				form.Set(k, v)
			}
			b.cookies["podium_csrf"] = token
			form.Set("_csrf", token)
			r := b.post("/panels/signed/register", form)
			assertStatus(t, r, http.StatusForbidden)
			assertContains(t, r.body, "This form has expired")
		})
	}
	if n := len(env.countRegistrations(t, session)); n != 0 {
		t.Fatalf("forged tokens stored registrations: %v", env.countRegistrations(t, session))
	}
}
