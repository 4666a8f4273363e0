package handlers

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"podium/models"
)

// Zoom's webhook through the real app: its URL validation challenge, its
// signatures, and participants joining and leaving.

const (
	testZoomSecret  = "5XJzF8sQtW2pLm9vR3nKcA"
	testZoomWebinar = "85612345678"
)

// zoomEnv is a test app with the Zoom webhook on, logging into log if given.
func zoomEnv(t *testing.T, log *lockedBuffer) *testEnv {
	t.Helper()
	return newTestEnv(t, func(c *Config) {
		c.ZoomWebhookSecret = testZoomSecret
		if log != nil {
			c.Logger = slog.New(slog.NewTextHandler(log, nil))
		}
	})
}

// lockedBuffer is a log the app writes while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// zoomSignature is x-zm-signature for body sent at timestamp.
func zoomSignature(secret, timestamp, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + timestamp + ":" + body))
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// zoomPost posts body to the webhook with the given headers.
func (e *testEnv) zoomPost(t *testing.T, body string, headers map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/integrations/zoom/webhook", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Zoom Marketplace/1.0a")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return e.browser(t).do(req)
}

// zoomSend posts body as Zoom would now, by the store's clock.
func (e *testEnv) zoomSend(t *testing.T, body string) response {
	t.Helper()
	ts := strconv.FormatInt(e.clock.Now().Unix(), 10)
	return e.zoomPost(t, body, map[string]string{
		"x-zm-request-timestamp": ts, "x-zm-signature": zoomSignature(testZoomSecret, ts, body)})
}

// zoomParticipant is a participant event as Zoom documents it; webinarID
// is a string or a number, and empty times are left out.
func zoomParticipant(t *testing.T, event string, webinarID any, email, joinTime, leaveTime string, eventTS int64) string {
	t.Helper()
	participant := map[string]any{"user_id": "16778240", "user_name": "Ada Lovelace", "id": "iFxeBPYun6SAiWUzBcEkX",
		"email": email, "participant_uuid": "B3F2A1C4-1A2B-4C3D-8E9F-123456789ABC"}
	if joinTime != "" {
		participant["join_time"] = joinTime
	}
	if leaveTime != "" {
		participant["leave_time"], participant["leave_reason"] = leaveTime, "left the webinar."
	}
	body, err := json.Marshal(map[string]any{"event": event, "event_ts": eventTS, "payload": map[string]any{
		"account_id": "Wk9PTV9BQ0NPVU5UX0lE", "object": map[string]any{
			"id": webinarID, "uuid": "Wk9PTV9NRUVUSU5HX0lE", "host_id": "Wk9PTV9VU0VSX0lE", "topic": "Panel",
			"type": 5, "start_time": "2026-11-27T09:00:00Z", "timezone": "Europe/London", "duration": 60,
			"participant": participant}}})
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// registrationOf reads a registration back.
func (e *testEnv) registrationOf(t *testing.T, id int64) *models.Registration {
	t.Helper()
	reg, err := e.store.RegistrationByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// assertZoomAttendance checks a registration's attendance, minutes (-1 for
// none) and first join.
func assertZoomAttendance(t *testing.T, reg *models.Registration, attendance models.Attendance,
	source models.AttendanceSource, minutes int, joined time.Time) {
	t.Helper()
	got := -1
	if reg.AttendedMinutes != nil {
		got = *reg.AttendedMinutes
	}
	first := time.Time{}
	if reg.JoinedAt != nil {
		first = *reg.JoinedAt
	}
	if reg.Attendance != attendance || reg.AttendanceSource != source || got != minutes || !first.Equal(joined) {
		t.Fatalf("%s: %s from %q, %d minutes, joined %v; want %s from %q, %d minutes, joined %v", reg.Email,
			reg.Attendance, reg.AttendanceSource, got, first, attendance, source, minutes, joined)
	}
}

// Zoom's documented challenge, signed and answered; the expected values
// come from Python's hmac, not from this package.
func TestZoomWebhook_AnswersTheURLValidationChallenge(t *testing.T) {
	e := zoomEnv(t, nil)
	// The request body of developers.zoom.us/docs/api/webhooks, byte for
	// byte, sent at testNow (1795165200).
	body := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	const signature = "v0=2f657da9e00c2bb16ece3b99e1a8189a746ca220c92a9b501fd7f6a267b883cc"
	if got := zoomSignature(testZoomSecret, "1795165200", body); got != signature {
		t.Fatalf("the test's signer gives %s; Python's hmac %s", got, signature)
	}
	r := e.zoomPost(t, body, map[string]string{"x-zm-request-timestamp": "1795165200", "x-zm-signature": signature})
	assertStatus(t, r, http.StatusOK)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q; want application/json", ct)
	}
	var answer map[string]string
	if err := json.Unmarshal([]byte(r.body), &answer); err != nil {
		t.Fatalf("answer %q: %v", r.body, err)
	}
	want := map[string]string{"plainToken": "qgg8vlvZRS6UYooatFL8Aw",
		"encryptedToken": "e55f8ed1f4916726697ecc3205466ad1d450d509b92e563fab5e2876f652e4ed"}
	if len(answer) != 2 || answer["plainToken"] != want["plainToken"] || answer["encryptedToken"] != want["encryptedToken"] {
		t.Fatalf("answer = %v; want %v", answer, want)
	}
}

func TestZoomWebhook_RefusesUnsignedForgedAndStaleRequests(t *testing.T) {
	e := zoomEnv(t, nil)
	p := e.addPanel(t, "zoom", models.Session{ZoomWebinarID: testZoomWebinar})
	sess := p.Sessions[0]
	ada := e.register(t, p, sess.ID, "ada@example.com").Registration
	join := zoomParticipant(t, "webinar.participant_joined", testZoomWebinar, "ada@example.com", rfc3339(sess.StartsAt), "", 0)
	challenge := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	now := e.clock.Now().Unix()
	at := func(d time.Duration) string { return strconv.FormatInt(now+int64(d/time.Second), 10) }
	for _, body := range []string{join, challenge} {
		for _, tc := range []struct {
			name, timestamp, signature string
		}{
			{"no headers", "", ""},
			{"no timestamp", "", zoomSignature(testZoomSecret, at(0), body)},
			{"no signature", at(0), ""},
			{"another secret", at(0), zoomSignature("another secret", at(0), body)},
			{"another body", at(0), zoomSignature(testZoomSecret, at(0), body+" ")},
			{"another timestamp", at(0), zoomSignature(testZoomSecret, at(time.Second), body)},
			{"without v0=", at(0), strings.TrimPrefix(zoomSignature(testZoomSecret, at(0), body), "v0=")},
			{"in upper case", at(0), strings.ToUpper(zoomSignature(testZoomSecret, at(0), body))},
			{"six minutes old", at(-6 * time.Minute), zoomSignature(testZoomSecret, at(-6*time.Minute), body)},
			{"six minutes ahead", at(6 * time.Minute), zoomSignature(testZoomSecret, at(6*time.Minute), body)},
			{"a timestamp in milliseconds", strconv.FormatInt(now*1000, 10), zoomSignature(testZoomSecret, strconv.FormatInt(now*1000, 10), body)},
			{"a timestamp that is no number", "soon", zoomSignature(testZoomSecret, "soon", body)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				headers := map[string]string{}
				if tc.timestamp != "" {
					headers["x-zm-request-timestamp"] = tc.timestamp
				}
				if tc.signature != "" {
					headers["x-zm-signature"] = tc.signature
				}
				r := e.zoomPost(t, body, headers)
				assertStatus(t, r, http.StatusUnauthorized)
				if strings.Contains(r.body, "encryptedToken") {
					t.Fatalf("a refused challenge was answered: %s", r.body)
				}
			})
		}
	}
	assertZoomAttendance(t, e.registrationOf(t, ada.ID), models.AttendanceUnknown, models.SourceNone, -1, time.Time{})

	// Up to five minutes either way is Zoom's own clock.
	for _, d := range []time.Duration{-5 * time.Minute, 5 * time.Minute} {
		r := e.zoomPost(t, join, map[string]string{"x-zm-request-timestamp": at(d), "x-zm-signature": zoomSignature(testZoomSecret, at(d), join)})
		assertStatus(t, r, http.StatusOK)
	}
	assertZoomAttendance(t, e.registrationOf(t, ada.ID), models.AttendanceAttended, models.SourceZoom, -1, sess.StartsAt)
}

// Without PODIUM_ZOOM_WEBHOOK_SECRET the integration is off: 404, as for
// any page that is not there, signed or not.
func TestZoomWebhook_OffWithoutTheSecret(t *testing.T) {
	e := newTestEnv(t)
	body := `{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}`
	assertStatus(t, e.zoomPost(t, body, nil), http.StatusNotFound)
	assertStatus(t, e.zoomSend(t, body), http.StatusNotFound)
}

func TestZoomWebhook_RecordsAttendanceFromJoinsAndLeaves(t *testing.T) {
	e := zoomEnv(t, nil)
	p := e.addPanel(t, "zoom", models.Session{ZoomWebinarID: testZoomWebinar})
	sess := p.Sessions[0]
	start := sess.StartsAt
	minute := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }
	ada := e.register(t, p, sess.ID, "ada@example.com").Registration

	// Zoom gives the webinar ID as a number in one payload, a string in another.
	var webinarNumber json.Number = testZoomWebinar
	join := zoomParticipant(t, "webinar.participant_joined", webinarNumber, "ADA@example.com", rfc3339(minute(2)), "", minute(2).UnixMilli())
	leave := zoomParticipant(t, "webinar.participant_left", testZoomWebinar, "ada@example.com", "", rfc3339(minute(47)), minute(47).UnixMilli())
	e.clock.Set(minute(2))
	assertStatus(t, e.zoomSend(t, join), http.StatusOK)
	assertZoomAttendance(t, e.registrationOf(t, ada.ID), models.AttendanceAttended, models.SourceZoom, -1, minute(2))
	e.clock.Set(minute(47))
	assertStatus(t, e.zoomSend(t, leave), http.StatusOK)
	assertZoomAttendance(t, e.registrationOf(t, ada.ID), models.AttendanceAttended, models.SourceZoom, 45, minute(2))

	// Retries, newly signed, count nothing twice.
	e.clock.Set(minute(52))
	for _, body := range []string{leave, join, leave} {
		assertStatus(t, e.zoomSend(t, body), http.StatusOK)
	}
	assertZoomAttendance(t, e.registrationOf(t, ada.ID), models.AttendanceAttended, models.SourceZoom, 45, minute(2))

	// A meeting's events count too; a join without join_time is at event_ts.
	rejoin := zoomParticipant(t, "meeting.participant_joined", testZoomWebinar, "ada@example.com", "", "", minute(60).UnixMilli())
	leaveAgain := zoomParticipant(t, "meeting.participant_left", webinarNumber, "ada@example.com", "", rfc3339(minute(70)), 0)
	e.clock.Set(minute(70))
	for _, body := range []string{rejoin, leaveAgain, rejoin} {
		assertStatus(t, e.zoomSend(t, body), http.StatusOK)
	}
	reg := e.registrationOf(t, ada.ID)
	assertZoomAttendance(t, reg, models.AttendanceAttended, models.SourceZoom, 55, minute(2))
	if reg.LastJoinedAt == nil || !reg.LastJoinedAt.Equal(minute(60)) {
		t.Fatalf("last_joined_at = %v; want %v", reg.LastJoinedAt, minute(60))
	}
}

// Events for webinars or people Podium does not know are answered 200, so
// Zoom does not retry them, and logged by webinar and event only.
func TestZoomWebhook_UnknownWebinarsAndPeopleAre200AndChangeNothing(t *testing.T) {
	var log lockedBuffer
	e := zoomEnv(t, &log)
	p := e.addPanel(t, "zoom", models.Session{ZoomWebinarID: testZoomWebinar, Capacity: 1, Waitlist: true})
	sess := p.Sessions[0]
	e.register(t, p, sess.ID, "ada@example.com")
	bob := e.register(t, p, sess.ID, "bob@example.com").Registration
	if bob.Status != models.RegistrationWaitlisted {
		t.Fatalf("bob is %s; want waitlisted", bob.Status)
	}
	joinedAt := rfc3339(sess.StartsAt)
	for _, tc := range []struct{ name, body, logged string }{
		{"another webinar", zoomParticipant(t, "webinar.participant_joined", "999999999", "ada@example.com", joinedAt, "", 0),
			"webinar=999999999 event=webinar.participant_joined"},
		{"a stranger", zoomParticipant(t, "webinar.participant_joined", testZoomWebinar, "stranger@example.org", joinedAt, "", 0),
			"webinar=" + testZoomWebinar + " event=webinar.participant_joined"},
		{"a waitlisted registrant", zoomParticipant(t, "webinar.participant_left", testZoomWebinar, "bob@example.com", "", joinedAt, 0),
			"webinar=" + testZoomWebinar + " event=webinar.participant_left"},
		{"a phone participant", zoomParticipant(t, "meeting.participant_joined", testZoomWebinar, "", joinedAt, "", 0),
			"webinar=" + testZoomWebinar + " event=meeting.participant_joined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertStatus(t, e.zoomSend(t, tc.body), http.StatusOK)
			if !strings.Contains(log.String(), tc.logged) {
				t.Fatalf("log lacks %q:\n%s", tc.logged, log.String())
			}
		})
	}
	for _, secret := range []string{"stranger", "bob@", "ada@", "Ada Lovelace", "example"} {
		if strings.Contains(log.String(), secret) {
			t.Fatalf("log names the participant (%q):\n%s", secret, log.String())
		}
	}
	assertZoomAttendance(t, e.registrationOf(t, bob.ID), models.AttendanceUnknown, models.SourceNone, -1, time.Time{})
	counts, err := e.store.RegistrationCounts(context.Background(), sess.ID)
	if err != nil || counts[models.RegistrationConfirmed] != 1 || counts[models.RegistrationWaitlisted] != 1 || len(counts) != 2 {
		t.Fatalf("registrations = %v, %v; want ada confirmed and bob waitlisted, nobody new", counts, err)
	}
}

// Whatever a signed body holds, the answer is a 4xx or a 200, never a 500.
func TestZoomWebhook_BadBodiesAre4xxNeverA500(t *testing.T) {
	e := zoomEnv(t, nil)
	p := e.addPanel(t, "zoom", models.Session{ZoomWebinarID: testZoomWebinar})
	ada := e.register(t, p, p.Sessions[0].ID, "ada@example.com").Registration
	joinedAt := rfc3339(p.Sessions[0].StartsAt)
	participant := func(object string) string {
		return `{"event":"webinar.participant_joined","event_ts":1795165200000,"payload":{"object":` + object + `}}`
	}
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"empty", "", http.StatusBadRequest},
		{"not JSON", "event=webinar.participant_joined", http.StatusBadRequest},
		{"cut short", `{"event":"webinar.participant_joined","payload":{`, http.StatusBadRequest},
		{"an array", `[]`, http.StatusBadRequest},
		{"a string", `"webinar.participant_joined"`, http.StatusBadRequest},
		{"an event that is no string", `{"event":7}`, http.StatusBadRequest},
		{"event_ts that is no number", `{"event":"webinar.participant_joined","event_ts":"now"}`, http.StatusBadRequest},
		{"a challenge without its token", `{"event":"endpoint.url_validation","payload":{}}`, http.StatusBadRequest},
		{"a challenge without a payload", `{"event":"endpoint.url_validation"}`, http.StatusBadRequest},
		{"a challenge token that is no string", `{"event":"endpoint.url_validation","payload":{"plainToken":42}}`, http.StatusBadRequest},
		{"a participant event without a payload", `{"event":"webinar.participant_joined"}`, http.StatusBadRequest},
		{"a payload that is no object", `{"event":"webinar.participant_joined","payload":"x"}`, http.StatusBadRequest},
		{"an ID that is an object", participant(`{"id":{"n":1},"participant":{"email":"ada@example.com","join_time":"` + joinedAt + `"}}`), http.StatusBadRequest},
		{"an address that is no string", participant(`{"id":"` + testZoomWebinar + `","participant":{"email":7,"join_time":"` + joinedAt + `"}}`), http.StatusBadRequest},
		{"a join_time that is no time", participant(`{"id":"` + testZoomWebinar + `","participant":{"email":"ada@example.com","join_time":"yesterday"}}`), http.StatusBadRequest},
		{"a join without any time", `{"event":"webinar.participant_joined","payload":{"object":{"id":"` + testZoomWebinar + `","participant":{"email":"ada@example.com"}}}}`, http.StatusUnprocessableEntity},
		{"a leave before its join", `{"event":"webinar.participant_left","payload":{"object":{"id":"` + testZoomWebinar + `","participant":{"email":"ada@example.com","join_time":"2026-11-27T10:00:00Z","leave_time":"2026-11-27T09:00:00Z"}}}}`, http.StatusUnprocessableEntity},
		{"null", `null`, http.StatusOK},
		{"an event Podium does not follow", `{"event":"meeting.started","payload":{"object":{"id":"` + testZoomWebinar + `"}}}`, http.StatusOK},
		{"a participant without an ID", participant(`{"participant":{"email":"ada@example.com","join_time":"` + joinedAt + `"}}`), http.StatusOK},
		{"a huge ID", participant(`{"id":1e400,"participant":{"email":"ada@example.com","join_time":"` + joinedAt + `"}}`), http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertStatus(t, e.zoomSend(t, tc.body), tc.status)
		})
	}
	assertZoomAttendance(t, e.registrationOf(t, ada.ID), models.AttendanceUnknown, models.SourceNone, -1, time.Time{})
}
