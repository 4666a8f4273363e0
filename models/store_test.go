package models

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock for tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var testNow = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func newTestStore(t testing.TB) (*Store, *testClock) {
	t.Helper()
	clock := &testClock{now: testNow}
	s, err := Open(context.Background(), testDSN(t), WithClock(clock.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, clock
}

// newTestPanel stores a published panel with one session of the given
// capacity starting a week after testNow.
func newTestPanel(t testing.TB, s *Store, capacity int, waitlist bool) (*Panel, *Session) {
	t.Helper()
	p := &Panel{
		Title:  "Test panel",
		Status: PanelPublished,
		Sessions: []Session{{
			StartsAt: testNow.Add(7 * 24 * time.Hour), DurationMinutes: 60, TimeZone: "Europe/London",
			Capacity: capacity, Waitlist: waitlist, JoinURL: "https://meet.example.com/x",
		}},
	}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return p, &p.Sessions[0]
}

func TestOpen_MigratesToLatestAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "podium.db")
	for range 2 {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		v, err := s.SchemaVersion(context.Background())
		if err != nil || v != LatestSchemaVersion() || v < 1 {
			t.Fatalf("schema version = %d, %v; want %d", v, err, LatestSchemaVersion())
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Fatalf("ping: %v", err)
		}
		_ = s.Close()
	}
}

func TestSeedDemo_OnlyIntoEmptyDatabase(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for i, want := range []bool{true, false} {
		seeded, err := s.SeedDemo(ctx)
		if err != nil || seeded != want {
			t.Fatalf("seed %d = %v, %v; want %v", i, seeded, err, want)
		}
	}
	listing, err := s.UpcomingPanels(ctx)
	if err != nil || len(listing) != 1 {
		t.Fatalf("upcoming = %d panels, %v; want 1", len(listing), err)
	}
	start := listing[0].NextSession.StartsAt.In(listing[0].NextSession.Location())
	if start.Hour() != 15 || !start.After(testNow) {
		t.Errorf("demo session starts %v; want 3 PM London, after %v", start, testNow)
	}
}
