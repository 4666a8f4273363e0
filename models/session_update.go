package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// SessionUpdate is a session's editable fields, replacing the stored ones.
type SessionUpdate struct {
	StartsAt             time.Time
	DurationMinutes      int
	TimeZone             string
	Capacity             int
	Waitlist             bool
	JoinURL              string
	Venue                string
	RegistrationClosesAt *time.Time
	RecordingURL         string
	OnDemandUntil        *time.Time
	ZoomWebinarID        string
}

// SessionChangeResult says what a change set in motion.
type SessionChangeResult struct {
	Session Session
	// Fanout is set when registrants are being told (a new time or place, or
	// a cancellation); its progress is visible through FanoutByID.
	Fanout *Fanout
	// Promoted are waitlisted registrants who got a seat from a larger capacity.
	Promoted []Registration
}

// UpdateSession changes a session. A new time, duration, time zone, join link
// or venue raises the calendar sequence and sends every confirmed registrant
// an updated invite; a larger capacity gives waitlisted registrants the new
// seats. Capacity cannot drop below the seats already taken.
func (s *Store) UpdateSession(ctx context.Context, id int64, upd SessionUpdate) (*SessionChangeResult, error) {
	return s.EditSession(ctx, id, func(*Session) SessionUpdate { return upd })
}

// EditSession is UpdateSession with the update worked out from the session
// as stored, in the same write transaction: two partial edits at once (the
// API's PATCH) cannot lose each other's fields.
func (s *Store) EditSession(ctx context.Context, id int64, edit func(*Session) SessionUpdate) (*SessionChangeResult, error) {
	res := &SessionChangeResult{}
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		old, err := s.sessionForUpdate(tx, id)
		if err != nil {
			return err
		}
		upd := edit(old)
		next := *old
		next.StartsAt, next.DurationMinutes, next.TimeZone = upd.StartsAt, upd.DurationMinutes, upd.TimeZone
		next.Capacity, next.Waitlist, next.JoinURL, next.Venue = upd.Capacity, upd.Waitlist, upd.JoinURL, upd.Venue
		next.RegistrationClosesAt = upd.RegistrationClosesAt
		next.RecordingURL, next.OnDemandUntil, next.ZoomWebinarID = upd.RecordingURL, upd.OnDemandUntil, upd.ZoomWebinarID
		next.normalise()
		v := &validator{fields: next.validationMessages()}
		v.check(next.Capacity == 0 || next.Capacity >= old.SeatsTaken, "capacity",
			"Capacity cannot be lower than the places already taken.")
		if err := v.err(); err != nil {
			return err
		}
		moved := !next.StartsAt.Equal(old.StartsAt) || next.DurationMinutes != old.DurationMinutes ||
			next.TimeZone != old.TimeZone || next.JoinURL != old.JoinURL || next.Venue != old.Venue
		if moved {
			next.Sequence++
		}
		next.UpdatedAt = now
		if err := tx.Model(&Session{ID: id}).Updates(map[string]any{
			"starts_at": next.StartsAt, "duration_minutes": next.DurationMinutes, "time_zone": next.TimeZone,
			"capacity": next.Capacity, "waitlist": next.Waitlist, "join_url": next.JoinURL, "venue": next.Venue,
			"registration_closes_at": next.RegistrationClosesAt, "recording_url": next.RecordingURL,
			"on_demand_until": next.OnDemandUntil, "zoom_webinar_id": next.ZoomWebinarID,
			"sequence": next.Sequence, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		if moved && old.Status == SessionScheduled {
			if res.Fanout, err = startFanout(tx, now, &next, KindSessionUpdated); err != nil {
				return err
			}
		}
		if res.Promoted, err = fillFreedSeats(tx, &next, now); err != nil {
			return err
		}
		res.Session = next
		if !changedFrom(old, &next) {
			return nil
		}
		return sessionEvent(tx, now, EventSessionUpdated, id)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// changedFrom reports whether an edit changed any of the session's fields,
// so that saving a form untouched tells no webhook.
func changedFrom(old, next *Session) bool {
	sameTime := func(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }
	return !old.StartsAt.Equal(next.StartsAt) || old.DurationMinutes != next.DurationMinutes ||
		old.TimeZone != next.TimeZone || old.Capacity != next.Capacity || old.Waitlist != next.Waitlist ||
		old.JoinURL != next.JoinURL || old.Venue != next.Venue || old.RecordingURL != next.RecordingURL ||
		old.ZoomWebinarID != next.ZoomWebinarID || !sameTime(old.RegistrationClosesAt, next.RegistrationClosesAt) ||
		!sameTime(old.OnDemandUntil, next.OnDemandUntil)
}

// CancelSession cancels a session: it raises the sequence and sends every
// registrant a cancellation (a calendar CANCEL to those holding the invite).
// Cancelling twice is harmless.
func (s *Store) CancelSession(ctx context.Context, id int64) (*SessionChangeResult, error) {
	res := &SessionChangeResult{}
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		sess, err := s.sessionForUpdate(tx, id)
		if err != nil || sess.Status == SessionCancelled {
			if sess != nil {
				res.Session = *sess
			}
			return err
		}
		now := s.Now()
		sess.Status, sess.Sequence, sess.UpdatedAt = SessionCancelled, sess.Sequence+1, now
		if err := tx.Model(sess).Updates(map[string]any{
			"status": sess.Status, "sequence": sess.Sequence, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		res.Session = *sess
		if res.Fanout, err = startFanout(tx, now, sess, KindSessionCancelled); err != nil {
			return err
		}
		return sessionEvent(tx, now, EventSessionCancelled, id)
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// sessionForUpdate reads a session to change it, holding its row so that
// another instance's change waits instead of being overwritten.
func (s *Store) sessionForUpdate(tx *gorm.DB, id int64) (*Session, error) {
	if err := s.dialect.lockRows(tx, "SELECT id FROM sessions WHERE id = ?", id); err != nil {
		return nil, err
	}
	var sess Session
	err := tx.Take(&sess, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &sess, err
}

// fillFreedSeats promotes waitlisted registrants while seats are free.
func fillFreedSeats(tx *gorm.DB, sess *Session, now time.Time) ([]Registration, error) {
	var promoted []Registration
	for sess.Status == SessionScheduled {
		next, err := promoteNext(tx, sess.ID, now)
		if err != nil || next == nil {
			return promoted, err
		}
		promoted = append(promoted, *next)
		sess.SeatsTaken++
	}
	return promoted, nil
}

// SessionByID returns a session of any panel and status, with its panel.
func (s *Store) SessionByID(ctx context.Context, id int64) (*Session, error) {
	var sess Session
	err := s.read.WithContext(ctx).Preload("Panel").Take(&sess, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	return &sess, err
}
