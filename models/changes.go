package models

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Topic names a kind of change that every instance serving the database
// needs to hear of, to drop what it cached or to look for new work.
type Topic string

// The topics announced.
const (
	// TopicPages: what public pages show has changed; drop cached pages.
	TopicPages Topic = "pages"
	// TopicJobs: a fan-out was started; run the jobs pass.
	TopicJobs Topic = "jobs"
	// TopicOutbox: messages were queued; wake the outbox workers.
	TopicOutbox Topic = "outbox"
)

var topics = []Topic{TopicPages, TopicJobs, TopicOutbox}

// changes relays announcements: to this process's subscribers at once, and
// on PostgreSQL to every other instance through NOTIFY, which their Listen
// hands to their subscribers. On SQLite, one process serves the file and
// nothing leaves it.
type changes struct {
	// instance tells this process's own notifications apart from others'.
	instance string
	mu       sync.RWMutex
	subs     map[Topic][]func()
	// pending holds topics announced but not yet sent to other instances;
	// send wakes the sender. Announcements coalesce, so a burst of them
	// costs one NOTIFY, not one each.
	pending [3]atomic.Bool
	send    chan struct{}
}

func newChanges() *changes {
	id := make([]byte, 8)
	_, _ = rand.Read(id) // crypto/rand.Read never fails
	return &changes{instance: hex.EncodeToString(id), subs: map[Topic][]func(){}, send: make(chan struct{}, 1)}
}

// Subscribe calls fn each time topic is announced, here or by another
// instance. fn must return quickly; it may be called from any goroutine.
func (s *Store) Subscribe(topic Topic, fn func()) {
	s.changes.mu.Lock()
	defer s.changes.mu.Unlock()
	s.changes.subs[topic] = append(s.changes.subs[topic], fn)
}

// Announce tells this instance's subscribers that topic changed, at once,
// and every other instance on the same PostgreSQL database within moments
// (while Listen runs). It never blocks.
func (s *Store) Announce(topic Topic) {
	s.changes.deliver(topic)
	for i, t := range topics {
		if t == topic {
			s.changes.pending[i].Store(true)
		}
	}
	select {
	case s.changes.send <- struct{}{}:
	default:
	}
}

func (c *changes) deliver(topic Topic) {
	c.mu.RLock()
	subs := c.subs[topic]
	c.mu.RUnlock()
	for _, fn := range subs {
		fn()
	}
}

// takePending returns the topics announced since the last call.
func (c *changes) takePending() []Topic {
	var out []Topic
	for i, t := range topics {
		if c.pending[i].Swap(false) {
			out = append(out, t)
		}
	}
	return out
}

// notifyChannel is the PostgreSQL channel announcements travel on; a
// payload is "instance topic".
const notifyChannel = "podium_changes"

// payload is what NOTIFY carries for topic.
func (c *changes) payload(topic Topic) string { return c.instance + " " + string(topic) }

// received hands another instance's announcement to the subscribers; this
// instance's own came to them already.
func (c *changes) received(payload string) {
	instance, topic, ok := strings.Cut(payload, " ")
	if ok && instance != c.instance {
		c.deliver(Topic(topic))
	}
}

// everything tells the subscribers that anything may have changed: after
// the link to other instances was down, what they announced meanwhile is
// lost, and the caches' lifetimes and the workers' polling would only
// catch up later.
func (c *changes) everything() {
	for _, t := range topics {
		c.deliver(t)
	}
}

// Listen relays announcements between this instance and the others on the
// same PostgreSQL database until ctx ends, reconnecting after a failure
// (waiting longer each time, up to listenRetryMax). Announcements do not
// need it to reach this instance's own subscribers. On SQLite, which one
// process serves, it returns at once.
func (s *Store) Listen(ctx context.Context) error {
	return s.dialect.listen(ctx, s)
}

// listenRetryMax bounds the wait before reconnecting the listener.
const listenRetryMax = 30 * time.Second
