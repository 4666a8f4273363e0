package handlers

import (
	"bufio"
	"context"
	"podium/models/pgtest"

	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// testEnv is a real app on a real SQLite file.
type testEnv struct {
	app   *fiber.App
	store *models.Store
	clock *testClock
	path  string // the database: a SQLite file or a PostgreSQL URL
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

func newTestEnv(t *testing.T, edit ...func(*Config)) *testEnv {
	t.Helper()
	clock := &testClock{now: testNow}
	path := pgtest.DSN(t)
	store, err := models.Open(context.Background(), path, models.WithClock(clock.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	cfg := Config{Store: store, BaseURL: "http://localhost:3000", MailFrom: "podium@localhost", MailName: "Podium",
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	for _, e := range edit {
		e(&cfg)
	}
	app, err := New(cfg)
	if err != nil {
		t.Fatalf("new app: %v", err)
	}
	return &testEnv{app: app, store: store, clock: clock, path: path}
}

// addPanel stores a published panel with the given sessions (defaults filled in).
func (e *testEnv) addPanel(t *testing.T, slug string, sessions ...models.Session) *models.Panel {
	t.Helper()
	for i := range sessions {
		s := &sessions[i]
		if s.StartsAt.IsZero() {
			s.StartsAt = testNow.Add(7 * 24 * time.Hour)
		}
		if s.DurationMinutes == 0 {
			s.DurationMinutes = 60
		}
		if s.TimeZone == "" {
			s.TimeZone = "Europe/London"
		}
		if s.JoinURL == "" && s.Venue == "" {
			s.JoinURL = "https://meet.example.com/" + slug
		}
	}
	p := &models.Panel{
		Slug: slug, Title: "Panel " + slug, Format: "Free virtual panel discussion", Status: models.PanelPublished,
		Summary:        "A summary of " + slug,
		LearningPoints: []models.LearningPoint{{Text: "First point"}, {Text: "Second point"}},
		Speakers:       []models.Speaker{{Name: "Grace Hopper", Role: "Rear Admiral", Organisation: "US Navy"}},
		Sessions:       sessions,
	}
	if err := e.store.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return p
}

// browser sends requests through app.Test, keeping cookies like a browser
// but never following redirects.
type browser struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]string
	header  http.Header
}

func (e *testEnv) browser(t *testing.T) *browser {
	return &browser{t: t, app: e.app, cookies: map[string]string{}, header: http.Header{}}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	resp, err := b.app.Test(req, -1)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	return b.do(httptest.NewRequest(http.MethodGet, path, nil))
}

func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields returns the hidden fields of the first form on a page, as a
// browser would send them.
func formFields(t *testing.T, page string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	if v.Get("_csrf") == "" {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return v
}

// signUp opens the panel page and submits its form with the given fields.
func (b *browser) signUp(slug string, fields map[string]string) response {
	b.t.Helper()
	page := b.get("/panels/" + slug)
	if page.status != http.StatusOK {
		b.t.Fatalf("GET panel = %d", page.status)
	}
	form := formFields(b.t, page.body)
	for k, v := range fields {
		form.Set(k, v)
	}
	return b.post("/panels/"+slug+"/register", form)
}

func person(email string) map[string]string {
	return map[string]string{"name": "Ada Lovelace", "email": email, "organisation": "Analytical Engines", "consent": "yes"}
}

func assertStatus(t *testing.T, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status = %d; want %d; body:\n%s", r.status, want, r.body)
	}
}

func assertContains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("body lacks %q:\n%s", w, body)
		}
	}
}

// countRegistrations counts registrations by status through the public model.
func (e *testEnv) countRegistrations(t *testing.T, sessionID int64) map[models.RegistrationStatus]int {
	t.Helper()
	counts, err := e.store.RegistrationCounts(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

func manageToken(t *testing.T, r response) string {
	t.Helper()
	loc := r.header.Get("Location")
	token, ok := strings.CutPrefix(loc, "/registrations/")
	if !ok || len(token) != 43 {
		t.Fatalf("Location = %q; want /registrations/{token}", loc)
	}
	return token
}

func mustSession(t *testing.T, p *models.Panel, i int) int64 {
	t.Helper()
	if i >= len(p.Sessions) {
		t.Fatalf("panel has %d sessions", len(p.Sessions))
	}
	return p.Sessions[i].ID
}

// serveOnLoopback serves app on a free 127.0.0.1 port until the test ends.
func serveOnLoopback(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return "http://" + ln.Addr().String()
}

// readResponse reads one HTTP response from a raw connection.
func readResponse(t *testing.T, conn net.Conn) response {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
}
