package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Fanout is a session change being written to the outbox in batches.
type Fanout struct {
	ID                 int64
	SessionID          int64
	Kind               OutboxKind // session_updated or session_cancelled
	Sequence           int
	LastRegistrationID int64
	NextRegistrationID int64
	Total              int
	Enqueued           int
	Status             string // running or done
	CreatedAt          time.Time
	FinishedAt         *time.Time
}

// Fan-out statuses.
const (
	FanoutRunning = "running"
	FanoutDone    = "done"
)

// fanoutBatch is how many registrations one write transaction covers, so the
// write lock is held for milliseconds, not for the whole session.
const fanoutBatch = 1000

// fanoutStatuses are the registrations a session change is sent to: updates
// go to everyone with the invite; a cancellation also tells the waitlist.
// An address not yet confirmed (Gating) is sent nothing until it is.
func fanoutStatuses(kind OutboxKind) []RegistrationStatus {
	if kind == KindSessionCancelled {
		return []RegistrationStatus{RegistrationConfirmed, RegistrationWaitlisted}
	}
	return []RegistrationStatus{RegistrationConfirmed}
}

// startFanout records a fan-out inside the transaction that changed the session.
func startFanout(tx *gorm.DB, now time.Time, sess *Session, kind OutboxKind) (*Fanout, error) {
	var last struct {
		MaxID int64
		N     int
	}
	err := tx.Model(&Registration{}).Select("COALESCE(MAX(id), 0) AS max_id, COUNT(*) AS n").
		Where("session_id = ? AND status IN ? AND confirm_by IS NULL", sess.ID, fanoutStatuses(kind)).Scan(&last).Error
	if err != nil {
		return nil, err
	}
	f := &Fanout{
		SessionID: sess.ID, Kind: kind, Sequence: sess.Sequence, LastRegistrationID: last.MaxID,
		Total: last.N, Status: FanoutRunning, CreatedAt: now,
	}
	if last.N == 0 {
		f.Status, f.FinishedAt = FanoutDone, &now
	}
	return f, tx.Create(f).Error
}

// jobsLockKey is the advisory lock of the instance that runs fan-outs and
// reminders at the moment ("podjob" in ASCII).
const jobsLockKey = 0x706f646a6f62

// AsJobsLeader runs fn, the background jobs' pass (fan-outs, reminders),
// unless another instance on the same PostgreSQL is running its pass right
// now; it reports whether fn ran. One pass at a time keeps a fan-out's
// batches and a reminder rule from being queued twice by two instances.
// On SQLite it always runs fn: one process serves the file.
func (s *Store) AsJobsLeader(ctx context.Context, fn func() error) (bool, error) {
	return s.dialect.exclusive(ctx, s.write, jobsLockKey, false, fn)
}

// RunFanoutBatch queues the next batch of the oldest running fan-out and
// reports how many messages it queued (0 when nothing is running).
func (s *Store) RunFanoutBatch(ctx context.Context) (int, error) {
	queued := 0
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var f Fanout
		err := tx.Where("status = ?", FanoutRunning).Order("id").Take(&f).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var regs []Registration
		err = tx.Where("session_id = ? AND status IN ? AND confirm_by IS NULL AND id > ? AND id <= ?",
			f.SessionID, fanoutStatuses(f.Kind), f.NextRegistrationID, f.LastRegistrationID).
			Order("id").Limit(fanoutBatch).Find(&regs).Error
		if err != nil {
			return err
		}
		now := s.Now()
		for _, group := range splitByInvite(f, regs) {
			if err := enqueueBatch(tx, now, group.regs, group.msg, group.withToken); err != nil {
				return err
			}
		}
		queued = len(regs)
		update := map[string]any{"enqueued": gorm.Expr("enqueued + ?", len(regs))}
		if len(regs) > 0 {
			update["next_registration_id"] = regs[len(regs)-1].ID
		}
		if len(regs) < fanoutBatch {
			update["status"], update["finished_at"] = FanoutDone, now
		}
		return tx.Model(&f).Updates(update).Error
	})
	return queued, err
}

type fanoutGroup struct {
	regs      []Registration
	msg       OutboxMessage
	withToken bool
}

// splitByInvite separates those who hold the invite (and get a calendar
// update or CANCEL) from waitlisted registrants told in words only.
func splitByInvite(f Fanout, regs []Registration) []fanoutGroup {
	method := CalendarRequest
	if f.Kind == KindSessionCancelled {
		method = CalendarCancel
	}
	confirmed := fanoutGroup{msg: OutboxMessage{Kind: f.Kind, CalendarMethod: method, Sequence: f.Sequence},
		withToken: f.Kind == KindSessionUpdated}
	waitlisted := fanoutGroup{msg: OutboxMessage{Kind: f.Kind, Sequence: f.Sequence}}
	for _, r := range regs {
		if r.Status == RegistrationConfirmed {
			confirmed.regs = append(confirmed.regs, r)
		} else {
			waitlisted.regs = append(waitlisted.regs, r)
		}
	}
	return []fanoutGroup{confirmed, waitlisted}
}

// FanoutByID reports a fan-out's progress.
func (s *Store) FanoutByID(ctx context.Context, id int64) (*Fanout, error) {
	var f Fanout
	err := s.read.WithContext(ctx).Take(&f, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &f, err
}
