package handlers

import (
	"fmt"
	"net/http"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"podium/models"
)

// runFanouts runs fan-out batches until none is left, as the jobs loop does.
func (e *testEnv) runFanouts(t *testing.T) {
	t.Helper()
	for range 1000 {
		n, err := e.store.RunFanoutBatch(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("fan-out never finished")
}

func TestAPIAddSession_AnswersTheSession(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "grows", models.Session{})
	r := api.call(http.MethodPost, fmt.Sprintf("/api/v1/panels/%d/sessions", p.ID), map[string]any{
		"starts_at": "2026-12-10T18:30:00+01:00", "duration_minutes": 90, "time_zone": "Europe/Paris",
		"capacity": 40, "venue": "Salle 2", "registration_closes_at": "2026-12-10T12:00:00Z",
	})
	got := decodeAs[sessionJSON](t, r, http.StatusCreated)
	if got.ID == 0 || got.PanelID != p.ID || got.StartsAt != "2026-12-10T17:30:00Z" || got.Venue != "Salle 2" ||
		got.RegistrationClosesAt == nil || *got.RegistrationClosesAt != "2026-12-10T12:00:00Z" || got.Sequence != 0 {
		t.Fatalf("session = %+v", got)
	}
	if loc := r.header.Get("Location"); loc != fmt.Sprintf("/api/v1/sessions/%d", got.ID) {
		t.Fatalf("Location = %q", loc)
	}
	panel := decodeAs[panelJSON](t, api.get(fmt.Sprintf("/api/v1/panels/%d", p.ID)), http.StatusOK)
	if len(panel.Sessions) != 2 || !reflect.DeepEqual(panel.Sessions[1], got) {
		t.Fatalf("panel sessions = %+v; want the new one %+v", panel.Sessions, got)
	}
	p2 := assertProblem(t, api.call(http.MethodPost, fmt.Sprintf("/api/v1/panels/%d/sessions", p.ID),
		map[string]any{"duration_minutes": 60, "time_zone": "Mars/Olympus"}), 422)
	for _, field := range []string{"starts_at", "time_zone", "join_url"} {
		if fieldMessage(p2, field) == "" {
			t.Errorf("no message for %s in %+v", field, p2.Errors)
		}
	}
	assertProblem(t, api.call(http.MethodPost, "/api/v1/panels/999/sessions", map[string]any{
		"starts_at": "2026-12-10T18:30:00Z", "duration_minutes": 60, "time_zone": "UTC", "venue": "Hall"}), 404)
}

func TestAPICancelSession_TellsEveryRegistrantOnce(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "off", models.Session{Capacity: 3, Waitlist: true})
	sessionID := mustSession(t, p, 0)
	env.addRegistrants(t, sessionID, 5) // 3 confirmed, 2 waitlisted
	path := fmt.Sprintf("/api/v1/sessions/%d/cancel", sessionID)
	got := decodeAs[sessionChangeJSON](t, api.call(http.MethodPost, path, nil), http.StatusOK)
	if got.Status != "cancelled" || got.Sequence != 1 || got.Fanout == nil || got.Fanout.Total != 5 ||
		got.Fanout.Kind != string(models.KindSessionCancelled) {
		t.Fatalf("cancelled = %+v, fanout %+v; want 5 registrants told", got.sessionJSON, got.Fanout)
	}
	env.runFanouts(t)
	if n := env.countOutbox(t, models.KindSessionCancelled); n != 5 {
		t.Fatalf("session_cancelled messages = %d; want 5", n)
	}
	again := decodeAs[sessionChangeJSON](t, api.call(http.MethodPost, path, nil), http.StatusOK)
	if again.Fanout != nil || again.Sequence != 1 {
		t.Fatalf("second cancel = %+v, fanout %+v; want no change", again.sessionJSON, again.Fanout)
	}
	assertProblem(t, api.call(http.MethodPost, "/api/v1/sessions/999/cancel", nil), 404)
}

func TestAPIUpdateSession_RescheduleSendsEveryConfirmedRegistrantAnUpdate(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "moves", models.Session{Capacity: 4, Waitlist: true})
	sessionID := mustSession(t, p, 0)
	env.addRegistrants(t, sessionID, 6) // 4 confirmed, 2 waitlisted
	path := fmt.Sprintf("/api/v1/sessions/%d", sessionID)
	got := decodeAs[sessionChangeJSON](t, api.call(http.MethodPatch, path,
		`{"starts_at":"2026-12-01T16:00:00Z"}`), http.StatusOK)
	if got.StartsAt != "2026-12-01T16:00:00Z" || got.Sequence != 1 || got.Capacity != 4 || got.DurationMinutes != 60 {
		t.Fatalf("session = %+v", got.sessionJSON)
	}
	if got.Fanout == nil || got.Fanout.Total != 4 || got.Fanout.Kind != string(models.KindSessionUpdated) {
		t.Fatalf("fanout = %+v; want 4 confirmed registrants told", got.Fanout)
	}
	env.runFanouts(t)
	if n := env.countOutbox(t, models.KindSessionUpdated); n != 4 {
		t.Fatalf("session_updated messages = %d; want 4", n)
	}
	f, err := env.store.FanoutByID(t.Context(), got.Fanout.ID)
	if err != nil || f.Status != models.FanoutDone || f.Enqueued != 4 {
		t.Fatalf("fanout = %+v (%v)", f, err)
	}
}

func TestAPIUpdateSession_OtherChangesSendNoInvites(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "grows", models.Session{Capacity: 1, Waitlist: true})
	sessionID := mustSession(t, p, 0)
	env.addRegistrants(t, sessionID, 3)
	path := fmt.Sprintf("/api/v1/sessions/%d", sessionID)
	got := decodeAs[sessionChangeJSON](t, api.call(http.MethodPatch, path,
		`{"capacity":2,"registration_closes_at":"2026-11-26T12:00:00Z"}`), http.StatusOK)
	if got.Fanout != nil || got.Sequence != 0 || got.SeatsTaken != 2 || got.RegistrationClosesAt == nil {
		t.Fatalf("session = %+v, fanout %+v; want one promoted and nothing sent", got.sessionJSON, got.Fanout)
	}
	got = decodeAs[sessionChangeJSON](t, api.call(http.MethodPatch, path, `{"registration_closes_at":null}`), http.StatusOK)
	if got.RegistrationClosesAt != nil || got.Capacity != 2 {
		t.Fatalf("after clearing the closing time: %+v", got.sessionJSON)
	}
	if n := env.countOutbox(t, models.KindPromoted); n != 1 {
		t.Fatalf("promotion emails = %d; want 1", n)
	}
	p2 := assertProblem(t, api.call(http.MethodPatch, path, `{"capacity":1}`), 422)
	if fieldMessage(p2, "capacity") == "" {
		t.Fatalf("capacity below seats taken = %+v", p2)
	}
	assertProblem(t, api.call(http.MethodPatch, path, `{"starts_at":null}`), 422)
	assertProblem(t, api.call(http.MethodPatch, path, `{"status":"cancelled"}`), 422)
	assertProblem(t, api.call(http.MethodPatch, path, `{"starts_at":"2026-02-30T10:00:00Z"}`), 422)
	assertProblem(t, api.call(http.MethodPatch, "/api/v1/sessions/999", `{"capacity":5}`), 404)
	shown := decodeAs[sessionJSON](t, api.get(path), http.StatusOK)
	if shown.Capacity != 2 || shown.StartsAt != p.Sessions[0].StartsAt.Format(time.RFC3339) {
		t.Fatalf("refused changes were stored: %+v", shown)
	}
}

// A sign-up wakes only the mail worker; an organizer's reschedule also wakes
// the jobs that run its fan-out (and would look for reminders).
func TestWakeUps_SignUpsWakeTheMailWorkerAndReschedulesTheFanOut(t *testing.T) {
	var notified, fannedOut atomic.Int64
	env := newTestEnv(t, func(c *Config) {
		c.Notify = func() { notified.Add(1) }
		c.Store.Subscribe(models.TopicJobs, func() { fannedOut.Add(1) })
	})
	api := env.apiClient(t)
	p := env.addPanel(t, "wakes", models.Session{Capacity: 10})
	for i := range 3 {
		assertStatus(t, env.browser(t).signUp("wakes", person(fmt.Sprintf("w%d@example.com", i))), http.StatusSeeOther)
	}
	if notified.Load() != 3 || fannedOut.Load() != 0 {
		t.Fatalf("after 3 sign-ups: notified %d, fan-out woken %d; want 3 and 0", notified.Load(), fannedOut.Load())
	}
	path := fmt.Sprintf("/api/v1/sessions/%d", mustSession(t, p, 0))
	assertStatus(t, api.call(http.MethodPatch, path, `{"starts_at":"2026-12-01T16:00:00Z"}`), http.StatusOK)
	if fannedOut.Load() != 1 {
		t.Fatalf("after a reschedule: fan-out woken %d times; want 1", fannedOut.Load())
	}
}

// Two PATCHes of different fields of one session at once both last.
func TestAPIUpdateSession_ConcurrentPatchesOfDifferentFieldsBothLast(t *testing.T) {
	env := newTestEnv(t)
	api := env.apiClient(t)
	p := env.addPanel(t, "patched", models.Session{Capacity: 5, Venue: "Room 0"})
	path := fmt.Sprintf("/api/v1/sessions/%d", mustSession(t, p, 0))
	const rounds = 40
	api.patchAtOnce(path, rounds, `{"capacity": %d}`, `{"venue": "Room %d"}`)
	got, err := env.store.SessionByID(t.Context(), mustSession(t, p, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got.Capacity != rounds-1 || got.Venue != fmt.Sprintf("Room %d", rounds-1) {
		t.Fatalf("capacity %d, venue %q; want each field's last value", got.Capacity, got.Venue)
	}
}
