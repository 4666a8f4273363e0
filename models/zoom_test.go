package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"podium/models/pgtest"
)

// These tests follow Zoom's participant events to the registrations they
// name, on both databases.

const testWebinar = "85612345678"

// zoomPanel is afterLivePanel's panel with its session on testWebinar.
func zoomPanel(t *testing.T, s *Store, capacity int, waitlist bool) (*Panel, *Session) {
	t.Helper()
	p, sess := afterLivePanel(t, s, capacity, waitlist)
	setZoomWebinar(t, s, sess.ID, testWebinar)
	sess.ZoomWebinarID = testWebinar
	return p, sess
}

// setZoomWebinar puts a session on a Zoom webinar, every other field as stored.
func setZoomWebinar(t *testing.T, s *Store, sessionID int64, webinarID string) {
	t.Helper()
	_, err := s.EditSession(context.Background(), sessionID, func(cur *Session) SessionUpdate {
		upd := sessionUpdateOf(cur)
		upd.ZoomWebinarID = webinarID
		return upd
	})
	if err != nil {
		t.Fatalf("set the Zoom webinar: %v", err)
	}
}

func zoomJoin(email string, at time.Time) ZoomParticipantEvent {
	return ZoomParticipantEvent{WebinarID: testWebinar, Email: email, JoinTime: at}
}

func zoomLeave(email string, at time.Time) ZoomParticipantEvent {
	return ZoomParticipantEvent{WebinarID: testWebinar, Email: email, Left: true, LeaveTime: at}
}

// recordZoom applies events in turn, each with the outcome want.
func recordZoom(t *testing.T, s *Store, want ZoomOutcome, events ...ZoomParticipantEvent) {
	t.Helper()
	for _, ev := range events {
		got, err := s.RecordZoomParticipant(context.Background(), ev)
		if err != nil || got != want {
			t.Fatalf("record %+v = %q, %v; want %q", ev, got, err, want)
		}
	}
}

// staysOf lists a registration's stored stays in minutes from start:
// "2-47" closed, "50-" open, "-60" a leave waiting for its join.
func staysOf(t *testing.T, s *Store, registrationID int64, start time.Time) []string {
	t.Helper()
	var stays zoomStays
	err := s.read.Table("zoom_intervals").Select("joined_at, left_at").
		Where("registration_id = ?", registrationID).Order("joined_at").Scan(&stays).Error
	if err != nil {
		t.Fatal(err)
	}
	return describeStays(stays, start)
}

func describeStays(stays zoomStays, start time.Time) []string {
	out := []string{}
	mins := func(t time.Time) string { return fmt.Sprint(t.Sub(start).Minutes()) }
	for _, st := range stays {
		switch {
		case st.open():
			out = append(out, mins(st.JoinedAt)+"-")
		case st.lone():
			out = append(out, "-"+mins(st.JoinedAt))
		default:
			out = append(out, mins(st.JoinedAt)+"-"+mins(*st.LeftAt))
		}
	}
	return out
}

func assertStays(t *testing.T, s *Store, who string, registrationID int64, start time.Time, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := staysOf(t, s, registrationID, start); !slices.Equal(got, want) {
		t.Errorf("%s: stays %q; want %q", who, got, want)
	}
}

func updatedAt(t *testing.T, s *Store, registrationID int64) time.Time {
	t.Helper()
	var reg Registration
	if err := s.read.Take(&reg, registrationID).Error; err != nil {
		t.Fatal(err)
	}
	return reg.UpdatedAt
}

// zoomAttended is a registrant Zoom says attended.
func zoomAttended(minutes string, joined, lastJoined time.Time) attendanceRow {
	return attendanceRow{Attendance: AttendanceAttended, Source: SourceZoom, Minutes: minutes,
		JoinedAt: at(joined), LastJoinedAt: at(lastJoined), WatchedAt: "nil", LastWatch: "nil"}
}

func TestRecordZoomParticipant_JoinThenLeaveCountOnceHoweverOftenZoomRetries(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := zoomPanel(t, s, 0, false)
	reg := signUp(t, s, p.ID, sess.ID, "ada@example.com").Registration
	start := sess.StartsAt
	join := zoomJoin(" Ada@Example.COM ", start.Add(2*time.Minute))
	leave := zoomLeave("ada@example.com", start.Add(47*time.Minute))

	clock.Set(join.JoinTime)
	recordZoom(t, s, ZoomRecorded, join)
	assertAttendance(t, s, "after the join", reg.ID, zoomAttended("nil", join.JoinTime, join.JoinTime))
	assertStays(t, s, "after the join", reg.ID, start, "2-")

	clock.Set(leave.LeaveTime)
	recordZoom(t, s, ZoomRecorded, leave)
	left := zoomAttended("45", join.JoinTime, join.JoinTime)
	assertAttendance(t, s, "after the leave", reg.ID, left)
	assertStays(t, s, "after the leave", reg.ID, start, "2-47")

	// Zoom's retries, even out of order, change nothing, not even updated_at.
	before := updatedAt(t, s, reg.ID)
	clock.Set(leave.LeaveTime.Add(time.Hour))
	recordZoom(t, s, ZoomRecorded, join, leave, leave, join)
	assertAttendance(t, s, "after the retries", reg.ID, left)
	assertStays(t, s, "after the retries", reg.ID, start, "2-47")
	if after := updatedAt(t, s, reg.ID); !after.Equal(before) {
		t.Errorf("updated_at moved from %v to %v on retries", before, after)
	}
}

// Zoom retries a delivery that failed 5, 25 and 85 minutes later, so a join
// can arrive after its leave, and a leave after the next stay's events.
func TestRecordZoomParticipant_StaysAddUpInWhateverOrderTheyArrive(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := zoomPanel(t, s, 0, false)
	start := sess.StartsAt
	minute := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }
	orders := []struct{ name, events string }{
		{"in order", "J1 L1 J2 L2"},
		{"the first join late", "L1 J2 L2 J1"},
		{"the first leave late", "J1 J2 L2 L1"},
		{"the second join late", "J1 L1 L2 J2"},
		{"each leave before its join", "L1 J1 L2 J2"},
		{"backwards", "L2 J2 L1 J1"},
	}
	for i, order := range orders {
		t.Run(order.name, func(t *testing.T) {
			email := fmt.Sprintf("order%d@example.com", i)
			reg := signUp(t, s, p.ID, sess.ID, email).Registration
			events := map[string]ZoomParticipantEvent{
				"J1": zoomJoin(email, minute(0)), "L1": zoomLeave(email, minute(10)),
				"J2": zoomJoin(email, minute(20)), "L2": zoomLeave(email, minute(50)),
			}
			for range 2 { // the second time round, every event is a retry
				for _, name := range strings.Fields(order.events) {
					recordZoom(t, s, ZoomRecorded, events[name])
				}
				assertAttendance(t, s, email, reg.ID, zoomAttended("40", minute(0), minute(20)))
				assertStays(t, s, email, reg.ID, start, "0-10", "20-50")
			}
		})
	}
}

func TestRecordZoomParticipant_LeaveThatNamesItsJoinClosesThatStay(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := zoomPanel(t, s, 0, false)
	start := sess.StartsAt
	minute := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }
	reg := signUp(t, s, p.ID, sess.ID, "grace@example.com").Registration
	named := func(joined, left int) ZoomParticipantEvent {
		ev := zoomLeave("grace@example.com", minute(left))
		ev.JoinTime = minute(joined)
		return ev
	}
	recordZoom(t, s, ZoomRecorded, zoomJoin("grace@example.com", minute(0)), named(0, 30),
		zoomJoin("grace@example.com", minute(40)), named(40, 50))
	assertAttendance(t, s, "two stays", reg.ID, zoomAttended("40", minute(0), minute(40)))
	// A leave whose join never came records its stay whole.
	recordZoom(t, s, ZoomRecorded, named(60, 70), named(60, 70), named(0, 30))
	assertAttendance(t, s, "a stay known only from its leave", reg.ID, zoomAttended("50", minute(0), minute(60)))
	assertStays(t, s, "grace", reg.ID, start, "0-30", "40-50", "60-70")
}

// Only a confirmed live place counts: waitlisted, cancelled and replay
// registrants, and people who never registered, are left as they are, and
// no stay is kept for them. An organizer's mark stands.
func TestRecordZoomParticipant_OnlyConfirmedLiveRegistrantsAreTouched(t *testing.T) {
	s, clock := newTestStore(t)
	c := newFollowUpCast(t, s, clock)
	setZoomWebinar(t, s, c.session.ID, testWebinar)
	start := c.session.StartsAt
	join, leave := start.Add(time.Minute), start.Add(31*time.Minute)
	attend := func(want ZoomOutcome, email string) {
		t.Helper()
		recordZoom(t, s, want, zoomJoin(email, join), zoomLeave(email, leave))
	}
	before := map[string]attendanceRow{}
	for name, reg := range map[string]*Registration{"waitlisted": c.waitlisted, "gone": c.gone, "onDemand": c.onDemand} {
		before[name] = attendanceOf(t, s, reg.ID)
	}
	for _, email := range []string{"waitlisted@example.com", "gone@example.com", "ondemand@example.com",
		"stranger@example.com", "", "not an address"} {
		attend(ZoomUnknownParticipant, email)
	}
	for name, reg := range map[string]*Registration{"waitlisted": c.waitlisted, "gone": c.gone, "onDemand": c.onDemand} {
		assertAttendance(t, s, name, reg.ID, before[name])
		assertStays(t, s, name, reg.ID, start)
	}
	var registrations int64
	if err := s.read.Model(&Registration{}).Count(&registrations).Error; err != nil || registrations != 7 {
		t.Fatalf("registrations = %d, %v; want the cast's 7, nobody new", registrations, err)
	}

	for _, email := range []string{"attended@example.com", "absent@example.com", "Unknown@Example.com", "optedout@example.com"} {
		attend(ZoomRecorded, email)
	}
	// The join link's click (at the start) stays the first join.
	assertAttendance(t, s, "joined by link", c.attended.ID, zoomAttended("30", start, join))
	assertAttendance(t, s, "unknown", c.unknown.ID, zoomAttended("30", join, join))
	assertAttendance(t, s, "opted out of emails", c.optedOut.ID, zoomAttended("30", join, join))
	assertAttendance(t, s, "marked absent by the organizer", c.absent.ID, attendanceRow{Attendance: AttendanceAbsent,
		Source: SourceManual, Minutes: "nil", JoinedAt: at(join), LastJoinedAt: at(join), WatchedAt: "nil", LastWatch: "nil"})
	assertStays(t, s, "marked absent by the organizer", c.absent.ID, start, "1-31")
}

func TestRecordZoomParticipant_WebinarsAndTimesWithoutASessionMatchNothing(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	// A recurring Zoom meeting: one ID for a session a day away and
	// another a week after it.
	p := &Panel{Title: "Recurring", Status: PanelPublished, FollowUps: DefaultFollowUps, Sessions: []Session{
		{StartsAt: testNow.Add(24 * time.Hour), DurationMinutes: 60, TimeZone: "UTC", JoinURL: liveJoinURL, ZoomWebinarID: testWebinar},
		{StartsAt: testNow.Add(8 * 24 * time.Hour), DurationMinutes: 60, TimeZone: "UTC", JoinURL: liveJoinURL, ZoomWebinarID: testWebinar},
	}}
	if err := s.CreatePanel(ctx, p); err != nil {
		t.Fatal(err)
	}
	first, second := p.Sessions[0], p.Sessions[1]
	a := signUp(t, s, p.ID, first.ID, "ada@example.com").Registration
	b := signUp(t, s, p.ID, second.ID, "ada@example.com").Registration

	// A week later, the join is for the second session; hours after the end
	// of the first, with the second days away, for neither.
	recordZoom(t, s, ZoomRecorded, zoomJoin("ada@example.com", second.StartsAt.Add(-10*time.Minute)))
	assertAttendance(t, s, "the second session", b.ID, zoomAttended("nil", second.StartsAt.Add(-10*time.Minute), second.StartsAt.Add(-10*time.Minute)))
	assertAttendance(t, s, "the first session", a.ID, untouched)
	for name, ev := range map[string]ZoomParticipantEvent{
		"seven hours after the first":    zoomJoin("ada@example.com", first.EndsAt().Add(7*time.Hour)),
		"seven hours before the second":  zoomJoin("ada@example.com", second.StartsAt.Add(-7*time.Hour)),
		"another webinar":                {WebinarID: "999999999", Email: "ada@example.com", JoinTime: first.StartsAt},
		"no webinar":                     {Email: "ada@example.com", JoinTime: first.StartsAt},
		"a webinar ID that is not one":   {WebinarID: "8.5612345678e10", Email: "ada@example.com", JoinTime: first.StartsAt},
		"a leave hours after the second": zoomLeave("ada@example.com", second.EndsAt().Add(7*time.Hour)),
	} {
		got, err := s.RecordZoomParticipant(ctx, ev)
		if err != nil || got != ZoomUnknownWebinar {
			t.Errorf("%s = %q, %v; want %q", name, got, err, ZoomUnknownWebinar)
		}
	}
	// Within six hours of its end, a stay still belongs to the session.
	recordZoom(t, s, ZoomRecorded, zoomJoin("ada@example.com", first.EndsAt().Add(5*time.Hour)))
	if _, err := s.CancelSession(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	recordZoom(t, s, ZoomUnknownWebinar, zoomJoin("ada@example.com", first.StartsAt))
	assertStays(t, s, "the first session", a.ID, first.StartsAt, "360-")
}

// A report, and an organizer's mark, say more than Zoom: Zoom's later
// events keep the stays and join times but leave attendance and minutes.
func TestRecordZoomParticipant_ReportAndOrganizerOverrideZoom(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := zoomPanel(t, s, 0, false)
	start := sess.StartsAt
	minute := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }
	a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	b := signUp(t, s, p.ID, sess.ID, "b@example.com").Registration
	recordZoom(t, s, ZoomRecorded, zoomJoin("a@example.com", minute(0)), zoomLeave("a@example.com", minute(20)),
		zoomJoin("b@example.com", minute(0)), zoomLeave("b@example.com", minute(20)))

	clock.Set(sess.EndsAt())
	importAttendance(t, s, sess.ID, plainReport(attendee("a@example.com", 42, true)))
	if err := s.SetAttended(ctx, b.ID, true); err != nil {
		t.Fatal(err)
	}
	recordZoom(t, s, ZoomRecorded, zoomJoin("a@example.com", minute(30)), zoomLeave("a@example.com", minute(40)),
		zoomJoin("b@example.com", minute(30)), zoomLeave("b@example.com", minute(40)))
	assertAttendance(t, s, "reported", a.ID, attendanceRow{Attendance: AttendanceAttended, Source: SourceReport,
		Minutes: "42", JoinedAt: at(minute(0)), LastJoinedAt: at(minute(30)), WatchedAt: "nil", LastWatch: "nil"})
	// The report left b absent with 0 minutes before the organizer's mark.
	assertAttendance(t, s, "marked", b.ID, attendanceRow{Attendance: AttendanceAttended, Source: SourceManual,
		Minutes: "0", JoinedAt: at(minute(0)), LastJoinedAt: at(minute(30)), WatchedAt: "nil", LastWatch: "nil"})
	assertStays(t, s, "reported", a.ID, start, "0-20", "30-40")
}

// Receivers of attendance.recorded hear of the join that made the
// registrant attended and of the leave that set their minutes, once each.
func TestRecordZoomParticipant_AttendanceReachesWebhooksOncePerChange(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := zoomPanel(t, s, 0, false)
	newWebhookEndpoint(t, s, hookURL, EventAttendanceRecorded)
	reg := signUp(t, s, p.ID, sess.ID, "ada@example.com").Registration
	start := sess.StartsAt
	join, leave := zoomJoin("ada@example.com", start), zoomLeave("ada@example.com", start.Add(30*time.Minute))
	clock.Set(start)
	recordZoom(t, s, ZoomRecorded, join)
	clock.Set(leave.LeaveTime)
	recordZoom(t, s, ZoomRecorded, leave, join, leave)
	events := webhookEvents(t, s)
	if got := eventTypes(events); !slices.Equal(got, []string{EventAttendanceRecorded, EventAttendanceRecorded}) {
		t.Fatalf("events = %q; want attendance.recorded for the join and for the leave", got)
	}
	assertEventData(t, events[0], EventAttendanceRecorded, start,
		map[string]any{"registration_id": float64(reg.ID), "attendance": "attended", "attended_minutes": nil})
	assertEventData(t, events[1], EventAttendanceRecorded, leave.LeaveTime,
		map[string]any{"registration_id": float64(reg.ID), "attendance": "attended", "attended_minutes": float64(30)})
}

func TestRecordZoomParticipant_ConcurrentDeliveriesCountOnce(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := zoomPanel(t, s, 0, false)
	start := sess.StartsAt
	reg := signUp(t, s, p.ID, sess.ID, "ada@example.com").Registration
	events := []ZoomParticipantEvent{
		zoomJoin("ada@example.com", start), zoomLeave("ada@example.com", start.Add(25*time.Minute)),
		zoomJoin("ada@example.com", start.Add(30*time.Minute)), zoomLeave("ada@example.com", start.Add(35*time.Minute)),
	}
	errs := make([]error, 4*len(events))
	pgtest.AtOnce(len(errs), func(i int) {
		_, errs[i] = s.RecordZoomParticipant(context.Background(), events[i%len(events)])
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent deliveries: %v", err)
	}
	assertAttendance(t, s, "after the deliveries", reg.ID, zoomAttended("30", start, start.Add(30*time.Minute)))
	assertStays(t, s, "after the deliveries", reg.ID, start, "0-25", "30-35")
}

func TestRecordZoomParticipant_EventsWithoutTheirTimesRefused(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := zoomPanel(t, s, 0, false)
	reg := signUp(t, s, p.ID, sess.ID, "ada@example.com").Registration
	backwards := zoomLeave("ada@example.com", sess.StartsAt)
	backwards.JoinTime = sess.StartsAt.Add(time.Minute)
	for name, ev := range map[string]ZoomParticipantEvent{
		"a join without its time":       zoomJoin("ada@example.com", time.Time{}),
		"a leave without its time":      zoomLeave("ada@example.com", time.Time{}),
		"a leave before its own join":   backwards,
		"a leave with only a join time": {WebinarID: testWebinar, Email: "ada@example.com", Left: true, JoinTime: sess.StartsAt},
	} {
		var verr *ValidationError
		if _, err := s.RecordZoomParticipant(context.Background(), ev); !errors.As(err, &verr) {
			t.Errorf("%s = %v; want a ValidationError", name, err)
		}
	}
	assertAttendance(t, s, "after refusals", reg.ID, untouched)
	assertStays(t, s, "after refusals", reg.ID, sess.StartsAt)
}

// permutations are every order of 0 … n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			out = append(out, slices.Insert(slices.Clone(p), i, n-1))
		}
	}
	return out
}

// assertAnyOrder applies events in every order, then all again as retries,
// and wants the same minutes each time, and retries to change no stay.
func assertAnyOrder(t *testing.T, events []ZoomParticipantEvent, want int) {
	t.Helper()
	start := events[0].JoinTime
	wrong := 0
	for _, order := range permutations(len(events)) {
		var stays zoomStays
		for _, i := range order {
			stays = stays.with(events[i])
		}
		first := describeStays(stays, start)
		for _, i := range order {
			stays = stays.with(events[i])
		}
		if again := describeStays(stays, start); !slices.Equal(again, first) {
			t.Fatalf("order %v: retries changed the stays from %q to %q", order, first, again)
		}
		if got, known := stays.minutes(); got != want || !known {
			if wrong++; wrong <= 3 {
				t.Errorf("order %v: %d minutes (%v) from stays %q; want %d", order, got, known, first, want)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d orders wrong", wrong, len(permutations(len(events))))
	}
}

// joinAt and leaveAt are events n minutes after testNow.
func joinAt(n int) ZoomParticipantEvent {
	return ZoomParticipantEvent{JoinTime: testNow.Add(time.Duration(n) * time.Minute)}
}

func leaveAt(n int) ZoomParticipantEvent {
	return ZoomParticipantEvent{Left: true, LeaveTime: testNow.Add(time.Duration(n) * time.Minute)}
}

func TestZoomStays_SequentialStaysAddUpInEveryOrder(t *testing.T) {
	join, leave := joinAt, leaveAt
	assertAnyOrder(t, []ZoomParticipantEvent{join(0), leave(10), join(20), leave(50), join(60), leave(65)}, 45)
}

// On two devices at once a participant is counted once, whichever leave
// closes which stay.
func TestZoomStays_TwoDevicesAtOnceCountOnce(t *testing.T) {
	join, leave := joinAt, leaveAt
	t.Run("overlapping", func(t *testing.T) {
		assertAnyOrder(t, []ZoomParticipantEvent{join(0), join(10), leave(20), leave(30)}, 30)
	})
	t.Run("nested", func(t *testing.T) {
		assertAnyOrder(t, []ZoomParticipantEvent{join(0), join(10), leave(20), leave(40)}, 40)
	})
}

func TestZoomStays_MinutesRoundToTheNearestMinute(t *testing.T) {
	for _, tc := range []struct {
		stay time.Duration
		want int
	}{{0, 0}, {29 * time.Second, 0}, {30 * time.Second, 1}, {29*time.Minute + 29*time.Second, 29}, {29*time.Minute + 30*time.Second, 30}} {
		left := testNow.Add(tc.stay)
		got, known := zoomStays{{JoinedAt: testNow, LeftAt: &left}}.minutes()
		if got != tc.want || known != (tc.stay > 0) {
			t.Errorf("a stay of %v = %d minutes (known %v); want %d", tc.stay, got, known, tc.want)
		}
	}
}
