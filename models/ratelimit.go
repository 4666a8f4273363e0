package models

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"

	"gorm.io/gorm"
)

// Limit is a rate limit: at most Max hits per key in a fixed Window that
// opens at the key's first hit.
type Limit struct {
	Max    int
	Window time.Duration
}

// Allow counts one hit of key (a bucket and a client address, say
// "register 203.0.113.9") against limit. It reports whether the hit is
// within the limit, and when the key's window ends. Every instance serving
// a PostgreSQL database counts in one table, so N instances allow what one
// allows; a SQLite file is served by one process, which counts in memory.
func (s *Store) Allow(ctx context.Context, key string, limit Limit) (ok bool, resets time.Time, err error) {
	// Client addresses stay out of the table: the key is an HMAC under a
	// key of the site's, so a copy of the database does not list visitors.
	secret, err := s.SigningKey("rate limits")
	if err != nil {
		return false, time.Time{}, err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(key))
	hashed := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
	hits, resets, err := s.limits.hit(ctx, hashed, s.Now(), limit.Window)
	return err == nil && hits <= limit.Max, resets, err
}

// PruneRateLimits deletes the windows that have ended.
func (s *Store) PruneRateLimits(ctx context.Context) error {
	return s.limits.prune(ctx, s.Now())
}

// limitCounter counts hits per key in fixed windows.
type limitCounter interface {
	// hit counts one hit and returns the hits in key's window so far.
	hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error)
	prune(ctx context.Context, now time.Time) error
}

// memoryLimits is the counter of a process that serves its database alone.
type memoryLimits struct {
	mu      sync.Mutex
	windows map[string]limitWindow
}

type limitWindow struct {
	hits int
	ends time.Time
}

// memoryLimitsMax bounds the map: past it, ended windows are dropped
// before another key is added.
const memoryLimitsMax = 10_000

func newMemoryLimits() *memoryLimits { return &memoryLimits{windows: map[string]limitWindow{}} }

func (m *memoryLimits) hit(_ context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.windows[key]
	if !ok || !now.Before(w.ends) {
		if !ok && len(m.windows) >= memoryLimitsMax {
			m.pruneLocked(now)
		}
		w = limitWindow{ends: now.Add(window)}
	}
	w.hits++
	m.windows[key] = w
	return w.hits, w.ends, nil
}

func (m *memoryLimits) prune(_ context.Context, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneLocked(now)
	return nil
}

func (m *memoryLimits) pruneLocked(now time.Time) {
	for k, w := range m.windows {
		if !now.Before(w.ends) {
			delete(m.windows, k)
		}
	}
}

// tableLimits counts in the rate_limits table: one statement per hit,
// which opens a window, counts in it, or opens the next one, atomically
// whichever instance the hits arrive at.
type tableLimits struct{ db *gorm.DB }

func (t tableLimits) hit(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	var row struct {
		Hits         int
		WindowEndsAt time.Time
	}
	err := t.db.WithContext(ctx).Raw(`INSERT INTO rate_limits (key, hits, window_ends_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_ends_at > ? THEN rate_limits.hits + 1 ELSE 1 END,
			window_ends_at = CASE WHEN rate_limits.window_ends_at > ? THEN rate_limits.window_ends_at
				ELSE excluded.window_ends_at END
		RETURNING hits, window_ends_at`, key, now.Add(window), now, now).Scan(&row).Error
	return row.Hits, row.WindowEndsAt, err
}

func (t tableLimits) prune(ctx context.Context, now time.Time) error {
	return t.db.WithContext(ctx).Exec("DELETE FROM rate_limits WHERE window_ends_at <= ?", now).Error
}
