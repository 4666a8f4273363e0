package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/security"
	"github.com/chromedp/chromedp"

	"podium/models"
)

// After the live session, in the browser: a panel whose session has ended
// with a recording signs people up for the replay, and one without a
// recording says it has taken place. A session cannot end while a test
// waits, so the database is seeded with one that ended before Podium starts
// (as fault_test.go seeds its fan-out) and the real binary serves it, with
// its base URL set so that the manage page's absolute replay link leads back
// to it.

// recordingServer is the video host: it serves the recording over https, as
// Podium takes only https recording links, and counts who came to watch.
type recordingServer struct {
	url   string // the recording's address
	views atomic.Int32
}

func startRecordingServer(t *testing.T) *recordingServer {
	t.Helper()
	rec := &recordingServer{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/replay" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			rec.views.Add(1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><title>Replay</title><main><h1>The recording</h1></main></html>`)
	}))
	// Chromium tries the certificate before it is told to accept it:
	// the failed handshake it leaves in the log is noise.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	rec.url = srv.URL + "/replay"
	return rec
}

// acceptTestCertificates lets the tab's browser open the recording server,
// whose certificate is httptest's own.
func (b *tab) acceptTestCertificates() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, security.SetIgnoreCertificateErrors,
		security.SetIgnoreCertificateErrorsParams{Ignore: true}); err != nil {
		b.t.Fatal(err)
	}
}

// seedEndedPanel stores, before Podium starts, a published panel whose one
// online session started three hours ago, lasted an hour, and filled its one
// seat; recordingURL may be empty. It returns the panel, with its session.
func seedEndedPanel(t *testing.T, path, slug, recordingURL string) *models.Panel {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := &models.Panel{
		Slug: slug, Title: "Winter resilience, " + slug, Status: models.PanelPublished,
		Format:   "Free virtual panel discussion",
		Summary:  "What the winter's outages taught the people who kept services running.",
		Speakers: []models.Speaker{{Name: "Grace Hopper", Role: "Rear admiral", Organisation: "US Navy"}},
		Sessions: []models.Session{{
			StartsAt: time.Now().Add(-3 * time.Hour).UTC().Truncate(time.Minute), DurationMinutes: 60,
			TimeZone: "Europe/London", JoinURL: "https://meet.example.com/" + slug,
			Capacity: 1, SeatsTaken: 1, RecordingURL: recordingURL,
		}},
	}
	if err := store.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	// The one seat's holder, registered before the session, as the seat
	// counter says.
	now := time.Now().UTC()
	if _, err := openDB(t, path).Exec(`INSERT INTO registrations (session_id, name, email, email_key, consent_at, status, created_at, updated_at)
		VALUES (?, 'Live Attendee', 'live@example.com', 'live@example.com', ?, 'confirmed', ?, ?)`,
		p.Sessions[0].ID, now, now, now); err != nil {
		t.Fatal(err)
	}
	return p
}

// startOnDemandPodium seeds an ended panel at slug and starts Podium on it.
func startOnDemandPodium(t *testing.T, slug, recordingURL string) (base, db string) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "podium.db")
	seedEndedPanel(t, db, slug, recordingURL)
	return startProcess(t, db, "PODIUM_DEMO=false").base, db
}

func TestBrowser_OnDemandPageSignsUpForTheReplay(t *testing.T) {
	axe := newAxe(t)
	rec := startRecordingServer(t)
	base, db := startOnDemandPodium(t, "after-the-storm", rec.url)
	const panelPath = "/panels/after-the-storm"
	b := newBrowser(t, base)
	b.acceptTestCertificates()

	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) {
			b := &tab{t: t, ctx: b.ctx, base: base}
			b.do(vp.emulate())
			b.open(panelPath, 200)
			checkOnDemandPanelPage(b)
			b.noHorizontalScroll("on-demand panel page")
			if !b.inViewport(`.panel-hero a[href="#register"]`) {
				t.Error("the Watch on demand button is not on the first screen")
			}
			b.screenshot("panel-on-demand-"+vp.name, false)
		})
	}

	b.open(panelPath, 200)
	axe.scan(b, "on-demand panel page")
	b.checkOutline("on-demand panel page", true)
	b.checkFocusVisible("on-demand panel page")

	b.open(panelPath, 200)
	manage := signUpForReplayWithKeyboard(b, "Ada Lovelace", "ada@example.com")
	watch := checkReplayManagePage(b)
	axe.scan(b, "replay manage page")
	b.checkOutline("replay manage page", true)
	b.checkFocusVisible("replay manage page")
	b.screenshot("manage-on-demand", true)

	store, err := models.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	manageToken := strings.TrimPrefix(manage, "/registrations/")
	reg, err := store.RegistrationByToken(context.Background(), manageToken)
	if err != nil {
		t.Fatal(err)
	}
	if !reg.OnDemand || reg.Status != models.RegistrationConfirmed || reg.WatchedAt != nil {
		t.Fatalf("after the sign-up: on_demand %v, status %s, watched_at %v; want a confirmed replay registration not yet watched",
			reg.OnDemand, reg.Status, reg.WatchedAt)
	}
	if got := reg.Session.SeatsTaken; got != 1 {
		t.Errorf("the replay sign-up changed seats_taken to %d; want the live session's 1", got)
	}
	if n := count(t, openDB(t, db), `SELECT COUNT(*) FROM outbox_messages WHERE registration_id = ? AND kind = 'on_demand'`, reg.ID); n != 1 {
		t.Errorf("%d replay emails queued for the registration; want 1", n)
	}

	// A link checker's HEAD is answered like a click but not recorded.
	checkWatchRedirect(t, watch, rec.url)

	// The manage page's button leads through the personal link to the
	// recording.
	b.tabTo(`.manage a.button[href="` + watch + `"]`)
	b.follow(200, "/replay", pressEnter)
	if got := eval[string](b, `location.href`); got != rec.url {
		t.Fatalf("Watch on demand led to %s; want the recording %s", got, rec.url)
	}
	if h1 := b.text("h1"); h1 != "The recording" {
		t.Fatalf("the recording's page says %q", h1)
	}
	if n := rec.views.Load(); n != 1 {
		t.Errorf("the recording server saw %d views; want 1", n)
	}

	reg, err = store.RegistrationByToken(context.Background(), manageToken)
	if err != nil {
		t.Fatal(err)
	}
	if !reg.OnDemand || reg.WatchedAt == nil || reg.Attendance != models.AttendanceOnDemand {
		t.Errorf("after watching: on_demand %v, watched_at %v, attendance %s; want on demand, watched",
			reg.OnDemand, reg.WatchedAt, reg.Attendance)
	}
	if got := reg.Session.SeatsTaken; got != 1 {
		t.Errorf("after watching seats_taken is %d; want 1", got)
	}
}

// checkOnDemandPanelPage checks what an ended session with a recording says
// on its panel page: "Watch on demand" on the hero's button, beside the
// session and on the form, and no calendar link for it.
func checkOnDemandPanelPage(b *tab) {
	b.t.Helper()
	for sel, want := range map[string]string{
		`.panel-hero a[href="#register"]`:  "Watch on demand",
		".sessions .session .availability": "Watch on demand",
		"#register-heading":                "Watch on demand",
		"#register button[type=submit]":    "Watch on demand",
	} {
		if got := b.text(sel); got != want {
			b.t.Errorf("%s says %q; want %q", sel, got, want)
		}
	}
	if intro := b.text("#register > p"); !strings.HasPrefix(intro, "The live session has taken place.") {
		b.t.Errorf("the form's introduction says %q", intro)
	}
	links := eval[[]string](b, `[...document.querySelectorAll(".sessions a")].map(a => a.textContent.trim())`)
	for _, l := range links {
		if strings.HasPrefix(l, "Add to calendar") {
			b.t.Errorf("the on-demand session offers %q", l)
		}
	}
}

// signUpForReplayWithKeyboard goes from the panel page the tab is on to the
// manage page with Tab, typing, Space and Enter, and returns its path.
func signUpForReplayWithKeyboard(b *tab, name, email string) string {
	b.t.Helper()
	fillFormWithKeyboard(b, name, email, "")
	return eval[string](b, `location.pathname`)
}

// checkReplayManagePage checks the manage page of a replay registration
// and returns its personal replay link: a Watch on demand button, and
// neither a join link nor calendar links.
func checkReplayManagePage(b *tab) (watch string) {
	b.t.Helper()
	if h1 := b.text("h1"); h1 != "You're registered for the replay" {
		b.t.Fatalf("manage page says %q", h1)
	}
	buttons := eval[[][]string](b, `[...document.querySelectorAll(".manage a.button")].map(a => [a.textContent.trim(), a.getAttribute("href")])`)
	if len(buttons) != 1 || buttons[0][0] != "Watch on demand" {
		b.t.Fatalf("manage page buttons %q; want one Watch on demand", buttons)
	}
	watch = buttons[0][1]
	if token, ok := strings.CutPrefix(watch, b.base+"/w/"); !ok || len(token) != 43 {
		b.t.Fatalf("Watch on demand links to %s; want %s/w/{token}", watch, b.base)
	}
	for _, sel := range []string{".calendar-links", `a[href$="/invite.ics"]`, `a[href*="/j/"]`} {
		if eval[bool](b, fmt.Sprintf(`!!document.querySelector(%q)`, sel)) {
			b.t.Errorf("the replay's manage page has %s", sel)
		}
	}
	return watch
}

// checkWatchRedirect checks that a HEAD of the personal replay link answers
// 303 to the recording.
func checkWatchRedirect(t *testing.T, watch, recording string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, watch, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirects().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != recording {
		t.Fatalf("HEAD %s = %d to %q; want 303 to %s", watch, resp.StatusCode, resp.Header.Get("Location"), recording)
	}
}

func TestBrowser_EndedPanelWithoutRecordingOffersNoOnDemandForm(t *testing.T) {
	axe := newAxe(t)
	base, _ := startOnDemandPodium(t, "long-ago", "")
	b := newBrowser(t, base)
	b.open("/panels/long-ago", 200)
	if side := b.text(".panel-side"); !strings.Contains(side, "This panel has taken place") {
		t.Errorf("the sessions column says %q; want that the panel has taken place", side)
	}
	if notice := b.text("#register .notice"); notice != "This panel has ended, so registration is closed." {
		t.Errorf("the form's place says %q", notice)
	}
	for _, sel := range []string{"#register form", `a[href="#register"]`, ".sessions"} {
		if eval[bool](b, fmt.Sprintf(`!!document.querySelector(%q)`, sel)) {
			t.Errorf("the ended panel's page has %s", sel)
		}
	}
	if strings.Contains(b.text("main"), "Watch on demand") {
		t.Error("the ended panel without a recording offers Watch on demand")
	}
	b.noHorizontalScroll("ended panel page")
	axe.scan(b, "ended panel page")
	b.screenshot("panel-ended", false)
}
