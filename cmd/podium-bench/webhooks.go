package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"podium/models"
)

// webhookBody is every seeded event's body.
const webhookBody = `{"type":"webhook.test","timestamp":"2026-01-01T00:00:00Z","data":{"message":"podium-bench"}}`

// webhookPhase registers an endpoint on a loopback receiver through the
// API, then commits o.webhooks events for it at once and times the
// server's worker delivering every one (each webhook-id counted once).
func (b *bench) webhookPhase(ctx context.Context) (result, error) {
	recv, err := newReceiver()
	if err != nil {
		return result{}, err
	}
	defer recv.close()
	id, err := createEndpoint(ctx, b.servers[0].base, b.token, recv.url)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	if err := seedWebhookEvents(ctx, b.dsn, id, b.o.webhooks); err != nil {
		return result{}, err
	}
	seeded := time.Since(start)
	err = waitFor(ctx, drainTimeout, "webhook deliveries", func() (bool, error) {
		return recv.count() >= b.o.webhooks, nil
	})
	if err != nil {
		return result{}, err
	}
	took := time.Since(start)
	return result{phase: fmt.Sprintf("webhooks: %d events to a loopback receiver", b.o.webhooks), count: recv.count(),
		rate: float64(b.o.webhooks) / took.Seconds(),
		note: fmt.Sprintf("committed in one transaction in %v, all delivered %v after; %d requests in all (retries included), "+
			"%d distinct webhook-ids", seeded.Round(time.Millisecond), took.Round(time.Millisecond), recv.requests(), recv.count())}, nil
}

// receiver counts the webhook-ids it is sent, answering 204.
type receiver struct {
	url  string
	srv  *http.Server
	mu   sync.Mutex
	ids  map[string]bool
	reqs int
}

func newReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String() + "/hook", ids: map[string]bool{}}
	r.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		r.mu.Lock()
		r.ids[req.Header.Get("webhook-id")] = true
		r.reqs++
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) count() int    { r.mu.Lock(); defer r.mu.Unlock(); return len(r.ids) }
func (r *receiver) requests() int { r.mu.Lock(); defer r.mu.Unlock(); return r.reqs }
func (r *receiver) close()        { _ = r.srv.Close() }

// createEndpoint adds an endpoint through the API, as an organizer's tool would.
func createEndpoint(ctx context.Context, base, token, url string) (int64, error) {
	body := fmt.Sprintf(`{"url": %q, "description": "podium-bench", "event_types": ["registration.created"]}`, url)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/webhooks", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		problem, _ := io.ReadAll(resp.Body)
		return 0, fmt.Errorf("POST /api/v1/webhooks: %d %s", resp.StatusCode, problem)
	}
	var answer struct {
		ID int64 `json:"id"`
	}
	return answer.ID, json.NewDecoder(resp.Body).Decode(&answer)
}

// seedWebhookEvents commits n events with a delivery each to the endpoint,
// in one transaction, so the worker finds them all at once.
func seedWebhookEvents(ctx context.Context, dsn string, endpointID int64, n int) error {
	now := time.Now().UTC()
	if models.IsPostgresURL(dsn) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return fmt.Errorf("seed webhooks: %w", err)
		}
		defer conn.Close(context.WithoutCancel(ctx))
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `WITH ev AS (
				INSERT INTO webhook_events (type, body, created_at)
				SELECT 'webhook.test', $1, $2 FROM generate_series(1, $3::int) RETURNING id)
				INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
				SELECT $4, id, 'queued', 0, $2, $2 FROM ev`, webhookBody, now, n, endpointID)
			return err
		})
	}
	db, err := sql.Open("sqlite3", "file:"+dsn+"?_busy_timeout=10000&_foreign_keys=on")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var first int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM webhook_events").Scan(&first); err != nil {
		return err
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO webhook_events (type, body, created_at) VALUES ('webhook.test', ?, ?)")
	if err != nil {
		return err
	}
	for range n {
		if _, err := stmt.ExecContext(ctx, webhookBody, now); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, next_attempt_at, created_at)
		SELECT ?, id, 'queued', 0, ?, ? FROM webhook_events WHERE id > ?`, endpointID, now, now, first); err != nil {
		return err
	}
	return tx.Commit()
}
