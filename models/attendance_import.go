package models

import (
	"context"
	"errors"
	"sort"
	"time"

	"gorm.io/gorm"
)

// AttendanceImport is what applying (or previewing) a report does to a
// session's registrants.
type AttendanceImport struct {
	Format string
	// Matched counts the report's people who are live registrants;
	// Unmatched those who are not, listed in UnmatchedEmails (as the
	// report spells them). Nobody is ever created from a report.
	Matched, Unmatched int
	UnmatchedEmails    []string
	// Attended and Absent count the registrants the report marks so;
	// registrants missing from the report are absent.
	Attended, Absent int
}

// maxUnmatchedListed bounds the addresses an answer lists.
const maxUnmatchedListed = 1000

// ImportAttendance applies an attendance report to a session that has
// ended, or with apply false only says what it would do. Every confirmed
// live registrant (not replay registrants) is set from the report:
// attended with their minutes, or absent (0 minutes) when the report says
// they did not attend or does not list them; someone absent who already
// watched the replay stays on_demand. The report replaces an earlier one's
// results, and the same report twice changes nothing.
func (s *Store) ImportAttendance(ctx context.Context, sessionID int64, report *AttendanceReport, apply bool) (*AttendanceImport, error) {
	out := &AttendanceImport{Format: report.Format}
	db := s.read.WithContext(ctx)
	work := func(tx *gorm.DB) error {
		sess, err := s.sessionForImport(tx, sessionID, apply)
		if err != nil {
			return err
		}
		var regs []struct {
			ID               int64
			EmailKey         string
			Attendance       Attendance
			AttendedMinutes  *int
			AttendanceSource AttendanceSource
		}
		err = tx.Model(&Registration{}).Select("id, email_key, attendance, attended_minutes, attendance_source").
			Where("session_id = ? AND status = ? AND on_demand = ?", sess.ID, RegistrationConfirmed, false).
			Scan(&regs).Error
		if err != nil {
			return err
		}
		inReport := make(map[string]*ReportAttendee, len(report.Attendees))
		for i := range report.Attendees {
			inReport[report.Attendees[i].EmailKey] = &report.Attendees[i]
		}
		matched := make(map[string]bool, len(regs))
		updates := map[attendanceUpdate][]int64{}
		var changed []int64 // whose attendance the report changes, for webhooks
		for _, r := range regs {
			u := attendanceUpdate{attendance: AttendanceAbsent}
			if a := inReport[r.EmailKey]; a != nil {
				matched[r.EmailKey] = true
				if a.Attended {
					u = attendanceUpdate{attendance: AttendanceAttended, minutes: a.Minutes}
				}
			}
			if u.attendance == AttendanceAbsent {
				out.Absent++
				if r.Attendance == AttendanceOnDemand {
					u.attendance = AttendanceOnDemand
				}
			} else {
				out.Attended++
			}
			updates[u] = append(updates[u], r.ID)
			if r.Attendance != u.attendance || r.AttendedMinutes == nil || *r.AttendedMinutes != u.minutes ||
				r.AttendanceSource != SourceReport {
				changed = append(changed, r.ID)
			}
		}
		for _, a := range report.Attendees {
			if matched[a.EmailKey] {
				out.Matched++
				continue
			}
			out.Unmatched++
			if len(out.UnmatchedEmails) < maxUnmatchedListed {
				out.UnmatchedEmails = append(out.UnmatchedEmails, a.Email)
			}
		}
		sort.Strings(out.UnmatchedEmails)
		if !apply {
			return nil
		}
		now := s.Now()
		if err := writeAttendance(tx, sess.ID, updates, now); err != nil {
			return err
		}
		return registrationEvents(tx, now, EventAttendanceRecorded, changed)
	}
	if !apply {
		return out, work(db)
	}
	return out, s.inWriteTx(ctx, work)
}

// sessionForImport reads the session a report is for (holding its row
// when applying, so two imports take turns) and refuses one that has not
// ended or was cancelled.
func (s *Store) sessionForImport(tx *gorm.DB, id int64, apply bool) (*Session, error) {
	var sess *Session
	var err error
	if apply {
		sess, err = s.sessionForUpdate(tx, id)
	} else {
		sess = &Session{}
		err = tx.Take(sess, id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			err = ErrNotFound
		}
	}
	switch {
	case err != nil:
		return nil, err
	case sess.Status == SessionCancelled:
		return nil, ErrSessionCancelled
	case !sess.Ended(s.Now()):
		return nil, &Error{Code: CodeConflict, Title: "Not ended yet",
			Message: "Import the attendance report once the session has ended."}
	}
	return sess, nil
}

// attendanceUpdate is one outcome of an import; registrants sharing it are
// updated together.
type attendanceUpdate struct {
	attendance Attendance
	minutes    int
}

// writeAttendance stores an import's outcomes, a few hundred registrants
// per statement, and notes the import on the session (follow-ups go sooner).
// Webhooks hear only of the registrants whose attendance changed, so the
// same report twice sends nothing the second time.
func writeAttendance(tx *gorm.DB, sessionID int64, updates map[attendanceUpdate][]int64, now time.Time) error {
	for u, ids := range updates {
		for start := 0; start < len(ids); start += streamBatch {
			batch := ids[start:min(start+streamBatch, len(ids))]
			err := tx.Model(&Registration{}).Where("id IN ?", batch).Updates(map[string]any{
				"attendance": u.attendance, "attended_minutes": u.minutes, "attendance_source": SourceReport,
				"updated_at": now,
			}).Error
			if err != nil {
				return err
			}
		}
	}
	_, err := execSQL(tx, "UPDATE sessions SET attendance_imported_at = ?, updated_at = ? WHERE id = ?",
		now, now, sessionID)
	return err
}
