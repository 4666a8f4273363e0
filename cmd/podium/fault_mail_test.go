package main

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"podium/mailer"
	"podium/mailer/smtptest"
)

// These tests run the real podium binary against a real SMTP server on
// loopback that misbehaves: down, refusing with 4xx or 5xx, or silent. The
// retry delay is the operator's PODIUM_MAIL_RETRY_AFTER at its minimum, 1s.

func TestFault_MailServerDownThenUpDeliversEachMessageOnce(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t)
	srv.Stop() // nothing listens on its port until Start
	path := filepath.Join(t.TempDir(), "podium.db")
	p := startProcess(t, path, mailEnv(srv)...)
	emails := recipients("down", 30)
	signUpAll(t, p.base, emails)

	db := openDB(t, path)
	// A third attempt means two have failed, a retry period apart.
	waitUntil(t, 30*time.Second, "every message to have failed twice while the server is down", func() bool {
		rows := outboxByRecipient(t, db)
		for _, email := range emails {
			if r, ok := rows[email]; !ok || r.attempts < 3 || r.lastError == "" {
				return false
			}
		}
		return true
	})
	down := outboxByRecipient(t, db)
	for email, r := range down {
		if r.status == "sent" || r.status == "failed" || !strings.Contains(r.lastError, "connection refused") {
			t.Fatalf("%s while the server is down: %+v; want waiting for a retry after a refused connection", email, r)
		}
	}
	t.Logf("while down: %s", down[emails[0]])

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitAllSent(t, db, len(emails))
	checkDeliveredOnce(t, srv, emails)
}

func TestFault_MailServerTemporaryRefusalsAreRetriedUntilAccepted(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t)
	// The first three messages are refused at RCPT, the next three after
	// their whole body was sent: neither is accepted.
	srv.FailNext(3, 451, smtptest.AtRcpt)
	srv.FailNext(3, 451, smtptest.AtData)
	path := filepath.Join(t.TempDir(), "podium.db")
	p := startProcess(t, path, mailEnv(srv)...)
	emails := recipients("busy", 20)
	signUpAll(t, p.base, emails)

	db := openDB(t, path)
	waitAllSent(t, db, len(emails))
	refused := srv.Refused()
	if len(refused) != 6 || refused[2].At != smtptest.AtRcpt || refused[3].At != smtptest.AtData {
		t.Fatalf("the server refused %+v; want the 6 scripted, 3 at RCPT then 3 at DATA", refused)
	}
	times := refusalsByRecipient(refused)
	rows := outboxByRecipient(t, db)
	for _, email := range emails {
		if rows[email].attempts != times[email]+1 {
			t.Errorf("%s: %d attempts in the outbox, refused %d times by the server; want one more attempt than refusals",
				email, rows[email].attempts, times[email])
		}
	}
	checkDeliveredOnce(t, srv, emails)
	t.Logf("%d recipients refused with 451 and retried: %v", len(times), times)
}

func TestFault_MailServerPermanentRefusalFailsOnceWithoutRetries(t *testing.T) {
	t.Parallel()
	const (
		refusedAtRcpt = "bounce-rcpt@example.com"
		refusedAtData = "bounce-data@example.com"
		// busy is refused with 451 on every attempt: its retries show how
		// much time has passed in retry periods.
		busy = "busy@example.com"
	)
	srv := smtptest.NewServer(t)
	srv.FailRecipient(refusedAtRcpt, 550, smtptest.AtRcpt)
	srv.FailRecipient(refusedAtData, 554, smtptest.AtData)
	srv.FailRecipient(busy, 451, smtptest.AtRcpt)
	accepted := recipients("ok", 7)
	emails := []string{accepted[0], refusedAtRcpt, accepted[1], refusedAtData, accepted[2], busy}
	emails = append(emails, accepted[3:]...)

	// Queue every message while podium has no mail server, then restart it
	// with one: the first worker to look claims all ten in one batch, sent
	// over one connection.
	path := filepath.Join(t.TempDir(), "podium.db")
	p := startProcess(t, path, "PODIUM_SMTP_URL=")
	signUpAll(t, p.base, emails)
	p.kill(t)
	startProcess(t, path, mailEnv(srv)...)

	// By busy's third refusal, two retry periods have passed since the batch:
	// a 5xx treated as temporary would have been tried again by then.
	waitUntil(t, 60*time.Second, busy+" to be refused three times", func() bool {
		return refusalsByRecipient(srv.Refused())[busy] >= 3
	})
	times := refusalsByRecipient(srv.Refused())
	db := openDB(t, path)
	rows := outboxByRecipient(t, db)
	for email, code := range map[string]string{refusedAtRcpt: "550", refusedAtData: "554"} {
		r := rows[email]
		if times[email] != 1 || r.status != "failed" || r.attempts != 1 || !strings.Contains(r.lastError, code) {
			t.Errorf("%s: refused %d times, outbox %+v; want one attempt, failed with %s", email, times[email], r, code)
		}
	}
	if r := rows[busy]; r.status == "sent" || r.status == "failed" || r.attempts < 3 {
		t.Errorf("%s: outbox %+v; want waiting for another retry", busy, r)
	}
	for _, email := range accepted {
		if r := rows[email]; r.status != "sent" || r.attempts != 1 {
			t.Errorf("%s: outbox %+v; want sent at the first attempt", email, r)
		}
	}
	checkDeliveredOnce(t, srv, accepted)
	if got := delivered(t, srv); len(got) != len(accepted) {
		t.Errorf("the server accepted messages for %d recipients; want only the %d not refused", len(got), len(accepted))
	}
	t.Logf("last_error of %s: %q; of %s: %q", refusedAtRcpt, rows[refusedAtRcpt].lastError, refusedAtData, rows[refusedAtData].lastError)
}

func TestFault_MailServerSilentTimesOutWithoutHoldingUpTheSite(t *testing.T) {
	t.Parallel()
	srv := smtptest.NewServer(t)
	srv.SetSilent(true)
	path := filepath.Join(t.TempDir(), "podium.db")
	p := startProcess(t, path, mailEnv(srv)...)
	client := noRedirects()
	emails := recipients("quiet", 20)
	signUpAll(t, p.base, emails[:5])
	waitUntil(t, 30*time.Second, "the worker to connect to the silent server", func() bool {
		held, _ := srv.Silenced()
		return held > 0
	})

	// With the worker waiting on the silent server, the site still answers.
	var slowest time.Duration
	for _, email := range emails[5:] {
		slowest = max(slowest, signUp(t, client, p.base, email))
		for _, page := range []string{"/panels/keeping-the-lights-on", "/healthz"} {
			start := time.Now()
			resp, err := client.Get(p.base + page)
			if err != nil {
				t.Fatalf("GET %s while the mail server is silent: %v", page, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s while the mail server is silent = %d", page, resp.StatusCode)
			}
			slowest = max(slowest, time.Since(start))
		}
	}
	held, _ := srv.Silenced()
	t.Logf("%d sign-ups and %d page loads while %d connections hung; slowest answer %s",
		len(emails)-5, 2*(len(emails)-5), held, slowest)
	db := openDB(t, path)
	if sent := count(t, db, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'sent'"); sent != 0 || len(srv.Messages()) != 0 {
		t.Fatalf("%d messages sent to a silent server", sent)
	}

	// The hung connections are left to podium's own timeout, then the
	// messages go out: the worker was held up, not wedged.
	srv.SetSilent(false)
	var timedOut string // an error left by a timed-out attempt, if the polling sees one
	waitUntil(t, mailer.DefaultCommandTimeout+30*time.Second, "every message to be sent after the silence", func() bool {
		for _, r := range outboxByRecipient(t, db) {
			if timedOut == "" && r.lastError != "" {
				timedOut = r.lastError
			}
		}
		return count(t, db, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'sent'") == len(emails)
	})
	waitUntil(t, 10*time.Second, "podium to have closed every silent connection", func() bool {
		var abandoned int
		held, abandoned = srv.Silenced()
		return abandoned == held
	})
	if retried := count(t, db, "SELECT COUNT(*) FROM outbox_messages WHERE attempts > 1"); retried == 0 {
		t.Fatal("no message needed a second attempt; want those sent to the silent server retried")
	}
	checkDeliveredOnce(t, srv, emails)
	t.Logf("%d silent connections given up by podium; error recorded: %q", held, timedOut)
}

// mailEnv points podium at srv with the shortest retry delay.
func mailEnv(srv *smtptest.Server) []string {
	return []string{"PODIUM_SMTP_URL=" + srv.URL(), "PODIUM_MAIL_FROM=Podium <events@podium.example>", "PODIUM_MAIL_RETRY_AFTER=1s"}
}

// recipients makes n addresses: prefix-0@example.com, prefix-1@example.com, ...
func recipients(prefix string, n int) []string {
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("%s-%d@example.com", prefix, i)
	}
	return emails
}

// signUp registers email for the demo panel as a browser would and reports
// how long loading and posting the form took.
func signUp(t *testing.T, client *http.Client, base, email string) time.Duration {
	t.Helper()
	start := time.Now()
	if status, _, err := loadForm(t, client, base).post(client, email); err != nil || status != http.StatusSeeOther {
		t.Fatalf("sign-up for %s = %d, %v; want 303", email, status, err)
	}
	return time.Since(start)
}

func signUpAll(t *testing.T, base string, emails []string) {
	t.Helper()
	client := noRedirects()
	for _, email := range emails {
		signUp(t, client, base, email)
	}
}

// outboxRow is where one registrant's message stands.
type outboxRow struct {
	status    string
	attempts  int
	lastError string
}

func (r outboxRow) String() string {
	return fmt.Sprintf("%s after %d attempts, last error %q", r.status, r.attempts, r.lastError)
}

// outboxByRecipient reads the outbox by registrant; each must have one message.
func outboxByRecipient(t *testing.T, db *sql.DB) map[string]outboxRow {
	t.Helper()
	rows, err := db.Query(`SELECT r.email, o.status, o.attempts, o.last_error
		FROM outbox_messages o JOIN registrations r ON r.id = o.registration_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]outboxRow{}
	for rows.Next() {
		var email string
		var r outboxRow
		if err := rows.Scan(&email, &r.status, &r.attempts, &r.lastError); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[email]; dup {
			t.Fatalf("%s has more than one message in the outbox", email)
		}
		out[email] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitAllSent waits until the outbox holds n messages, all sent.
func waitAllSent(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	waitUntil(t, 60*time.Second, fmt.Sprintf("all %d messages to be sent", n), func() bool {
		return count(t, db, "SELECT COUNT(*) FROM outbox_messages WHERE status = 'sent'") == n &&
			count(t, db, "SELECT COUNT(*) FROM outbox_messages") == n
	})
}

// checkDeliveredOnce checks that the server accepted exactly one message for
// each address in emails.
func checkDeliveredOnce(t *testing.T, srv *smtptest.Server, emails []string) {
	t.Helper()
	got := delivered(t, srv)
	for _, email := range emails {
		if n := len(got[email]); n != 1 {
			t.Errorf("%s received %d messages; want exactly one", email, n)
		}
	}
}

// refusalsByRecipient counts how often the server refused each recipient.
func refusalsByRecipient(refused []smtptest.Refusal) map[string]int {
	times := map[string]int{}
	for _, r := range refused {
		for _, to := range r.To {
			times[to]++
		}
	}
	return times
}
