package handlers

import (
	"sync"
	"sync/atomic"
	"time"

	"podium/views"
)

// pageCache keeps rendered public pages for a moment. Most requests to a
// panel page change nothing, so rendering it (five queries and a template)
// once a second instead of once per visitor is what lets a launch-day burst
// through. An organizer's change (admin or API) bumps the generation, so
// edits show at once; a sign-up only moves the seats-left count, which the
// one-second lifetime keeps current (the sign-up itself always checks the
// real count), so a burst of sign-ups does not re-render the page each time.
type pageCache struct {
	mu         sync.RWMutex
	entries    map[string]cachedPage
	generation atomic.Uint64
	now        func() time.Time
}

type cachedPage struct {
	page       views.Fillable // a page, cut at its per-visitor placeholders
	raw        []byte         // or a calendar feed, as it is sent
	modified   time.Time      // the feed's Last-Modified
	generation uint64
	rendered   time.Time
}

const (
	pageCacheTTL = time.Second
	// pageCacheMax bounds memory: past it the cache starts again empty.
	pageCacheMax = 1000
)

func newPageCache(now func() time.Time) *pageCache {
	return &pageCache{entries: map[string]cachedPage{}, now: now}
}

// invalidate forgets every page; called after any write.
func (p *pageCache) invalidate() { p.generation.Add(1) }

// get returns a fresh page for key, rendering it with render on a miss.
func (p *pageCache) get(key string, render func() ([]byte, error)) (views.Fillable, error) {
	e, err := p.fetch(key, func() (cachedPage, error) {
		body, err := render()
		return cachedPage{page: views.NewFillable(body)}, err
	})
	return e.page, err
}

// getFeed returns a fresh calendar feed for key and when it last changed,
// rendering it with render on a miss. A feed of a thousand sessions takes
// tens of milliseconds to write, so a flood of feed requests costs one
// rendering a second, not one each.
func (p *pageCache) getFeed(key string, render func() ([]byte, time.Time, error)) ([]byte, time.Time, error) {
	e, err := p.fetch(key, func() (cachedPage, error) {
		body, modified, err := render()
		return cachedPage{raw: body, modified: modified}, err
	})
	return e.raw, e.modified, err
}

func (p *pageCache) fetch(key string, render func() (cachedPage, error)) (cachedPage, error) {
	gen, now := p.generation.Load(), p.now()
	p.mu.RLock()
	e, ok := p.entries[key]
	p.mu.RUnlock()
	if ok && e.generation == gen && now.Sub(e.rendered) < pageCacheTTL {
		return e, nil
	}
	e, err := render()
	if err != nil {
		return cachedPage{}, err
	}
	e.generation, e.rendered = gen, now
	p.mu.Lock()
	if len(p.entries) >= pageCacheMax {
		p.entries = map[string]cachedPage{}
	}
	p.entries[key] = e
	p.mu.Unlock()
	return e, nil
}
