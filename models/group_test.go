package models

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// together calls call(0) … call(n-1) from n goroutines while holding the
// group's lead, so all their pieces queue up and then run as one batch.
func together(t *testing.T, s *Store, n int, call func(i int)) {
	t.Helper()
	s.group.lead <- struct{}{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); call(i) }()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.group.mu.Lock()
		queued := len(s.group.pending)
		s.group.mu.Unlock()
		if queued == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d queued", queued, n)
		}
	}
	<-s.group.lead
	wg.Wait()
}

func TestGroupTx_AFailedPieceIsRolledBackAloneAndOthersCommitTogether(t *testing.T) {
	s, _ := newTestStore(t)
	failure := errors.New("refused")
	const n = 12
	ctxs := make([]context.Context, n)
	fns := make([]func(tx *gorm.DB) error, n)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range fns {
		ctxs[i] = context.Background()
		fns[i] = func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				1000+i, fmt.Sprintf("piece %d", i), testNow).Error; err != nil {
				return err
			}
			switch i % 4 {
			case 1:
				return failure
			case 2:
				panic("boom")
			}
			return nil
		}
	}
	ctxs[n-1] = cancelled
	errs := make([]error, n)
	together(t, s, n, func(i int) { errs[i] = s.inGroupTx(ctxs[i], 0, fns[i]) })
	var names []string
	if err := s.read.Raw("SELECT name FROM schema_migrations WHERE version >= 1000 ORDER BY version").Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	want := []string{"piece 0", "piece 3", "piece 4", "piece 7", "piece 8"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("stored %v; want %v", names, want)
	}
	for i, err := range errs {
		switch {
		case i == n-1:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled caller got %v", err)
			}
		case i%4 == 1:
			if !errors.Is(err, failure) {
				t.Errorf("piece %d got %v; want its own error", i, err)
			}
		case i%4 == 2:
			if err == nil {
				t.Errorf("piece %d panicked but got no error", i)
			}
		case err != nil:
			t.Errorf("piece %d got %v", i, err)
		}
	}
}

func TestGroupTx_RunsABatchAgainWithSavepointsOnlyWhenAPieceMayHaveWritten(t *testing.T) {
	s, _ := newTestStore(t)
	const n = 6
	batch := func(first int, dirty bool) (runs []int, errs []error) {
		var mu sync.Mutex
		runs, errs = make([]int, n), make([]error, n)
		together(t, s, n, func(i int) {
			errs[i] = s.inGroupTx(context.Background(), 0, func(tx *gorm.DB) error {
				mu.Lock()
				runs[i]++
				mu.Unlock()
				if i%3 == 1 {
					return ErrSessionFull // the models' own error, before any write
				}
				err := tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'x', ?)",
					first+i, testNow).Error
				if err == nil && dirty && i == n-1 {
					err = errors.New("failed after writing")
				}
				return err
			})
		})
		return runs, errs
	}
	stored := func(from int) []int {
		var versions []int
		s.read.Raw("SELECT version FROM schema_migrations WHERE version >= ? AND version < ? ORDER BY version",
			from, from+n).Scan(&versions)
		return versions
	}

	runs, errs := batch(1000, false)
	if fmt.Sprint(runs) != "[1 1 1 1 1 1]" {
		t.Fatalf("pieces ran %v times; want once each when every failure came before writing", runs)
	}
	if got := fmt.Sprint(stored(1000)); got != "[1000 1002 1003 1005]" {
		t.Fatalf("stored %s", got)
	}
	for i, err := range errs {
		if (i%3 == 1) != errors.Is(err, ErrSessionFull) || (i%3 != 1 && err != nil) {
			t.Fatalf("piece %d got %v", i, err)
		}
	}

	// The pass without savepoints stops at the piece that failed after
	// writing; the pass with them runs every piece once more.
	runs, errs = batch(2000, true)
	for i, r := range runs {
		if r < 1 || r > 2 || (i == n-1 && r != 2) {
			t.Fatalf("pieces ran %v times; want the failing one twice, the others once or twice", runs)
		}
	}
	if got := fmt.Sprint(stored(2000)); got != "[2000 2002 2003]" {
		t.Fatalf("stored %s; want the piece that failed after writing undone alone", got)
	}
	if errs[n-1] == nil || errors.Is(errs[n-1], errUndoPieces) || errs[0] != nil || !errors.Is(errs[1], ErrSessionFull) {
		t.Fatalf("errors %v", errs)
	}
}

func TestGroupTx_ConcurrentCallersAreEachAnsweredOnce(t *testing.T) {
	s, _ := newTestStore(t)
	const n = 300
	var ran atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.inGroupTx(context.Background(), 0, func(tx *gorm.DB) error {
				ran.Add(1)
				return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'x', ?)", 1000+i, testNow).Error
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var stored int64
	s.read.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version >= 1000").Scan(&stored)
	if ran.Load() != n || stored != n {
		t.Fatalf("ran %d, stored %d; want %d each", ran.Load(), stored, n)
	}
}

func TestRegister_GroupedSignUpsKeepCapacityAndDuplicatesRight(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 3, false)
	errs := make([]error, 6)
	together(t, s, len(errs), func(i int) {
		_, errs[i] = s.Register(context.Background(), p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i)))
	})
	full := 0
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrSessionFull):
			full++
		case err != nil:
			t.Fatalf("sign-up %d: %v", i, err)
		}
	}
	if full != 3 {
		t.Fatalf("%d refused as full; want 3 of 6 for 3 seats", full)
	}
	assertSeatsTaken(t, s, sess.ID, 3)
	assertStatusCount(t, s, sess.ID, RegistrationConfirmed, 3)

	// The same address three times in one batch: one registration, and two
	// answers that are duplicates of it.
	s, _ = newTestStore(t)
	_, open := newTestPanel(t, s, 0, false)
	emails := []string{"ada@example.com", "ADA@example.com", "ada@example.com"}
	results := make([]*RegisterResult, len(emails))
	together(t, s, len(emails), func(i int) {
		var err error
		if results[i], err = s.Register(context.Background(), open.PanelID, validInput(open.ID, emails[i])); err != nil {
			t.Error(err)
		}
	})
	duplicates := 0
	for _, r := range results {
		if r.Registration.ID != results[0].Registration.ID {
			t.Fatalf("one address got registrations %d and %d", results[0].Registration.ID, r.Registration.ID)
		}
		if r.Duplicate {
			duplicates++
		}
	}
	if duplicates != 2 {
		t.Fatalf("%d duplicates; want 2", duplicates)
	}
	assertStatusCount(t, s, open.ID, RegistrationConfirmed, 1)
}

// BenchmarkRegister_Concurrent signs people up from many goroutines at once
// on a session already holding 50,000 registrations: the sign-up path of
// the models without HTTP. go test -bench Register -run ^$ ./models
func BenchmarkRegister_Concurrent(b *testing.B) {
	benchmarkRegister(b, false)
}

// BenchmarkRegister_ConcurrentSponsored is the same sign-up on a panel with
// a sponsor whose box every registrant ticks, with the organizer's news: a
// sponsored webinar's form, three consents a sign-up.
func BenchmarkRegister_ConcurrentSponsored(b *testing.B) {
	benchmarkRegister(b, true)
}

func benchmarkRegister(b *testing.B, sponsored bool) {
	s, _ := newTestStore(b)
	p, sess := newTestPanel(b, s, 0, false)
	addRegistrations(b, s, sess.ID, 50_000, RegistrationConfirmed)
	var sponsors map[int64]int64
	if sponsored {
		p, err := s.EditPanel(context.Background(), p.ID, func(p *Panel) {
			p.Sponsors = []Sponsor{{Name: "Acme", PrivacyURL: "https://acme.example/privacy"}}
		})
		if err != nil {
			b.Fatal(err)
		}
		sponsors = map[int64]int64{p.Sponsors[0].ID: *p.Sponsors[0].ConsentTextID}
	}
	var next atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			in := validInput(sess.ID, fmt.Sprintf("bench-%d@example.com", next.Add(1)))
			in.Marketing, in.Sponsors = sponsored, sponsors
			if _, err := s.Register(context.Background(), p.ID, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
