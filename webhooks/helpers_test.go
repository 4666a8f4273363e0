package webhooks

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"podium/models"
	"podium/models/pgtest"
)

// testNow is the store's clock at the start of every test. The worker
// signs with the real time; only the store's scheduling runs on this clock.
var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// testEnv is a real store (SQLite, or PostgreSQL on the second pass) on a
// test clock, with one published panel of one session to sign up for.
type testEnv struct {
	store *models.Store
	clock *testClock
	panel *models.Panel
	sess  models.Session
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	clock := &testClock{now: testNow}
	store, err := models.Open(context.Background(), pgtest.DSN(t), models.WithClock(clock.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	panel := &models.Panel{
		Title: "Cities and heat — 城市与气候", Slug: "cities-and-heat", Status: models.PanelPublished,
		Summary: "Hot summers, cool heads.", OrganizerName: "Podium Events", OrganizerEmail: "organiser@podium.example",
		Sessions: []models.Session{{StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60,
			TimeZone: "Europe/London", Capacity: 5000, JoinURL: "https://meet.example.com/heat"}},
	}
	if err := store.CreatePanel(context.Background(), panel); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return &testEnv{store: store, clock: clock, panel: panel, sess: panel.Sessions[0]}
}

// endpoint creates an active endpoint for every event type and returns it
// with its secret.
func (e *testEnv) endpoint(t *testing.T, url string) (*models.WebhookEndpoint, string) {
	t.Helper()
	ep, secret, err := e.store.CreateWebhookEndpoint(context.Background(), models.WebhookInput{URL: url, Active: true}, 0)
	if err != nil {
		t.Fatalf("create endpoint %s: %v", url, err)
	}
	return ep, secret
}

// register signs someone up for the session: a registration.created event.
func (e *testEnv) register(t *testing.T, in models.RegistrationInput) *models.RegisterResult {
	t.Helper()
	in.SessionID, in.Consent = e.sess.ID, true
	res, err := e.store.Register(context.Background(), e.panel.ID, in)
	if err != nil {
		t.Fatalf("register %s: %v", in.Email, err)
	}
	return res
}

// testEvent queues a webhook.test event to one endpoint and returns its id.
func (e *testEnv) testEvent(t *testing.T, endpointID int64) int64 {
	t.Helper()
	id, err := e.store.SendTestWebhook(context.Background(), endpointID)
	if err != nil {
		t.Fatalf("send test webhook: %v", err)
	}
	return id
}

// attempts lists an endpoint's delivery log, oldest first.
func (e *testEnv) attempts(t *testing.T, endpointID int64) []models.WebhookAttempt {
	t.Helper()
	got, err := e.store.WebhookAttempts(context.Background(), endpointID, 0, 100)
	if err != nil {
		t.Fatalf("webhook attempts: %v", err)
	}
	slices.Reverse(got)
	return got
}

// onlyAttempt is the endpoint's single logged attempt.
func (e *testEnv) onlyAttempt(t *testing.T, endpointID int64) models.WebhookAttempt {
	t.Helper()
	got := e.attempts(t, endpointID)
	if len(got) != 1 {
		t.Fatalf("endpoint %d logged %d attempts; want 1: %+v", endpointID, len(got), got)
	}
	return got[0]
}

func (e *testEnv) worker(client *http.Client) *Worker {
	return NewWorker(e.store, client, slog.New(slog.DiscardHandler))
}

// deliver runs one batch and checks its size: how many deliveries were
// due (and not leased) at the store's clock.
func deliver(t *testing.T, w *Worker, want int) {
	t.Helper()
	n, err := w.DeliverBatch(context.Background())
	if err != nil {
		t.Fatalf("deliver batch: %v", err)
	}
	if n != want {
		t.Fatalf("batch of %d; want %d", n, want)
	}
}

// drain runs batches until none is due and returns how many were sent.
func drain(t *testing.T, w *Worker) int {
	t.Helper()
	total := 0
	for {
		n, err := w.DeliverBatch(context.Background())
		if err != nil {
			t.Fatalf("deliver batch: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// request is what a receiver was sent.
type request struct {
	header http.Header
	body   []byte
}

// answerFunc answers the receiver's n-th request (from 0); nil answers 204.
type answerFunc func(n int, w http.ResponseWriter, r *http.Request)

// receiver is a real HTTP server in the test process that records every
// request and how many it was handling at once.
type receiver struct {
	*httptest.Server
	answer answerFunc

	mu          sync.Mutex
	got         []request
	inFlight    int
	maxInFlight int
}

func newReceiver(t *testing.T, answer answerFunc) *receiver {
	t.Helper()
	return serveReceiver(t, answer, httptest.NewServer)
}

// serveReceiver starts a receiver on the server start makes, such as
// httptest.NewTLSServer.
func serveReceiver(t *testing.T, answer answerFunc, start func(http.Handler) *httptest.Server) *receiver {
	t.Helper()
	r := &receiver{answer: answer}
	r.Server = start(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, request{header: r.Header.Clone(), body: body})
	n := len(rc.got) - 1
	rc.inFlight++
	rc.maxInFlight = max(rc.maxInFlight, rc.inFlight)
	rc.mu.Unlock()
	defer func() { rc.mu.Lock(); rc.inFlight--; rc.mu.Unlock() }()
	if rc.answer == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	rc.answer(n, w, r)
}

// requests returns what the receiver was sent so far.
func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// only returns the one request the receiver was sent.
func (rc *receiver) only(t *testing.T) request {
	t.Helper()
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests; want 1", len(got))
	}
	return got[0]
}

func (rc *receiver) peak() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.maxInFlight
}

// answerStatus answers every request with code.
func answerStatus(code int) answerFunc {
	return func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) }
}

// verify checks a request's signature with the Standard Webhooks reference
// library, timestamp tolerance included.
func verify(t *testing.T, secret string, req request) error {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatalf("reference library refuses the secret %q: %v", secret, err)
	}
	return wh.Verify(req.body, req.header)
}
