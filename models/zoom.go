package models

import (
	"context"
	"math"
	"slices"
	"time"

	"gorm.io/gorm"
)

// Zoom's live participant events: each join and leave of a registrant is
// kept as a stay (zoom_intervals), and the attended minutes are worked out
// again from the stays after every event, so Zoom's retries and late
// deliveries add up to the same minutes however often and in whatever order
// they arrive.

// ZoomParticipantEvent is one participant joining or leaving a Zoom webinar
// or meeting, as the HTTP layer read it from Zoom's notification.
type ZoomParticipantEvent struct {
	// WebinarID is Zoom's webinar or meeting ID (payload.object.id).
	WebinarID string
	// Email is the participant's address as Zoom gives it; "" for someone
	// who dialled in by phone.
	Email string
	// Left is true for participant_left, false for participant_joined.
	Left bool
	// JoinTime is when the stay began: needed for a join; for a leave, when
	// Zoom says, else zero and the leave closes the stay it follows.
	JoinTime time.Time
	// LeaveTime is when a leave happened; zero for a join.
	LeaveTime time.Time
}

// ZoomOutcome is what a Zoom participant event did.
type ZoomOutcome string

// Zoom outcomes. Only ZoomRecorded changed anything: Zoom's events never
// create a session or a registration.
const (
	// ZoomRecorded: the registrant's stays, and their attendance unless
	// an organizer or a report has said, are up to date.
	ZoomRecorded ZoomOutcome = "recorded"
	// ZoomUnknownWebinar: no scheduled session runs on that webinar then.
	ZoomUnknownWebinar ZoomOutcome = "unknown_webinar"
	// ZoomUnknownParticipant: nobody holds a confirmed live place in the
	// session under that address (waitlisted, cancelled and replay
	// registrants included).
	ZoomUnknownParticipant ZoomOutcome = "unknown_participant"
)

// zoomSessionMargin is how long before a session's start or after its end a
// stay still belongs to it. Waiting rooms open early and sessions overrun,
// but a Zoom meeting ID is often reused (a recurring meeting), and a join
// next week must not count for this week's session.
const zoomSessionMargin = 6 * time.Hour

// RecordZoomParticipant applies a participant event to the registrant it
// names: the confirmed live registrant of the session on ev.WebinarID (the
// one nearest the event's time, if several are) whose address is ev.Email,
// compared as email_key is. It records the stay; keeps joined_at the first
// join and last_joined_at the latest; and, unless an organizer's mark or a
// report said otherwise, sets the registrant attended with Zoom as the
// source and their minutes to the time covered by their closed stays. The
// same event twice changes nothing more.
func (s *Store) RecordZoomParticipant(ctx context.Context, ev ZoomParticipantEvent) (ZoomOutcome, error) {
	ev = ev.normalised()
	if err := ev.validate(); err != nil {
		return "", err
	}
	var outcome ZoomOutcome
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		sessionID, err := zoomSession(tx, ev.WebinarID, ev.at())
		if err != nil || sessionID == 0 {
			outcome = ZoomUnknownWebinar
			return err
		}
		reg, err := s.zoomRegistrant(tx, sessionID, ev.Email)
		if err != nil || reg == nil {
			outcome = ZoomUnknownParticipant
			return err
		}
		outcome = ZoomRecorded
		return s.applyZoomEvent(tx, reg, ev)
	})
	if err != nil {
		return "", err
	}
	return outcome, nil
}

// normalised has the times in UTC, to the second: Zoom gives seconds, and a
// retry must find the stay it wrote under the same key.
func (ev ZoomParticipantEvent) normalised() ZoomParticipantEvent {
	second := func(t time.Time) time.Time {
		if t.IsZero() {
			return t
		}
		return t.UTC().Truncate(time.Second)
	}
	ev.JoinTime, ev.LeaveTime = second(ev.JoinTime), second(ev.LeaveTime)
	return ev
}

func (ev ZoomParticipantEvent) validate() error {
	v := &validator{}
	if ev.Left {
		v.check(!ev.LeaveTime.IsZero(), "participant.leave_time", "A participant_left event needs the time they left.")
		v.check(ev.JoinTime.IsZero() || !ev.LeaveTime.Before(ev.JoinTime), "participant.leave_time",
			"The participant cannot leave before they joined.")
	} else {
		v.check(!ev.JoinTime.IsZero(), "participant.join_time", "A participant_joined event needs the time they joined.")
	}
	return v.err()
}

// at is when the stay the event is about began, as far as the event says.
func (ev ZoomParticipantEvent) at() time.Time {
	if !ev.JoinTime.IsZero() {
		return ev.JoinTime
	}
	return ev.LeaveTime
}

// zoomSession is the id of the scheduled session on webinarID nearest at,
// within zoomSessionMargin of its start or end; 0 when none is.
func zoomSession(tx *gorm.DB, webinarID string, at time.Time) (int64, error) {
	if webinarID == "" {
		return 0, nil
	}
	var sessions []Session
	// The repeated test lets the partial index on zoom_webinar_id serve.
	err := tx.Select("id, starts_at, duration_minutes").
		Where("zoom_webinar_id = ? AND zoom_webinar_id <> '' AND status = ?", webinarID, SessionScheduled).
		Order("starts_at, id").Find(&sessions).Error
	if err != nil {
		return 0, err
	}
	best, bestGap := int64(0), zoomSessionMargin+1
	for _, sess := range sessions {
		gap := time.Duration(0)
		switch {
		case at.Before(sess.StartsAt):
			gap = sess.StartsAt.Sub(at)
		case at.After(sess.EndsAt()):
			gap = at.Sub(sess.EndsAt())
		}
		if gap < bestGap {
			best, bestGap = sess.ID, gap
		}
	}
	return best, nil
}

// zoomRegistrant is what an event changes of a registration.
type zoomRegistrant struct {
	ID               int64
	JoinedAt         *time.Time
	LastJoinedAt     *time.Time
	Attendance       Attendance
	AttendanceSource AttendanceSource
	AttendedMinutes  *int
}

// zoomRegistrant reads the confirmed live registration of email in the
// session, holding its row until tx ends so that two events of one
// registrant (Zoom sends a join and a leave close together) take turns;
// nil when there is none.
func (s *Store) zoomRegistrant(tx *gorm.DB, sessionID int64, email string) (*zoomRegistrant, error) {
	key, err := normaliseEmail(email)
	if err != nil {
		return nil, nil
	}
	const where = "session_id = ? AND email_key = ? AND status = ? AND on_demand = ?"
	args := []any{sessionID, key, RegistrationConfirmed, false}
	if err := s.dialect.lockRows(tx, "SELECT id FROM registrations WHERE "+where, args...); err != nil {
		return nil, err
	}
	var regs []zoomRegistrant
	err = tx.Model(&Registration{}).
		Select("id, joined_at, last_joined_at, attendance, attendance_source, attended_minutes").
		Where(where, args...).Limit(1).Scan(&regs).Error
	if err != nil || len(regs) == 0 {
		return nil, err
	}
	return &regs[0], nil
}

// applyZoomEvent records ev for reg in tx.
func (s *Store) applyZoomEvent(tx *gorm.DB, reg *zoomRegistrant, ev ZoomParticipantEvent) error {
	var stored zoomStays
	err := tx.Table("zoom_intervals").Select("joined_at, left_at").
		Where("registration_id = ?", reg.ID).Order("joined_at").Scan(&stored).Error
	if err != nil {
		return err
	}
	stored.normalise()
	stays := stored.with(ev)
	if err := writeStays(tx, reg.ID, stored, stays); err != nil {
		return err
	}
	values := zoomAttendance(reg, ev, stays)
	if len(values) == 0 {
		return nil
	}
	now := s.Now()
	values["updated_at"] = now
	if err := tx.Model(&Registration{}).Where("id = ?", reg.ID).Updates(values).Error; err != nil {
		return err
	}
	// Webhook receivers hear of attendance and minutes, as from a report
	// or an organizer's mark; a join time alone is not news.
	_, attendance := values["attendance"]
	_, minutes := values["attended_minutes"]
	if !attendance && !minutes {
		return nil
	}
	return registrationEvent(tx, now, EventAttendanceRecorded, reg.ID)
}

// zoomAttendance is what changes of the registration's columns once its
// stays are stays: the first and latest join, and unless an organizer's mark
// or a report said otherwise (a report applied later overrides Zoom in
// turn), attended with Zoom as the source and the minutes of the closed
// stays. Nothing, when nothing changes: a retry leaves updated_at alone.
func zoomAttendance(reg *zoomRegistrant, ev ZoomParticipantEvent, stays zoomStays) map[string]any {
	values := map[string]any{}
	if j := ev.JoinTime; !j.IsZero() {
		if reg.JoinedAt == nil || j.Before(*reg.JoinedAt) {
			values["joined_at"] = j
		}
		if reg.LastJoinedAt == nil || j.After(*reg.LastJoinedAt) {
			values["last_joined_at"] = j
		}
	}
	switch reg.AttendanceSource {
	case SourceNone, SourceLink, SourceZoom:
	default: // the organizer or a report has said
		return values
	}
	if reg.Attendance != AttendanceAttended || reg.AttendanceSource != SourceZoom {
		values["attendance"], values["attendance_source"] = AttendanceAttended, SourceZoom
	}
	if minutes, known := stays.minutes(); known && (reg.AttendedMinutes == nil || *reg.AttendedMinutes != minutes) {
		values["attended_minutes"] = minutes
	}
	return values
}

// writeStays stores stays in place of stored.
func writeStays(tx *gorm.DB, registrationID int64, stored, stays zoomStays) error {
	for _, old := range stored {
		if !slices.ContainsFunc(stays, func(st zoomStay) bool { return st.JoinedAt.Equal(old.JoinedAt) }) {
			if _, err := execSQL(tx, "DELETE FROM zoom_intervals WHERE registration_id = ? AND joined_at = ?",
				registrationID, old.JoinedAt); err != nil {
				return err
			}
		}
	}
	for _, st := range stays {
		if slices.ContainsFunc(stored, st.equal) {
			continue
		}
		if _, err := execSQL(tx, `INSERT INTO zoom_intervals (registration_id, joined_at, left_at) VALUES (?, ?, ?)
			ON CONFLICT (registration_id, joined_at) DO UPDATE SET left_at = excluded.left_at`,
			registrationID, st.JoinedAt, st.LeftAt); err != nil {
			return err
		}
	}
	return nil
}

// zoomStay is one row of zoom_intervals: a stay from JoinedAt to LeftAt,
// still open while LeftAt is nil. A row whose LeftAt is its JoinedAt is a
// leave whose join has not arrived (yet): Zoom retries a delivery that
// failed 5 minutes later, by when the participant may have left.
type zoomStay struct {
	JoinedAt time.Time
	LeftAt   *time.Time
}

func (st zoomStay) open() bool { return st.LeftAt == nil }

// lone reports whether the row is a leave waiting for its join.
func (st zoomStay) lone() bool { return st.LeftAt != nil && st.LeftAt.Equal(st.JoinedAt) }

func (st zoomStay) equal(o zoomStay) bool {
	return st.JoinedAt.Equal(o.JoinedAt) && st.open() == o.open() && (st.open() || st.LeftAt.Equal(*o.LeftAt))
}

// zoomStays are a registrant's stays in the order they joined.
type zoomStays []zoomStay

// normalise has the stored times in UTC, whatever zone the driver read.
func (stays zoomStays) normalise() {
	for i := range stays {
		stays[i].JoinedAt = stays[i].JoinedAt.UTC()
		if stays[i].LeftAt != nil {
			left := stays[i].LeftAt.UTC()
			stays[i].LeftAt = &left
		}
	}
}

// with is stays once ev is applied, as a new slice.
//
// A join opens a stay, unless one began that second (a retry), and takes
// the first lone leave after it as its end. A leave that says when its stay
// began closes that stay, or records it whole. A leave that does not say is
// a retry when a stay ended that second; else see leave. Sequential stays
// come out the same in whatever order their events arrive; a participant on
// two devices at once, in most orders (zoom_test.go).
func (stays zoomStays) with(ev ZoomParticipantEvent) zoomStays {
	out := slices.Clone(stays)
	switch i := out.began(ev.JoinTime); {
	case !ev.Left:
		if i >= 0 {
			return out
		}
		out = out.insert(zoomStay{JoinedAt: ev.JoinTime})
		i = out.began(ev.JoinTime)
		if k := slices.IndexFunc(out[i+1:], zoomStay.lone); k >= 0 {
			out[i].LeftAt = out[i+1+k].LeftAt
			out = slices.Delete(out, i+1+k, i+2+k)
		}
		return out
	case !ev.JoinTime.IsZero():
		leave := ev.LeaveTime
		if i < 0 {
			return out.insert(zoomStay{JoinedAt: ev.JoinTime, LeftAt: &leave})
		}
		if out[i].open() || out[i].LeftAt.Before(leave) {
			out[i].LeftAt = &leave
		}
		return out
	case slices.ContainsFunc(out, func(st zoomStay) bool { return st.LeftAt != nil && st.LeftAt.Equal(ev.LeaveTime) }):
		return out
	}
	return out.leave(ev.LeaveTime)
}

// leave applies a leave whose stay is not named. Arriving in order, it
// closes the latest stay still open that began before it (on two devices at
// once, which one does not change the minutes), or waits alone for its join.
// Arriving after a later leave that closed its stay instead, it takes that
// stay back, and the later leave is applied again.
func (stays zoomStays) leave(at time.Time) zoomStays {
	last := -1
	for i, st := range stays {
		if !st.JoinedAt.After(at) {
			last = i
		}
	}
	if last >= 0 && !stays[last].open() && !stays[last].lone() && stays[last].LeftAt.After(at) {
		later := *stays[last].LeftAt
		stays[last].LeftAt = &at
		return stays.leave(later)
	}
	for i := last; i >= 0; i-- {
		if stays[i].open() {
			stays[i].LeftAt = &at
			return stays
		}
	}
	if stays.began(at) >= 0 {
		return stays
	}
	return stays.insert(zoomStay{JoinedAt: at, LeftAt: &at})
}

// began is the index of the stay that began at t, or -1.
func (stays zoomStays) began(t time.Time) int {
	return slices.IndexFunc(stays, func(st zoomStay) bool { return st.JoinedAt.Equal(t) })
}

// insert adds st in order of joining.
func (stays zoomStays) insert(st zoomStay) zoomStays {
	i, _ := slices.BinarySearchFunc(stays, st.JoinedAt, func(s zoomStay, t time.Time) int { return s.JoinedAt.Compare(t) })
	return slices.Insert(stays, i, st)
}

// minutes is the time the closed stays cover, rounded to the minute: a
// participant on two devices at once is counted once. known is false until
// a stay has closed.
func (stays zoomStays) minutes() (minutes int, known bool) {
	var total time.Duration
	var coveredTo time.Time
	for _, st := range stays { // in order of joining
		if st.open() || !st.LeftAt.After(st.JoinedAt) {
			continue
		}
		known = true
		from := st.JoinedAt
		if from.Before(coveredTo) {
			from = coveredTo
		}
		if st.LeftAt.After(from) {
			total += st.LeftAt.Sub(from)
			coveredTo = *st.LeftAt
		}
	}
	return int(math.Round(total.Minutes())), known
}
