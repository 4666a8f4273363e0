package handlers

// The webhook endpoints' contract, through the real app: /api/v1/webhooks
// with an owner's token, the admin's /admin/webhooks pages, and the
// registration.created event a public sign-up queues. An organizer is
// refused everywhere. The hostile inputs are in hostile_webhooks_test.go.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"podium/models"
	"podium/webhooks"
)

const hookURL = "https://hooks.example.com/podium"

// webhookSecretPattern is a Standard Webhooks secret: whsec_ and the
// base64 of 24 bytes.
var webhookSecretPattern = regexp.MustCompile(`^whsec_[A-Za-z0-9+/]{32}$`)

// webhookHealthShape reads the health object as sent, so a key left out
// is told apart from a zero.
type webhookHealthShape struct {
	Health map[string]json.RawMessage `json:"health"`
}

// createWebhook adds an endpoint through the API and checks the 201.
func (a *apiClient) createWebhook(body any) webhookSecretJSON {
	a.t.Helper()
	hook := decodeAs[webhookSecretJSON](a.t, a.call(http.MethodPost, "/api/v1/webhooks", body), http.StatusCreated)
	if !webhookSecretPattern.MatchString(hook.Secret) {
		a.t.Fatalf("secret = %q; want whsec_ and 32 base64 characters", hook.Secret)
	}
	return hook
}

// webhookPath is an endpoint's API path, its id a number or any string
// (a hostile id, or "%s" for apiBadIDs), with a suffix.
func webhookPath(id any, suffix string) string {
	return fmt.Sprintf("/api/v1/webhooks/%v%s", id, suffix)
}

// webhookHealth reads an endpoint's health through the API.
func (a *apiClient) webhookHealth(id int64) webhookHealthJSON {
	a.t.Helper()
	got := decodeAs[webhookJSON](a.t, a.get(webhookPath(id, "")), http.StatusOK)
	if got.Health == nil {
		a.t.Fatalf("GET %s has no health", webhookPath(id, ""))
	}
	return *got.Health
}

// tokenClient is an API client with a new token of acc's.
func (e *testEnv) tokenClient(t *testing.T, acc *models.Account) *apiClient {
	t.Helper()
	secret, _, err := e.store.CreateAPIToken(t.Context(), acc.ID, "webhooks")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.header.Set("Authorization", "Bearer "+secret)
	return &apiClient{t: t, b: b, env: e}
}

// answerWebhooks claims every due delivery and records each as answered
// with code (0: no answer) and errText, as the worker would.
func (e *testEnv) answerWebhooks(t *testing.T, code int, errText string, took time.Duration) []models.WebhookDelivery {
	t.Helper()
	claimed, err := e.store.ClaimWebhookDeliveries(t.Context(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	results := make([]models.WebhookResult, len(claimed))
	for i, d := range claimed {
		results[i] = models.WebhookResult{ID: d.ID, EndpointID: d.EndpointID, Attempts: d.Attempts, StatusCode: code,
			Err: errText, Duration: took, Gone: code == http.StatusGone}
	}
	if _, err := e.store.RecordWebhookResults(t.Context(), results); err != nil {
		t.Fatal(err)
	}
	return claimed
}

// webhookWithAttempt adds an endpoint and records an answer to a test
// event sent to it; it returns the endpoint and the delivery's id.
func (a *apiClient) webhookWithAttempt(code int, errText string) (webhookSecretJSON, int64) {
	a.t.Helper()
	hook := a.createWebhook(map[string]any{"url": hookURL})
	assertStatus(a.t, a.call(http.MethodPost, webhookPath(hook.ID, "/test"), nil), http.StatusAccepted)
	return hook, a.env.answerWebhooks(a.t, code, errText, 20*time.Millisecond)[0].ID
}

func TestAPIWebhooks_CreateShowsTheSecretOnceAndShowAddsHealth(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	r := api.call(http.MethodPost, "/api/v1/webhooks", map[string]any{"url": hookURL, "description": "CRM",
		"event_types": []string{"session.updated", "registration.created"}})
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q; want no-store on the answer with the secret", cc)
	}
	hook := decodeAs[webhookSecretJSON](t, r, http.StatusCreated)
	if hook.ID <= 0 || hook.URL != hookURL || hook.Description != "CRM" || !hook.Active || hook.DisabledReason != "" ||
		hook.FailingSince != nil || hook.CreatedAt != rfc3339(testNow) || hook.UpdatedAt != rfc3339(testNow) ||
		!slices.Equal(hook.EventTypes, []string{"registration.created", "session.updated"}) {
		t.Fatalf("created = %+v", hook.webhookJSON)
	}
	if !webhookSecretPattern.MatchString(hook.Secret) {
		t.Fatalf("secret = %q; want whsec_ and 32 base64 characters", hook.Secret)
	}
	// The secret shown is the one deliveries are signed with.
	ep, err := env.store.WebhookEndpointByID(t.Context(), hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secrets, err := env.store.SigningSecrets(ep, testNow); err != nil || !slices.Equal(secrets, []string{hook.Secret}) {
		t.Fatalf("signing secrets = %v, %v; want the one shown", secrets, err)
	}

	show := api.get(webhookPath(hook.ID, ""))
	got := decodeAs[webhookJSON](t, show, http.StatusOK)
	if strings.Contains(show.body, "whsec_") || strings.Contains(show.body, `"secret"`) {
		t.Fatalf("GET shows the secret: %s", show.body)
	}
	if got.ID != hook.ID || got.URL != hookURL || !slices.Equal(got.EventTypes, hook.EventTypes) {
		t.Fatalf("shown = %+v; want %+v", got, hook.webhookJSON)
	}
	shape := decodeAs[webhookHealthShape](t, show, http.StatusOK)
	for _, key := range []string{"delivered_24h", "failed_24h", "queued", "last_attempt_at"} {
		if _, ok := shape.Health[key]; !ok {
			t.Fatalf("health lacks %s: %s", key, show.body)
		}
	}
	if h := *got.Health; h.Delivered24h != 0 || h.Failed24h != 0 || h.Queued != 0 || h.LastAttemptAt != nil {
		t.Fatalf("health of a new endpoint = %+v; want zeros and no attempt", h)
	}

	second := api.createWebhook(map[string]any{"url": "https://crm.example.org/in", "event_types": []string{"*"}})
	list := api.get("/api/v1/webhooks")
	all := decodeAs[listJSON[webhookJSON]](t, list, http.StatusOK)
	if strings.Contains(list.body, "whsec_") || strings.Contains(list.body, `"health"`) {
		t.Fatalf("the list shows a secret or health: %s", list.body)
	}
	if len(all.Data) != 2 || all.Data[0].ID != hook.ID || all.Data[1].ID != second.ID || all.NextCursor != nil ||
		!slices.Equal(all.Data[1].EventTypes, []string{"*"}) {
		t.Fatalf("list = %+v; want both endpoints, oldest first, the second on every type", all)
	}
}

// Without event_types, or with ["*"], an endpoint gets every type; without
// active it is on.
func TestAPIWebhooks_CreateDefaultsToEveryTypeAndActive(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	for _, body := range []map[string]any{{"url": hookURL}, {"url": hookURL, "event_types": []string{"*"}}} {
		hook := api.createWebhook(body)
		if !hook.Active || !slices.Equal(hook.EventTypes, []string{"*"}) || hook.Description != "" {
			t.Fatalf("created from %v = %+v; want active on every type", body, hook.webhookJSON)
		}
		ep, err := env.store.WebhookEndpointByID(t.Context(), hook.ID)
		if err != nil || len(ep.EventTypes) != 0 || !ep.EventTypes.Wants(models.EventAttendanceRecorded) {
			t.Fatalf("stored types = %v (%v); want every type", ep.EventTypes, err)
		}
	}
	if hook := api.createWebhook(map[string]any{"url": hookURL, "active": false}); hook.Active {
		t.Fatalf("created with active false = %+v; want it off", hook.webhookJSON)
	}
	assertProblemSays(t, api.call(http.MethodPost, "/api/v1/webhooks", map[string]any{"url": hookURL, "event_types": []string{}}),
		http.StatusUnprocessableEntity, "at least one event type", "event_types")
	assertProblemSays(t, api.call(http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://hooks.example.com:99999/x"}),
		http.StatusUnprocessableEntity, "address", "url")
}

func TestAPIWebhooks_PatchChangesOnlyWhatItNames(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	hook := api.createWebhook(map[string]any{"url": hookURL, "description": "CRM",
		"event_types": []string{"registration.created"}})
	path := webhookPath(hook.ID, "")
	env.clock.Set(testNow.Add(time.Hour))
	patch := func(body any) webhookJSON {
		t.Helper()
		return decodeAs[webhookJSON](t, api.call(http.MethodPatch, path, body), http.StatusOK)
	}

	got := patch(map[string]any{"url": "https://crm.example.org/hooks", "description": "New CRM"})
	if got.URL != "https://crm.example.org/hooks" || got.Description != "New CRM" || !got.Active ||
		!slices.Equal(got.EventTypes, []string{"registration.created"}) || got.UpdatedAt != rfc3339(testNow.Add(time.Hour)) ||
		got.CreatedAt != rfc3339(testNow) {
		t.Fatalf("after patching url and description = %+v", got)
	}
	got = patch(map[string]any{"event_types": []string{"*"}})
	if !slices.Equal(got.EventTypes, []string{"*"}) || got.URL != "https://crm.example.org/hooks" {
		t.Fatalf("after event_types [*] = %+v", got)
	}
	if ep, err := env.store.WebhookEndpointByID(t.Context(), hook.ID); err != nil ||
		!ep.EventTypes.Wants(models.EventSessionCancelled) || !ep.EventTypes.Wants(models.EventAttendanceRecorded) {
		t.Fatalf("stored types = %v (%v); want every type", ep.EventTypes, err)
	}
	got = patch(map[string]any{"event_types": []string{"session.updated", "registration.cancelled", "session.updated"}})
	if !slices.Equal(got.EventTypes, []string{"registration.cancelled", "session.updated"}) {
		t.Fatalf("event_types = %v; want them sorted, each once", got.EventTypes)
	}
	if got = patch(map[string]any{"active": false}); got.Active || got.Description != "New CRM" {
		t.Fatalf("after active false = %+v", got)
	}
	if got = patch(map[string]any{"active": true}); !got.Active {
		t.Fatalf("after active true = %+v", got)
	}
	if got = patch(map[string]any{}); got.URL != "https://crm.example.org/hooks" || got.Description != "New CRM" || !got.Active {
		t.Fatalf("an empty patch changed %+v", got)
	}
	shown := decodeAs[webhookJSON](t, api.get(path), http.StatusOK)
	if shown.URL != got.URL || shown.Description != got.Description || !slices.Equal(shown.EventTypes, got.EventTypes) {
		t.Fatalf("GET = %+v; want what PATCH answered, %+v", shown, got)
	}
}

// A 410 turns an endpoint off with a reason; turning it back on clears
// the reason and the failure.
func TestAPIWebhooks_TurningADisabledEndpointBackOnClearsItsFailure(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	hook, _ := api.webhookWithAttempt(http.StatusGone, "answered 410")
	off := decodeAs[webhookJSON](t, api.get(webhookPath(hook.ID, "")), http.StatusOK)
	if off.Active || off.DisabledReason == "" {
		t.Fatalf("after a 410 = %+v; want it off with a reason", off)
	}
	on := decodeAs[webhookJSON](t, api.call(http.MethodPatch, webhookPath(hook.ID, ""), `{"active": true}`), http.StatusOK)
	if !on.Active || on.DisabledReason != "" || on.FailingSince != nil {
		t.Fatalf("turned back on = %+v; want active, no reason, not failing", on)
	}
}

func TestAPIWebhooks_DeleteRemovesTheEndpoint(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	hook := api.createWebhook(map[string]any{"url": hookURL})
	keep := api.createWebhook(map[string]any{"url": "https://crm.example.org/in"})
	assertStatus(t, api.call(http.MethodPost, webhookPath(hook.ID, "/test"), nil), http.StatusAccepted)

	r := api.send(http.MethodDelete, webhookPath(hook.ID, ""), "", "")
	assertStatus(t, r, http.StatusNoContent)
	if r.body != "" {
		t.Fatalf("204 with a body: %q", r.body)
	}
	p := assertProblem(t, api.get(webhookPath(hook.ID, "")), http.StatusNotFound)
	if want := fmt.Sprintf("There is no webhook with id %d.", hook.ID); p.Detail != want {
		t.Fatalf("detail = %q; want %q", p.Detail, want)
	}
	assertProblem(t, api.send(http.MethodDelete, webhookPath(hook.ID, ""), "", ""), http.StatusNotFound)
	assertProblem(t, api.get(webhookPath(hook.ID, "/deliveries")), http.StatusNotFound)
	all := decodeAs[listJSON[webhookJSON]](t, api.get("/api/v1/webhooks"), http.StatusOK)
	if len(all.Data) != 1 || all.Data[0].ID != keep.ID {
		t.Fatalf("list = %+v; want only the other endpoint", all.Data)
	}
	if claimed, err := env.store.ClaimWebhookDeliveries(t.Context(), 10, time.Minute); err != nil || len(claimed) != 0 {
		t.Fatalf("deliveries left to send = %v, %v; want the deleted endpoint's gone", claimed, err)
	}
}

// A rotation shows a new secret once; the old one signs beside it for a day.
func TestAPIWebhooks_RotateSecretShowsANewOneOnce(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	hook := api.createWebhook(map[string]any{"url": hookURL})
	r := api.call(http.MethodPost, webhookPath(hook.ID, "/rotate-secret"), nil)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q; want no-store", cc)
	}
	rotated := decodeAs[webhookSecretJSON](t, r, http.StatusOK)
	if !webhookSecretPattern.MatchString(rotated.Secret) || rotated.Secret == hook.Secret || rotated.ID != hook.ID {
		t.Fatalf("rotated = %+v; want a new whsec_ secret for the same endpoint", rotated)
	}
	if show := api.get(webhookPath(hook.ID, "")); strings.Contains(show.body, "whsec_") {
		t.Fatalf("GET shows a secret after rotating: %s", show.body)
	}
	ep, err := env.store.WebhookEndpointByID(t.Context(), hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{testNow, []string{rotated.Secret, hook.Secret}},
		{testNow.Add(25 * time.Hour), []string{rotated.Secret}},
	} {
		if got, err := env.store.SigningSecrets(ep, tc.at); err != nil || !slices.Equal(got, tc.want) {
			t.Fatalf("signing secrets at %v = %v, %v; want %v", tc.at, got, err, tc.want)
		}
	}
}

// webhookReceiver is an endpoint that answers each webhook-id with the
// status given for it and keeps what it received.
type webhookReceiver struct {
	url string
	mu  sync.Mutex
	// answers maps a webhook-id to the status to answer it with (200 if none).
	answers  map[string]int
	received []receivedWebhook
}

// receivedWebhook is one request as the receiver read it.
type receivedWebhook struct {
	id, timestamp, signature string
	body                     []byte
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	t.Helper()
	rc := &webhookReceiver{answers: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("receiver: %v", err)
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		id := r.Header.Get("webhook-id")
		rc.received = append(rc.received, receivedWebhook{id: id, timestamp: r.Header.Get("webhook-timestamp"),
			signature: r.Header.Get("webhook-signature"), body: body})
		w.WriteHeader(cmp.Or(rc.answers[id], http.StatusOK))
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/podium"
	return rc
}

// answer sets the status the receiver answers a webhook-id with.
func (rc *webhookReceiver) answer(id string, status int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.answers[id] = status
}

// assertSignedWith checks every request the receiver got is signed with secret.
func (rc *webhookReceiver) assertSignedWith(t *testing.T, secret string, want int) {
	t.Helper()
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.received) != want {
		t.Fatalf("the receiver got %d requests; want %d", len(rc.received), want)
	}
	for _, req := range rc.received {
		secs, err := strconv.ParseInt(req.timestamp, 10, 64)
		if err != nil {
			t.Fatalf("webhook-timestamp = %q", req.timestamp)
		}
		sig, err := webhooks.Signature([]string{secret}, req.id, time.Unix(secs, 0), req.body)
		if err != nil || sig != req.signature {
			t.Fatalf("webhook-signature of %s = %q; want %q (%v)", req.id, req.signature, sig, err)
		}
	}
}

// The test button queues webhook.test; a worker sends it to a real
// receiver; the delivery log lists each attempt, newest first, a page at
// a time.
func TestAPIWebhooks_TestEventsAreSentAndTheDeliveryLogPagesThroughAttempts(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	rc := newWebhookReceiver(t)
	hook := api.createWebhook(map[string]any{"url": rc.url, "event_types": []string{"session.cancelled"}})

	var ids []string
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError, http.StatusNoContent} {
		sent := decodeAs[map[string]string](t, api.call(http.MethodPost, webhookPath(hook.ID, "/test"), nil), http.StatusAccepted)
		id := sent["webhook_id"]
		if n, ok := strings.CutPrefix(id, "msg_"); !ok || len(sent) != 1 {
			t.Fatalf("test answer = %v; want only webhook_id msg_<n>", sent)
		} else if _, err := strconv.ParseInt(n, 10, 64); err != nil {
			t.Fatalf("webhook_id = %q; want msg_ and a number", id)
		}
		rc.answer(id, status)
		ids = append(ids, id)
	}
	if h := api.webhookHealth(hook.ID); h.Queued != 3 {
		t.Fatalf("health = %+v; want the three test events queued", h)
	}
	worker := webhooks.NewWorker(env.store, webhooks.NewClient(true), slog.New(slog.NewTextHandler(t.Output(), nil)))
	if n, err := worker.DeliverBatch(t.Context()); err != nil || n != 3 {
		t.Fatalf("DeliverBatch = %d, %v; want the three test events", n, err)
	}
	rc.assertSignedWith(t, hook.Secret, 3)
	// A fourth that got no answer at all, recorded as the worker would.
	assertStatus(t, api.call(http.MethodPost, webhookPath(hook.ID, "/test"), nil), http.StatusAccepted)
	env.answerWebhooks(t, 0, "connection refused", 1500*time.Millisecond)

	type want struct {
		status      int // 0: null
		err, result string
	}
	wants := []want{ // newest first
		{0, "connection refused", "queued"},
		{http.StatusNoContent, "", "delivered"},
		{http.StatusInternalServerError, "answered 500", "queued"},
		{http.StatusOK, "", "delivered"},
	}
	first := decodeAs[listJSON[webhookAttemptJSON]](t, api.get(webhookPath(hook.ID, "/deliveries?limit=3")), http.StatusOK)
	if len(first.Data) != 3 || first.NextCursor == nil {
		t.Fatalf("first page = %+v; want 3 attempts and a cursor", first)
	}
	second := decodeAs[listJSON[webhookAttemptJSON]](t,
		api.get(webhookPath(hook.ID, "/deliveries?limit=3&cursor="+*first.NextCursor)), http.StatusOK)
	if len(second.Data) != 1 || second.NextCursor != nil {
		t.Fatalf("second page = %+v; want the last attempt and no cursor", second)
	}
	attempts := append(first.Data, second.Data...)
	for i, a := range attempts {
		w := wants[i]
		code := 0
		if a.StatusCode != nil {
			code = *a.StatusCode
		}
		if code != w.status || a.Error != w.err || a.DeliveryStatus != w.result || a.EventType != models.EventWebhookTest ||
			a.AttemptedAt != rfc3339(testNow) || a.DeliveryID <= 0 || a.ID <= 0 || a.DurationMS < 0 {
			t.Fatalf("attempt %d = %+v; want status %d, error %q, delivery %s", i, a, w.status, w.err, w.result)
		}
		if i > 0 && a.ID >= attempts[i-1].ID {
			t.Fatalf("attempts are not newest first: %+v", attempts)
		}
	}
	if attempts[0].DurationMS != 1500 {
		t.Fatalf("duration_ms = %d; want 1500", attempts[0].DurationMS)
	}
	raw := api.get(webhookPath(hook.ID, "/deliveries?limit=1"))
	if !strings.Contains(raw.body, `"status_code":null`) {
		t.Fatalf("an attempt without an answer shows no null status_code: %s", raw.body)
	}

	h := api.webhookHealth(hook.ID)
	if h.Delivered24h != 2 || h.Failed24h != 2 || h.Queued != 2 || h.LastAttemptAt == nil || *h.LastAttemptAt != rfc3339(testNow) {
		t.Fatalf("health = %+v; want 2 delivered, 2 failed, 2 retries queued, last attempt now", h)
	}
	env.clock.Set(testNow.Add(25 * time.Hour))
	if h := api.webhookHealth(hook.ID); h.Delivered24h != 0 || h.Failed24h != 0 || h.LastAttemptAt == nil {
		t.Fatalf("health a day later = %+v; want no attempts in 24 hours but the last one kept", h)
	}
}

// Replay queues a delivery again, now, with the same webhook-id; one being
// sent cannot be.
func TestAPIWebhooks_ReplayQueuesTheDeliveryAgain(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	hook := api.createWebhook(map[string]any{"url": hookURL})
	sent := decodeAs[map[string]string](t, api.call(http.MethodPost, webhookPath(hook.ID, "/test"), nil), http.StatusAccepted)
	delivered := env.answerWebhooks(t, http.StatusOK, "", 30*time.Millisecond)
	if len(delivered) != 1 || delivered[0].MessageID() != sent["webhook_id"] {
		t.Fatalf("delivered %+v; want the test event %s", delivered, sent["webhook_id"])
	}
	did := delivered[0].ID
	replay := webhookPath(hook.ID, "/deliveries/"+strconv.FormatInt(did, 10)+"/replay")

	r := api.call(http.MethodPost, replay, nil)
	assertStatus(t, r, http.StatusAccepted)
	if h := api.webhookHealth(hook.ID); h.Queued != 1 {
		t.Fatalf("health after replay = %+v; want the delivery queued", h)
	}
	log := decodeAs[listJSON[webhookAttemptJSON]](t, api.get(webhookPath(hook.ID, "/deliveries")), http.StatusOK)
	if len(log.Data) != 1 || log.Data[0].DeliveryID != did || log.Data[0].DeliveryStatus != "queued" {
		t.Fatalf("delivery log = %+v; want the attempt, its delivery queued again", log.Data)
	}
	again, err := env.store.ClaimWebhookDeliveries(t.Context(), 10, time.Minute)
	if err != nil || len(again) != 1 || again[0].ID != did || again[0].MessageID() != sent["webhook_id"] || again[0].Attempts != 1 {
		t.Fatalf("claimed after replay = %+v, %v; want delivery %d again, same webhook-id, retries started over", again, err, did)
	}
	// Being sent now: 409, and it stays with its sender.
	p := assertProblem(t, api.call(http.MethodPost, replay, nil), http.StatusConflict)
	if !strings.Contains(p.Detail, "being sent right now") {
		t.Fatalf("detail = %q", p.Detail)
	}
}

// An organizer's token is refused on every webhook route, whether the
// endpoint exists or not, and nothing changes.
func TestAPIWebhooks_AnOrganizersTokenIsRefusedOnEveryRoute(t *testing.T) {
	env := newHostileEnv(t)
	hook, did := env.apiClient(t).webhookWithAttempt(http.StatusOK, "")
	org := env.tokenClient(t, env.addAccount(t, "organizer@example.com", models.RoleOrganizer))
	assertStatus(t, org.get("/api/v1/panels"), http.StatusOK) // its first use is noted before the snapshot
	valid := map[string]any{"url": "https://evil.example.net/steal", "event_types": []string{"*"}}
	routes := []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/webhooks", nil},
		{http.MethodPost, "/api/v1/webhooks", valid},
		{http.MethodGet, webhookPath(hook.ID, ""), nil},
		{http.MethodPatch, webhookPath(hook.ID, ""), valid},
		{http.MethodDelete, webhookPath(hook.ID, ""), nil},
		{http.MethodPost, webhookPath(hook.ID, "/rotate-secret"), nil},
		{http.MethodPost, webhookPath(hook.ID, "/test"), nil},
		{http.MethodGet, webhookPath(hook.ID, "/deliveries"), nil},
		{http.MethodPost, webhookPath(hook.ID, fmt.Sprintf("/deliveries/%d/replay", did)), nil},
		{http.MethodGet, webhookPath(999999, ""), nil},
		{http.MethodPut, webhookPath(hook.ID, ""), valid},
	}
	before := env.snapshot(t)
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := org.call(rt.method, rt.path, rt.body)
			p := assertProblem(t, r, http.StatusForbidden)
			if !strings.Contains(p.Detail, "Only an owner's token manages webhooks.") {
				t.Fatalf("detail = %q", p.Detail)
			}
			if strings.Contains(r.body, "whsec_") || strings.Contains(r.body, hookURL) {
				t.Fatalf("the refusal shows the endpoint: %s", r.body)
			}
		})
	}
	assertUnchanged(t, before, env.snapshot(t))
}

// A sign-up through the public form queues one registration.created
// delivery, to the active endpoint that wants it and no other.
func TestWebhooks_PublicSignUpQueuesOneRegistrationCreatedDelivery(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "webhooked", models.Session{Capacity: 10})
	wants := api.createWebhook(map[string]any{"url": hookURL, "event_types": []string{"registration.created"}})
	other := api.createWebhook(map[string]any{"url": "https://crm.example.org/in", "event_types": []string{"session.cancelled"}})
	off := api.createWebhook(map[string]any{"url": "https://off.example.org/in", "event_types": []string{"*"}})
	assertStatus(t, api.call(http.MethodPatch, webhookPath(off.ID, ""), `{"active": false}`), http.StatusOK)

	assertStatus(t, env.browser(t).signUp("webhooked", person("ada@example.com")), http.StatusSeeOther)
	for id, queued := range map[int64]int{wants.ID: 1, other.ID: 0, off.ID: 0} {
		if h := api.webhookHealth(id); h.Queued != queued {
			t.Fatalf("endpoint %d: health %+v; want %d queued", id, h, queued)
		}
	}
	claimed, err := env.store.ClaimWebhookDeliveries(t.Context(), 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("deliveries = %+v, %v; want exactly one", claimed, err)
	}
	d := claimed[0]
	if d.EndpointID != wants.ID || d.EventType != models.EventRegistrationCreated || d.URL != hookURL {
		t.Fatalf("delivery = %+v; want registration.created to %s", d, hookURL)
	}
	var body struct {
		Type, Timestamp string
		Data            models.RegistrationEventData
	}
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatalf("event body %s: %v", d.Body, err)
	}
	data := body.Data
	if body.Type != models.EventRegistrationCreated || body.Timestamp != rfc3339(testNow) || data.Email != "ada@example.com" ||
		data.Name != "Ada Lovelace" || data.PanelTitle != "Panel webhooked" || data.PanelSlug != "webhooked" ||
		data.SessionID != p.Sessions[0].ID || data.Status != string(models.RegistrationConfirmed) || data.RegistrationID <= 0 {
		t.Fatalf("event body = %s", d.Body)
	}
}

// webhookSecretField is the secret on the page that shows it once.
var webhookSecretField = regexp.MustCompile(`id="webhook-secret" class="secret" value="([^"]+)"`)

// shownSecret is the secret a page shows, checking the page is not stored.
func shownSecret(t *testing.T, r response) string {
	t.Helper()
	assertStatus(t, r, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q; want no-store on the page with the secret", cc)
	}
	m := webhookSecretField.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", r.body)
	}
	secret := html.UnescapeString(m[1])
	if !webhookSecretPattern.MatchString(secret) {
		t.Fatalf("secret = %q", secret)
	}
	return secret
}

// assertFlash checks an admin action's 303 and the message it left.
func assertFlash(t *testing.T, b *browser, r response, location, flash string) {
	t.Helper()
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != location {
		t.Fatalf("Location = %q; want %q", loc, location)
	}
	if got := flashMessage(b); got != flash {
		t.Fatalf("flash = %q; want %q", got, flash)
	}
}

func TestAdminWebhooks_OwnerAddsAnEndpointSeesItsSecretOnceAndUsesEachButton(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOwner)
	assertContains(t, b.get("/admin/webhooks").body, "No endpoints yet.", `name="event_types" id="field-event-types-0" value="registration.created"`)

	form := url.Values{"url": {hookURL}, "description": {"CRM"}, "event_types": {"session.updated", "registration.created"}}
	secret := shownSecret(t, b.postForm("/admin/webhooks", form))
	eps, err := env.store.WebhookEndpoints(t.Context())
	if err != nil || len(eps) != 1 || eps[0].URL != hookURL || eps[0].Description != "CRM" || !eps[0].Active ||
		!slices.Equal([]string(eps[0].EventTypes), []string{"registration.created", "session.updated"}) {
		t.Fatalf("endpoints = %+v, %v", eps, err)
	}
	ep := &eps[0]
	if got, err := env.store.SigningSecrets(ep, testNow); err != nil || !slices.Equal(got, []string{secret}) {
		t.Fatalf("signing secrets = %v, %v; want the one shown", got, err)
	}
	base := "/admin/webhooks/" + itoa(ep.ID)
	list := b.get("/admin/webhooks")
	assertContains(t, list.body, `href="`+base+`"`, hookURL, "registration.created, session.updated", "Active")
	page := b.get(base)
	assertStatus(t, page, http.StatusOK)
	assertContains(t, page.body, hookURL, "CRM", "registration.created, session.updated", "Nothing sent yet.")
	for _, r := range []response{list, page} {
		if strings.Contains(r.body, "whsec_") {
			t.Fatalf("a page shows the secret again:\n%s", r.body)
		}
	}

	assertFlash(t, b, b.postForm(base+"/test", nil), base, "ok:Test event queued: it appears below once sent.")
	health, err := env.store.WebhookEndpointHealth(t.Context(), ep.ID)
	if err != nil || health.Queued != 1 {
		t.Fatalf("health = %+v, %v; want the test event queued", health, err)
	}
	did := env.answerWebhooks(t, http.StatusOK, "", 12*time.Millisecond)[0].ID
	replay := fmt.Sprintf("%s/deliveries/%d/replay", base, did)
	assertContains(t, b.get(base).body, "Delivered (200)", "webhook.test", "12 ms", `action="`+replay+`"`)
	assertFlash(t, b, b.postForm(replay, nil), base, "ok:Queued to be sent again.")
	if health, err = env.store.WebhookEndpointHealth(t.Context(), ep.ID); err != nil || health.Queued != 1 {
		t.Fatalf("health after replay = %+v, %v; want it queued again", health, err)
	}

	rotated := shownSecret(t, b.postForm(base+"/rotate", nil))
	if rotated == secret {
		t.Fatal("rotating showed the same secret")
	}
	assertFlash(t, b, b.postForm(base+"/disable", nil), base, "ok:Endpoint turned off: it receives no events.")
	if got, err := env.store.WebhookEndpointByID(t.Context(), ep.ID); err != nil || got.Active {
		t.Fatalf("after turning off: %+v, %v", got, err)
	}
	assertContains(t, b.get(base).body, "Turned off", `action="`+base+`/enable"`)
	assertFlash(t, b, b.postForm(base+"/enable", nil), base, "ok:Endpoint turned back on.")
	if got, err := env.store.WebhookEndpointByID(t.Context(), ep.ID); err != nil || !got.Active {
		t.Fatalf("after turning on: %+v, %v", got, err)
	}
	assertFlash(t, b, b.postForm(base+"/delete", nil), "/admin/webhooks", "ok:Endpoint deleted.")
	assertStatus(t, b.get(base), http.StatusNotFound)
	if eps, err := env.store.WebhookEndpoints(t.Context()); err != nil || len(eps) != 0 {
		t.Fatalf("endpoints after delete = %+v, %v", eps, err)
	}
}

// An organizer gets 403 on every webhook page and button, even with a
// valid CSRF token, and nothing changes.
func TestAdminWebhooks_AnOrganizerIsRefusedEverywhere(t *testing.T) {
	env := newHostileEnv(t)
	hook, did := env.apiClient(t).webhookWithAttempt(http.StatusOK, "")
	b := env.adminBrowser(t, models.RoleOrganizer)
	token := b.csrf()
	base := "/admin/webhooks/" + itoa(hook.ID)
	before := env.snapshot(t)
	for _, path := range []string{"/admin/webhooks", base} {
		r := b.get(path)
		assertAnswer(t, r, http.StatusForbidden, "Only an owner can manage accounts, API tokens, webhooks and people's data, or read the audit log.")
		if strings.Contains(r.body, hookURL) {
			t.Fatalf("GET %s shows the endpoint:\n%s", path, r.body)
		}
	}
	posts := map[string]url.Values{
		"/admin/webhooks": {"url": {"https://evil.example.net/steal"}},
		base + "/test":    nil,
		base + "/rotate":  nil,
		base + "/disable": nil,
		base + "/enable":  nil,
		base + "/delete":  nil,
		fmt.Sprintf("%s/deliveries/%d/replay", base, did): nil,
	}
	for path, form := range posts {
		if form == nil {
			form = url.Values{}
		}
		form.Set("_csrf", token)
		r := b.post(path, form)
		assertAnswer(t, r, http.StatusForbidden, "Owners only")
		if strings.Contains(r.body, "whsec_") {
			t.Fatalf("POST %s shows a secret:\n%s", path, r.body)
		}
	}
	assertUnchanged(t, before, env.snapshot(t))
}
