package handlers

import (
	"runtime"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
)

// InFlight counts the requests being answered, so that background work can
// make way for people during a burst: see Busy.
type InFlight struct{ n atomic.Int64 }

// Busy reports whether more requests are being answered than the machine
// has CPUs to run them, i.e. requests are queueing for CPU. A site answering
// a steady trickle is never busy; a launch-day burst is.
func (f *InFlight) Busy() bool {
	return f.n.Load() > int64(runtime.GOMAXPROCS(0))
}

// track counts a request while it runs.
func (f *InFlight) track(c *fiber.Ctx) error {
	f.n.Add(1)
	defer f.n.Add(-1)
	return c.Next()
}
