package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"podium/mailer/smtptest"
	"podium/models"
	"podium/models/pgtest"
)

// Helpers of instances_test.go: several real podium processes on one
// PostgreSQL database. The processes themselves are fault_test.go's.

// ownerEmail is the first owner every instance is told to create.
const ownerEmail = "owner@example.com"

// ownerEnv makes an instance create the first owner when no account exists.
var ownerEnv = []string{"PODIUM_ADMIN_EMAIL=" + ownerEmail, "PODIUM_ADMIN_PASSWORD=a long enough password"}

// sharedDatabase is a new, empty PostgreSQL database for the instances of
// one test (skipped without PostgreSQL, failed with CI=true), and a
// connection for the test's own look into it.
func sharedDatabase(t *testing.T) (url string, db *sql.DB) {
	t.Helper()
	url = pgtest.URL(t)
	db, err := sql.Open("pgx", url)
	if err == nil {
		err = db.Ping()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return url, db
}

// startTogether starts one podium per env on db at the same moment, as an
// orchestrator rolling out a deployment would, and returns them once each
// answers /readyz.
func startTogether(t *testing.T, db string, envs ...[]string) []*process {
	t.Helper()
	ps := make([]*process, len(envs))
	// startProcess fails the test from its goroutine: the goroutine ends,
	// and the test stops below.
	pgtest.AtOnce(len(envs), func(i int) { ps[i] = startProcess(t, db, envs[i]...) })
	if t.Failed() {
		t.FailNow()
	}
	return ps
}

// startPair starts two instances with the same settings at the same moment.
func startPair(t *testing.T, db string, env ...string) []*process {
	t.Helper()
	return startTogether(t, db, env, env)
}

// postTo is f sent to the instance at base, whichever served the form: a
// load balancer sends a browser's next request wherever it likes.
func (f demoForm) postTo(base string) demoForm {
	f.action = base + "/panels/keeping-the-lights-on/register"
	return f
}

// tally counts the answers each instance gave, by status.
type tally struct {
	mu     sync.Mutex
	counts map[string]int // "instance 0: 303" → n
	errs   []error
}

func (a *tally) add(instance, status int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.errs = append(a.errs, err)
		return
	}
	if a.counts == nil {
		a.counts = map[string]int{}
	}
	a.counts[fmt.Sprintf("instance %d: %d", instance, status)]++
}

// only fails t unless every request was answered with status, and each
// instance answered per of them.
func (a *tally) only(t *testing.T, status, per int) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.errs) > 0 {
		t.Fatalf("%d requests failed, the first: %v (answers: %v)", len(a.errs), a.errs[0], a.counts)
	}
	for i := range 2 {
		if a.counts[fmt.Sprintf("instance %d: %d", i, status)] != per || len(a.counts) != 2 {
			t.Fatalf("answers %v; want %d from each instance, all %d", a.counts, per, status)
		}
	}
}

// column reads a query's one int64 column.
func column(t *testing.T, db *sql.DB, query string, args ...any) []int64 {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// demoSessionID is the one session of the demo panel the instances seeded.
func demoSessionID(t *testing.T, db *sql.DB) int64 {
	t.Helper()
	ids := column(t, db, "SELECT id FROM sessions")
	if len(ids) != 1 {
		t.Fatalf("%d sessions; want the demo panel's one", len(ids))
	}
	return ids[0]
}

// addConfirmed gives the session n confirmed registrants, fan-0@example.com
// to fan-(n-1)@example.com, in one statement, with the seats to match (no
// capacity, so the counter's check holds).
func addConfirmed(t *testing.T, db *sql.DB, sessionID int64, n int) {
	t.Helper()
	if _, err := db.Exec(`INSERT INTO registrations (session_id, name, email, email_key, consent_at, status, created_at, updated_at)
		SELECT $1, 'Fan', 'fan-' || i || '@example.com', 'fan-' || i || '@example.com', now(), 'confirmed', now(), now()
		FROM generate_series(0, $2::int - 1) AS i`, sessionID, n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE sessions SET capacity = 0, seats_taken = $2 WHERE id = $1", sessionID, n); err != nil {
		t.Fatal(err)
	}
}

// ownerToken is an API token of the first owner, made through the models
// package as `podium token create` makes one.
func ownerToken(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	store, err := models.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	acc, err := store.AccountByEmail(ctx, ownerEmail)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.CreateAPIToken(ctx, acc.ID, "instances test")
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// rescheduleByAPI moves the session 96 hours ahead through the API at base and
// checks that a fan-out to want registrants started.
func rescheduleByAPI(t *testing.T, base, token string, sessionID int64, want int) {
	t.Helper()
	body := fmt.Sprintf(`{"starts_at": %q}`, time.Now().Add(96*time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest(http.MethodPatch, fmt.Sprintf("%s/api/v1/sessions/%d", base, sessionID), strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct{ Fanout struct{ Total int } }
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != http.StatusOK || answer.Fanout.Total != want {
		t.Fatalf("reschedule = %d with fan-out total %d; want 200 and %d", resp.StatusCode, answer.Fanout.Total, want)
	}
}

// expireLeases ends the leases of those of ids still being sent, as the
// clock would once the lease ran out, and returns the ids it ended.
func expireLeases(t *testing.T, db *sql.DB, ids []int64) []int64 {
	t.Helper()
	return column(t, db, `UPDATE outbox_messages SET lease_until = now() - interval '1 second'
		WHERE status = 'sending' AND id = ANY($1) RETURNING id`, ids)
}

// outboxID is the outbox row a delivered message came from, by its
// Message-ID (mailer.Worker's "<outbox-ID@host>").
func outboxID(t *testing.T, messageID string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(messageID, "<outbox-%d@", &id); err != nil {
		t.Fatalf("Message-ID %q does not name an outbox row: %v", messageID, err)
	}
	return id
}

// recipientsReached counts the distinct addresses the SMTP server received
// messages for, without parsing them (cheap enough to poll).
func recipientsReached(srv *smtptest.Server) int {
	seen := map[string]bool{}
	for _, m := range srv.Messages() {
		seen[m.To[0]] = true
	}
	return len(seen)
}

var sentMetric = regexp.MustCompile(`(?m)^podium_mail_deliveries_total\{outcome="sent"\} (\d+)$`)

// sentBy is how many messages the instance serving metrics at addr says it
// delivered.
func sentBy(t *testing.T, addr string) int {
	t.Helper()
	m := sentMetric.FindStringSubmatch(getBody(t, http.DefaultClient, "http://"+addr+"/metrics"))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
