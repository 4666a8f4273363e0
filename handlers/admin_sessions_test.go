package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// sessionForm is a valid session form; edit changes fields.
func sessionForm(edit map[string]string) url.Values {
	v := url.Values{
		"date": {"2026-12-03"}, "time": {"15:00"}, "time_zone": {"Europe/London"}, "duration_minutes": {"60"},
		"capacity": {"3"}, "waitlist": {"yes"}, "join_url": {"https://meet.example.com/s"},
	}
	for k, val := range edit {
		v.Set(k, val)
	}
	return v
}

func TestAdminSessionForm_AddsASessionInItsZone(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "add", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	page := b.follow(b.postForm(panelPath(p)+"/sessions", sessionForm(map[string]string{"time_zone": "America/New_York"})))
	assertContains(t, page.body, "Session added.", "Thursday 3 December 2026", "3:00 PM – 4:00 PM EST")
	got, _ := env.store.PanelByID(context.Background(), p.ID)
	if n := len(got.Sessions); n != 2 || !got.Sessions[1].StartsAt.Equal(time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)) {
		t.Fatalf("sessions = %+v", got.Sessions)
	}
}

func TestAdminSessionForm_RefusesImpossibleTimesKeepingWhatWasTyped(t *testing.T) {
	cases := []struct {
		name, field, message string
		edit                 map[string]string
	}{
		{"DST gap", "time", "1:30 AM does not exist on 29 March 2026 in Europe/London",
			map[string]string{"date": "2026-03-29", "time": "01:30"}},
		{"DST overlap", "time", "1:30 AM happens twice on 25 October 2026",
			map[string]string{"date": "2026-10-25", "time": "01:30"}},
		{"30 February", "date", "February 2027 has no day 30", map[string]string{"date": "2027-02-30"}},
		{"http join link", "join-url", "starting with https://", map[string]string{"join_url": "http://meet.example.com"}},
		{"no duration", "duration-minutes", "number of minutes", map[string]string{"duration_minutes": "an hour"}},
		{"closing after the end", "closes-date", "Registration must close before the session ends",
			map[string]string{"closes_date": "2026-12-04", "closes_time": "09:00"}},
	}
	env := newTestEnv(t)
	p := env.addPanel(t, "bad", models.Session{Capacity: 10})
	b := env.adminBrowser(t, models.RoleOrganizer)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.postForm(panelPath(p)+"/sessions", sessionForm(tc.edit))
			assertStatus(t, r, http.StatusUnprocessableEntity)
			assertContains(t, r.body, `href="#field-`+tc.field+`"`, tc.message, `value="Europe/London" selected`)
			for _, v := range tc.edit {
				assertContains(t, r.body, `value="`+v+`"`)
			}
		})
	}
	if got, _ := env.store.PanelByID(context.Background(), p.ID); len(got.Sessions) != 1 {
		t.Fatalf("a refused session was stored: %+v", got.Sessions)
	}
}

func TestAdminSession_RescheduleConfirmsThenSendsEveryUpdatedInvite(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "move", models.Session{Capacity: 3, Waitlist: true})
	sid := mustSession(t, p, 0)
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com", "waiting@example.com"} {
		env.register(t, p, sid, email)
	}
	b := env.adminBrowser(t, models.RoleOrganizer)
	moved := sessionForm(map[string]string{"date": "2026-11-28", "time": "16:30"})

	confirm := b.postForm(sessionPath(p, 0), moved)
	assertStatus(t, confirm, http.StatusOK)
	assertContains(t, confirm.body, "3 registrants will receive an updated invite", "Saturday 28 November 2026, 4:30 PM")
	if got, _ := env.store.PanelByID(context.Background(), p.ID); !got.Sessions[0].StartsAt.Equal(p.Sessions[0].StartsAt) {
		t.Fatal("the session moved before the organizer confirmed")
	}

	form := formFields(t, confirm.body)
	form.Set("confirm", "yes")
	done := b.post(sessionPath(p, 0), form)
	assertStatus(t, done, http.StatusSeeOther)
	if loc := done.header.Get("Location"); !strings.Contains(loc, "?fanout=") {
		t.Fatalf("Location = %q; want the session page with the fan-out's progress", loc)
	}
	running := b.get(done.header.Get("Location"))
	assertContains(t, running.body, "Updated invites are being sent to 3 registrants", "Updated invites queued for 0 of 3 registrants", "data-refresh=")

	env.runFanouts(t)
	if n := env.countOutbox(t, models.KindSessionUpdated); n != 3 {
		t.Fatalf("%d session_updated messages; want 3 (the confirmed registrants)", n)
	}
	finished := b.get(done.header.Get("Location"))
	assertContains(t, finished.body, "Updated invites queued for all 3 registrants")
	got, _ := env.store.PanelByID(context.Background(), p.ID)
	if !got.Sessions[0].StartsAt.Equal(time.Date(2026, 11, 28, 16, 30, 0, 0, time.UTC)) || got.Sessions[0].Sequence != 1 {
		t.Fatalf("session after the move = %+v", got.Sessions[0])
	}
}

func TestAdminSession_ChangeDetailsGoesBackToTheForm(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "back", models.Session{Capacity: 3})
	env.register(t, p, mustSession(t, p, 0), "a@example.com")
	b := env.adminBrowser(t, models.RoleOrganizer)
	form := formFields(t, b.postForm(sessionPath(p, 0), sessionForm(map[string]string{"venue": "Town hall"})).body)
	form.Set("confirm", "edit")
	r := b.post(sessionPath(p, 0), form)
	assertStatus(t, r, http.StatusOK)
	assertContains(t, r.body, "Edit session", "Town hall")
}

func TestAdminSession_CapacityOnlyChangeNeedsNoConfirmation(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "cap", models.Session{Capacity: 1, Waitlist: true})
	sid := mustSession(t, p, 0)
	env.register(t, p, sid, "a@example.com")
	env.register(t, p, sid, "b@example.com")
	b := env.adminBrowser(t, models.RoleOrganizer)
	same := sessionForm(nil)
	s := p.Sessions[0]
	loc := s.Location()
	same.Set("date", s.StartsAt.In(loc).Format("2006-01-02"))
	same.Set("time", s.StartsAt.In(loc).Format("15:04"))
	same.Set("join_url", s.JoinURL)
	same.Set("capacity", "0")
	refused := b.postForm(sessionPath(p, 0), map[string][]string{"capacity": {"abc"}})
	assertStatus(t, refused, http.StatusUnprocessableEntity)
	page := b.follow(b.postForm(sessionPath(p, 0), same))
	assertContains(t, page.body, "Changes saved.", "1 person got a place from the waitlist")
	if c := env.countRegistrations(t, sid); c[models.RegistrationConfirmed] != 2 {
		t.Fatalf("counts = %v; want both confirmed", c)
	}
}

func TestAdminSession_CapacityCannotDropBelowPlacesTaken(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "floor", models.Session{Capacity: 5})
	sid := mustSession(t, p, 0)
	env.register(t, p, sid, "a@example.com")
	env.register(t, p, sid, "b@example.com")
	b := env.adminBrowser(t, models.RoleOrganizer)
	form := sessionForm(map[string]string{"capacity": "1"})
	form.Set("confirm", "yes")
	r := b.postForm(sessionPath(p, 0), form)
	assertStatus(t, r, http.StatusUnprocessableEntity)
	assertContains(t, r.body, "Capacity cannot be lower than the places already taken.", `value="1"`)
}

func TestAdminSession_CancelConfirmsThenTellsEveryone(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "cancel", models.Session{Capacity: 2, Waitlist: true})
	sid := mustSession(t, p, 0)
	for _, email := range []string{"a@example.com", "b@example.com", "waiting@example.com"} {
		env.register(t, p, sid, email)
	}
	b := env.adminBrowser(t, models.RoleOrganizer)
	confirm := b.postForm(sessionPath(p, 0)+"/cancel", nil)
	assertStatus(t, confirm, http.StatusOK)
	assertContains(t, confirm.body, "3 registrants (confirmed and waitlisted) will receive a cancellation", "Cancel the session")

	form := formFields(t, confirm.body)
	form.Set("confirm", "yes")
	page := b.follow(b.post(sessionPath(p, 0)+"/cancel", form))
	assertContains(t, page.body, "Session cancelled.", "Cancellations queued for 0 of 3")
	env.runFanouts(t)
	if n := env.countOutbox(t, models.KindSessionCancelled); n != 3 {
		t.Fatalf("%d session_cancelled messages; want 3", n)
	}
	if strings.Contains(b.get(sessionPath(p, 0)).body, "Add a registrant") {
		t.Fatal("a cancelled session still offers to add registrants")
	}
}
