package models

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// DefaultRetentionDays is how long registrants are kept after their panel's
// last session ends, unless the site or the panel says otherwise.
const DefaultRetentionDays = 365

// WithRetentionDays sets the site's default retention (DefaultRetentionDays
// when n is not positive).
func WithRetentionDays(n int) Option {
	return func(s *Store) {
		if n > 0 {
			s.retentionDays = min(n, maxRetentionDays)
		}
	}
}

// RetentionDays is the site's default retention.
func (s *Store) RetentionDays() int { return s.retentionDays }

// RetentionPlan is when a panel's registrants are erased.
type RetentionPlan struct {
	PanelID    int64
	PanelTitle string
	// LastEnds is when the panel's last session ends.
	LastEnds time.Time
	// Days is the retention that applies, and PanelDays the panel's own
	// (nil: the site's default).
	Days      int
	PanelDays *int
	EraseAt   time.Time
	// Registrants counts the registrations not yet erased.
	Registrants int
}

// RetentionPlans lists, for every panel with a session, when its
// registrants will be erased and how many there are, soonest first.
func (s *Store) RetentionPlans(ctx context.Context) ([]RetentionPlan, error) {
	db := s.read.WithContext(ctx)
	var sessions []struct {
		PanelID         int64
		StartsAt        time.Time
		DurationMinutes int
	}
	if err := db.Table("sessions").Select("panel_id, starts_at, duration_minutes").Scan(&sessions).Error; err != nil {
		return nil, err
	}
	last := map[int64]time.Time{}
	for _, sess := range sessions {
		end := sess.StartsAt.Add(time.Duration(sess.DurationMinutes) * time.Minute)
		if end.After(last[sess.PanelID]) {
			last[sess.PanelID] = end
		}
	}
	var panels []Panel
	if err := db.Select("id", "title", "retention_days").Find(&panels).Error; err != nil {
		return nil, err
	}
	var counts []struct {
		PanelID int64
		N       int
	}
	if err := db.Table("registrations").Select("sessions.panel_id, count(*) AS n").
		Joins("JOIN sessions ON sessions.id = registrations.session_id").
		Where("registrations.erased_at IS NULL").Group("sessions.panel_id").Scan(&counts).Error; err != nil {
		return nil, err
	}
	held := make(map[int64]int, len(counts))
	for _, c := range counts {
		held[c.PanelID] = c.N
	}
	plans := make([]RetentionPlan, 0, len(panels))
	for _, p := range panels {
		ends, ok := last[p.ID]
		if !ok {
			continue
		}
		days := s.retentionDays
		if p.RetentionDays != nil {
			days = *p.RetentionDays
		}
		plans = append(plans, RetentionPlan{PanelID: p.ID, PanelTitle: p.Title, LastEnds: ends, Days: days,
			PanelDays: p.RetentionDays, EraseAt: ends.AddDate(0, 0, days), Registrants: held[p.ID]})
	}
	sort.Slice(plans, func(i, j int) bool {
		if !plans[i].EraseAt.Equal(plans[j].EraseAt) {
			return plans[i].EraseAt.Before(plans[j].EraseAt)
		}
		return plans[i].PanelID < plans[j].PanelID
	})
	return plans, nil
}

// EraseExpired erases the registrants of every panel whose retention has
// run out, and reports how many registrations it erased, by panel. The
// jobs pass runs it; each panel's erasure is audited by its caller.
func (s *Store) EraseExpired(ctx context.Context) (map[int64]int, error) {
	plans, err := s.RetentionPlans(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	erased := map[int64]int{}
	for _, p := range plans {
		if p.Registrants == 0 || p.EraseAt.After(now) {
			continue
		}
		res, err := s.erase(ctx, "", "session_id IN (SELECT id FROM sessions WHERE panel_id = ?)", p.PanelID)
		if err != nil {
			return erased, err
		}
		if res.Registrations == 0 {
			continue
		}
		erased[p.PanelID] = res.Registrations
		if err := s.Audit(ctx, AuditEntry{Actor: "retention", Channel: ChannelSystem, Action: AuditRegistrantsExpired,
			Subject: fmt.Sprintf("panel %d: %s", p.PanelID, p.PanelTitle), RowCount: res.Registrations}); err != nil {
			return erased, err
		}
	}
	return erased, nil
}
