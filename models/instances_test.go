package models

import (
	"podium/models/pgtest"

	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// These tests open one database through several stores, as several
// instances behind a load balancer would (on SQLite, several processes on
// one file, which Podium does not run but must not corrupt).

// openInstances opens n stores on one new database, the first migrated.
func openInstances(t *testing.T, n int) []*Store {
	t.Helper()
	dsn := testDSN(t)
	stores := make([]*Store, n)
	for i := range stores {
		s, err := Open(context.Background(), dsn, WithClock(func() time.Time { return testNow }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	return stores
}

func TestInstances_StartTogetherOnAnEmptyDatabase(t *testing.T) {
	if !pgtest.Postgres() {
		t.Skip("PostgreSQL only: one process serves a SQLite file")
	}
	dsn := testDSN(t)
	const n = 4
	errs := make([]error, n)
	seeded := make([]bool, n)
	owners := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Connect(dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			ctx := context.Background()
			if errs[i] = s.Migrate(ctx); errs[i] != nil {
				return
			}
			if owners[i], errs[i] = s.CreateFirstOwner(ctx, "owner@example.com", "a long enough password"); errs[i] != nil {
				return
			}
			seeded[i], errs[i] = s.SeedDemo(ctx)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("starting together: %v", err)
	}
	count := func(bs []bool) (k int) {
		for _, b := range bs {
			if b {
				k++
			}
		}
		return k
	}
	if count(seeded) != 1 || count(owners) != 1 {
		t.Fatalf("demo seeded by %d instances, owner created by %d; want 1 each", count(seeded), count(owners))
	}
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	panels, err := s.CountPanels(context.Background())
	accounts, err2 := s.Accounts(context.Background())
	if err != nil || err2 != nil || panels != 1 || len(accounts) != 1 {
		t.Fatalf("after a start together: %d panels, %d accounts (%v, %v); want 1 and 1", panels, len(accounts), err, err2)
	}
}

func TestInstances_SplitARaceForSeatsExactly(t *testing.T) {
	stores := openInstances(t, 2)
	p, sess := newTestPanel(t, stores[0], 50, false)
	const signUps = 300
	var mu sync.Mutex
	confirmed, full := 0, 0
	var other []error
	var wg sync.WaitGroup
	for i := range signUps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := stores[i%2].Register(context.Background(), p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i)))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && res.Registration.Status == RegistrationConfirmed:
				confirmed++
			case errors.Is(err, ErrSessionFull):
				full++
			default:
				other = append(other, fmt.Errorf("%v %v", res, err))
			}
		}()
	}
	wg.Wait()
	if confirmed != 50 || full != signUps-50 || len(other) > 0 {
		t.Fatalf("confirmed %d, full %d, other %v; want 50 and %d", confirmed, full, other, signUps-50)
	}
	assertSeatsTaken(t, stores[1], sess.ID, 50)
}

func TestInstances_SameAddressFromBothAtOnceRegistersOnce(t *testing.T) {
	stores := openInstances(t, 2)
	const rounds, perStore = 30, 2
	p, sess := newTestPanel(t, stores[0], rounds, false)
	for r := range rounds {
		email := fmt.Sprintf("same%d@example.com", r)
		errs := make([]error, 2*perStore)
		pgtest.AtOnce(len(errs), func(i int) {
			_, errs[i] = stores[i%2].Register(context.Background(), p.ID, validInput(sess.ID, email))
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: a repeated sign-up failed instead of answering as a duplicate: %v", r, err)
		}
	}
	counts, err := stores[1].RegistrationCounts(context.Background(), sess.ID)
	if err != nil || counts[RegistrationConfirmed] != rounds || len(counts) != 1 {
		t.Fatalf("registrations = %v, %v; want %d confirmed, one per address", counts, err, rounds)
	}
	assertSeatsTaken(t, stores[1], sess.ID, rounds)
}

func TestInstances_ClaimEveryMessageOnce(t *testing.T) {
	stores := openInstances(t, 2)
	p, sess := newTestPanel(t, stores[0], 0, false)
	const messages = 120
	for i := range messages {
		if _, err := stores[0].Register(context.Background(), p.ID, validInput(sess.ID, fmt.Sprintf("m%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimedBy := map[int64]int{}
	var wg sync.WaitGroup
	var claimErr error
	for _, s := range stores {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					msgs, err := s.ClaimOutbox(context.Background(), 7, time.Minute)
					mu.Lock()
					if err != nil {
						claimErr = err
					}
					for _, m := range msgs {
						claimedBy[m.ID]++
					}
					mu.Unlock()
					if err != nil || len(msgs) == 0 {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if claimErr != nil {
		t.Fatal(claimErr)
	}
	if len(claimedBy) != messages {
		t.Fatalf("claimed %d distinct messages; want %d", len(claimedBy), messages)
	}
	for id, n := range claimedBy {
		if n != 1 {
			t.Fatalf("message %d claimed %d times under a live lease", id, n)
		}
	}
}

func TestInstances_CancelOnePlaceFromBothAtOnceFreesOneSeat(t *testing.T) {
	stores := openInstances(t, 2)
	p, sess := newTestPanel(t, stores[0], 5, true)
	var tokens []string
	for i := range 4 {
		res, err := stores[0].Register(context.Background(), p.ID, validInput(sess.ID, fmt.Sprintf("c%d@example.com", i)))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, res.Token)
	}
	for _, tok := range tokens {
		errs := make([]error, 4)
		pgtest.AtOnce(len(errs), func(i int) { _, errs[i] = stores[i%2].CancelByToken(context.Background(), tok) })
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
	}
	assertSeatsTaken(t, stores[1], sess.ID, 0)
}

// Each instance commits its concurrent sign-ups together, taking one row
// lock per session in the batch: two batches meeting on two sessions must
// take them in one order, or PostgreSQL breaks a deadlock by failing one.
func TestInstances_SignUpsForTwoSessionsFromBothNeverDeadlock(t *testing.T) {
	stores := openInstances(t, 2)
	p, first := newTestPanel(t, stores[0], 0, false)
	second := Session{PanelID: p.ID, StartsAt: first.StartsAt.Add(time.Hour), DurationMinutes: 60, TimeZone: "Europe/London",
		Status: SessionScheduled, CreatedAt: testNow, UpdatedAt: testNow}
	if err := stores[0].write.Create(&second).Error; err != nil {
		t.Fatal(err)
	}
	sessions := []int64{first.ID, second.ID}
	const signUps = 400
	errs := make([]error, signUps)
	pgtest.AtOnce(signUps, func(i int) {
		// Each instance sees the sessions in the other order.
		session := sessions[(i/2+i%2)%2]
		_, errs[i] = stores[i%2].Register(context.Background(), p.ID, validInput(session, fmt.Sprintf("d%d@example.com", i)))
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("sign-ups failed: %v", err)
	}
	assertSeatsTaken(t, stores[1], first.ID, signUps/2)
	assertSeatsTaken(t, stores[1], second.ID, signUps/2)
}

// The jobs pass, and mail delivery while busy, run in one instance at a
// time: the others skip their turn rather than wait.
func TestInstances_OneRunsTheJobsPassAndTheBusyDeliveryAtATime(t *testing.T) {
	type exclusive func(*Store, context.Context, func() error) (bool, error)
	for name, run := range map[string]exclusive{"jobs pass": (*Store).AsJobsLeader, "busy delivery": (*Store).AsBusyDeliverer} {
		t.Run(name, func(t *testing.T) {
			stores := openInstances(t, 2)
			ctx := context.Background()
			inside := make(chan struct{})
			leave := make(chan struct{})
			led := make(chan error, 1)
			go func() {
				_, err := run(stores[0], ctx, func() error { close(inside); <-leave; return nil })
				led <- err
			}()
			<-inside
			ran, err := run(stores[1], ctx, func() error { return nil })
			close(leave)
			if err := errors.Join(err, <-led); err != nil {
				t.Fatal(err)
			}
			// One SQLite file is one process's: there it always runs.
			if want := !pgtest.Postgres(); ran != want {
				t.Fatalf("second instance ran = %v while the first ran; want %v", ran, want)
			}
			if ran, err := run(stores[1], ctx, func() error { return nil }); err != nil || !ran {
				t.Fatalf("after the first finished, the second ran = %v, %v; want true", ran, err)
			}
		})
	}
}

// Sign-ups through one instance while another reschedules the session:
// every confirmed registrant ends up holding the latest invite, either in
// their confirmation (they signed up after the change) or through the
// fan-out (before it). A sign-up that read the session before a change and
// wrote after it would get the old time and be missed by the fan-out.
func TestInstances_SignUpsDuringAnotherInstancesRescheduleAllGetTheLatestInvite(t *testing.T) {
	stores := openInstances(t, 2)
	p, sess := newTestPanel(t, stores[0], 0, false)
	ctx := context.Background()
	const signUps, moves = 240, 6
	var wg sync.WaitGroup
	errs := make(chan error, signUps+moves)
	for i := range signUps {
		wg.Go(func() {
			_, err := stores[0].Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("m%d@example.com", i)))
			errs <- err
		})
	}
	for i := range moves {
		wg.Go(func() {
			_, err := stores[1].EditSession(ctx, sess.ID, func(old *Session) SessionUpdate {
				return SessionUpdate{StartsAt: old.StartsAt.Add(time.Duration(i+1) * time.Minute), DurationMinutes: old.DurationMinutes,
					TimeZone: old.TimeZone, Capacity: old.Capacity, JoinURL: old.JoinURL, Venue: old.Venue}
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for {
		n, err := stores[1].RunFanoutBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	final, err := stores[1].SessionByID(ctx, sess.ID)
	if err != nil || final.Sequence != moves {
		t.Fatalf("sequence %d (%v); want %d", final.Sequence, err, moves)
	}
	var stale []int64
	err = stores[1].read.Raw(`SELECT r.id FROM registrations r WHERE r.session_id = ? AND NOT EXISTS (
		SELECT 1 FROM outbox_messages m WHERE m.registration_id = r.id AND m.sequence = ? AND m.calendar_method = ?)`,
		sess.ID, final.Sequence, CalendarRequest).Scan(&stale).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Fatalf("%d of %d registrants never get the invite of sequence %d: %v", len(stale), signUps, final.Sequence, stale)
	}
}
