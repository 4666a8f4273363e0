package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"podium/models"
	"podium/models/pgtest"
)

var (
	messageIDPattern = regexp.MustCompile(`^msg_[1-9][0-9]*$`)
	// One v1 signature: the base64 of a 32-byte HMAC-SHA256.
	signaturePattern = regexp.MustCompile(`^v1,[A-Za-z0-9+/]{43}=$`)
)

// otherSecret is a well-formed secret no endpoint has.
func otherSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// checkHeaders checks the Standard Webhooks headers of one request.
func checkHeaders(t *testing.T, req request) {
	t.Helper()
	if ct := req.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	if id := req.header.Get("webhook-id"); !messageIDPattern.MatchString(id) {
		t.Errorf("webhook-id = %q; want msg_<event id>", id)
	}
	ts, err := strconv.ParseInt(req.header.Get("webhook-timestamp"), 10, 64)
	if err != nil {
		t.Errorf("webhook-timestamp = %q; want Unix seconds", req.header.Get("webhook-timestamp"))
	} else if skew := time.Since(time.Unix(ts, 0)); skew < -5*time.Second || skew > 5*time.Second {
		t.Errorf("webhook-timestamp is %v away from now; want within 5s", skew)
	}
	for _, sig := range strings.Split(req.header.Get("webhook-signature"), " ") {
		if !signaturePattern.MatchString(sig) {
			t.Errorf("webhook-signature part %q; want v1,<base64 HMAC-SHA256>", sig)
		}
	}
}

func TestDeliver_SignedStandardWebhook(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, nil)
	_, secret := env.endpoint(t, rcv.URL)
	res := env.register(t, models.RegistrationInput{Name: "Zoë Ünal", Email: "zoe@example.com",
		Organisation: "City Council", JobTitle: "Planner", Source: "newsletter", Referrer: "https://news.example/heat"})

	deliver(t, env.worker(NewClient(true)), 1)
	got := rcv.only(t)
	checkHeaders(t, got)
	if sigs := strings.Fields(got.header.Get("webhook-signature")); len(sigs) != 1 {
		t.Errorf("%d signatures; want 1 before any rotation", len(sigs))
	}
	if err := verify(t, secret, got); err != nil {
		t.Fatalf("the reference library refuses the signature: %v", err)
	}
	if err := verify(t, otherSecret(t), got); err == nil {
		t.Error("another secret verifies the signature too")
	}
	tampered := request{header: got.header, body: bytes.Replace(got.body, []byte("Planner"), []byte("planner"), 1)}
	if err := verify(t, secret, tampered); err == nil {
		t.Error("a changed body still verifies")
	}

	var body map[string]json.RawMessage
	if err := json.Unmarshal(got.body, &body); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, got.body)
	}
	if keys := slices.Sorted(maps.Keys(body)); !slices.Equal(keys, []string{"data", "timestamp", "type"}) {
		t.Fatalf("body keys %v; want exactly type, timestamp, data", keys)
	}
	if string(body["type"]) != `"registration.created"` || string(body["timestamp"]) != `"2026-11-20T09:00:00Z"` {
		t.Errorf("type %s, timestamp %s; want \"registration.created\", \"2026-11-20T09:00:00Z\"", body["type"], body["timestamp"])
	}
	var data map[string]any
	if err := json.Unmarshal(body["data"], &data); err != nil {
		t.Fatalf("data is not an object: %v", err)
	}
	want := map[string]any{
		"registration_id": float64(res.Registration.ID), "status": "confirmed", "on_demand": false,
		"name": "Zoë Ünal", "email": "zoe@example.com", "organisation": "City Council", "job_title": "Planner",
		"source": "newsletter", "utm_source": "newsletter", "utm_medium": "", "utm_campaign": "", "utm_term": "",
		"utm_content": "", "referrer": "https://news.example/heat", "registered_at": "2026-11-20T09:00:00Z",
		"attendance": "unknown", "attended_minutes": nil, "joined_at": nil, "watched_at": nil,
		"session_id": float64(env.sess.ID), "session_starts_at": "2026-11-27T09:00:00Z",
		"session_ends_at": "2026-11-27T10:00:00Z", "session_time_zone": "Europe/London", "session_status": "scheduled",
		"panel_id": float64(env.panel.ID), "panel_slug": "cities-and-heat", "panel_title": "Cities and heat — 城市与气候",
	}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("data =\n%v\nwant\n%v", data, want)
	}
}

func TestDeliver_RotatedSecretSignsWithBoth(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, nil)
	ep, oldSecret := env.endpoint(t, rcv.URL)
	_, newSecret, err := env.store.RotateWebhookSecret(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	w := env.worker(NewClient(true))

	eventID := env.testEvent(t, ep.ID)
	deliver(t, w, 1)
	got := rcv.only(t)
	checkHeaders(t, got)
	if id := got.header.Get("webhook-id"); id != fmt.Sprintf("msg_%d", eventID) {
		t.Errorf("webhook-id = %q; want msg_%d", id, eventID)
	}
	if sigs := strings.Split(got.header.Get("webhook-signature"), " "); len(sigs) != 2 {
		t.Fatalf("webhook-signature %q; want two space-separated signatures during the overlap", got.header.Get("webhook-signature"))
	}
	if err := verify(t, newSecret, got); err != nil {
		t.Errorf("the new secret does not verify: %v", err)
	}
	if err := verify(t, oldSecret, got); err != nil {
		t.Errorf("the old secret does not verify during the overlap: %v", err)
	}

	// A day later the old secret signs no more.
	env.clock.Add(24*time.Hour + time.Second)
	env.testEvent(t, ep.ID)
	deliver(t, w, 1)
	later := rcv.requests()[1]
	if sigs := strings.Split(later.header.Get("webhook-signature"), " "); len(sigs) != 1 {
		t.Errorf("%d signatures after the overlap; want 1", len(sigs))
	}
	if err := verify(t, newSecret, later); err != nil {
		t.Errorf("the new secret does not verify after the overlap: %v", err)
	}
	if err := verify(t, oldSecret, later); err == nil {
		t.Error("the old secret still verifies after the overlap")
	}
}

func TestDeliver_RetryKeepsMessageID(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ep, secret := env.endpoint(t, rcv.URL)
	env.register(t, models.RegistrationInput{Name: "Ana", Email: "ana@example.com"})
	w := env.worker(NewClient(true))

	deliver(t, w, 1)
	// The first retry waits 5 seconds (and up to a tenth more) of the
	// store's clock.
	env.clock.Add(4 * time.Second)
	deliver(t, w, 0)
	env.clock.Add(2 * time.Second)
	deliver(t, w, 1)

	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests; want 2", len(reqs))
	}
	first, second := reqs[0], reqs[1]
	if a, b := first.header.Get("webhook-id"), second.header.Get("webhook-id"); a != b || !messageIDPattern.MatchString(a) {
		t.Errorf("webhook-id %q then %q; want the same msg_<n> on the retry", a, b)
	}
	if !bytes.Equal(first.body, second.body) {
		t.Errorf("the retry's body differs:\n%s\n%s", first.body, second.body)
	}
	for i, req := range reqs {
		if err := verify(t, secret, req); err != nil {
			t.Errorf("attempt %d does not verify: %v", i+1, err)
		}
	}

	attempts := env.attempts(t, ep.ID)
	if len(attempts) != 2 {
		t.Fatalf("%d attempts logged; want 2: %+v", len(attempts), attempts)
	}
	if a := attempts[0]; a.StatusCode != 500 || a.Error != "answered 500" {
		t.Errorf("first attempt %d %q; want 500 \"answered 500\"", a.StatusCode, a.Error)
	}
	if a := attempts[1]; a.StatusCode != 200 || a.Error != "" {
		t.Errorf("second attempt %d %q; want 200 without error", a.StatusCode, a.Error)
	}
	for _, a := range attempts {
		if a.DeliveryStatus != "delivered" || a.EventType != models.EventRegistrationCreated {
			t.Errorf("attempt %d: delivery %q, event %q; want delivered registration.created", a.ID, a.DeliveryStatus, a.EventType)
		}
	}

	env.clock.Add(96 * time.Hour)
	if n := drain(t, w); n != 0 || len(rcv.requests()) != 2 {
		t.Errorf("a delivered webhook went out again: %d more claimed, %d received", n, len(rcv.requests()))
	}
}

func TestDeliver_GoneDisablesEndpoint(t *testing.T) {
	env := newTestEnv(t)
	gone := newReceiver(t, answerStatus(http.StatusGone))
	healthy := newReceiver(t, nil)
	goneEP, _ := env.endpoint(t, gone.URL)
	env.endpoint(t, healthy.URL)
	var disabled []models.DisabledEndpoint
	w := env.worker(NewClient(true))
	w.Disabled = func(d models.DisabledEndpoint) { disabled = append(disabled, d) }
	// One delivery a batch: the second event's delivery to the gone
	// endpoint is claimed after the first one's 410 was recorded.
	w.Batch = 1

	env.register(t, models.RegistrationInput{Name: "Ana", Email: "ana@example.com"})
	env.register(t, models.RegistrationInput{Name: "Ben", Email: "ben@example.com"})
	drain(t, w)

	ep, err := env.store.WebhookEndpointByID(context.Background(), goneEP.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Active || !strings.Contains(ep.DisabledReason, "410") {
		t.Fatalf("endpoint active=%v, disabled_reason %q; want disabled for its 410", ep.Active, ep.DisabledReason)
	}
	if len(disabled) != 1 {
		t.Fatalf("Disabled called %d times; want once: %+v", len(disabled), disabled)
	}
	if d := disabled[0]; d.ID != goneEP.ID || d.URL != gone.URL || d.Reason != ep.DisabledReason {
		t.Errorf("Disabled told of %+v; want endpoint %d, %s, %q", d, goneEP.ID, gone.URL, ep.DisabledReason)
	}
	if a := env.attempts(t, goneEP.ID)[0]; a.StatusCode != 410 || a.DeliveryStatus != "failed" {
		t.Errorf("the 410 attempt: %d, delivery %q; want 410 and failed without retries", a.StatusCode, a.DeliveryStatus)
	}

	// Later events go to the healthy endpoint only.
	env.register(t, models.RegistrationInput{Name: "Cy", Email: "cy@example.com"})
	env.clock.Add(96 * time.Hour)
	drain(t, w)
	if n := len(gone.requests()); n != 1 {
		t.Errorf("the disabled endpoint got %d requests; want only the one it answered 410", n)
	}
	if n := len(healthy.requests()); n != 3 {
		t.Errorf("the healthy endpoint got %d requests; want 3", n)
	}
	if len(disabled) != 1 {
		t.Errorf("Disabled called %d times; want once", len(disabled))
	}
}

func TestDeliver_RetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter func() string
		// The retry is due no earlier than earliest and by latest.
		earliest, latest time.Duration
	}{
		{"429 seconds", 429, func() string { return "120" }, 120 * time.Second, 120 * time.Second},
		{"503 seconds", 503, func() string { return "120" }, 120 * time.Second, 120 * time.Second},
		{"429 date", 429, func() string { return time.Now().Add(300 * time.Second).UTC().Format(http.TimeFormat) },
			297 * time.Second, 300 * time.Second},
		{"429 beyond a day is capped", 429, func() string { return "999999" }, 24 * time.Hour, 24 * time.Hour},
		{"429 sooner than the schedule", 429, func() string { return "1" }, 5 * time.Second, 5500 * time.Millisecond},
		{"429 without header", 429, func() string { return "" }, 5 * time.Second, 5500 * time.Millisecond},
		{"500 ignores it", 500, func() string { return "120" }, 5 * time.Second, 5500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			rcv := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n > 0 {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				if v := tt.retryAfter(); v != "" {
					w.Header().Set("Retry-After", v)
				}
				w.WriteHeader(tt.status)
			})
			ep, _ := env.endpoint(t, rcv.URL)
			env.testEvent(t, ep.ID)
			w := env.worker(NewClient(true))
			deliver(t, w, 1)
			env.clock.Add(tt.earliest - time.Second) // a second too early
			deliver(t, w, 0)
			env.clock.Add(tt.latest - tt.earliest + time.Second) // due by now
			deliver(t, w, 1)
			if got := len(rcv.requests()); got != 2 {
				t.Errorf("receiver got %d requests; want 2", got)
			}
		})
	}
}

func TestDeliver_ExpiredLeaseDeliveredOnceMore(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, nil)
	ep, secret := env.endpoint(t, rcv.URL)
	env.register(t, models.RegistrationInput{Name: "Ana", Email: "ana@example.com"})
	ctx := context.Background()

	// A worker claims the delivery and dies before sending or recording it.
	claimed, err := env.store.ClaimWebhookDeliveries(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d, %v; want 1", len(claimed), err)
	}
	dead := claimed[0]

	w := env.worker(NewClient(true))
	w.Lease = time.Minute
	deliver(t, w, 0) // still leased
	env.clock.Add(59 * time.Second)
	deliver(t, w, 0) // a second before the lease runs out
	env.clock.Add(2 * time.Second)
	deliver(t, w, 1)
	got := rcv.only(t)
	if id := got.header.Get("webhook-id"); id != dead.MessageID() {
		t.Errorf("webhook-id %q; want the dead worker's %q", id, dead.MessageID())
	}
	if !bytes.Equal(got.body, dead.Body) {
		t.Errorf("body differs from the claimed one:\n%s\n%s", got.body, dead.Body)
	}
	if err := verify(t, secret, got); err != nil {
		t.Errorf("signature: %v", err)
	}

	// The dead worker's result, should it come after all, changes nothing.
	if _, err := env.store.RecordWebhookResults(ctx, []models.WebhookResult{{ID: dead.ID, EndpointID: dead.EndpointID,
		Attempts: dead.Attempts, StatusCode: 500, Err: "answered 500"}}); err != nil {
		t.Fatal(err)
	}
	a := env.onlyAttempt(t, ep.ID)
	if a.StatusCode != http.StatusNoContent || a.DeliveryStatus != "delivered" {
		t.Errorf("attempt %d, delivery %q; want 204 and delivered", a.StatusCode, a.DeliveryStatus)
	}
	env.clock.Add(96 * time.Hour)
	if n := drain(t, w); n != 0 || len(rcv.requests()) != 1 {
		t.Errorf("sent again: %d claimed, %d received; want exactly one delivery", n, len(rcv.requests()))
	}
}

func TestDeliver_ThousandEventsArriveOnce(t *testing.T) {
	const events = 1000
	env := newTestEnv(t)
	rcv := newReceiver(t, nil)
	ep, secret := env.endpoint(t, rcv.URL)
	want := make(map[string]bool, events)
	for range events {
		want[fmt.Sprintf("msg_%d", env.testEvent(t, ep.ID))] = true
	}
	w := env.worker(NewClient(true))
	w.Concurrency = 32

	if n := drain(t, w); n != events {
		t.Fatalf("sent %d; want %d", n, events)
	}
	seen := make(map[string]int, events)
	for _, req := range rcv.requests() {
		id := req.header.Get("webhook-id")
		seen[id]++
		if !want[id] {
			t.Errorf("unexpected webhook-id %q", id)
		}
		if err := verify(t, secret, req); err != nil {
			t.Errorf("%s does not verify: %v", id, err)
		}
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("%s arrived %d times; want once", id, seen[id])
		}
	}
	if peak := rcv.peak(); peak > w.Concurrency {
		t.Errorf("%d requests at once; want at most Concurrency %d", peak, w.Concurrency)
	}
	health, err := env.store.WebhookEndpointHealth(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if health.Delivered != events || health.Failed != 0 || health.Queued != 0 {
		t.Errorf("health %+v; want %d delivered, none failed or queued", health, events)
	}
}

func TestDeliverBatch_BusyLimitsConcurrency(t *testing.T) {
	for _, busy := range []bool{true, false} {
		t.Run(fmt.Sprintf("busy=%v", busy), func(t *testing.T) {
			const events = 24
			env := newTestEnv(t)
			rcv := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				time.Sleep(30 * time.Millisecond)
				w.WriteHeader(http.StatusNoContent)
			})
			ep, _ := env.endpoint(t, rcv.URL)
			for range events {
				env.testEvent(t, ep.ID)
			}
			w := env.worker(NewClient(true))
			w.Concurrency = 64
			w.Busy = func() bool { return busy }

			// Busy, a batch is small enough to finish within its lease.
			if busy {
				deliver(t, w, busyConcurrency*busyRounds)
				deliver(t, w, events-busyConcurrency*busyRounds)
			} else {
				deliver(t, w, events)
			}
			if got := len(rcv.requests()); got != events {
				t.Fatalf("receiver got %d; want %d", got, events)
			}
			peak := rcv.peak()
			if busy && peak > busyConcurrency {
				t.Errorf("%d requests at once while busy; want at most %d", peak, busyConcurrency)
			}
			// The control: without load the same batch runs wider, so the
			// measurement above can see more than busyConcurrency.
			if !busy && peak <= busyConcurrency {
				t.Errorf("%d requests at once while idle; want more than %d", peak, busyConcurrency)
			}
		})
	}
}

// TestRun_ResumesDeliveriesLeftInFlight is a restart after a crash: on
// SQLite (one process per file) the new worker sends what the dead one left
// in flight at once; on PostgreSQL, where another live instance may hold
// it, only after the lease runs out.
func TestRun_ResumesDeliveriesLeftInFlight(t *testing.T) {
	env := newTestEnv(t)
	rcv := newReceiver(t, nil)
	ep, _ := env.endpoint(t, rcv.URL)
	env.register(t, models.RegistrationInput{Name: "Ana", Email: "ana@example.com"})
	claimed, err := env.store.ClaimWebhookDeliveries(context.Background(), 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claimed %d, %v; want 1", len(claimed), err)
	}

	w := env.worker(NewClient(true))
	w.Poll = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	if pgtest.Postgres() {
		time.Sleep(200 * time.Millisecond)
		if n := len(rcv.requests()); n != 0 {
			t.Fatalf("sent %d while another instance's lease runs; want none", n)
		}
		env.clock.Add(time.Minute + time.Second)
		w.Notify()
	}
	for deadline := time.Now().Add(5 * time.Second); len(rcv.requests()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery left in flight was not resumed within 5s")
		}
	}
	if id := rcv.only(t).header.Get("webhook-id"); id != claimed[0].MessageID() {
		t.Errorf("webhook-id %q; want %q", id, claimed[0].MessageID())
	}
	for deadline := time.Now().Add(5 * time.Second); len(env.attempts(t, ep.ID)) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the resumed delivery was not recorded within 5s")
		}
	}
	if a := env.onlyAttempt(t, ep.ID); a.DeliveryStatus != "delivered" {
		t.Errorf("delivery %q; want delivered", a.DeliveryStatus)
	}
}
