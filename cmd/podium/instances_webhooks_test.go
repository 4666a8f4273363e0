package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"podium/models/pgtest"
)

// These tests run two podium instances on one PostgreSQL database with one
// webhook endpoint: both workers claim from the one queue, and each event
// reaches the receiver once; when one instance is killed with -9 holding
// deliveries, the other sends them once their lease runs out. The receiver
// is fault_webhooks_test.go's, told which instance each request came from.

// startWebhookPair starts two instances on a new database and a receiver
// (held: holding requests until released) for an endpoint subscribed to
// registration.created, made through the first instance's API.
func startWebhookPair(t *testing.T, held bool) (*sql.DB, []*process, *instanceReceiver) {
	t.Helper()
	url, db := sharedDatabase(t)
	ps := startPair(t, url, append([]string{"PODIUM_WEBHOOK_ALLOW_PRIVATE=true"}, ownerEnv...)...)
	recv := newInstanceReceiver(t, ps, held)
	createWebhook(t, ps[0].base, ownerToken(t, url), recv)
	return db, ps, recv
}

func TestInstances_WebhooksDeliveredOnceAcrossInstances(t *testing.T) {
	const signUps = 400
	db, ps, recv := startWebhookPair(t, false)
	signUpThroughBoth(t, ps, "hook", signUps)
	waitDelivered(t, db, recv, signUps)
	checkEveryRegistrationHeard(t, db, recv, signUps)

	distinct, total, _ := recv.counts()
	if total != signUps {
		t.Fatalf("the receiver answered %d requests for %d events; want each sent once, no instance having died", total, distinct)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM webhook_attempts WHERE status_code = 204 AND error = ''"); n != signUps {
		t.Fatalf("%d successful attempts recorded; want one per event, %d", n, signUps)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE attempts = 1"); n != signUps {
		t.Fatalf("%d deliveries claimed once; want all %d", n, signUps)
	}
	by := recv.byInstance()
	if by[0] == 0 || by[1] == 0 || by[0]+by[1] != signUps {
		t.Fatalf("requests by instance %v (-1: not told apart); want both instances to have sent, %d in all", by, signUps)
	}
	t.Logf("%d events delivered once each, %d by one instance and %d by the other", signUps, by[0], by[1])
}

func TestInstances_WebhooksHeldByAKilledInstanceGoOutThroughTheOther(t *testing.T) {
	const signUps = 300
	// The receiver holds requests until released. Each worker claims a few
	// deliveries at the first sign-up it hears of, and waits; released,
	// each claims a full batch of the backlog, and waits again.
	db, ps, recv := startWebhookPair(t, true)
	signUpThroughBoth(t, ps, "held", signUps)
	for _, what := range []string{"first deliveries", "batch of the backlog"} {
		waitUntil(t, 20*time.Second, "both instances to send their "+what, func() bool {
			return recv.holding(0) > 0 && recv.holding(1) > 0
		})
		time.Sleep(200 * time.Millisecond) // the rest of the batches' requests arrive
		if what == "first deliveries" {
			recv.release(true)
		}
	}
	ps[0].kill(t)
	// One claim sets one lease: the dead instance's deliveries are those
	// under the lease of one it sent.
	held := column(t, db, `SELECT id FROM webhook_deliveries WHERE status = 'sending' AND lease_until =
		(SELECT lease_until FROM webhook_deliveries WHERE event_id = $1)`, recv.heldFrom(0))
	if len(held) == 0 {
		t.Fatal("the killed instance held no delivery")
	}
	recv.release(false)

	// The live instance sends everything else, and leaves the dead one's
	// deliveries alone while their lease lasts.
	waitUntil(t, 30*time.Second, "the live instance to deliver all but the dead one's", func() bool {
		return count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'") == signUps-len(held)
	})
	time.Sleep(time.Second) // long enough for the live worker to look again
	if still := column(t, db, "SELECT id FROM webhook_deliveries WHERE status = 'sending' AND id = ANY($1)", held); len(still) != len(held) {
		t.Fatalf("%d of the %d deliveries the dead instance held are still under its lease; want all", len(still), len(held))
	}
	// The lease is webhooks.NewWorker's two minutes, and podium serve has
	// no setting for it: the test ends it as the clock would.
	if ended := column(t, db, `UPDATE webhook_deliveries SET lease_until = now() - interval '1 second'
		WHERE status = 'sending' AND id = ANY($1) RETURNING id`, held); len(ended) != len(held) {
		t.Fatalf("ended %d leases of %d", len(ended), len(held))
	}
	waitDelivered(t, db, recv, signUps)
	checkEveryRegistrationHeard(t, db, recv, signUps)
	checkRepeatsOnlyOfHeld(t, db, recv, held, signUps)
}

// checkRepeatsOnlyOfHeld checks that of n events only those the killed
// instance 0 held and had sent came twice, first from it and then from the
// live one, which recorded the one attempt of each delivery the dead held.
func checkRepeatsOnlyOfHeld(t *testing.T, db *sql.DB, recv *instanceReceiver, held []int64, n int) {
	t.Helper()
	heldEvents := map[string]bool{}
	for _, id := range column(t, db, "SELECT event_id FROM webhook_deliveries WHERE id = ANY($1)", held) {
		heldEvents[fmt.Sprintf("msg_%d", id)] = true
	}
	repeats := 0
	for id, from := range recv.sentFrom() {
		switch {
		case len(from) == 2 && heldEvents[id] && from[0] == 0 && from[1] == 1:
			repeats++
		case len(from) != 1 || from[0] < 0:
			t.Fatalf("%s came from instances %v (-1: not told apart; %t that the dead instance held it); want once, "+
				"or first from the dead instance and then from the live one", id, from, heldEvents[id])
		}
	}
	if _, total, _ := recv.counts(); repeats == 0 || total != n+repeats {
		t.Fatalf("the receiver answered %d requests for %d events, %d of them repeats of what the dead instance had sent; want some",
			total, n, repeats)
	}
	if got := count(t, db, `SELECT COUNT(*) FROM webhook_deliveries d WHERE d.id = ANY($1) AND d.attempts = 2
		AND (SELECT COUNT(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) = 1`, held); got != len(held) {
		t.Fatalf("%d of the %d held deliveries were claimed twice with one attempt recorded; want all", got, len(held))
	}
	t.Logf("killed an instance holding %d deliveries, %d of them sent; the other sent them all once the lease ended (requests by instance: %v)",
		len(held), repeats, recv.byInstance())
}

// instanceReceiver is a hookReceiver that also counts requests by the
// instance that sent them, and can hold them until released.
type instanceReceiver struct {
	*hookReceiver
	srv    *httptest.Server
	owners socketOwners

	mu   sync.Mutex
	from map[string][]int // instances each webhook-id came from, in turn (-1: not told apart)
	hold chan struct{}    // requests arriving wait until it is closed; nil: none wait
	// Of the requests held since the last release, by instance: how many,
	// and one's webhook-id.
	held   map[int]int
	heldID map[int]string
}

// senderKey is the context key of a connection's instance.
type senderKey struct{}

// newInstanceReceiver starts a receiver for the instances ps; held, it
// holds requests until released.
func newInstanceReceiver(t *testing.T, ps []*process, held bool) *instanceReceiver {
	t.Helper()
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("telling the instances' requests apart needs Linux's /proc")
	}
	r := &instanceReceiver{hookReceiver: &hookReceiver{t: t, seen: map[string]int{}}, from: map[string][]int{},
		owners: socketOwners{byPort: map[int]int{}}}
	for _, p := range ps {
		r.owners.pids = append(r.owners.pids, p.cmd.Process.Pid)
	}
	r.release(held)
	r.srv = httptest.NewUnstartedServer(r)
	r.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, senderKey{}, r.owners.of(c))
	}
	r.srv.Config.ConnState = func(c net.Conn, state http.ConnState) {
		if state == http.StateClosed || state == http.StateHijacked {
			r.owners.forget(c)
		}
	}
	r.srv.Start()
	// Requests still held would keep Close waiting.
	t.Cleanup(func() { r.release(false); r.srv.Close() })
	return r
}

func (r *instanceReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	from := req.Context().Value(senderKey{}).(int)
	// Read first: a request held here may outlive its sender.
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.from[req.Header.Get("webhook-id")] = append(r.from[req.Header.Get("webhook-id")], from)
	hold := r.hold
	if hold != nil {
		r.held[from]++
		r.heldID[from] = req.Header.Get("webhook-id")
	}
	r.mu.Unlock()
	if hold != nil {
		<-hold
	}
	r.hookReceiver.ServeHTTP(w, req)
}

// release answers the requests held so far; with holdNext, those arriving
// from now on are held in turn.
func (r *instanceReceiver) release(holdNext bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hold != nil {
		close(r.hold)
	}
	r.hold, r.held, r.heldID = nil, map[int]int{}, map[int]string{}
	if holdNext {
		r.hold = make(chan struct{})
	}
}

// holding is how many requests from instance are held since the last release.
func (r *instanceReceiver) holding(instance int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.held[instance]
}

// heldFrom is the event of a request from instance held since the last
// release, or 0.
func (r *instanceReceiver) heldFrom(instance int) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var id int64
	_, _ = fmt.Sscanf(r.heldID[instance], "msg_%d", &id)
	return id
}

// sentFrom is the instances each webhook-id came from, in turn.
func (r *instanceReceiver) sentFrom() map[string][]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.from)
}

// byInstance is how many requests came from each instance.
func (r *instanceReceiver) byInstance() map[int]int {
	out := map[int]int{}
	for _, from := range r.sentFrom() {
		for _, i := range from {
			out[i]++
		}
	}
	return out
}

// times is how often the receiver verified event id's request.
func (r *instanceReceiver) times(eventID int64) int {
	r.hookReceiver.mu.Lock()
	defer r.hookReceiver.mu.Unlock()
	return r.seen[fmt.Sprintf("msg_%d", eventID)]
}

// socketOwners tells which instance holds the client end of each connection to
// the receiver: the instances post to one URL, and only their sockets tell
// them apart (Linux's /proc).
type socketOwners struct {
	pids []int
	mu   sync.Mutex
	// byPort is the instance of each open connection by its client port.
	byPort map[int]int
}

// of is the index in pids of the instance at the other end of c, just
// accepted, or -1. One look at the kernel's tables finds every connection
// open at the time: an instance opens many at once. A look can miss a row
// while connections come and go, so it looks again before giving up.
func (s *socketOwners) of(c net.Conn) int {
	client, server := c.RemoteAddr().(*net.TCPAddr).Port, c.LocalAddr().(*net.TCPAddr).Port
	for try := range 20 {
		s.mu.Lock()
		i, ok := s.byPort[client]
		s.mu.Unlock()
		if ok {
			return i
		}
		if try > 0 {
			time.Sleep(time.Millisecond)
		}
		s.look(server)
	}
	return -1
}

// forget drops a closed connection: its port may come back to another.
func (s *socketOwners) forget(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byPort, c.RemoteAddr().(*net.TCPAddr).Port)
}

// look finds the instances' established connections to port.
func (s *socketOwners) look(port int) {
	clients := map[string]int{} // socket inode → client port
	remote := fmt.Sprintf(":%04X", port)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, _ := os.ReadFile(table)
		for line := range strings.Lines(string(data)) {
			// sl local_address rem_address st ... inode
			f := strings.Fields(line)
			if len(f) <= 9 || f[3] != "01" || !strings.HasSuffix(f[2], remote) {
				continue
			}
			_, hex, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseInt(hex, 16, 32); err == nil {
				clients[f[9]] = int(p)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pid := range s.pids {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			inode := strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")
			if p, ok := clients[inode]; ok && strings.HasPrefix(link, "socket:[") {
				s.byPort[p] = i
			}
		}
	}
}

// createWebhook adds an endpoint for registration.created through the API
// at base, as an organizer's tool would, and gives recv its secret.
func createWebhook(t *testing.T, base, token string, recv *instanceReceiver) {
	t.Helper()
	body := fmt.Sprintf(`{"url": %q, "event_types": ["registration.created"]}`, recv.srv.URL+"/hook")
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/webhooks", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer struct{ Secret string }
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != http.StatusCreated || answer.Secret == "" {
		t.Fatalf("POST /api/v1/webhooks = %d with secret %q; want 201 and a secret", resp.StatusCode, answer.Secret)
	}
	verify, err := standardwebhooks.NewWebhook(answer.Secret)
	if err != nil {
		t.Fatal(err)
	}
	recv.hookReceiver.mu.Lock()
	recv.verify = verify
	recv.hookReceiver.mu.Unlock()
}

// signUpThroughBoth signs up n people at once through the demo panel's
// form, half through each instance, and checks each was answered 303.
func signUpThroughBoth(t *testing.T, ps []*process, prefix string, n int) {
	t.Helper()
	client := noRedirects()
	forms := make([]demoForm, n)
	for i := range forms {
		forms[i] = loadForm(t, client, ps[i%2].base)
	}
	var answers tally
	pgtest.AtOnce(n, func(i int) {
		status, _, err := forms[i].post(client, fmt.Sprintf("%s-%d@example.com", prefix, i))
		answers.add(i%2, status, err)
	})
	answers.only(t, http.StatusSeeOther, n/2)
}

// waitDelivered waits for the receiver to have n distinct events and the
// database to record n deliveries delivered.
func waitDelivered(t *testing.T, db *sql.DB, recv *instanceReceiver, n int) {
	t.Helper()
	waitUntil(t, 60*time.Second, fmt.Sprintf("the receiver to hear of %d events", n), func() bool {
		distinct, _, _ := recv.counts()
		return distinct == n
	})
	waitUntil(t, 10*time.Second, "every delivery to be recorded as delivered", func() bool {
		return count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'") == n
	})
	if left := count(t, db, "SELECT COUNT(*) FROM webhook_deliveries WHERE status <> 'delivered'"); left != 0 {
		t.Fatalf("%d deliveries not delivered", left)
	}
}

// checkEveryRegistrationHeard checks that each of the n registrations has
// one registration.created event, that it reached the receiver, and that
// every request the receiver got was correctly signed.
func checkEveryRegistrationHeard(t *testing.T, db *sql.DB, recv *instanceReceiver, n int) {
	t.Helper()
	events := column(t, db, `SELECT e.id FROM registrations r
		JOIN webhook_events e ON e.registration_id = r.id AND e.type = 'registration.created'`)
	if len(events) != n || count(t, db, "SELECT COUNT(*) FROM webhook_events") != n {
		t.Fatalf("%d registration.created events for the registrations; want one for each of %d, and no other", len(events), n)
	}
	for _, id := range events {
		if recv.times(id) == 0 {
			t.Fatalf("event %d (msg_%d) never reached the receiver", id, id)
		}
	}
	if _, _, bad := recv.counts(); bad != 0 {
		t.Fatalf("%d requests failed the Standard Webhooks verification", bad)
	}
}
