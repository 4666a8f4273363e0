package handlers

import (
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

func TestInFlight_BusyWhileMoreRequestsRunThanCPUsAndAMomentAfter(t *testing.T) {
	f := &InFlight{}
	release := make(chan struct{})
	app := fiber.New()
	app.Use(f.track)
	app.Get("/", func(c *fiber.Ctx) error { <-release; return nil })

	var wg sync.WaitGroup
	start := func(n int) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := app.Test(httptest.NewRequest("GET", "/", nil), -1); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}
	cpus := runtime.GOMAXPROCS(0)
	start(cpus)
	waitFor("the requests to start", func() bool { return f.n.Load() == int64(cpus) })
	if f.Busy() {
		t.Fatalf("busy with %d requests on %d CPUs", cpus, cpus)
	}
	start(1)
	waitFor("busy", f.Busy)
	close(release)
	wg.Wait()
	if f.n.Load() != 0 {
		t.Fatalf("%d requests counted after all finished", f.n.Load())
	}
	finished := time.Now()
	waitFor("not busy", func() bool { return !f.Busy() })
	if quiet := time.Since(finished); quiet > busyLinger+time.Second {
		t.Fatalf("busy for %v after the last request; want about %v", quiet, busyLinger)
	}
}
