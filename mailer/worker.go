package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"podium/models"
	"podium/views"
)

// Deliverer sends a batch of messages, one error slot per message; *Sender
// is the real one.
type Deliverer interface {
	Send(ctx context.Context, msgs []Message) []error
}

// Worker delivers the outbox: it claims due messages, renders them, sends
// them and records each outcome. Several workers may run at once; a lease
// keeps them from sending the same message.
type Worker struct {
	store    *models.Store
	renderer *views.EmailRenderer
	site     views.Site
	sender   Deliverer
	log      *slog.Logger
	wake     chan struct{}

	// Concurrency is how many batches are in flight at once.
	Concurrency int
	// Batch is how many messages one connection sends in a row.
	Batch int
	// Lease is how long a claimed message stays with this worker before
	// another may take it (a crash leaves it leased).
	Lease time.Duration
	// Poll is how often the worker looks for due retries when not woken.
	Poll time.Duration
	// Observe, when set, is told the outcome of each batch once recorded.
	Observe func([]models.DeliveryResult)
	// Busy, when set, reports that people are waiting for the server's CPU
	// (handlers.InFlight). Sign-ups come first: while it does, only the
	// first of the Concurrency loops delivers, and it rests busyPause after
	// each full batch, so a burst of sign-ups is not slowed by the burst of
	// confirmations it queues. Delivery goes on at a reduced pace; the rest
	// waits safely in the outbox and goes out at full speed after the burst.
	Busy func() bool
}

// sendGrace is how long a batch already being sent may go on once the
// worker is told to stop (a shutdown, a rolling deploy): long enough for a
// healthy relay to take it, so it is sent once rather than interrupted and
// tried again later, and short enough not to hold the shutdown up.
const sendGrace = 5 * time.Second

// afterStopping is a context that ends grace after ctx does.
func afterStopping(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return c, func() { stop(); cancel() }
}

// busyPause is how long a delivery loop rests for a busy server.
const busyPause = 100 * time.Millisecond

// NewWorker builds a worker with defaults suited to a typical relay.
func NewWorker(store *models.Store, renderer *views.EmailRenderer, site views.Site, sender Deliverer, log *slog.Logger) *Worker {
	return &Worker{
		store: store, renderer: renderer, site: site, sender: sender, log: log,
		wake:        make(chan struct{}, 1),
		Concurrency: 4, Batch: 25, Lease: 10 * time.Minute, Poll: 2 * time.Second,
	}
}

// Notify wakes the worker after something was queued; it never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. Messages left in flight by a process that died
// are picked up first.
func (w *Worker) Run(ctx context.Context) error {
	if n, err := w.store.ReleaseInFlight(ctx); err != nil {
		return err
	} else if n > 0 {
		w.log.Info("resuming messages that were in flight", "count", n)
	}
	var wg sync.WaitGroup
	for i := range max(w.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, i == 0)
		}()
	}
	wg.Wait()
	return nil
}

// loop delivers batches until ctx ends. Only the first loop delivers while
// the server is busy (see Busy).
func (w *Worker) loop(ctx context.Context, first bool) {
	ticker := time.NewTicker(w.Poll)
	defer ticker.Stop()
	for ctx.Err() == nil {
		if !first && w.busy() {
			w.rest(ctx)
			continue
		}
		n, err := w.deliverBatch(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("outbox delivery", "err", err)
		}
		if n == w.Batch && err == nil {
			continue // more may be due right away (deliverBatch rested if busy)
		}
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-ticker.C:
		}
	}
}

func (w *Worker) busy() bool { return w.Busy != nil && w.Busy() }

// deliverBatch is RunOnce as the loops run it (all but the first only while
// the server is not busy). While the server is busy, it delivers only
// if no other busy instance on the same database is delivering right now
// (models.Store.AsBusyDeliverer), and rests busyPause after a full batch
// before it lets another take its turn: a burst of sign-ups spread over N
// instances is slowed by one delivery loop, as on one instance, not by N.
func (w *Worker) deliverBatch(ctx context.Context) (n int, err error) {
	if !w.busy() {
		return w.RunOnce(ctx)
	}
	ran, lockErr := w.store.AsBusyDeliverer(ctx, func() error {
		if n, err = w.RunOnce(ctx); n == w.Batch && err == nil {
			w.rest(ctx)
		}
		return nil
	})
	if !ran && lockErr == nil {
		w.rest(ctx)
	}
	return n, errors.Join(err, lockErr)
}

// rest waits busyPause, or until ctx ends.
func (w *Worker) rest(ctx context.Context) {
	t := time.NewTimer(busyPause)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// RunOnce claims one batch, delivers it and records the outcomes. It reports
// how many messages it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	claimed, err := w.store.ClaimOutbox(ctx, w.Batch, w.Lease)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	results := make([]models.DeliveryResult, len(claimed))
	var outgoing []Message
	var slots []int
	now := w.store.Now()
	for i := range claimed {
		msg := &claimed[i]
		results[i] = models.DeliveryResult{ID: msg.ID, Attempts: msg.Attempts}
		if msg.Overtaken(now) {
			results[i].Skip = true
			continue
		}
		m, err := w.compose(msg, now)
		if err != nil {
			w.log.Error("render outbox message", "id", msg.ID, "err", err)
			results[i].Err, results[i].Permanent = err, true
			continue
		}
		outgoing = append(outgoing, m)
		slots = append(slots, i)
	}
	if len(outgoing) > 0 {
		sendCtx, done := afterStopping(ctx, sendGrace)
		defer done()
		for j, err := range w.sender.Send(sendCtx, outgoing) {
			r := &results[slots[j]]
			r.Err, r.Permanent = err, err != nil && IsPermanent(err)
			if err != nil {
				w.log.Warn("send failed", "id", r.ID, "attempt", r.Attempts, "permanent", r.Permanent, "err", err)
			}
		}
	}
	// Record even when ctx has ended: what was sent must not be sent again.
	if err := w.store.RecordDeliveries(context.WithoutCancel(ctx), results); err != nil {
		return len(claimed), err
	}
	if w.Observe != nil {
		w.Observe(results)
	}
	return len(claimed), nil
}

// compose renders an outbox message into a mail message.
func (w *Worker) compose(msg *models.OutboxMessage, now time.Time) (Message, error) {
	email, err := w.renderer.Render(w.site, msg, now)
	if err != nil {
		return Message{}, err
	}
	return Compose(w.site, msg, email), nil
}

// Compose addresses a rendered email. The Message-ID comes from the outbox
// row, so every retry of a message carries the same one.
func Compose(site views.Site, msg *models.OutboxMessage, email views.Email) Message {
	return Message{
		MessageID:      fmt.Sprintf("<outbox-%d@%s>", msg.ID, site.Host()),
		FromName:       site.MailName,
		FromAddress:    site.MailFrom,
		ToName:         msg.Registration.Name,
		ToAddress:      msg.Registration.Email,
		Subject:        email.Subject,
		Text:           email.Text,
		HTML:           email.HTML,
		Calendar:       email.Calendar,
		CalendarMethod: string(email.CalendarMethod),
		UnsubscribeURL: email.UnsubscribeURL,
	}
}
