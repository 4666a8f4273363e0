package handlers

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// InFlight counts the requests being answered, so that background work can
// make way for people during a burst: see Busy.
type InFlight struct {
	n atomic.Int64
	// busySince is when a request last found more requests running than
	// CPUs (Unix nanoseconds), or 0.
	busySince atomic.Int64
}

// busyLinger is how long the server counts as busy after requests last
// queued for CPU. Sign-ups answered together (a group commit) leave the
// server idle for an instant between batches; the mail worker, woken by
// those very sign-ups, must not take that instant for the end of the burst.
const busyLinger = 250 * time.Millisecond

// Busy reports whether more requests are being answered than the machine
// has CPUs to run them, i.e. requests are queueing for CPU, now or within
// busyLinger. A site answering a steady trickle is never busy; a
// launch-day burst is.
func (f *InFlight) Busy() bool {
	if f.n.Load() > int64(runtime.GOMAXPROCS(0)) {
		return true
	}
	at := f.busySince.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < busyLinger
}

// track counts a request while it runs.
func (f *InFlight) track(c *fiber.Ctx) error {
	if f.n.Add(1) > int64(runtime.GOMAXPROCS(0)) {
		f.busySince.Store(time.Now().UnixNano())
	}
	defer f.n.Add(-1)
	return c.Next()
}
