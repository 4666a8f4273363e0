package handlers

import (
	"sync"
	"sync/atomic"
	"time"
)

// pageCache keeps rendered public pages for a moment. Most requests to a
// panel page change nothing, so rendering it (five queries and a template)
// once per change instead of once per visitor is what lets a launch-day
// burst through. Every write the app makes bumps the generation, and an
// entry is also dropped after pageCacheTTL, so seats-left and closing times
// are never more than that stale.
type pageCache struct {
	mu         sync.RWMutex
	entries    map[string]cachedPage
	generation atomic.Uint64
	now        func() time.Time
}

type cachedPage struct {
	body       []byte
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
// The returned slice is shared: callers must not modify it.
func (p *pageCache) get(key string, render func() ([]byte, error)) ([]byte, error) {
	gen, now := p.generation.Load(), p.now()
	p.mu.RLock()
	e, ok := p.entries[key]
	p.mu.RUnlock()
	if ok && e.generation == gen && now.Sub(e.rendered) < pageCacheTTL {
		return e.body, nil
	}
	body, err := render()
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if len(p.entries) >= pageCacheMax {
		p.entries = map[string]cachedPage{}
	}
	p.entries[key] = cachedPage{body: body, generation: gen, rendered: now}
	p.mu.Unlock()
	return body, nil
}
