package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Attendance is what is known of whether a registrant attended.
type Attendance string

// Attendance values (the API's attendance field).
const (
	// AttendanceUnknown holds until the session has ended and a source
	// has said.
	AttendanceUnknown  Attendance = "unknown"
	AttendanceAttended Attendance = "attended"
	AttendanceAbsent   Attendance = "absent"
	// AttendanceOnDemand is someone who did not attend live (or registered
	// for the replay) and opened the replay.
	AttendanceOnDemand Attendance = "on_demand"
)

// AttendanceSource says where a registration's live attendance came from.
type AttendanceSource string

// Attendance sources, weakest first: a report or Zoom overrides a join
// click; an organizer's mark and a report override each other, the later
// winning.
const (
	SourceNone   AttendanceSource = ""
	SourceLink   AttendanceSource = "link"
	SourceManual AttendanceSource = "manual"
	SourceReport AttendanceSource = "report"
	SourceZoom   AttendanceSource = "zoom"
)

// joinWindow is how long before the start a join click counts as joining:
// Zoom and Teams open their waiting rooms early, while an email security
// scanner that follows every link of a reminder sent an hour or a day
// before does not count.
const joinWindow = 15 * time.Minute

// VisitOutcome is what a personal link does when opened.
type VisitOutcome string

// Visit outcomes.
const (
	// VisitRedirect sends the visitor to Visit.URL.
	VisitRedirect VisitOutcome = "redirect"
	// VisitCancelled: the registration was cancelled; the link never redirects.
	VisitCancelled VisitOutcome = "cancelled"
	// VisitSessionCancelled: the session will not take place.
	VisitSessionCancelled VisitOutcome = "session_cancelled"
	// VisitEnded: the session is over and no replay is offered.
	VisitEnded VisitOutcome = "ended"
	// VisitNotYet: a replay link opened before the recording is there.
	VisitNotYet VisitOutcome = "not_yet"
	// VisitNoPlace: a waitlisted registration has no join link to use.
	VisitNoPlace VisitOutcome = "no_place"
)

// Visit is the outcome of opening a personal link, with the registration
// (its session and panel) for the page that explains a refusal.
type Visit struct {
	Registration Registration
	Outcome      VisitOutcome
	URL          string
}

// OpenJoinLink follows a personal join link at now: before the end it goes
// to the session's join URL and records the join; after the end, to the
// replay when there is one (recording the view). record is false for a
// request that only looks (HEAD).
func (s *Store) OpenJoinLink(ctx context.Context, token string, record bool) (*Visit, error) {
	reg, err := s.registrationByLink(ctx, LinkJoin, token)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	v := &Visit{Registration: *reg, Outcome: refusedVisit(reg)}
	sess := reg.Session
	switch {
	case v.Outcome != VisitRedirect:
	case reg.Status != RegistrationConfirmed || reg.OnDemand:
		v.Outcome = VisitNoPlace
	case sess.Ended(now):
		return s.openReplay(ctx, v, now, record)
	case sess.JoinURL == "":
		v.Outcome = VisitNoPlace
	default:
		v.URL = sess.JoinURL
		if record {
			err = s.recordJoin(ctx, reg.ID, now, !now.Before(sess.StartsAt.Add(-joinWindow)))
		}
	}
	return v, err
}

// OpenWatchLink follows a personal replay link at now to the recording,
// recording the view.
func (s *Store) OpenWatchLink(ctx context.Context, token string, record bool) (*Visit, error) {
	reg, err := s.registrationByLink(ctx, LinkWatch, token)
	if err != nil {
		return nil, err
	}
	v := &Visit{Registration: *reg, Outcome: refusedVisit(reg)}
	if v.Outcome != VisitRedirect {
		return v, nil
	}
	return s.openReplay(ctx, v, s.Now(), record)
}

// refusedVisit is why a link cannot be followed whatever the time, or
// VisitRedirect.
func refusedVisit(reg *Registration) VisitOutcome {
	switch {
	case reg.Status == RegistrationCancelled:
		return VisitCancelled
	case reg.Session.Status == SessionCancelled:
		return VisitSessionCancelled
	}
	return VisitRedirect
}

func (s *Store) openReplay(ctx context.Context, v *Visit, now time.Time, record bool) (*Visit, error) {
	sess := v.Registration.Session
	switch {
	case sess.OnDemand(now):
		v.Outcome, v.URL = VisitRedirect, sess.RecordingURL
	case !sess.Ended(now):
		v.Outcome = VisitNotYet
		return v, nil
	default: // no recording, or its offer has run out
		v.Outcome = VisitEnded
		return v, nil
	}
	if !record {
		return v, nil
	}
	return v, s.inWriteTx(ctx, func(tx *gorm.DB) error {
		// The live attendance stays; an absentee (or someone not yet
		// known to have attended) who watches is on demand.
		_, err := execSQL(tx, `UPDATE registrations SET watched_at = COALESCE(watched_at, ?), last_watched_at = ?,
			attendance = CASE WHEN attendance IN ('unknown', 'absent') THEN 'on_demand' ELSE attendance END,
			updated_at = ? WHERE id = ?`, now, now, now, v.Registration.ID)
		return err
	})
}

// recordJoin notes a join click; inWindow says it came close enough to the
// start to count as attending until a report, Zoom or the organizer says.
func (s *Store) recordJoin(ctx context.Context, id int64, now time.Time, inWindow bool) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if !inWindow {
			_, err := execSQL(tx, "UPDATE registrations SET last_joined_at = ? WHERE id = ?", now, id)
			return err
		}
		_, err := execSQL(tx, `UPDATE registrations SET joined_at = COALESCE(joined_at, ?), last_joined_at = ?,
			attendance = CASE WHEN attendance_source IN ('', 'link') THEN 'attended' ELSE attendance END,
			attendance_source = CASE WHEN attendance_source = '' THEN 'link' ELSE attendance_source END,
			updated_at = ? WHERE id = ?`, now, now, now, id)
		return err
	})
}

// SetAttended is the organizer's mark: attended (keeping the first time it
// was marked), or not attended (absent once the session has ended, unknown
// before). It overrides what a report or a join click said.
func (s *Store) SetAttended(ctx context.Context, id int64, attended bool) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		var reg Registration
		if err := tx.Preload("Session").Take(&reg, id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		values := map[string]any{"attended_at": nil, "attendance_source": SourceManual, "updated_at": now}
		switch {
		case attended:
			values["attended_at"], values["attendance"] = gorm.Expr("COALESCE(attended_at, ?)", now), AttendanceAttended
		case reg.WatchedAt != nil:
			values["attendance"] = AttendanceOnDemand
		case reg.Session.Ended(now):
			values["attendance"] = AttendanceAbsent
		default:
			values["attendance"] = AttendanceUnknown
		}
		if err := tx.Model(&Registration{}).Where("id = ?", id).Updates(values).Error; err != nil {
			return err
		}
		return registrationEvent(tx, now, EventAttendanceRecorded, id)
	})
}

// AttendanceStats sum up a session's attendance for the organizer.
type AttendanceStats struct {
	// Registered counts confirmed live places; OnDemandRegistered the
	// registrations for the replay.
	Registered, OnDemandRegistered int
	Attended, Absent, Unknown      int
	// Watched counts everyone who opened the replay; Joined those who
	// used their personal join link.
	Watched, Joined int
	// MedianMinutes is over attendees whose minutes are known; -1 when none.
	MedianMinutes int
}

// Rate is the share of live registrants who attended, 0 to 100.
func (a AttendanceStats) Rate() int {
	if a.Registered == 0 {
		return 0
	}
	return a.Attended * 100 / a.Registered
}

// SessionAttendance counts a session's attendance.
func (s *Store) SessionAttendance(ctx context.Context, sessionID int64) (AttendanceStats, error) {
	stats, err := s.attendance(ctx, "session_id = ?", sessionID)
	if st, ok := stats[sessionID]; ok {
		return st, err
	}
	return AttendanceStats{MedianMinutes: -1}, err
}

// PanelAttendance counts the attendance of each of a panel's sessions, by
// session id, for the panel's page over time.
func (s *Store) PanelAttendance(ctx context.Context, panelID int64) (map[int64]AttendanceStats, error) {
	return s.attendance(ctx, "session_id IN (SELECT id FROM sessions WHERE panel_id = ?)", panelID)
}

// attendance counts the confirmed registrations that where selects, per
// session: the database counts each kind of registration, and only the
// attendees' minutes come back, for the median (sessions of 50,000 do not
// come back row by row).
func (s *Store) attendance(ctx context.Context, where string, arg int64) (map[int64]AttendanceStats, error) {
	db := s.read.WithContext(ctx).Model(&Registration{}).Where(where, arg).Where("status = ?", RegistrationConfirmed)
	var groups []struct {
		SessionID       int64
		OnDemand        bool
		Attendance      Attendance
		N               int
		Joined, Watched int
	}
	err := db.Session(&gorm.Session{}).Select(`session_id, on_demand, attendance, COUNT(*) AS n,
		SUM(CASE WHEN joined_at IS NULL THEN 0 ELSE 1 END) AS joined,
		SUM(CASE WHEN watched_at IS NULL THEN 0 ELSE 1 END) AS watched`).
		Group("session_id, on_demand, attendance").Scan(&groups).Error
	if err != nil {
		return nil, err
	}
	out := map[int64]AttendanceStats{}
	for _, g := range groups {
		st, ok := out[g.SessionID]
		if !ok {
			st.MedianMinutes = -1
		}
		st.Watched, st.Joined = st.Watched+g.Watched, st.Joined+g.Joined
		switch {
		case g.OnDemand:
			st.OnDemandRegistered += g.N
			out[g.SessionID] = st
			continue
		case g.Attendance == AttendanceAttended:
			st.Attended += g.N
		case g.Attendance == AttendanceUnknown:
			st.Unknown += g.N
		default:
			st.Absent += g.N
		}
		st.Registered += g.N
		out[g.SessionID] = st
	}
	var minutes []struct {
		SessionID       int64
		AttendedMinutes int
	}
	err = db.Select("session_id, attended_minutes").
		Where("on_demand = ? AND attendance = ? AND attended_minutes IS NOT NULL", false, AttendanceAttended).
		Order("session_id, attended_minutes").Scan(&minutes).Error
	for start := 0; start < len(minutes); {
		end := start
		for end < len(minutes) && minutes[end].SessionID == minutes[start].SessionID {
			end++
		}
		st := out[minutes[start].SessionID]
		st.MedianMinutes = minutes[start+(end-start)/2].AttendedMinutes
		out[minutes[start].SessionID] = st
		start = end
	}
	return out, err
}
