package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"podium/mailer/smtptest"
)

// freeLoopbackAddr returns a loopback address with a port free right now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPodium runs the real program on a free port with a fresh database and
// returns its base URL once /readyz answers.
func startPodium(t *testing.T, env map[string]string) string {
	t.Helper()
	addr := freeLoopbackAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := []string{"podium", "serve", "--addr", addr, "--db", filepath.Join(t.TempDir(), "podium.db")}
	getenv := func(k string) string { return env[k] }
	go func() { done <- run(ctx, args, getenv, strings.NewReader(""), io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after shutdown", err)
			}
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Error("podium did not shut down")
		}
	})
	base := "http://" + addr
	waitUntil(t, 10*time.Second, "podium to become ready", func() bool {
		select {
		case err := <-done:
			t.Fatalf("podium exited early: %v", err)
		default:
		}
		return isReady(base)
	})
	return base
}

// isReady reports whether the Podium at base answers /readyz with 200.
func isReady(base string) bool {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitUntil polls done until it reports true, failing the test after within.
func waitUntil(t *testing.T, within time.Duration, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
var sessionField = regexp.MustCompile(`name="session" value="(\d+)"`)

func TestRun_ServesDemoAndRegistersLikeABrowser(t *testing.T) {
	base := startPodium(t, nil)
	client, loc := registerDemo(t, base, "ada@example.com")
	manage := getBody(t, client, base+loc)
	if !strings.Contains(manage, "You're registered") || !strings.Contains(manage, "Ada Lovelace") {
		t.Fatalf("manage page:\n%s", manage)
	}
}

// registerDemo signs up for the demo panel as a browser would and returns
// the browser and the manage page's path.
func registerDemo(t *testing.T, base, email string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	home := getBody(t, client, base+"/")
	if !strings.Contains(home, `href="/panels/keeping-the-lights-on"`) {
		t.Fatalf("home page does not list the demo panel:\n%s", home)
	}
	form := loadForm(t, client, base)
	form.values.Set("name", "Ada Lovelace")
	status, loc, err := form.post(client, email)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/registrations/") {
		t.Fatalf("register = %d %q; want 303 to the manage page", status, loc)
	}
	return client, loc
}

func TestRun_DeliversTheInviteOverSMTPWithinSeconds(t *testing.T) {
	srv := smtptest.NewServer(t)
	metrics := freeLoopbackAddr(t)
	base := startPodium(t, map[string]string{
		"PODIUM_SMTP_URL": srv.URL(), "PODIUM_MAIL_FROM": "Podium Events <events@podium.example>",
		"PODIUM_METRICS_ADDR": metrics,
	})
	registerDemo(t, base, "grace@example.com")
	deadline := time.Now().Add(10 * time.Second)
	for len(srv.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "grace@example.com" {
		t.Fatalf("received %d messages; want the confirmation to grace@example.com", len(msgs))
	}
	// The parts themselves are checked in package mailer; here, that the
	// configured server and sender were used for a real invite.
	for _, want := range []string{"method=REQUEST", `filename="invite.ics"`, `From: "Podium Events" <events@podium.example>`} {
		if !strings.Contains(string(msgs[0].Data), want) {
			t.Fatalf("message lacks %q:\n%s", want, msgs[0].Data)
		}
	}
	// The metrics, on their own port, saw the sign-up and the delivery. The
	// worker counts a delivery once it has recorded it, which can be a moment
	// after the SMTP server has the message, so the scrape is retried.
	var scraped string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		scraped = getBody(t, http.DefaultClient, "http://"+metrics+"/metrics")
		if strings.Contains(scraped, `podium_mail_deliveries_total{outcome="sent"}`) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{`podium_registrations_total{result="confirmed"} 1`, `podium_mail_deliveries_total{outcome="sent"} 1`} {
		if !strings.Contains(scraped, want) {
			t.Fatalf("metrics lack %q:\n%s", want, scraped)
		}
	}
	if resp, err := http.Get(base + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /metrics on the public port = %v, %v; want 404", resp, err)
	}
}

func TestRun_DemoCanBeTurnedOff(t *testing.T) {
	base := startPodium(t, map[string]string{"PODIUM_DEMO": "false"})
	if home := getBody(t, http.DefaultClient, base+"/"); strings.Contains(home, "/panels/") {
		t.Fatal("PODIUM_DEMO=false still seeded the demo panel")
	}
}

func TestRun_RefusesBadConfiguration(t *testing.T) {
	cases := map[string]struct {
		args []string
		env  map[string]string
	}{
		"unknown command":  {[]string{"podium", "launch"}, nil},
		"unknown flag":     {[]string{"podium", "--nope"}, nil},
		"bad base URL":     {[]string{"podium"}, map[string]string{"PODIUM_BASE_URL": "localhost"}},
		"bad proxies":      {[]string{"podium"}, map[string]string{"PODIUM_TRUSTED_PROXIES": "10.0.0.0/33"}},
		"negative limit":   {[]string{"podium"}, map[string]string{"PODIUM_REGISTER_LIMIT": "-1"}},
		"bad demo setting": {[]string{"podium"}, map[string]string{"PODIUM_DEMO": "maybe"}},
		"retry not a time": {[]string{"podium"}, map[string]string{"PODIUM_MAIL_RETRY_AFTER": "soon"}},
		"retry too eager":  {[]string{"podium"}, map[string]string{"PODIUM_MAIL_RETRY_AFTER": "100ms"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), tc.args, func(k string) string { return tc.env[k] }, strings.NewReader(""), io.Discard)
			if err == nil {
				t.Fatal("run accepted a bad configuration")
			}
		})
	}
}

func TestParseConfig_FlagsOverrideEnvironment(t *testing.T) {
	env := map[string]string{"PODIUM_ADDR": ":4000", "PODIUM_DB": "env.db", "PODIUM_REGISTER_LIMIT": "0"}
	cfg, err := parseConfig([]string{"--db", "flag.db"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":4000" || cfg.DB != "flag.db" || cfg.RegisterLimit != 0 || !cfg.Demo ||
		cfg.BaseURL != "http://localhost:3000" {
		t.Fatalf("config = %+v", cfg)
	}
	if cfg, _ = parseConfig(nil, func(string) string { return "" }, io.Discard); cfg.RegisterLimit != defaultRegisterLimit {
		t.Fatalf("default register limit = %d", cfg.RegisterLimit)
	}
}

func getBody(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	return string(body)
}

// DKIM is configured with all three settings or none; a partial or broken
// configuration stops the start with a message that names the setting.
func TestParseConfig_DKIMAllOrNothing(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	notAKey := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notAKey, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		env     map[string]string
		wantErr string
		signs   bool
	}{
		"none":         {env: map[string]string{}},
		"all three":    {env: map[string]string{"PODIUM_DKIM_DOMAIN": "example.org", "PODIUM_DKIM_SELECTOR": "podium", "PODIUM_DKIM_KEY_FILE": keyFile}, signs: true},
		"no key file":  {env: map[string]string{"PODIUM_DKIM_DOMAIN": "example.org", "PODIUM_DKIM_SELECTOR": "podium"}, wantErr: "together"},
		"missing file": {env: map[string]string{"PODIUM_DKIM_DOMAIN": "example.org", "PODIUM_DKIM_SELECTOR": "podium", "PODIUM_DKIM_KEY_FILE": keyFile + ".gone"}, wantErr: "PODIUM_DKIM_KEY_FILE"},
		"not a key":    {env: map[string]string{"PODIUM_DKIM_DOMAIN": "example.org", "PODIUM_DKIM_SELECTOR": "podium", "PODIUM_DKIM_KEY_FILE": notAKey}, wantErr: "PODIUM_DKIM"},
	} {
		cfg, err := parseConfig(nil, func(k string) string { return c.env[k] }, io.Discard)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: %v; want an error naming %s", name, err, c.wantErr)
		case c.wantErr == "" && (err != nil || (cfg.DKIM != nil) != c.signs):
			t.Errorf("%s: DKIM %v, %v; want signing %v", name, cfg.DKIM, err, c.signs)
		}
	}
}
