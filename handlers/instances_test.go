package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"podium/models"
	"podium/models/pgtest"
)

// Two instances on one PostgreSQL: a change made through one shows on the
// other's public pages at once, although the other cached them. Both
// clocks stand still, so the cache's one-second lifetime never runs out:
// only the other instance's announcement can drop it.
func TestInstances_AChangeThroughOneShowsOnTheOthersPages(t *testing.T) {
	if !pgtest.Postgres() {
		t.Skip("PostgreSQL only: one process serves a SQLite file")
	}
	a := newTestEnv(t)
	p := a.addPanel(t, "shared", models.Session{Capacity: 10})
	other, err := models.Open(context.Background(), a.path, models.WithClock(a.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	otherApp, err := New(Config{Store: other, BaseURL: "http://localhost:3000", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b := &testEnv{app: otherApp, store: other, clock: a.clock, path: a.path}
	title := func() string {
		r := b.browser(t).get("/panels/shared")
		assertStatus(t, r, http.StatusOK)
		return r.body
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range []*models.Store{a.store, other} {
		wg.Go(func() { _ = s.Listen(ctx) })
	}
	t.Cleanup(func() { stop(); wg.Wait() })
	// Wait until the other instance hears the first: only announcements
	// sent after its LISTEN reach it.
	var heard atomic.Bool
	other.Subscribe(models.TopicJobs, func() { heard.Store(true) })
	waitFor(t, "the other instance to listen", func() bool { a.store.Announce(models.TopicJobs); return heard.Load() })
	if !strings.Contains(title(), p.Title) {
		t.Fatal("the other instance does not show the panel")
	}

	// A change written without announcing it stays unseen there...
	if _, err := a.store.EditPanel(t.Context(), p.ID, func(p *models.Panel) { p.Title = "Quietly renamed" }); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(title(), "Quietly renamed") {
		t.Fatal("the other instance re-rendered without being told: this test proves nothing")
	}
	// ... and an organizer's change through the first instance shows there.
	assertStatus(t, a.apiClient(t).call(http.MethodPatch, fmt.Sprintf("/api/v1/panels/%d", p.ID), `{"title":"Loudly renamed"}`), http.StatusOK)
	waitFor(t, "the other instance to show the change", func() bool { return strings.Contains(title(), "Loudly renamed") })
}

// waitFor polls done for up to five seconds.
func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if done() {
			return
		}
	}
	t.Fatalf("waited 5 s for %s", what)
}
