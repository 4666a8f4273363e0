package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"podium/models"
)

var joinLink = regexp.MustCompile(`/j/([A-Za-z0-9_-]{43})`)

// A panel's life after its live session, through the HTTP layer: the
// personal join link, a report imported through the API, follow-ups asked
// for twice, the replay through the same link, and the page signing people
// up for the replay.
func TestAfterTheLiveSession_JoinImportFollowUpsAndReplay(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "after", models.Session{Capacity: 10})
	sess := p.Sessions[0]
	ada, bob := env.browser(t), env.browser(t)
	adaToken := manageToken(t, ada.signUp("after", person("ada@example.com")))
	manageToken(t, bob.signUp("after", person("bob@example.com")))

	m := joinLink.FindStringSubmatch(ada.get("/registrations/" + adaToken).body)
	if m == nil {
		t.Fatal("the manage page has no personal join link")
	}
	join := "/j/" + m[1]

	env.clock.Set(sess.StartsAt.Add(5 * time.Minute))
	r := ada.get(join)
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != sess.JoinURL {
		t.Fatalf("join link goes to %q; want %q", loc, sess.JoinURL)
	}
	assertStatus(t, ada.get("/j/"+strings.Repeat("x", 43)), http.StatusNotFound)

	api := env.apiClient(t)
	attendance := fmt.Sprintf("/api/v1/sessions/%d/attendance", sess.ID)
	report := "email,minutes\r\nADA@example.com,50\r\nstranger@example.org,10\r\n"
	assertProblem(t, api.send(http.MethodPost, attendance, "text/csv", report), http.StatusConflict) // not ended yet

	env.clock.Set(sess.EndsAt().Add(time.Minute))
	assertProblem(t, api.send(http.MethodPost, attendance, "application/json", report), http.StatusUnsupportedMediaType)
	assertProblem(t, api.send(http.MethodPost, attendance, "text/csv", "name,company\r\nAda,Engines\r\n"), http.StatusUnprocessableEntity)
	assertProblem(t, api.send(http.MethodPost, "/api/v1/sessions/999999/attendance", "text/csv", report), http.StatusNotFound)
	dry := decodeAs[attendanceImportJSON](t, api.send(http.MethodPost, attendance+"?dry_run=true", "text/csv", report), http.StatusOK)
	if dry.Applied || dry.Attended != 1 {
		t.Fatalf("dry run = %+v; want 1 attended, not applied", dry)
	}
	got := decodeAs[attendanceImportJSON](t, api.send(http.MethodPost, attendance, "text/csv", report), http.StatusOK)
	want := attendanceImportJSON{Format: "plain", Matched: 1, Unmatched: 1, Attended: 1, Absent: 1,
		UnmatchedEmails: []string{"stranger@example.org"}, Applied: true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("import = %+v; want %+v", got, want)
	}

	// With a recording, the join link goes to the replay.
	decodeAs[sessionJSON](t, api.call(http.MethodPatch, fmt.Sprintf("/api/v1/sessions/%d", sess.ID),
		map[string]any{"recording_url": "https://video.example.com/after"}), http.StatusOK)
	r = ada.get(join)
	assertStatus(t, r, http.StatusSeeOther)
	if loc := r.header.Get("Location"); loc != "https://video.example.com/after" {
		t.Fatalf("join link after the end goes to %q; want the recording", loc)
	}

	followUps := fmt.Sprintf("/api/v1/sessions/%d/follow-ups", sess.ID)
	for i, wantQueued := range []int{2, 0} {
		if q := decodeAs[followUpsQueuedJSON](t, api.call(http.MethodPost, followUps, nil), http.StatusAccepted); q.Queued != wantQueued {
			t.Fatalf("follow-ups, call %d: queued %d; want %d", i+1, q.Queued, wantQueued)
		}
	}
	if a, b := env.countOutbox(t, models.KindFollowUpAttended), env.countOutbox(t, models.KindFollowUpAbsent); a != 1 || b != 1 {
		t.Fatalf("follow-ups: %d thanks, %d sorry; want 1 each", a, b)
	}

	// The page now signs people up for the replay.
	carol := env.browser(t)
	assertContains(t, carol.get("/panels/after").body, "Watch on demand")
	manageToken(t, carol.signUp("after", person("carol@example.com")))

	list := decodeAs[registrationListJSON](t, api.get(fmt.Sprintf("/api/v1/sessions/%d/registrations", sess.ID)), http.StatusOK)
	byEmail := map[string]registrationJSON{}
	for _, reg := range list.Data {
		byEmail[reg.Email] = reg
	}
	adaJSON, bobJSON, carolJSON := byEmail["ada@example.com"], byEmail["bob@example.com"], byEmail["carol@example.com"]
	if adaJSON.Attendance != "attended" || adaJSON.AttendedMinutes == nil || *adaJSON.AttendedMinutes != 50 ||
		adaJSON.JoinedAt == nil || adaJSON.WatchedAt == nil {
		t.Fatalf("ada = %+v; want attended 50 minutes, joined and watched", adaJSON)
	}
	if bobJSON.Attendance != "absent" || bobJSON.JoinedAt != nil {
		t.Fatalf("bob = %+v; want absent, never joined", bobJSON)
	}
	if !carolJSON.OnDemand || carolJSON.Attendance != "unknown" || carolJSON.Status != "confirmed" {
		t.Fatalf("carol = %+v; want a confirmed replay registration", carolJSON)
	}
}
