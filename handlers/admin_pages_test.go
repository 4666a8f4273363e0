package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"podium/models"
	"podium/views"
)

// addAccount stores an account with the test password.
func (e *testEnv) addAccount(t *testing.T, email string, role models.Role) *models.Account {
	t.Helper()
	acc, err := e.store.CreateAccount(context.Background(), models.NewAccount{
		Email: email, Name: "Test " + string(role), Password: ownerPassword, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// adminBrowser is a browser signed in with a new account of the role.
func (e *testEnv) adminBrowser(t *testing.T, role models.Role) *browser {
	t.Helper()
	email := string(role) + "@example.com"
	e.addAccount(t, email, role)
	b := e.browser(t)
	assertStatus(t, b.signIn(email, ownerPassword), http.StatusSeeOther)
	return b
}

// csrf is the browser's CSRF token, as the admin's sign-out form carries it.
func (b *browser) csrf() string {
	b.t.Helper()
	page := b.get("/admin")
	assertStatus(b.t, page, http.StatusOK)
	return formFields(b.t, page.body).Get("_csrf")
}

// postForm sends a form with the browser's CSRF token added.
func (b *browser) postForm(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf())
	return b.post(path, form)
}

// follow reads the page a 303 points to.
func (b *browser) follow(r response) response {
	b.t.Helper()
	assertStatus(b.t, r, http.StatusSeeOther)
	return b.get(r.header.Get("Location"))
}

// register signs someone up through the model, as the public form would.
func (e *testEnv) register(t *testing.T, p *models.Panel, sessionID int64, email string) *models.RegisterResult {
	t.Helper()
	res, err := e.store.Register(context.Background(), p.ID, models.RegistrationInput{
		SessionID: sessionID, Name: "Reg " + email, Email: email, Consent: true})
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return res
}

// withMail configures the platform mailbox, which rendering invites needs.
func withMail(c *Config) { c.MailFrom, c.MailName = "events@podium.example", "Podium" }

func panelPath(p *models.Panel) string { return views.AdminPanelURL(p.ID) }

func sessionPath(p *models.Panel, i int) string {
	return views.AdminSessionURL(p.ID, p.Sessions[i].ID)
}

func TestAdminPages_RenderForASignedInOrganizer(t *testing.T) {
	env := newTestEnv(t, withMail)
	p := env.addPanel(t, "render", models.Session{Capacity: 10})
	reg := env.register(t, p, mustSession(t, p, 0), "ada@example.com")
	b := env.adminBrowser(t, models.RoleOrganizer)
	pages := map[string]string{
		"/admin":                       "Dashboard",
		"/admin/panels":                "Panels",
		"/admin/panels/new":            "Create a panel",
		panelPath(p):                   p.Title,
		panelPath(p) + "/edit":         "Edit " + p.Title,
		panelPath(p) + "/preview":      p.Title,
		panelPath(p) + "/questions":    "Questions for",
		panelPath(p) + "/registrants":  reg.Registration.Name,
		panelPath(p) + "/sessions/new": "Add a session",
		sessionPath(p, 0):              reg.Registration.Email,
		sessionPath(p, 0) + "/edit":    "Edit session",
		"/admin/outbox":                "Emails",
		"/admin/outbox/1":              "Plain text",
	}
	for path, want := range pages {
		r := b.get(path)
		if r.status != http.StatusOK {
			t.Errorf("GET %s = %d; want 200:\n%s", path, r.status, r.body)
			continue
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q; want no-store", path, r.header.Get("Cache-Control"))
		}
		if !strings.Contains(r.body, want) || strings.Count(r.body, "<h1") != 1 {
			t.Errorf("GET %s: want one h1 and %q", path, want)
		}
		if path != panelPath(p)+"/preview" && !strings.Contains(r.body, `action="/admin/logout"`) {
			t.Errorf("GET %s: no sign-out button", path)
		}
	}
}

func TestAdminPages_OwnerOnlyPagesRefuseOrganizers(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOrganizer)
	for _, path := range []string{"/admin/accounts", "/admin/tokens"} {
		assertStatus(t, b.get(path), http.StatusForbidden)
	}
	for _, path := range []string{"/admin/accounts", "/admin/accounts/1/delete", "/admin/tokens", "/admin/tokens/1/revoke"} {
		assertStatus(t, b.postForm(path, url.Values{"email": {"x@example.com"}, "name": {"x"}}), http.StatusForbidden)
	}
	if body := b.get("/admin").body; strings.Contains(body, `href="/admin/accounts"`) {
		t.Error("organizers are offered the accounts page")
	}
}

func TestAdminPost_RefusesMissingCSRFToken(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOwner)
	r := b.post("/admin/panels", url.Values{"title": {"No token"}})
	assertStatus(t, r, http.StatusForbidden)
	panels, err := env.store.AdminPanels(context.Background())
	if err != nil || len(panels) != 0 {
		t.Fatalf("a panel was created without a CSRF token: %v %v", panels, err)
	}
	assertStatus(t, b.post("/admin/panels", url.Values{"title": {"Wrong token"}, "_csrf": {"forged"}}), http.StatusForbidden)
}

func TestAdminFlash_ComesFromACookieNotTheURL(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "flash", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	page := b.follow(b.postForm(panelPath(p)+"/archive", nil))
	assertContains(t, page.body, "Archived: the panel is hidden")
	if again := b.get(panelPath(p)); strings.Contains(again.body, "Archived: the panel is hidden") {
		t.Fatal("the flash message is shown twice")
	}
	if r := b.get(panelPath(p) + "?flash=Call+us"); strings.Contains(r.body, "Call us") {
		t.Fatal("the query string puts words on the page")
	}
}

func TestAdminAction_ReturnStaysInsideTheAdmin(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "ret", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	for ret, want := range map[string]string{
		"/admin/panels": "/admin/panels", "https://evil.example/": panelPath(p), "//evil.example": panelPath(p),
	} {
		r := b.postForm(panelPath(p)+"/publish", url.Values{"return": {ret}})
		if loc := r.header.Get("Location"); loc != want {
			t.Errorf("return %q: Location = %q; want %q", ret, loc, want)
		}
	}
}

func TestAdminPaths_UnknownIDsAreNotFound(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "ids", models.Session{Capacity: 10})
	other := env.addPanel(t, "other", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	for _, path := range []string{
		"/admin/panels/999", "/admin/panels/abc", "/admin/panels/-1/edit",
		panelPath(p) + "/sessions/" + strconv.FormatInt(other.Sessions[0].ID, 10), "/admin/outbox/999",
	} {
		assertStatus(t, b.get(path), http.StatusNotFound)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
