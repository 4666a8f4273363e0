package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"podium/models"
)

// hookReceiver is a webhook receiver that checks each request's signature
// with the Standard Webhooks reference library and counts webhook-ids.
type hookReceiver struct {
	t      *testing.T
	verify *standardwebhooks.Webhook
	mu     sync.Mutex
	seen   map[string]int
	bad    int
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	time.Sleep(20 * time.Millisecond) // a receiver doing some work: kills land mid-batch
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.verify.Verify(body, req.Header) != nil {
		r.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.seen[req.Header.Get("webhook-id")]++
	w.WriteHeader(http.StatusNoContent)
}

func (r *hookReceiver) counts() (distinct, total, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seen {
		total += n
	}
	return len(r.seen), total, r.bad
}

// Killing podium -9 while it delivers webhooks loses none: every event
// reaches the receiver, signed, and a repeat (what was in flight) carries
// the same webhook-id.
func TestFault_KillDuringWebhookDeliveriesLosesNone(t *testing.T) {
	const n, kills = 600, 3
	path := filepath.Join(t.TempDir(), "podium.db")
	ctx := context.Background()
	store, err := models.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	recv := &hookReceiver{t: t, seen: map[string]int{}}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	_, secret, err := store.CreateWebhookEndpoint(ctx, models.WebhookInput{URL: srv.URL + "/hook", Active: true}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if recv.verify, err = standardwebhooks.NewWebhook(secret); err != nil {
		t.Fatal(err)
	}
	ep, err := store.WebhookEndpoints(ctx)
	if err != nil || len(ep) != 1 {
		t.Fatalf("endpoints = %v, %v", ep, err)
	}
	for range n {
		if _, err := store.SendTestWebhook(ctx, ep[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	env := []string{"PODIUM_DEMO=false", "PODIUM_WEBHOOK_ALLOW_PRIVATE=true"}
	p := startProcess(t, path, env...)
	for k := 1; k <= kills; k++ {
		target := k * n / (kills + 1)
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if d, _, _ := recv.counts(); d >= target {
				break
			}
		}
		p.kill(t)
		p = startProcess(t, path, env...)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if d, _, _ := recv.counts(); d == n {
			break
		}
	}
	distinct, total, bad := recv.counts()
	if distinct != n || bad != 0 {
		t.Fatalf("receiver saw %d of %d events (%d requests, %d badly signed)", distinct, n, total, bad)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for i := 1; i <= n; i++ {
		if recv.seen[fmt.Sprintf("msg_%d", i)] == 0 {
			t.Fatalf("msg_%d never arrived", i)
		}
	}
	// A kill can only repeat what was in flight: one claim of 128.
	if total-n > kills*128 {
		t.Fatalf("%d repeats after %d kills; want at most the batches in flight", total-n, kills)
	}
	t.Logf("%d events delivered after %d kills, %d repeats (same webhook-id)", n, kills, total-n)
}
