package models

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"podium/models/pgtest"
)

func TestAllow_CountsInAFixedWindowPerKey(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	limit := Limit{Max: 3, Window: time.Minute}
	start := clock.Now()
	for i := range 3 {
		ok, resets, err := s.Allow(ctx, "register 192.0.2.1", limit)
		if err != nil || !ok {
			t.Fatalf("hit %d: ok=%v err=%v; want allowed", i+1, ok, err)
		}
		if !resets.Equal(start.Add(time.Minute)) {
			t.Fatalf("hit %d: window ends %v; want %v", i+1, resets, start.Add(time.Minute))
		}
	}
	if ok, _, err := s.Allow(ctx, "register 192.0.2.1", limit); err != nil || ok {
		t.Fatalf("fourth hit in the window: ok=%v err=%v; want refused", ok, err)
	}
	if ok, _, err := s.Allow(ctx, "register 192.0.2.2", limit); err != nil || !ok {
		t.Fatalf("another address: ok=%v err=%v; want allowed", ok, err)
	}
	clock.Set(start.Add(time.Minute))
	ok, resets, err := s.Allow(ctx, "register 192.0.2.1", limit)
	if err != nil || !ok || !resets.Equal(start.Add(2*time.Minute)) {
		t.Fatalf("first hit of the next window: ok=%v resets=%v err=%v; want allowed until %v", ok, resets, err, start.Add(2*time.Minute))
	}
	if err := s.PruneRateLimits(ctx); err != nil {
		t.Fatal(err)
	}
	if pgtest.Postgres() {
		var n int64
		if err := s.read.Raw("SELECT count(*) FROM rate_limits").Scan(&n).Error; err != nil || n != 1 {
			t.Fatalf("rows after pruning: %d (%v); want the one open window", n, err)
		}
		var key string
		if err := s.read.Raw("SELECT key FROM rate_limits").Scan(&key).Error; err != nil || key == "register 192.0.2.1" || len(key) != 24 {
			t.Fatalf("stored key %q (%v); want an HMAC, not the address", key, err)
		}
	}
}

// Several instances on one PostgreSQL allow together what one allows.
func TestInstances_ShareRateLimits(t *testing.T) {
	if !pgtest.Postgres() {
		t.Skip("PostgreSQL only: one process serves a SQLite file and counts in memory")
	}
	stores := openInstances(t, 3)
	const max, tries = 10, 60
	var allowed atomic.Int64
	pgtest.AtOnce(tries, func(i int) {
		ok, _, err := stores[i%len(stores)].Allow(context.Background(), "sign-in 198.51.100.7", Limit{Max: max, Window: time.Minute})
		if err != nil {
			t.Error(err)
		}
		if ok {
			allowed.Add(1)
		}
	})
	if got := allowed.Load(); got != max {
		t.Fatalf("%d of %d hits through three instances allowed; want exactly %d", got, tries, max)
	}
}
