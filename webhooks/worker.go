package webhooks

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"podium/models"
)

// Worker delivers due webhooks. Several may run at once, in one process or
// several on one PostgreSQL: a lease keeps them from sending the same
// delivery, and the receiver's idempotency key (webhook-id) covers a
// delivery sent again after a crash.
type Worker struct {
	store  *models.Store
	client *http.Client
	log    *slog.Logger
	wake   chan struct{}

	// Concurrency is how many requests are in flight at once.
	Concurrency int
	// Batch is how many deliveries one claim takes.
	Batch int
	// Lease is how long a claimed delivery stays with this worker: longer
	// than a batch can take (Timeout per request, Concurrency at a time).
	Lease time.Duration
	// Poll is how often the worker looks for due retries when not woken.
	Poll time.Duration
	// Busy, when set, reports that people are waiting for the server's CPU
	// (handlers.InFlight): deliveries then go a few at a time, with a rest
	// between batches, so that sign-ups come first.
	Busy func() bool
	// Disabled, when set, is told of each endpoint the worker's results
	// turned off (a 410, or three days of failures), to tell its owner.
	Disabled func(models.DisabledEndpoint)
}

// Pace under load.
const (
	busyConcurrency = 4
	// busyRounds bounds a busy batch to this many rounds of requests:
	// at Timeout each, well within the default Lease.
	busyRounds    = 4
	busyPause     = 100 * time.Millisecond
	maxAnswerRead = 4 << 10
)

// NewWorker builds a worker that sends through client.
func NewWorker(store *models.Store, client *http.Client, log *slog.Logger) *Worker {
	return &Worker{store: store, client: client, log: log, wake: make(chan struct{}, 1),
		Concurrency: 64, Batch: 128, Lease: 2 * time.Minute, Poll: time.Second}
}

// Notify wakes the worker after something was queued; it never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends; a batch already being sent is finished.
// Deliveries left in flight by a process that died are picked up first.
func (w *Worker) Run(ctx context.Context) error {
	if n, err := w.store.ReleaseWebhooksInFlight(ctx); err != nil {
		return err
	} else if n > 0 {
		w.log.Info("resuming webhook deliveries that were in flight", "count", n)
	}
	ticker := time.NewTicker(w.Poll)
	defer ticker.Stop()
	for ctx.Err() == nil {
		n, err := w.DeliverBatch(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("webhook delivery", "err", err)
		}
		busy := w.Busy != nil && w.Busy()
		if busy {
			sleep(ctx, busyPause)
		}
		if n > 0 && err == nil {
			continue // more may be due right away
		}
		select {
		case <-ctx.Done():
		case <-ticker.C:
		case <-w.wake:
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// DeliverBatch claims, sends and records one batch, and reports its size.
func (w *Worker) DeliverBatch(ctx context.Context) (int, error) {
	// Busy or not is decided before the claim, so that a batch sent a few
	// at a time is small enough to finish well within its lease.
	limit, size := max(w.Concurrency, 1), w.Batch
	if w.Busy != nil && w.Busy() {
		limit = min(limit, busyConcurrency)
		size = min(size, limit*busyRounds)
	}
	batch, err := w.store.ClaimWebhookDeliveries(ctx, size, w.Lease)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	// Requests already sent are finished and recorded even if ctx ends.
	sendCtx := context.WithoutCancel(ctx)
	results := make([]models.WebhookResult, len(batch))
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = w.send(sendCtx, &batch[i])
		}()
	}
	wg.Wait()
	disabled, err := w.store.RecordWebhookResults(sendCtx, results)
	for _, d := range disabled {
		w.log.Warn("webhook endpoint disabled", "endpoint", d.ID, "reason", d.Reason)
		if w.Disabled != nil {
			w.Disabled(d)
		}
	}
	return len(batch), err
}

// send makes one attempt and says how it went.
func (w *Worker) send(ctx context.Context, d *models.WebhookDelivery) models.WebhookResult {
	res := models.WebhookResult{ID: d.ID, EndpointID: d.EndpointID, Attempts: d.Attempts}
	now := time.Now()
	sig, err := Signature(d.Secrets, d.MessageID(), now, d.Body)
	if err != nil {
		res.Err = "not sent: the endpoint's secret is unreadable"
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		res.Err = "not sent: the endpoint's address is not valid"
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Podium-Webhooks/1.0")
	req.Header.Set("webhook-id", d.MessageID())
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.client.Do(req)
	res.Duration = time.Since(now)
	if err != nil {
		res.Err = describe(err)
		return res
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerRead))
	res.StatusCode = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Err = "answered " + strconv.Itoa(resp.StatusCode) + " (a redirect, not followed)"
	default:
		res.Err = "answered " + strconv.Itoa(resp.StatusCode)
		res.Gone = resp.StatusCode == http.StatusGone
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		}
	}
	return res
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
