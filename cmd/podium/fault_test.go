package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"podium/mailer/smtptest"
	"podium/models"
)

// These tests start the real podium binary as a subprocess and hurt it:
// kill -9 in the middle of a burst and of a fan-out, SIGTERM under load.
// fault_mail_test.go does the same to its mail server.

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// podiumBinary builds cmd/podium once for all fault tests.
func podiumBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "podium-fault-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "podium")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// process is one running podium.
type process struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{} // closed once the process has been waited for
}

func startProcess(t *testing.T, db string, env ...string) *process {
	t.Helper()
	addr := freeLoopbackAddr(t)
	cmd := exec.Command(podiumBinary(t), "serve", "--addr", addr, "--db", db)
	cmd.Env = append(os.Environ(), append([]string{"PODIUM_REGISTER_LIMIT=0", "PODIUM_BASE_URL=http://" + addr}, env...)...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, base: "http://" + addr, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("podium output:\n%s", logs.String())
		}
	})
	waitUntil(t, 20*time.Second, "podium to become ready", func() bool { return isReady(p.base) })
	return p
}

// kill ends the process the hard way, as a crash or the OOM killer would.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

var csrfCookie = regexp.MustCompile(`podium_csrf=([^;]+)`)

// demoForm is the demo panel's sign-up form as a browser holds it after loading the page.
type demoForm struct {
	action, cookie string
	values         url.Values
}

func loadForm(t *testing.T, client *http.Client, base string) demoForm {
	t.Helper()
	resp, err := client.Get(base + "/panels/keeping-the-lights-on")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token, session := csrfField.FindSubmatch(body), sessionField.FindSubmatch(body)
	cookie := csrfCookie.FindStringSubmatch(resp.Header.Get("Set-Cookie"))
	if token == nil || session == nil || cookie == nil {
		t.Fatalf("no form on the demo page")
	}
	return demoForm{
		action: base + "/panels/keeping-the-lights-on/register", cookie: "podium_csrf=" + cookie[1],
		values: url.Values{"_csrf": {string(token[1])}, "session": {string(session[1])}, "consent": {"yes"}, "name": {"Burst"}},
	}
}

// post submits the form for one address and returns the status and Location.
func (f demoForm) post(client *http.Client, email string) (int, string, error) {
	v := url.Values{}
	for k, vs := range f.values {
		v[k] = vs
	}
	v.Set("email", email)
	req, _ := http.NewRequest(http.MethodPost, f.action, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", f.cookie)
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location"), nil
}

func noRedirects() *http.Client {
	return &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestFault_KillDuringRegistrationBurst(t *testing.T) {
	path := filepath.Join(t.TempDir(), "podium.db")
	p := startProcess(t, path)
	client := noRedirects()
	const n = 300
	forms := make([]demoForm, n)
	for i := range forms {
		forms[i] = loadForm(t, client, p.base)
	}
	var mu sync.Mutex
	var accepted []string
	var wg sync.WaitGroup
	for i, f := range forms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("burst-%d@example.com", i)
			if status, _, err := f.post(client, email); err == nil && status == http.StatusSeeOther {
				mu.Lock()
				accepted = append(accepted, email)
				mu.Unlock()
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		mu.Lock()
		k := len(accepted)
		mu.Unlock()
		if k >= n/4 {
			break
		}
	}
	p.kill(t)
	wg.Wait()
	restarted := startProcess(t, path)
	restarted.kill(t)

	store, err := models.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	confirmed := count(t, db, "SELECT COUNT(*) FROM registrations WHERE status = 'confirmed'")
	seats := count(t, db, "SELECT seats_taken FROM sessions")
	if seats != confirmed || confirmed > 100 {
		t.Fatalf("seats_taken %d, confirmed rows %d (capacity 100)", seats, confirmed)
	}
	if orphans := count(t, db, `SELECT COUNT(*) FROM registrations r WHERE NOT EXISTS
		(SELECT 1 FROM outbox_messages o WHERE o.registration_id = r.id)`); orphans != 0 {
		t.Fatalf("%d registrations have no email in the outbox", orphans)
	}
	for _, email := range accepted {
		if count(t, db, "SELECT COUNT(*) FROM registrations WHERE email = ?", email) != 1 {
			t.Fatalf("%s was answered 303 but is not stored", email)
		}
	}
	t.Logf("%d of %d sign-ups answered before the kill; %d confirmed after restart", len(accepted), n, confirmed)
}

// seedFanout prepares a database before Podium starts: a published panel
// with one session and n confirmed registrants, and an API token.
func seedFanout(t *testing.T, path string, n int) (sessionID int64, token string) {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	p := &models.Panel{Title: "Fan-out", Status: models.PanelPublished, Sessions: []models.Session{{
		StartsAt: time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute), DurationMinutes: 60,
		TimeZone: "Europe/London", JoinURL: "https://meet.example.com/fanout"}}}
	if err := store.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	acc, err := store.CreateAccount(ctx, models.NewAccount{Email: "o@example.com", Password: "a long enough password", Role: models.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	if token, _, err = store.CreateAPIToken(ctx, acc.ID, "fault test"); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	tx, _ := db.Begin()
	now := time.Now().UTC()
	for i := range n {
		email := fmt.Sprintf("fan-%d@example.com", i)
		if _, err := tx.Exec(`INSERT INTO registrations (session_id, name, email, email_key, consent_at, status, created_at, updated_at)
			VALUES (?, 'Fan', ?, ?, ?, 'confirmed', ?, ?)`, p.Sessions[0].ID, email, email, now, now, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return p.Sessions[0].ID, token
}

// delivered parses what the SMTP server received: per recipient, the
// Message-IDs and calendar UIDs of the messages.
func delivered(t *testing.T, srv *smtptest.Server) map[string][][2]string {
	t.Helper()
	out := map[string][][2]string{}
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		out[m.To[0]] = append(out[m.To[0]], [2]string{msg.Header.Get("Message-Id"), calendarUID(t, msg)})
	}
	return out
}

var uidLine = regexp.MustCompile(`(?m)^UID:(\S+)`)

func calendarUID(t *testing.T, msg *mail.Message) string {
	t.Helper()
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	var walk func(r io.Reader, boundary string) string
	walk = func(r io.Reader, boundary string) string {
		mr := multipart.NewReader(r, boundary)
		for {
			part, err := mr.NextPart() // decodes quoted-printable; base64 below
			if err != nil {
				return ""
			}
			mt, ps, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
			if strings.HasPrefix(mt, "multipart/") {
				if uid := walk(part, ps["boundary"]); uid != "" {
					return uid
				}
				continue
			}
			if mt == "text/calendar" {
				raw, _ := io.ReadAll(part)
				// The base64 decoder skips the line breaks itself.
				dec, err := base64.StdEncoding.DecodeString(string(raw))
				if err != nil {
					t.Fatal(err)
				}
				if m := uidLine.FindSubmatch(dec); m != nil {
					return string(m[1])
				}
			}
		}
	}
	return walk(msg.Body, params["boundary"])
}

func TestFault_KillDuringFanOutLosesNoMessage(t *testing.T) {
	const n, kills = 1500, 3
	srv := smtptest.NewServer(t)
	path := filepath.Join(t.TempDir(), "podium.db")
	sessionID, token := seedFanout(t, path, n)
	env := []string{"PODIUM_DEMO=false", "PODIUM_SMTP_URL=" + srv.URL(), "PODIUM_MAIL_FROM=Podium <events@podium.example>"}
	p := startProcess(t, path, env...)
	body := fmt.Sprintf(`{"starts_at": %q}`, time.Now().Add(96*time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/api/v1/sessions/%d", p.base, sessionID), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Fanout struct{ Total int } }
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || answer.Fanout.Total != n {
		t.Fatalf("reschedule = %d with fan-out total %d; want 200 and %d", resp.StatusCode, answer.Fanout.Total, n)
	}
	// The first kill lands while the fan-out is still being queued, the
	// others while messages are going out.
	for k := range kills {
		target := k * n / kills
		for deadline := time.Now().Add(30 * time.Second); len(srv.Messages()) < target && time.Now().Before(deadline); {
			time.Sleep(2 * time.Millisecond)
		}
		p.kill(t)
		p = startProcess(t, path, env...)
	}
	for deadline := time.Now().Add(90 * time.Second); len(delivered(t, srv)) < n && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	got := delivered(t, srv)
	duplicates := 0
	for i := range n {
		msgs := got[fmt.Sprintf("fan-%d@example.com", i)]
		if len(msgs) == 0 {
			t.Fatalf("fan-%d@example.com never received the update (%d of %d recipients reached)", i, len(got), n)
		}
		for _, m := range msgs[1:] {
			if m != msgs[0] {
				t.Fatalf("a duplicate differs from the first copy: %v vs %v", m, msgs[0])
			}
		}
		if len(msgs)-1 > kills {
			t.Fatalf("fan-%d@example.com got %d copies after %d kills", i, len(msgs), kills)
		}
		duplicates += len(msgs) - 1
	}
	// A kill can only repeat what was in flight: four workers' batches of 25.
	if duplicates > kills*4*25 {
		t.Fatalf("%d duplicates after %d kills; want at most the batches in flight", duplicates, kills)
	}
	t.Logf("%d recipients reached after %d kills, %d duplicates (same Message-ID and UID)", len(got), kills, duplicates)
}

func TestFault_SIGTERMUnderLoadFinishesAcceptedRequests(t *testing.T) {
	p := startProcess(t, filepath.Join(t.TempDir(), "podium.db"))
	// A fresh connection per request, so every request is either accepted
	// (and must then be answered in full) or refused at connect.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var answered, refused, broken int64
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get(p.base + "/panels/keeping-the-lights-on")
				mu.Lock()
				switch {
				case err != nil && strings.Contains(err.Error(), "connection refused"):
					refused++
				case err != nil && strings.Contains(err.Error(), "connection reset"):
					// A connection still in the kernel's accept queue when the
					// listener closes is reset: the server never accepted it.
					refused++
				case err != nil:
					t.Logf("broken: %v", err)
					broken++
				default:
					body, readErr := io.ReadAll(resp.Body)
					resp.Body.Close()
					if readErr != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("</html>")) {
						broken++
					} else {
						answered++
					}
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(shutdownTimeout + 5*time.Second):
		t.Fatal("podium did not exit within the shutdown timeout")
	}
	close(stop)
	wg.Wait()
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; want 0", code)
	}
	if answered == 0 || broken != 0 {
		t.Fatalf("answered %d, refused %d, broken %d; want every accepted request answered in full", answered, refused, broken)
	}
	t.Logf("answered %d in full, %d refused after the signal, none broken", answered, refused)
}

// A connection that never sent a byte (a browser's preconnect) does not hold
// up a graceful shutdown, as it did until the read timeout (15 s, the same as
// the shutdown timeout), while a request already being sent is answered.
func TestFault_SIGTERMDoesNotWaitForSilentConnections(t *testing.T) {
	p := startProcess(t, filepath.Join(t.TempDir(), "podium.db"))
	host := strings.TrimPrefix(p.base, "http://")
	silent, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// Half a request: the server has read it and is waiting for the rest.
	started, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer started.Close()
	if _, err := io.WriteString(started, "GET /healthz HTTP/1.1\r\nHost: podium\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the server accept both
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := io.WriteString(started, "\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(started), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the request under way when the signal came: %v, %v; want it answered", resp, err)
	}
	resp.Body.Close()
	select {
	case <-p.exited:
	case <-time.After(shutdownTimeout / 2):
		t.Fatalf("podium still running %v after SIGTERM: it waited for the silent connection", time.Since(start))
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM; want 0", code)
	}
	t.Logf("exited %v after SIGTERM", time.Since(start).Round(time.Millisecond))
}
