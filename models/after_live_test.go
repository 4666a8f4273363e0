package models

import (
	"podium/models/pgtest"

	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests follow a session past its end: personal join and replay
// links, attendance from clicks and reports, registrations for the replay,
// and the follow-up emails.

const (
	liveJoinURL  = "https://meet.example.com/live"
	recordingURL = "https://video.example.com/replay"
)

// afterLivePanel stores a published panel with the default follow-ups (on,
// two hours after the end) and one online session of capacity seats, an
// hour long, starting a day after testNow.
func afterLivePanel(t *testing.T, s *Store, capacity int, waitlist bool) (*Panel, *Session) {
	t.Helper()
	p := &Panel{Title: "After the live session", Status: PanelPublished, FollowUps: DefaultFollowUps,
		Sessions: []Session{{StartsAt: testNow.Add(24 * time.Hour), DurationMinutes: 60, TimeZone: "UTC",
			Capacity: capacity, Waitlist: waitlist, JoinURL: liveJoinURL}}}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel: %v", err)
	}
	return p, &p.Sessions[0]
}

// signUp registers email through the public form.
func signUp(t *testing.T, s *Store, panelID, sessionID int64, email string) *RegisterResult {
	t.Helper()
	res, err := s.Register(context.Background(), panelID, validInput(sessionID, email))
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return res
}

// personalLink is a registration's token for purpose.
func personalLink(t *testing.T, s *Store, registrationID int64, purpose LinkPurpose) string {
	t.Helper()
	token, err := s.PersonalLink(context.Background(), registrationID, purpose)
	if err != nil {
		t.Fatalf("personal %s link of %d: %v", purpose, registrationID, err)
	}
	return token
}

// sha256Hex is what registration_links keeps of a token.
func sha256Hex(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// storedLinks are the token hashes stored for a registration, by purpose.
func storedLinks(t *testing.T, s *Store, registrationID int64) map[LinkPurpose]string {
	t.Helper()
	var rows []struct {
		Purpose   LinkPurpose
		TokenHash string
	}
	err := s.read.Table("registration_links").Select("purpose, token_hash").
		Where("registration_id = ?", registrationID).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := map[LinkPurpose]string{}
	for _, r := range rows {
		out[r.Purpose] = r.TokenHash
	}
	return out
}

// offerReplay sets a session's recording and the end of its offer through
// UpdateSession, every other field as stored.
func offerReplay(t *testing.T, s *Store, sessionID int64, recording string, until *time.Time) {
	t.Helper()
	ctx := context.Background()
	cur, err := s.SessionByID(ctx, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	upd := sessionUpdateOf(cur)
	upd.RecordingURL, upd.OnDemandUntil = recording, until
	res, err := s.UpdateSession(ctx, sessionID, upd)
	if err != nil {
		t.Fatalf("offer the replay: %v", err)
	}
	if res.Fanout != nil {
		t.Fatal("offering a replay told the registrants the session moved")
	}
}

// sessionUpdateOf is an update that changes nothing.
func sessionUpdateOf(cur *Session) SessionUpdate {
	return SessionUpdate{StartsAt: cur.StartsAt, DurationMinutes: cur.DurationMinutes, TimeZone: cur.TimeZone,
		Capacity: cur.Capacity, Waitlist: cur.Waitlist, JoinURL: cur.JoinURL, Venue: cur.Venue,
		RegistrationClosesAt: cur.RegistrationClosesAt, RecordingURL: cur.RecordingURL, OnDemandUntil: cur.OnDemandUntil,
		ZoomWebinarID: cur.ZoomWebinarID}
}

// attendanceRow is what a registration says of its attendance, in a form
// that compares with == and prints readably.
type attendanceRow struct {
	Attendance                                   Attendance
	Source                                       AttendanceSource
	Minutes                                      string // the number, or "nil"
	JoinedAt, LastJoinedAt, WatchedAt, LastWatch string // RFC 3339, or "nil"
}

func stamp(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.UTC().Format(time.RFC3339)
}

func at(t time.Time) string { return stamp(&t) }

func attendanceOf(t *testing.T, s *Store, registrationID int64) attendanceRow {
	t.Helper()
	var reg Registration
	if err := s.read.Take(&reg, registrationID).Error; err != nil {
		t.Fatal(err)
	}
	minutes := "nil"
	if reg.AttendedMinutes != nil {
		minutes = strconv.Itoa(*reg.AttendedMinutes)
	}
	return attendanceRow{Attendance: reg.Attendance, Source: reg.AttendanceSource, Minutes: minutes,
		JoinedAt: stamp(reg.JoinedAt), LastJoinedAt: stamp(reg.LastJoinedAt),
		WatchedAt: stamp(reg.WatchedAt), LastWatch: stamp(reg.LastWatchedAt)}
}

// untouched is a registration nothing has said anything about.
var untouched = attendanceRow{Attendance: AttendanceUnknown, Minutes: "nil",
	JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: "nil", LastWatch: "nil"}

func assertAttendance(t *testing.T, s *Store, who string, registrationID int64, want attendanceRow) {
	t.Helper()
	if got := attendanceOf(t, s, registrationID); got != want {
		t.Errorf("%s: %+v\n\twant %+v", who, got, want)
	}
}

func assertVisit(t *testing.T, v *Visit, err error, outcome VisitOutcome, url string) {
	t.Helper()
	if err != nil {
		t.Fatalf("visit: %v", err)
	}
	if v.Outcome != outcome || v.URL != url {
		t.Fatalf("visit = %s %q; want %s %q", v.Outcome, v.URL, outcome, url)
	}
}

// attendee is one line of a hand-made attendance report.
func attendee(email string, minutes int, attended bool) ReportAttendee {
	key, _ := normaliseEmail(email)
	return ReportAttendee{Email: email, EmailKey: key, Minutes: minutes, Attended: attended}
}

func plainReport(attendees ...ReportAttendee) *AttendanceReport {
	return &AttendanceReport{Format: ReportPlain, Attendees: attendees}
}

func importAttendance(t *testing.T, s *Store, sessionID int64, report *AttendanceReport) *AttendanceImport {
	t.Helper()
	res, err := s.ImportAttendance(context.Background(), sessionID, report, true)
	if err != nil {
		t.Fatalf("import attendance: %v", err)
	}
	return res
}

// followUpsOf lists a session's follow-up emails by registration.
func followUpsOf(t *testing.T, s *Store, sessionID int64) map[int64][]OutboxKind {
	t.Helper()
	var rows []struct {
		RegistrationID int64
		Kind           OutboxKind
	}
	err := s.read.Model(&OutboxMessage{}).Select("outbox_messages.registration_id, outbox_messages.kind").
		Joins("JOIN registrations ON registrations.id = outbox_messages.registration_id").
		Where("registrations.session_id = ? AND outbox_messages.kind IN ?", sessionID,
			[]OutboxKind{KindFollowUpAttended, KindFollowUpAbsent}).
		Order("outbox_messages.id").Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]OutboxKind{}
	for _, r := range rows {
		out[r.RegistrationID] = append(out[r.RegistrationID], r.Kind)
	}
	return out
}

func assertFollowUps(t *testing.T, s *Store, sessionID int64, want map[int64][]OutboxKind) {
	t.Helper()
	if got := followUpsOf(t, s, sessionID); !reflect.DeepEqual(got, want) {
		t.Fatalf("follow-ups by registration = %v; want %v", got, want)
	}
}

func followUpsQueuedAt(t *testing.T, s *Store, sessionID int64) string {
	t.Helper()
	sess, err := s.SessionByID(context.Background(), sessionID)
	if err != nil {
		t.Fatal(err)
	}
	return stamp(sess.FollowUpsQueuedAt)
}

// assertConflict fails unless err is a *Error with CodeConflict.
func assertConflict(t *testing.T, what string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeConflict {
		t.Fatalf("%s = %v; want a *models.Error with code %q", what, err, CodeConflict)
	}
}

// openStoreAt opens (and migrates) the database at dsn as a new store
// would after a restart, with clock.
func openStoreAt(t *testing.T, dsn string, clock *testClock) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, WithClock(clock.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestPersonalLink_JoinLinkStoredOnlyAsItsHashAndTheSameEveryTime(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	b := signUp(t, s, p.ID, sess.ID, "b@example.com").Registration

	join := personalLink(t, s, a.ID, LinkJoin)
	if len(join) != 43 {
		t.Fatalf("join token %q has %d characters; want 43", join, len(join))
	}
	if got := storedLinks(t, s, a.ID); !reflect.DeepEqual(got, map[LinkPurpose]string{LinkJoin: sha256Hex(join)}) {
		t.Fatalf("links stored by Register = %v; want only the join link's SHA-256", got)
	}
	for i := range 3 {
		if again := personalLink(t, s, a.ID, LinkJoin); again != join {
			t.Fatalf("PersonalLink call %d = %q; want %q again", i, again, join)
		}
	}
	var plain int64
	if err := s.read.Table("registration_links").Where("token_hash = ?", join).Count(&plain).Error; err != nil || plain != 0 {
		t.Fatalf("rows keeping the token itself: %d, %v; want 0", plain, err)
	}
	if other := personalLink(t, s, b.ID, LinkJoin); other == join {
		t.Fatal("two registrations share one join token")
	}
	watch := personalLink(t, s, a.ID, LinkWatch)
	if watch == join {
		t.Fatal("the replay token is the join token")
	}
	want := map[LinkPurpose]string{LinkJoin: sha256Hex(join), LinkWatch: sha256Hex(watch)}
	if got := storedLinks(t, s, a.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("links after asking for the replay link = %v; want %v", got, want)
	}
}

// A join click counts as joining only from fifteen minutes before the
// start: a mail scanner following a reminder's link a day early does not
// make anyone an attendee.
func TestOpenJoinLink_CountsAJoinOnlyFromFifteenMinutesBeforeTheStart(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	cases := []struct {
		name   string
		before time.Duration // the click, this long before the start
		joined bool
	}{
		{"a day early (a mail scanner)", 24 * time.Hour, false},
		{"sixteen minutes early", 16 * time.Minute, false},
		{"a second before the window", joinWindow + time.Second, false},
		{"as the window opens", joinWindow, true},
		{"at the start", 0, true},
		{"near the end", -59 * time.Minute, true},
	}
	tokens := make([]string, len(cases))
	regs := make([]int64, len(cases))
	for i := range cases {
		regs[i] = signUp(t, s, p.ID, sess.ID, fmt.Sprintf("click%d@example.com", i)).Registration.ID
		tokens[i] = personalLink(t, s, regs[i], LinkJoin)
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := sess.StartsAt.Add(-tc.before)
			clock.Set(now)
			v, err := s.OpenJoinLink(context.Background(), tokens[i], true)
			assertVisit(t, v, err, VisitRedirect, liveJoinURL)
			want := untouched
			want.LastJoinedAt = at(now)
			if tc.joined {
				want.Attendance, want.Source, want.JoinedAt = AttendanceAttended, SourceLink, at(now)
			}
			assertAttendance(t, s, "after one click", regs[i], want)
		})
	}
}

func TestOpenJoinLink_SecondClickKeepsTheFirstJoin(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	reg := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	token := personalLink(t, s, reg.ID, LinkJoin)
	first, second := sess.StartsAt, sess.StartsAt.Add(5*time.Minute)
	for _, now := range []time.Time{first, second} {
		clock.Set(now)
		v, err := s.OpenJoinLink(context.Background(), token, true)
		assertVisit(t, v, err, VisitRedirect, liveJoinURL)
	}
	want := untouched
	want.Attendance, want.Source, want.JoinedAt, want.LastJoinedAt = AttendanceAttended, SourceLink, at(first), at(second)
	assertAttendance(t, s, "after two clicks", reg.ID, want)
}

// A HEAD request (record false) gets the same answer and writes nothing.
func TestOpenJoinLink_LookingWithoutRecordingWritesNothing(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	reg := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	join := personalLink(t, s, reg.ID, LinkJoin)
	watch := personalLink(t, s, reg.ID, LinkWatch)
	ctx := context.Background()

	for _, now := range []time.Time{sess.StartsAt.Add(-time.Hour), sess.StartsAt} {
		clock.Set(now)
		v, err := s.OpenJoinLink(ctx, join, false)
		assertVisit(t, v, err, VisitRedirect, liveJoinURL)
	}
	clock.Set(sess.EndsAt())
	offerReplay(t, s, sess.ID, recordingURL, nil)
	v, err := s.OpenJoinLink(ctx, join, false)
	assertVisit(t, v, err, VisitRedirect, recordingURL)
	v, err = s.OpenWatchLink(ctx, watch, false)
	assertVisit(t, v, err, VisitRedirect, recordingURL)
	assertAttendance(t, s, "after looking only", reg.ID, untouched)
}

// What a join link does depends on the registrant's place and the time: it
// never leads a cancelled or waitlisted registrant anywhere.
func TestOpenJoinLink_OutcomeByPlaceAndTime(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 1, true)
	ctx := context.Background()
	cancelled := signUp(t, s, p.ID, sess.ID, "cancelled@example.com")
	if _, err := s.CancelByToken(ctx, cancelled.Token); err != nil {
		t.Fatal(err)
	}
	confirmed := signUp(t, s, p.ID, sess.ID, "confirmed@example.com").Registration
	waitlisted := signUp(t, s, p.ID, sess.ID, "waitlisted@example.com").Registration
	if confirmed.Status != RegistrationConfirmed || waitlisted.Status != RegistrationWaitlisted {
		t.Fatalf("places: %s and %s; want confirmed and waitlisted", confirmed.Status, waitlisted.Status)
	}
	token := map[string]string{
		"confirmed":  personalLink(t, s, confirmed.ID, LinkJoin),
		"cancelled":  personalLink(t, s, cancelled.Registration.ID, LinkJoin),
		"waitlisted": personalLink(t, s, waitlisted.ID, LinkJoin),
	}
	phases := []struct {
		name  string
		enter func()
		want  map[string]Visit // by registrant: outcome and URL
	}{
		{"before the end", func() { clock.Set(sess.StartsAt) }, map[string]Visit{
			"confirmed":  {Outcome: VisitRedirect, URL: liveJoinURL},
			"cancelled":  {Outcome: VisitCancelled},
			"waitlisted": {Outcome: VisitNoPlace},
		}},
		{"after the end without a recording", func() { clock.Set(sess.EndsAt()) }, map[string]Visit{
			"confirmed":  {Outcome: VisitEnded},
			"cancelled":  {Outcome: VisitCancelled},
			"waitlisted": {Outcome: VisitNoPlace},
		}},
		{"with a recording", func() {
			clock.Set(sess.EndsAt().Add(time.Hour))
			offerReplay(t, s, sess.ID, recordingURL, nil)
		}, map[string]Visit{
			"confirmed":  {Outcome: VisitRedirect, URL: recordingURL},
			"cancelled":  {Outcome: VisitCancelled},
			"waitlisted": {Outcome: VisitNoPlace},
		}},
		{"session cancelled", func() {
			if _, err := s.CancelSession(ctx, sess.ID); err != nil {
				t.Fatal(err)
			}
		}, map[string]Visit{
			"confirmed":  {Outcome: VisitSessionCancelled},
			"cancelled":  {Outcome: VisitCancelled},
			"waitlisted": {Outcome: VisitSessionCancelled},
		}},
	}
	for _, phase := range phases {
		phase.enter()
		for who, want := range phase.want {
			v, err := s.OpenJoinLink(ctx, token[who], true)
			if err != nil {
				t.Fatalf("%s, %s: %v", phase.name, who, err)
			}
			if v.Outcome != want.Outcome || v.URL != want.URL {
				t.Errorf("%s, %s: %s %q; want %s %q", phase.name, who, v.Outcome, v.URL, want.Outcome, want.URL)
			}
		}
	}
	// Refused clicks leave no trace; the confirmed registrant's left theirs.
	assertAttendance(t, s, "cancelled", cancelled.Registration.ID, untouched)
	assertAttendance(t, s, "waitlisted", waitlisted.ID, untouched)
	assertAttendance(t, s, "confirmed", confirmed.ID, attendanceRow{Attendance: AttendanceAttended, Source: SourceLink,
		Minutes: "nil", JoinedAt: at(sess.StartsAt), LastJoinedAt: at(sess.StartsAt),
		WatchedAt: at(sess.EndsAt().Add(time.Hour)), LastWatch: at(sess.EndsAt().Add(time.Hour))})
}

func TestOpenLinks_UnknownTokensNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	res := signUp(t, s, p.ID, sess.ID, "a@example.com")
	join := personalLink(t, s, res.Registration.ID, LinkJoin)
	watch := personalLink(t, s, res.Registration.ID, LinkWatch)
	ctx := context.Background()
	cases := []struct {
		name  string
		open  func(context.Context, string, bool) (*Visit, error)
		token string
	}{
		{"empty", s.OpenJoinLink, ""},
		{"short", s.OpenJoinLink, "short"},
		{"made up", s.OpenJoinLink, strings.Repeat("A", 43)},
		{"a manage token", s.OpenJoinLink, res.Token},
		{"the replay token as a join link", s.OpenJoinLink, watch},
		{"the join token as a replay link", s.OpenWatchLink, join},
		{"a cut join token", s.OpenJoinLink, join[:42]},
	}
	for _, tc := range cases {
		if v, err := tc.open(ctx, tc.token, true); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %+v, %v; want ErrNotFound", tc.name, v, err)
		}
	}
}

// Watching the replay makes an absentee on demand, keeps an attendee an
// attendee, and a later report that leaves the viewer out does not undo it.
func TestReplay_WatchingChangesAbsentToOnDemandAndKeepsAttended(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	ctx := context.Background()
	attended := signUp(t, s, p.ID, sess.ID, "attended@example.com").Registration
	absent := signUp(t, s, p.ID, sess.ID, "absent@example.com").Registration
	missing := signUp(t, s, p.ID, sess.ID, "missing@example.com").Registration
	end := sess.EndsAt()
	clock.Set(end)
	importAttendance(t, s, sess.ID, plainReport(
		attendee("attended@example.com", 42, true), attendee("absent@example.com", 0, false)))
	offerReplay(t, s, sess.ID, recordingURL, nil)

	opens := []struct {
		who   string
		id    int64
		open  func(context.Context, string, bool) (*Visit, error)
		token string
		at    time.Time
	}{
		{"absent, by the replay link", absent.ID, s.OpenWatchLink, personalLink(t, s, absent.ID, LinkWatch), end.Add(time.Hour)},
		{"missing, by the join link", missing.ID, s.OpenJoinLink, personalLink(t, s, missing.ID, LinkJoin), end.Add(2 * time.Hour)},
		{"attended, by the replay link", attended.ID, s.OpenWatchLink, personalLink(t, s, attended.ID, LinkWatch), end.Add(3 * time.Hour)},
		{"absent again, a day later", absent.ID, s.OpenWatchLink, personalLink(t, s, absent.ID, LinkWatch), end.Add(24 * time.Hour)},
	}
	for _, o := range opens {
		clock.Set(o.at)
		v, err := o.open(ctx, o.token, true)
		if err != nil || v.Outcome != VisitRedirect || v.URL != recordingURL {
			t.Fatalf("%s: %+v, %v; want the recording", o.who, v, err)
		}
	}
	want := map[string]struct {
		id  int64
		row attendanceRow
	}{
		"absent": {absent.ID, attendanceRow{Attendance: AttendanceOnDemand, Source: SourceReport, Minutes: "0",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: at(end.Add(time.Hour)), LastWatch: at(end.Add(24 * time.Hour))}},
		"missing": {missing.ID, attendanceRow{Attendance: AttendanceOnDemand, Source: SourceReport, Minutes: "0",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: at(end.Add(2 * time.Hour)), LastWatch: at(end.Add(2 * time.Hour))}},
		"attended": {attended.ID, attendanceRow{Attendance: AttendanceAttended, Source: SourceReport, Minutes: "42",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: at(end.Add(3 * time.Hour)), LastWatch: at(end.Add(3 * time.Hour))}},
	}
	for who, w := range want {
		assertAttendance(t, s, who+" after watching", w.id, w.row)
	}

	// A corrected report that lists only the attendee leaves the viewers on demand.
	clock.Set(end.Add(48 * time.Hour))
	got := importAttendance(t, s, sess.ID, plainReport(attendee("attended@example.com", 42, true)))
	if got.Attended != 1 || got.Absent != 2 || got.Matched != 1 || got.Unmatched != 0 {
		t.Fatalf("second import = %+v; want 1 attended, 2 absent, 1 matched", got)
	}
	for who, w := range want {
		assertAttendance(t, s, who+" after a second report", w.id, w.row)
	}
}

func TestSessionAvailability_OnDemandFromTheEndWhileTheReplayIsOffered(t *testing.T) {
	start := testNow
	end := start.Add(time.Hour)
	until := end.Add(30 * 24 * time.Hour)
	cases := []struct {
		name      string
		recording string
		until     *time.Time
		status    SessionStatus
		now       time.Time
		want      Availability
	}{
		{"recording before the end", recordingURL, nil, SessionScheduled, end.Add(-time.Second), AvailableClosed},
		{"recording at the end", recordingURL, nil, SessionScheduled, end, AvailableOnDemand},
		{"recording a year later, no end to the offer", recordingURL, nil, SessionScheduled, end.AddDate(1, 0, 0), AvailableOnDemand},
		{"the offer's last second", recordingURL, &until, SessionScheduled, until.Add(-time.Second), AvailableOnDemand},
		{"the offer ran out", recordingURL, &until, SessionScheduled, until, AvailableClosed},
		{"no recording", "", nil, SessionScheduled, end, AvailableClosed},
		{"cancelled with a recording", recordingURL, nil, SessionCancelled, end, AvailableCanceled},
	}
	for _, tc := range cases {
		sess := Session{StartsAt: start, DurationMinutes: 60, Capacity: 10, SeatsTaken: 10, Status: tc.status,
			RecordingURL: tc.recording, OnDemandUntil: tc.until}
		if got := sess.Availability(tc.now); got != tc.want {
			t.Errorf("%s: Availability = %s; want %s", tc.name, got, tc.want)
		}
	}
}

// Once the session has ended with a recording, signing up registers for
// the replay: confirmed at once, no seat, a replay link and an on-demand
// notice without an invite, until the offer runs out.
func TestRegister_AfterTheEndWithARecordingRegistersForTheReplay(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 2, false)
	ctx := context.Background()
	live := signUp(t, s, p.ID, sess.ID, "live@example.com")
	end := sess.EndsAt()
	clock.Set(end)
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "early@example.com")); !errors.Is(err, ErrRegistrationClosed) {
		t.Fatalf("register after the end without a recording = %v; want ErrRegistrationClosed", err)
	}
	until := end.Add(30 * 24 * time.Hour)
	_, err := s.EditSession(ctx, sess.ID, func(cur *Session) SessionUpdate {
		upd := sessionUpdateOf(cur)
		upd.RecordingURL, upd.OnDemandUntil = recordingURL, &until
		return upd
	})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.SessionByID(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.Availability(clock.Now()); got != AvailableOnDemand {
		t.Fatalf("availability with a recording = %s; want %s", got, AvailableOnDemand)
	}

	clock.Set(end.Add(time.Hour))
	replay := signUp(t, s, p.ID, sess.ID, "replay@example.com")
	reg := replay.Registration
	if !reg.OnDemand || reg.Status != RegistrationConfirmed || replay.Duplicate || len(replay.Token) != 43 {
		t.Fatalf("replay sign-up = %+v; want a new confirmed on-demand registration", replay)
	}
	var row Registration
	if err := s.read.Take(&row, reg.ID).Error; err != nil || !row.OnDemand || row.Status != RegistrationConfirmed ||
		row.Attendance != AttendanceUnknown {
		t.Fatalf("stored = %+v, %v; want confirmed, on demand, attendance unknown", row, err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	watch := personalLink(t, s, reg.ID, LinkWatch)
	if got := storedLinks(t, s, reg.ID); !reflect.DeepEqual(got, map[LinkPurpose]string{LinkWatch: sha256Hex(watch)}) {
		t.Fatalf("links = %v; want only the replay link's SHA-256", got)
	}
	msgs := outboxFor(t, s, reg.ID)
	if len(msgs) != 1 || msgs[0].ManageToken != replay.Token {
		t.Fatalf("outbox = %+v; want one notice with the manage link", msgs)
	}
	assertMessage(t, msgs[0], KindOnDemand, "", 0)

	again := signUp(t, s, p.ID, sess.ID, " Replay@Example.com ")
	if !again.Duplicate || again.Registration.ID != reg.ID || again.Token == replay.Token {
		t.Fatalf("second replay sign-up = %+v; want the first registration with a new token", again)
	}
	msgs = outboxFor(t, s, reg.ID)
	if len(msgs) != 2 || msgs[1].ManageToken != again.Token {
		t.Fatalf("outbox = %d messages; want the notice again with the new link", len(msgs))
	}
	assertMessage(t, msgs[1], KindOnDemand, "", 0)

	// A live registrant asking again is sent the replay, not a new invite.
	if dup := signUp(t, s, p.ID, sess.ID, "live@example.com"); !dup.Duplicate || dup.Registration.ID != live.Registration.ID {
		t.Fatalf("live registrant again = %+v; want a duplicate", dup)
	}
	liveMsgs := outboxFor(t, s, live.Registration.ID)
	assertMessage(t, liveMsgs[len(liveMsgs)-1], KindOnDemand, "", 0)
	assertRegistrationCount(t, s, sess.ID, 2)
	assertSeatsTaken(t, s, sess.ID, 1)

	// A replay registration can be cancelled after the start; it frees no seat.
	cancelled, err := s.CancelByToken(ctx, replay.Token)
	if err != nil || cancelled.Registration.Status != RegistrationCancelled || cancelled.Promoted != nil {
		t.Fatalf("cancel = %+v, %v; want cancelled", cancelled, err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	msgs = outboxFor(t, s, reg.ID)
	assertMessage(t, msgs[len(msgs)-1], KindCancellation, "", 0)

	clock.Set(until)
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "late@example.com")); !errors.Is(err, ErrRegistrationClosed) {
		t.Fatalf("register once the offer ran out = %v; want ErrRegistrationClosed", err)
	}
	assertRegistrationCount(t, s, sess.ID, 2)
}

// ImportAttendance sets every confirmed live registrant from the report,
// matches by address only, and previews without writing.
func TestImportAttendance_SetsEveryLiveRegistrantFromTheReport(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 3, true)
	ctx := context.Background()
	a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	b := signUp(t, s, p.ID, sess.ID, "b@example.com").Registration
	c := signUp(t, s, p.ID, sess.ID, "c@example.com").Registration
	w := signUp(t, s, p.ID, sess.ID, "w@example.com").Registration
	if w.Status != RegistrationWaitlisted {
		t.Fatalf("fourth sign-up is %s; want waitlisted", w.Status)
	}
	first := plainReport(attendee("A@Example.com", 42, true), attendee("b@example.com", 0, false),
		attendee("Stranger@Example.com", 30, true))
	everyone := map[string]int64{"a": a.ID, "b": b.ID, "c": c.ID, "w": w.ID}
	assertAll := func(step string, want map[string]attendanceRow) {
		t.Helper()
		for who, id := range everyone {
			assertAttendance(t, s, step+", "+who, id, want[who])
		}
	}
	nothing := map[string]attendanceRow{"a": untouched, "b": untouched, "c": untouched, "w": untouched}
	importedAt := func() string {
		t.Helper()
		got, err := s.SessionByID(ctx, sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		return stamp(got.AttendanceImportedAt)
	}

	clock.Set(sess.EndsAt().Add(-time.Second))
	for _, apply := range []bool{false, true} {
		_, err := s.ImportAttendance(ctx, sess.ID, first, apply)
		assertConflict(t, fmt.Sprintf("import before the end (apply %v)", apply), err)
	}
	assertAll("refused before the end", nothing)

	end := sess.EndsAt()
	clock.Set(end)
	wantFirst := &AttendanceImport{Format: ReportPlain, Matched: 2, Unmatched: 1,
		UnmatchedEmails: []string{"Stranger@Example.com"}, Attended: 1, Absent: 2}
	preview, err := s.ImportAttendance(ctx, sess.ID, first, false)
	if err != nil || !reflect.DeepEqual(preview, wantFirst) {
		t.Fatalf("dry run = %+v, %v; want %+v", preview, err, wantFirst)
	}
	assertAll("after a dry run", nothing)
	if got := importedAt(); got != "nil" {
		t.Fatalf("attendance_imported_at after a dry run = %s; want nil", got)
	}

	afterFirst := map[string]attendanceRow{
		"a": {Attendance: AttendanceAttended, Source: SourceReport, Minutes: "42",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: "nil", LastWatch: "nil"},
		"b": {Attendance: AttendanceAbsent, Source: SourceReport, Minutes: "0",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: "nil", LastWatch: "nil"},
		"c": {Attendance: AttendanceAbsent, Source: SourceReport, Minutes: "0",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: "nil", LastWatch: "nil"},
		"w": untouched,
	}
	for i := range 2 { // the same report twice changes nothing more
		clock.Set(end.Add(time.Duration(i) * time.Minute))
		if got := importAttendance(t, s, sess.ID, first); !reflect.DeepEqual(got, wantFirst) {
			t.Fatalf("import %d = %+v; want %+v", i+1, got, wantFirst)
		}
		assertAll(fmt.Sprintf("after import %d", i+1), afterFirst)
		if got := importedAt(); got != at(clock.Now()) {
			t.Fatalf("attendance_imported_at = %s; want %s", got, at(clock.Now()))
		}
	}

	// A corrected report replaces the first one's results.
	second := plainReport(attendee("c@example.com", 15, true), attendee("b@example.com", 2, false))
	wantSecond := &AttendanceImport{Format: ReportPlain, Matched: 2, Attended: 1, Absent: 2}
	if got := importAttendance(t, s, sess.ID, second); !reflect.DeepEqual(got, wantSecond) {
		t.Fatalf("second report = %+v; want %+v", got, wantSecond)
	}
	afterSecond := map[string]attendanceRow{
		"a": afterFirst["b"], "b": afterFirst["b"], "w": untouched,
		"c": {Attendance: AttendanceAttended, Source: SourceReport, Minutes: "15",
			JoinedAt: "nil", LastJoinedAt: "nil", WatchedAt: "nil", LastWatch: "nil"},
	}
	assertAll("after the second report", afterSecond)

	if _, err := s.ImportAttendance(ctx, 9999, first, true); !errors.Is(err, ErrNotFound) {
		t.Fatalf("import for no session = %v; want ErrNotFound", err)
	}
	if _, err := s.CancelSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	for _, apply := range []bool{false, true} {
		if _, err := s.ImportAttendance(ctx, sess.ID, first, apply); !errors.Is(err, ErrSessionCancelled) {
			t.Fatalf("import for a cancelled session (apply %v) = %v; want ErrSessionCancelled", apply, err)
		}
	}
	assertAll("refused for a cancelled session", afterSecond)
}

// followUpCast is a session's registrants in every situation a follow-up
// rule names.
type followUpCast struct {
	panel                                                 *Panel
	session                                               *Session
	attended, absent, unknown, optedOut, waitlisted, gone *Registration
	onDemand                                              *Registration
}

// newFollowUpCast signs up, before the session: attended (joins by link at
// the start), absent (the organizer marks them after the end), unknown
// (nothing said), optedOut (stopped the panel's emails), waitlisted, and
// gone (cancelled); and after the end, onDemand (the replay). The clock is
// left at the end.
func newFollowUpCast(t *testing.T, s *Store, clock *testClock) *followUpCast {
	t.Helper()
	ctx := context.Background()
	c := &followUpCast{}
	c.panel, c.session = afterLivePanel(t, s, 4, true)
	p, sess := c.panel, c.session
	gone := signUp(t, s, p.ID, sess.ID, "gone@example.com")
	if _, err := s.CancelByToken(ctx, gone.Token); err != nil {
		t.Fatal(err)
	}
	c.gone = &gone.Registration
	c.attended = &signUp(t, s, p.ID, sess.ID, "attended@example.com").Registration
	c.absent = &signUp(t, s, p.ID, sess.ID, "absent@example.com").Registration
	c.unknown = &signUp(t, s, p.ID, sess.ID, "unknown@example.com").Registration
	c.optedOut = &signUp(t, s, p.ID, sess.ID, "optedout@example.com").Registration
	c.waitlisted = &signUp(t, s, p.ID, sess.ID, "waitlisted@example.com").Registration
	if c.waitlisted.Status != RegistrationWaitlisted {
		t.Fatalf("sixth sign-up is %s; want waitlisted", c.waitlisted.Status)
	}
	unsubscribe, err := s.UnsubscribeToken(c.optedOut.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StopReminders(ctx, unsubscribe); err != nil {
		t.Fatal(err)
	}
	clock.Set(sess.StartsAt)
	if v, err := s.OpenJoinLink(ctx, personalLink(t, s, c.attended.ID, LinkJoin), true); err != nil || v.Outcome != VisitRedirect {
		t.Fatalf("join = %+v, %v", v, err)
	}
	clock.Set(sess.EndsAt())
	if err := s.SetAttended(ctx, c.absent.ID, false); err != nil {
		t.Fatal(err)
	}
	offerReplay(t, s, sess.ID, recordingURL, nil)
	c.onDemand = &signUp(t, s, p.ID, sess.ID, "ondemand@example.com").Registration
	return c
}

// wantFollowUps is one follow-up each for the cast's confirmed live
// registrants who did not opt out.
func (c *followUpCast) wantFollowUps() map[int64][]OutboxKind {
	return map[int64][]OutboxKind{
		c.attended.ID: {KindFollowUpAttended},
		c.absent.ID:   {KindFollowUpAbsent},
		c.unknown.ID:  {KindFollowUpAbsent},
	}
}

func TestQueueFollowUps_OnePerConfirmedLiveRegistrantByAttendance(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	c := newFollowUpCast(t, s, clock)
	sess := c.session

	clock.Set(sess.EndsAt().Add(-time.Second))
	n, err := s.QueueFollowUps(ctx, sess.ID)
	assertConflict(t, "follow-ups before the end", err)
	if n != 0 {
		t.Fatalf("queued %d before the end", n)
	}
	assertFollowUps(t, s, sess.ID, map[int64][]OutboxKind{})

	end := sess.EndsAt()
	clock.Set(end)
	if n, err := s.QueueFollowUps(ctx, sess.ID); err != nil || n != 3 {
		t.Fatalf("QueueFollowUps = %d, %v; want 3", n, err)
	}
	assertFollowUps(t, s, sess.ID, c.wantFollowUps())
	if got := followUpsQueuedAt(t, s, sess.ID); got != at(end) {
		t.Fatalf("follow_ups_queued_at = %s; want %s", got, at(end))
	}

	clock.Set(end.Add(3 * time.Hour))
	if n, err := s.QueueFollowUps(ctx, sess.ID); err != nil || n != 0 {
		t.Fatalf("QueueFollowUps again = %d, %v; want 0", n, err)
	}
	if n, err := s.QueueDueFollowUps(ctx); err != nil || n != 0 {
		t.Fatalf("QueueDueFollowUps after the button = %d, %v; want 0", n, err)
	}
	assertFollowUps(t, s, sess.ID, c.wantFollowUps())
	if got := followUpsQueuedAt(t, s, sess.ID); got != at(end) {
		t.Fatalf("follow_ups_queued_at moved to %s; want %s kept", got, at(end))
	}
}

func TestQueueFollowUps_CancelledSessionRefusedAndSkipped(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := afterLivePanel(t, s, 0, false)
	signUp(t, s, p.ID, sess.ID, "a@example.com")
	if _, err := s.CancelSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	clock.Set(sess.EndsAt().Add(3 * time.Hour))
	if n, err := s.QueueFollowUps(ctx, sess.ID); !errors.Is(err, ErrSessionCancelled) || n != 0 {
		t.Fatalf("QueueFollowUps = %d, %v; want ErrSessionCancelled", n, err)
	}
	if n, err := s.QueueDueFollowUps(ctx); err != nil || n != 0 {
		t.Fatalf("QueueDueFollowUps = %d, %v; want 0", n, err)
	}
	assertFollowUps(t, s, sess.ID, map[int64][]OutboxKind{})
	if _, err := s.QueueFollowUps(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("QueueFollowUps for no session = %v; want ErrNotFound", err)
	}
}

// Two instances pressing the button eight times at once while their job
// runs, then a restart running it all again, still send each registrant
// one follow-up.
func TestQueueFollowUps_ConcurrentCallsAndARestartQueueOnePerRegistrant(t *testing.T) {
	clock := &testClock{now: testNow}
	dsn := testDSN(t)
	stores := []*Store{openStoreAt(t, dsn, clock), openStoreAt(t, dsn, clock)}
	ctx := context.Background()
	p, sess := afterLivePanel(t, stores[0], 0, false)
	const registrants = 12
	want := map[int64][]OutboxKind{}
	for i := range registrants {
		reg := signUp(t, stores[i%2], p.ID, sess.ID, fmt.Sprintf("p%d@example.com", i)).Registration
		want[reg.ID] = []OutboxKind{KindFollowUpAbsent}
	}
	clock.Set(sess.EndsAt().Add(2 * time.Hour)) // the job's time has come too

	const buttons = 8
	var mu sync.Mutex
	total := 0
	var errs []error
	pgtest.AtOnce(buttons+2, func(i int) {
		var n int
		var err error
		if i < buttons {
			n, err = stores[i%2].QueueFollowUps(ctx, sess.ID)
		} else {
			n, err = stores[i%2].QueueDueFollowUps(ctx)
		}
		mu.Lock()
		defer mu.Unlock()
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	})
	if err := errors.Join(errs...); err != nil || total != registrants {
		t.Fatalf("together: queued %d, %v; want %d and no error", total, err, registrants)
	}
	assertFollowUps(t, stores[0], sess.ID, want)

	for _, s := range stores {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	clock.Set(sess.EndsAt().Add(4 * time.Hour))
	restarted := openStoreAt(t, dsn, clock)
	if n, err := restarted.QueueDueFollowUps(ctx); err != nil || n != 0 {
		t.Fatalf("QueueDueFollowUps after a restart = %d, %v; want 0", n, err)
	}
	if n, err := restarted.QueueFollowUps(ctx, sess.ID); err != nil || n != 0 {
		t.Fatalf("QueueFollowUps after a restart = %d, %v; want 0", n, err)
	}
	assertFollowUps(t, restarted, sess.ID, want)
}

// The job queues a session's follow-ups once the panel's delay after the
// end has passed, or at the end once a report was applied; never for a
// panel that turned them off, nor for a session over a week old.
func TestQueueDueFollowUps_WaitsForThePanelsDelayOrAnImport(t *testing.T) {
	type step struct {
		after time.Duration // since the end
		want  int           // queued by this run of the job
	}
	cases := []struct {
		name     string
		settings FollowUpSettings
		imported bool
		steps    []step
	}{
		{"default two hours", DefaultFollowUps, false,
			[]step{{-time.Minute, 0}, {0, 0}, {119*time.Minute + 59*time.Second, 0}, {120 * time.Minute, 2}, {121 * time.Minute, 0}}},
		{"at the end once a report was applied", DefaultFollowUps, true,
			[]step{{0, 2}, {120 * time.Minute, 0}}},
		{"no delay", FollowUpSettings{Enabled: true}, false,
			[]step{{-time.Second, 0}, {0, 2}}},
		{"a day's delay", FollowUpSettings{Enabled: true, DelayMinutes: 24 * 60}, false,
			[]step{{2 * time.Hour, 0}, {24*time.Hour - time.Second, 0}, {24 * time.Hour, 2}}},
		{"the longest delay the settings take, fourteen days", FollowUpSettings{Enabled: true, DelayMinutes: maxFollowUpDelay}, false,
			[]step{{14*24*time.Hour - time.Second, 0}, {14 * 24 * time.Hour, 2}}},
		{"turned off", FollowUpSettings{Enabled: false, DelayMinutes: 120}, true,
			[]step{{0, 0}, {3 * time.Hour, 0}, {6 * 24 * time.Hour, 0}}},
		{"over a week late (an outage)", DefaultFollowUps, false,
			[]step{{8 * 24 * time.Hour, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := newTestStore(t)
			ctx := context.Background()
			p := &Panel{Title: "Follow-up timing", Status: PanelPublished, FollowUps: tc.settings,
				Sessions: []Session{{StartsAt: testNow.Add(24 * time.Hour), DurationMinutes: 60, TimeZone: "UTC",
					JoinURL: liveJoinURL}}}
			if err := s.CreatePanel(ctx, p); err != nil {
				t.Fatal(err)
			}
			sess := &p.Sessions[0]
			a := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
			b := signUp(t, s, p.ID, sess.ID, "b@example.com").Registration
			end := sess.EndsAt()
			if tc.imported {
				clock.Set(end)
				importAttendance(t, s, sess.ID, plainReport(attendee("a@example.com", 50, true)))
			}
			queued := false
			for _, st := range tc.steps {
				clock.Set(end.Add(st.after))
				n, err := s.QueueDueFollowUps(ctx)
				if err != nil || n != st.want {
					t.Fatalf("%v after the end: queued %d, %v; want %d", st.after, n, err, st.want)
				}
				if n > 0 && !queued {
					queued = true
					if got := followUpsQueuedAt(t, s, sess.ID); got != at(clock.Now()) {
						t.Fatalf("follow_ups_queued_at = %s; want %s", got, at(clock.Now()))
					}
				}
			}
			if !queued {
				if got := followUpsQueuedAt(t, s, sess.ID); got != "nil" {
					t.Fatalf("follow_ups_queued_at = %s with nothing queued; want nil", got)
				}
				assertFollowUps(t, s, sess.ID, map[int64][]OutboxKind{})
				// The organizer's button works whatever the settings.
				if n, err := s.QueueFollowUps(ctx, sess.ID); err != nil || n != 2 {
					t.Fatalf("QueueFollowUps = %d, %v; want 2", n, err)
				}
				if got := followUpsQueuedAt(t, s, sess.ID); got != at(clock.Now()) {
					t.Fatalf("follow_ups_queued_at after the button = %s; want %s", got, at(clock.Now()))
				}
			}
			first := KindFollowUpAbsent
			if tc.imported {
				first = KindFollowUpAttended
			}
			assertFollowUps(t, s, sess.ID, map[int64][]OutboxKind{a.ID: {first}, b.ID: {KindFollowUpAbsent}})
		})
	}
}

// claimAll claims every due message in one batch, records them as sent,
// and returns them by registration and kind.
func claimAll(t *testing.T, s *Store) map[int64]map[OutboxKind]OutboxMessage {
	t.Helper()
	ctx := context.Background()
	msgs, err := s.ClaimOutbox(ctx, 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sent := make([]DeliveryResult, len(msgs))
	for i, m := range msgs {
		sent[i] = DeliveryResult{ID: m.ID, Attempts: m.Attempts}
	}
	if err := s.RecordDeliveries(ctx, sent); err != nil {
		t.Fatal(err)
	}
	out := map[int64]map[OutboxKind]OutboxMessage{}
	for _, m := range msgs {
		if out[m.RegistrationID] == nil {
			out[m.RegistrationID] = map[OutboxKind]OutboxMessage{}
		}
		if _, twice := out[m.RegistrationID][m.Kind]; twice {
			t.Fatalf("two %s messages claimed for registration %d", m.Kind, m.RegistrationID)
		}
		out[m.RegistrationID][m.Kind] = m
	}
	return out
}

func assertTokens(t *testing.T, what string, m OutboxMessage, join, watch string) {
	t.Helper()
	if m.JoinToken != join || m.WatchToken != watch {
		t.Errorf("%s: join %q, watch %q; want join %q, watch %q", what, m.JoinToken, m.WatchToken, join, watch)
	}
}

// A confirmation carries the personal join link; the on-demand notice and
// the follow-ups carry the replay link, and never the join link.
func TestClaimOutbox_ConfirmationCarriesTheJoinLinkLaterEmailsTheReplayLink(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	live := signUp(t, s, p.ID, sess.ID, "live@example.com").Registration
	claimed := claimAll(t, s)
	if len(claimed) != 1 || len(claimed[live.ID]) != 1 {
		t.Fatalf("claimed %v; want the one confirmation", claimed)
	}
	join := personalLink(t, s, live.ID, LinkJoin)
	assertTokens(t, "confirmation", claimed[live.ID][KindConfirmation], join, "")

	clock.Set(sess.EndsAt())
	offerReplay(t, s, sess.ID, recordingURL, nil)
	replay := signUp(t, s, p.ID, sess.ID, "replay@example.com").Registration
	if n, err := s.QueueFollowUps(context.Background(), sess.ID); err != nil || n != 1 {
		t.Fatalf("QueueFollowUps = %d, %v; want 1", n, err)
	}
	claimed = claimAll(t, s)
	if len(claimed) != 2 || len(claimed[live.ID]) != 1 || len(claimed[replay.ID]) != 1 {
		t.Fatalf("claimed %v; want the follow-up and the on-demand notice", claimed)
	}
	liveWatch := personalLink(t, s, live.ID, LinkWatch)
	assertTokens(t, "follow-up", claimed[live.ID][KindFollowUpAbsent], "", liveWatch)
	assertTokens(t, "on-demand notice", claimed[replay.ID][KindOnDemand], "", personalLink(t, s, replay.ID, LinkWatch))
	// The claim stored the replay link it handed out, so it opens.
	want := map[LinkPurpose]string{LinkJoin: sha256Hex(join), LinkWatch: sha256Hex(liveWatch)}
	if got := storedLinks(t, s, live.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("links after the claim = %v; want %v", got, want)
	}
	v, err := s.OpenWatchLink(context.Background(), liveWatch, true)
	assertVisit(t, v, err, VisitRedirect, recordingURL)
}

// Each message carries the link of its own kind even when one batch holds
// two messages of one registrant: a confirmation still waiting when the
// follow-up is queued (after a mail outage, say).
func TestClaimOutbox_EachMessageCarriesOnlyItsOwnKindsLinkWithinABatch(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 0, false)
	reg := signUp(t, s, p.ID, sess.ID, "a@example.com").Registration
	clock.Set(sess.EndsAt())
	offerReplay(t, s, sess.ID, recordingURL, nil)
	if n, err := s.QueueFollowUps(context.Background(), sess.ID); err != nil || n != 1 {
		t.Fatalf("QueueFollowUps = %d, %v; want 1", n, err)
	}
	claimed := claimAll(t, s)[reg.ID]
	if len(claimed) != 2 {
		t.Fatalf("claimed %v; want the confirmation and the follow-up", claimed)
	}
	join, watch := personalLink(t, s, reg.ID, LinkJoin), personalLink(t, s, reg.ID, LinkWatch)
	assertTokens(t, "confirmation", claimed[KindConfirmation], join, "")
	assertTokens(t, "follow-up", claimed[KindFollowUpAbsent], "", watch)
}

// The manage page offers the join link to a confirmed live place until the
// end, and the replay link while the replay is offered.
func TestLinksFor_JoinUntilTheEndThenTheReplay(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := afterLivePanel(t, s, 1, true)
	confirmed := signUp(t, s, p.ID, sess.ID, "confirmed@example.com").Registration
	waitlisted := signUp(t, s, p.ID, sess.ID, "waitlisted@example.com").Registration
	linksOf := func(id int64) RegistrationLinks {
		t.Helper()
		reg, err := s.RegistrationByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		links, err := s.LinksFor(ctx, reg)
		if err != nil {
			t.Fatal(err)
		}
		return links
	}
	join := personalLink(t, s, confirmed.ID, LinkJoin)
	if got := linksOf(confirmed.ID); got != (RegistrationLinks{Join: join}) {
		t.Fatalf("confirmed before the end: %+v; want the join link only", got)
	}
	if got := linksOf(waitlisted.ID); got != (RegistrationLinks{}) {
		t.Fatalf("waitlisted: %+v; want no link", got)
	}
	clock.Set(sess.EndsAt())
	if got := linksOf(confirmed.ID); got != (RegistrationLinks{}) {
		t.Fatalf("confirmed after the end without a recording: %+v; want no link", got)
	}
	offerReplay(t, s, sess.ID, recordingURL, nil)
	replay := signUp(t, s, p.ID, sess.ID, "replay@example.com").Registration
	if got := linksOf(confirmed.ID); got != (RegistrationLinks{Watch: personalLink(t, s, confirmed.ID, LinkWatch)}) {
		t.Fatalf("confirmed with a recording: %+v; want the replay link only", got)
	}
	if got := linksOf(replay.ID); got != (RegistrationLinks{Watch: personalLink(t, s, replay.ID, LinkWatch)}) {
		t.Fatalf("replay registrant: %+v; want the replay link only", got)
	}
}

// A waitlisted registrant who signs up for the replay once the session has
// ended gets a replay registration, not the waitlist notice again.
func TestRegister_WaitlistedAfterTheEndBecomesAReplayRegistration(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 1, true)
	ctx := context.Background()
	signUp(t, s, p.ID, sess.ID, "seat@example.com")
	waiting := signUp(t, s, p.ID, sess.ID, "waiting@example.com")
	if waiting.Registration.Status != RegistrationWaitlisted {
		t.Fatalf("second sign-up = %s; want waitlisted", waiting.Registration.Status)
	}
	clock.Set(sess.EndsAt().Add(time.Minute))
	if _, err := s.EditSession(ctx, sess.ID, func(cur *Session) SessionUpdate {
		upd := sessionUpdateOf(cur)
		upd.RecordingURL = recordingURL
		return upd
	}); err != nil {
		t.Fatal(err)
	}
	again := signUp(t, s, p.ID, sess.ID, "waiting@example.com")
	if !again.Duplicate || again.Registration.ID != waiting.Registration.ID ||
		again.Registration.Status != RegistrationConfirmed || !again.Registration.OnDemand {
		t.Fatalf("replay sign-up of the waitlisted = %+v; want the same registration, confirmed for the replay", again.Registration)
	}
	var row Registration
	if err := s.read.Take(&row, waiting.Registration.ID).Error; err != nil || row.Status != RegistrationConfirmed || !row.OnDemand {
		t.Fatalf("stored = %+v, %v; want confirmed, on demand", row, err)
	}
	msgs := outboxFor(t, s, waiting.Registration.ID)
	assertMessage(t, msgs[len(msgs)-1], KindOnDemand, "", 0)
	assertSeatsTaken(t, s, sess.ID, 1)
	stored, err := s.SessionByID(ctx, sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	links, err := s.LinksFor(ctx, &Registration{ID: row.ID, Status: row.Status, OnDemand: true, Session: stored})
	if err != nil || links.Watch == "" || links.Join != "" {
		t.Fatalf("links = %+v, %v; want the replay link only", links, err)
	}
}

// The home page's list keeps a panel whose replay is offered, after the
// panels still to come, and drops it when the offer ends.
func TestUpcomingPanels_ListsReplaysAfterWhatIsToCome(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := afterLivePanel(t, s, 10, false)
	ctx := context.Background()
	end := sess.EndsAt()
	until := end.Add(48 * time.Hour)
	clock.Set(end.Add(time.Hour))
	if got, err := s.UpcomingPanels(ctx); err != nil || len(got) != 0 {
		t.Fatalf("after the end without a recording: %d listed, %v; want none", len(got), err)
	}
	if _, err := s.EditSession(ctx, sess.ID, func(cur *Session) SessionUpdate {
		upd := sessionUpdateOf(cur)
		upd.RecordingURL, upd.OnDemandUntil = recordingURL, &until
		return upd
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.UpcomingPanels(ctx)
	if err != nil || len(got) != 1 || got[0].Panel.ID != p.ID || !got[0].NextSession.OnDemand(clock.Now()) {
		t.Fatalf("with a recording: %+v, %v; want the panel with its session on demand", got, err)
	}
	clock.Set(until)
	if got, err := s.UpcomingPanels(ctx); err != nil || len(got) != 0 {
		t.Fatalf("once the offer ended: %d listed, %v; want none", len(got), err)
	}
}

// The organizer's numbers for a session and across a panel's sessions:
// every kind of registrant counted once, the median of the attendees'
// minutes, the join-link users and the replay viewers.
func TestSessionAttendance_CountsEachKindAndTheMedianMinutes(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := afterLivePanel(t, s, 10, false)
	ids := map[string]int64{}
	for _, who := range []string{"ada", "bob", "carl", "dan"} {
		ids[who] = signUp(t, s, p.ID, sess.ID, who+"@example.com").Registration.ID
	}
	clock.Set(sess.StartsAt)
	if _, err := s.OpenJoinLink(ctx, personalLink(t, s, ids["ada"], LinkJoin), true); err != nil {
		t.Fatal(err)
	}
	clock.Set(sess.EndsAt().Add(time.Minute))
	importAttendance(t, s, sess.ID, plainReport(attendee("ada@example.com", 40, true),
		attendee("bob@example.com", 50, true), attendee("carl@example.com", 60, true)))
	offerReplay(t, s, sess.ID, recordingURL, nil)
	ids["eve"] = signUp(t, s, p.ID, sess.ID, "eve@example.com").Registration.ID
	for _, who := range []string{"dan", "eve"} {
		if _, err := s.OpenWatchLink(ctx, personalLink(t, s, ids[who], LinkWatch), true); err != nil {
			t.Fatal(err)
		}
	}
	want := AttendanceStats{Registered: 4, OnDemandRegistered: 1, Attended: 3, Absent: 1, Watched: 2, Joined: 1, MedianMinutes: 50}
	got, err := s.SessionAttendance(ctx, sess.ID)
	if err != nil || got != want {
		t.Fatalf("session attendance = %+v, %v; want %+v", got, err, want)
	}
	byPanel, err := s.PanelAttendance(ctx, p.ID)
	if err != nil || len(byPanel) != 1 || byPanel[sess.ID] != want {
		t.Fatalf("panel attendance = %+v, %v; want %+v for its one session", byPanel, err, want)
	}
	if none, err := s.SessionAttendance(ctx, sess.ID+1000); err != nil || none != (AttendanceStats{MedianMinutes: -1}) {
		t.Fatalf("a session with nobody = %+v, %v; want zeros and no median", none, err)
	}
}
