package mailer

import (
	"context"
	"log/slog"
	"time"

	"podium/models"
)

// Jobs runs the background work that fills the outbox: session fan-outs,
// due reminders and follow-ups; and erases registrants past retention. notify is told whenever something was queued.
type Jobs struct {
	Store  *models.Store
	Notify func()
	Log    *slog.Logger
	// Interval is how often reminders and new fan-outs are looked for.
	Interval time.Duration
	wake     chan struct{}
	// retentionRun is when this runner last applied retention: it counts
	// every panel's registrants, and retention is counted in days, so once
	// an hour is enough.
	retentionRun time.Time
}

// retentionEvery is how often the runner applies retention.
const retentionEvery = time.Hour

// NewJobs builds the job runner, looking for work every 30 seconds.
func NewJobs(store *models.Store, notify func(), log *slog.Logger) *Jobs {
	return &Jobs{Store: store, Notify: notify, Log: log, Interval: 30 * time.Second, wake: make(chan struct{}, 1)}
}

// Wake makes the runner look for work now (after an organizer's change).
func (j *Jobs) Wake() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends.
func (j *Jobs) Run(ctx context.Context) error {
	ticker := time.NewTicker(j.Interval)
	defer ticker.Stop()
	for {
		j.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		case <-j.wake:
		}
	}
}

// RunOnce finishes every running fan-out and queues due reminders, unless
// another instance on the same PostgreSQL is doing so right now (then that
// one finishes them).
func (j *Jobs) RunOnce(ctx context.Context) {
	_, err := j.Store.AsJobsLeader(ctx, func() error { j.runPass(ctx); return nil })
	if err != nil && ctx.Err() == nil {
		j.Log.Error("jobs", "err", err)
	}
}

func (j *Jobs) runPass(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := j.Store.RunFanoutBatch(ctx)
		if err != nil {
			j.Log.Error("fan-out", "err", err)
			break
		}
		if n == 0 {
			break
		}
		j.Notify()
	}
	if err := j.Store.PruneRateLimits(ctx); err != nil && ctx.Err() == nil {
		j.Log.Error("rate limits", "err", err)
	}
	n, err := j.Store.EnqueueDueReminders(ctx)
	if err != nil && ctx.Err() == nil {
		j.Log.Error("reminders", "err", err)
	}
	if n > 0 {
		j.Log.Info("queued reminders", "count", n)
		j.Notify()
	}
	n, err = j.Store.QueueDueFollowUps(ctx)
	if err != nil && ctx.Err() == nil {
		j.Log.Error("follow-ups", "err", err)
	}
	if n > 0 {
		j.Log.Info("queued follow-ups", "count", n)
		j.Notify()
	}
	released, err := j.Store.ReleaseUnconfirmed(ctx)
	if err != nil && ctx.Err() == nil {
		j.Log.Error("unconfirmed registrations", "err", err)
	}
	if released > 0 {
		j.Log.Info("freed the places of addresses not confirmed in time", "count", released)
		j.Notify()
	}
	j.applyRetention(ctx)
}

// applyRetention erases the registrants past their panel's retention, at
// most once per retentionEvery.
func (j *Jobs) applyRetention(ctx context.Context) {
	if now := j.Store.Now(); now.Sub(j.retentionRun) >= retentionEvery {
		j.retentionRun = now
	} else {
		return
	}
	erased, err := j.Store.EraseExpired(ctx)
	if err != nil && ctx.Err() == nil {
		j.Log.Error("retention", "err", err)
	}
	for panel, count := range erased {
		j.Log.Info("erased registrants past their panel's retention", "panel", panel, "count", count)
	}
}
