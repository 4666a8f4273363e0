package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"podium/models"
)

// A reminder's unsubscribe link shows a page with one button (so a scanner
// that follows links stops nothing); the one-click POST a mailbox provider
// sends (RFC 8058: no cookies, no CSRF token) stops the panel's reminders;
// a forged token is a 404 and stops nothing.
func TestUnsubscribe_PageThenOneClickPostStopsReminders(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "quiet", models.Session{Capacity: 5})
	r := env.browser(t).signUp("quiet", person("quiet@example.com"))
	assertStatus(t, r, http.StatusSeeOther)
	reg, err := env.store.RegistrationByToken(t.Context(), manageToken(t, r))
	if err != nil {
		t.Fatal(err)
	}
	token, err := env.store.UnsubscribeToken(reg.ID)
	if err != nil {
		t.Fatal(err)
	}
	path := "/unsubscribe/" + token
	page := env.browser(t).get(path)
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, "Stop reminders for "+p.Title, `action="`+path+`"`, "Stop the reminders")
	if page.header.Get("Cache-Control") != "no-store" || page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the page is cacheable or leaks its URL: %v", page.header)
	}
	if _, stopped, _ := env.store.RegistrationByUnsubscribeToken(t.Context(), token); stopped {
		t.Fatal("showing the page stopped the reminders")
	}

	post := func(path string) *http.Response {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := env.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	flipped := []byte(token)
	flipped[0] ^= 1
	if resp := post("/unsubscribe/" + string(flipped)); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a forged token: %d; want 404", resp.StatusCode)
	}
	for range 2 {
		if resp := post(path); resp.StatusCode != http.StatusOK {
			t.Fatalf("one-click POST: %d; want 200", resp.StatusCode)
		}
	}
	if _, stopped, err := env.store.RegistrationByUnsubscribeToken(t.Context(), token); err != nil || !stopped {
		t.Fatalf("after the one-click POST: stopped %v, %v", stopped, err)
	}
	done := env.browser(t).get(path)
	assertStatus(t, done, http.StatusOK)
	assertContains(t, done.body, "No more reminders for "+p.Title)
	if strings.Contains(done.body, "<form") {
		t.Fatal("the page still offers the button after the reminders stopped")
	}
}
