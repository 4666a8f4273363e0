package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"gorm.io/gorm"
)

// maxGroup bounds how many sign-ups share one transaction, so one commit
// never holds the write lock for long.
const maxGroup = 128

// txGroup commits concurrent sign-ups together. Every sign-up is its own
// write transaction in meaning, but a durable commit costs an fsync, and on
// one write connection the fsyncs queue up: with many people signing up at
// once, Podium would spend its time waiting for the disk. So callers queue
// their work; one of them (the leader) runs everything queued so far in one
// transaction and commits once. A piece that fails is undone alone; the
// others are not affected. Nobody is answered before the commit that holds
// their work.
//
// A piece could be undone with a SAVEPOINT of its own, but savepoints made
// SQLite copy every page a sign-up touched into its sub-journal: a third of
// the single writer's time (BenchmarkRegister_Concurrent). Most pieces that
// fail, fail on the models' own checks (a full session, a closed one, an
// invalid form) before they write anything, so the leader first runs the
// batch without savepoints. Such a failure needs nothing undone; any other
// failure (a database error, a panic) rolls the whole batch back, and the
// leader runs it again with a savepoint around each piece.
type txGroup struct {
	mu      sync.Mutex
	pending []*groupedTx
	// lead is held by the caller that is running a batch.
	lead chan struct{}
}

type groupedTx struct {
	// key orders a batch's pieces (the session a sign-up is for), so that
	// two instances' batches take their session rows' locks in one order
	// and never deadlock on PostgreSQL.
	key  int64
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	done chan error
}

func newTxGroup() *txGroup { return &txGroup{lead: make(chan struct{}, 1)} }

// inGroupTx runs fn in a write transaction that it may share with other
// callers of inGroupTx, as described on txGroup. fn must only touch the
// database through tx, and its effects outside the database must wait until
// inGroupTx returns nil. fn may run twice (see txGroup), and it must return
// the models' own errors (refused) only before its first write.
func (s *Store) inGroupTx(ctx context.Context, key int64, fn func(tx *gorm.DB) error) error {
	g := s.group
	me := &groupedTx{key: key, ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, me)
	g.mu.Unlock()
	for {
		// An answer wins over the lead, so a caller whose work is done
		// returns rather than running its neighbours'.
		select {
		case err := <-me.done:
			return err
		default:
		}
		select {
		case err := <-me.done:
			return err
		case g.lead <- struct{}{}:
			// This caller leads for one batch: the oldest work queued, its
			// own among it unless more than maxGroup came before.
			if batch := g.take(); len(batch) > 0 {
				s.runGroup(batch)
			}
			<-g.lead
		}
	}
}

// take removes up to maxGroup of the oldest queued pieces of work.
func (g *txGroup) take() []*groupedTx {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.pending), maxGroup)
	batch := g.pending[:n:n]
	g.pending = g.pending[n:]
	return batch
}

// runGroup runs a batch in one transaction and answers every caller. The
// pieces run in key order, and in arrival order within a key, so each
// sign-up still sees those that came before it for its session.
func (s *Store) runGroup(batch []*groupedTx) {
	slices.SortStableFunc(batch, func(a, b *groupedTx) int { return cmp.Compare(a.key, b.key) })
	errs, err := s.runBatch(batch, false)
	if errors.Is(err, errUndoPieces) {
		errs, err = s.runBatch(batch, true)
	}
	for i, g := range batch {
		if err != nil {
			errs[i] = err
		}
		g.done <- errs[i]
	}
}

// errUndoPieces ends a batch run without savepoints in which a piece failed
// in a way that may have left writes behind.
var errUndoPieces = errors.New("a grouped piece failed after it may have written")

// runBatch runs a batch in one transaction and returns each piece's error,
// and the transaction's. With undo, each piece runs inside a savepoint;
// without, a piece's failure other than refused rolls the whole
// batch back with errUndoPieces.
func (s *Store) runBatch(batch []*groupedTx, undo bool) ([]error, error) {
	errs := make([]error, len(batch))
	// The batch is not bound to any one caller's context: a client that went
	// away must not take its neighbours' sign-ups with it.
	err := s.write.WithContext(context.Background()).Transaction(func(tx *gorm.DB) error {
		for i, g := range batch {
			if errs[i] = g.ctx.Err(); errs[i] != nil {
				continue
			}
			if !undo {
				if errs[i] = runGrouped(tx, g.fn); errs[i] != nil && !refused(errs[i]) {
					return errUndoPieces
				}
				continue
			}
			// One name for every piece, released before the next begins:
			// a name per piece would be a new SQL text each time and push
			// the sign-up's own statements out of the statement cache.
			if _, err := execSQL(tx, "SAVEPOINT signup"); err != nil {
				return err
			}
			if errs[i] = runGrouped(tx, g.fn); errs[i] != nil {
				// A failed rollback means SQLite ended the transaction
				// itself (disk full, I/O error): nothing in it stands.
				if _, err := execSQL(tx, "ROLLBACK TO SAVEPOINT signup"); err != nil {
					return err
				}
			}
			if _, err := execSQL(tx, "RELEASE SAVEPOINT signup"); err != nil {
				return err
			}
		}
		return nil
	})
	return errs, err
}

// runGrouped runs one caller's work, turning a panic into its error so the
// leader goes on answering the rest of the batch.
func runGrouped(tx *gorm.DB, fn func(tx *gorm.DB) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sign-up failed: %v", r)
		}
	}()
	return fn(tx)
}
