package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"podium/models"
)

const ownerPassword = "correct horse battery staple"

func (e *testEnv) addOwner(t *testing.T, email string) *models.Account {
	t.Helper()
	acc, err := e.store.CreateAccount(context.Background(), models.NewAccount{
		Email: email, Name: "Olive Owner", Password: ownerPassword, Role: models.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// signIn signs the browser in through the real form.
func (b *browser) signIn(email, password string) response {
	b.t.Helper()
	form := formFields(b.t, b.get("/admin/login").body)
	form.Set("email", email)
	form.Set("password", password)
	return b.post("/admin/login", form)
}

func TestLogin_SignsInWithAFreshSession(t *testing.T) {
	env := newTestEnv(t)
	env.addOwner(t, "owner@example.com")
	b := env.browser(t)
	b.cookies["podium_admin"] = strings.Repeat("p", 43) // a planted session id
	r := b.signIn("Owner@Example.com", ownerPassword)
	assertStatus(t, r, http.StatusSeeOther)
	if r.header.Get("Location") != "/admin" {
		t.Fatalf("Location = %q; want /admin", r.header.Get("Location"))
	}
	cookie := b.cookies["podium_admin"]
	if len(cookie) != 43 || cookie == strings.Repeat("p", 43) {
		t.Fatalf("session cookie = %q; want a fresh session", cookie)
	}
	setCookie := r.header.Values("Set-Cookie")
	if !slicesContain(setCookie, "HttpOnly") || !slicesContain(setCookie, "SameSite=Lax") {
		t.Fatalf("Set-Cookie = %v; want HttpOnly and SameSite=Lax", setCookie)
	}
	out := b.post("/admin/logout", formFields(t, b.get("/admin/login").body))
	assertStatus(t, out, http.StatusSeeOther)
	if _, err := env.store.AccountBySession(context.Background(), cookie); err == nil {
		t.Fatal("the session still works after sign-out")
	}
}

func slicesContain(values []string, part string) bool {
	for _, v := range values {
		if strings.Contains(v, part) {
			return true
		}
	}
	return false
}

func TestLogin_SameAnswerForEveryFailure(t *testing.T) {
	env := newTestEnv(t)
	env.addOwner(t, "owner@example.com")
	var bodies []string
	for _, creds := range [][2]string{{"owner@example.com", "wrong password"}, {"nobody@example.com", ownerPassword}, {"", ""}} {
		r := env.browser(t).signIn(creds[0], creds[1])
		assertStatus(t, r, http.StatusUnauthorized)
		assertContains(t, r.body, "The email or password is incorrect")
		bodies = append(bodies, regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(r.body, ""))
	}
	if bodies[0] != bodies[1] {
		t.Fatal("a wrong password and an unknown account answer differently")
	}
}

func TestLogin_LockedAfterRepeatedFailures(t *testing.T) {
	env := newTestEnv(t)
	env.addOwner(t, "owner@example.com")
	for range 5 {
		env.browser(t).signIn("owner@example.com", "wrong password")
	}
	assertStatus(t, env.browser(t).signIn("owner@example.com", ownerPassword), http.StatusUnauthorized)
}

func TestLogin_RateLimitedPerAddress(t *testing.T) {
	env := newTestEnv(t)
	b := env.browser(t)
	for range loginLimit {
		assertStatus(t, b.signIn("x@example.com", "nope"), http.StatusUnauthorized)
	}
	assertStatus(t, b.signIn("x@example.com", "nope"), http.StatusTooManyRequests)
}

func TestLogin_RefusesMissingCSRFToken(t *testing.T) {
	env := newTestEnv(t)
	env.addOwner(t, "owner@example.com")
	b := env.browser(t)
	b.get("/admin/login")
	r := b.post("/admin/login", url.Values{"email": {"owner@example.com"}, "password": {ownerPassword}})
	assertStatus(t, r, http.StatusForbidden)
	if _, ok := b.cookies["podium_admin"]; ok {
		t.Fatal("signed in without a CSRF token")
	}
}

func TestLogin_NextStaysInsideTheAdmin(t *testing.T) {
	for next, want := range map[string]string{
		"/admin/panels": "/admin/panels", "https://evil.example": "/admin", "//evil.example": "/admin",
		"/admin/login": "/admin", "/\\evil.example": "/admin",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q; want %q", next, got, want)
		}
	}
}

// Every admin and API route refuses anonymous requests. It walks the
// router's own list, so a route added later cannot be forgotten.
func TestEveryAdminAndAPIRoute_RefusesAnonymousRequests(t *testing.T) {
	env := newTestEnv(t)
	public := map[string]bool{"/admin/login": true, "/api/v1/openapi.json": true}
	checked := 0
	for _, route := range env.app.GetRoutes(true) {
		admin := strings.HasPrefix(route.Path, "/admin")
		if (!admin && !strings.HasPrefix(route.Path, "/api/")) || public[route.Path] || route.Method == http.MethodHead {
			continue
		}
		path := regexp.MustCompile(`:[a-z_]+`).ReplaceAllString(route.Path, "1")
		req := httptest.NewRequest(route.Method, path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		r := env.browser(t).do(req)
		checked++
		switch {
		case admin && route.Method == http.MethodGet:
			if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/admin/login") {
				t.Errorf("anonymous GET %s = %d %q; want a redirect to sign in", route.Path, r.status, r.header.Get("Location"))
			}
		case admin:
			// Refused by CSRF (403) or by the session check (401).
			if r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
				t.Errorf("anonymous %s %s = %d; want 401 or 403", route.Method, route.Path, r.status)
			}
		default:
			var p Problem
			if r.status != http.StatusUnauthorized || json.Unmarshal([]byte(r.body), &p) != nil || p.Status != 401 ||
				!strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("anonymous %s %s = %d %q; want a 401 problem+json", route.Method, route.Path, r.status, r.body)
			}
		}
	}
	if checked == 0 {
		t.Fatal("found no admin or API route to check")
	}
}

func TestAPI_RefusesBadTokens(t *testing.T) {
	env := newTestEnv(t)
	acc := env.addOwner(t, "owner@example.com")
	secret, tok, err := env.store.CreateAPIToken(context.Background(), acc.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.store.RevokeAPIToken(context.Background(), tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, header := range []string{"", "Bearer", "Bearer nope", "Basic " + secret, "Bearer " + secret} {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/panels", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		r := env.browser(t).do(req)
		if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q = %d; want 401 with WWW-Authenticate", header, r.status)
		}
	}
}
