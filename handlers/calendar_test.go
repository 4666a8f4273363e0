package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-ical"

	"podium/models"
)

func decodeCalendar(t *testing.T, body string) *ical.Calendar {
	t.Helper()
	cal, err := ical.NewDecoder(strings.NewReader(body)).Decode()
	if err != nil {
		t.Fatalf("calendar does not parse: %v\n%s", err, body)
	}
	return cal
}

func TestCalendarDownloads_ParseAndHaveTheRightHeaders(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "cal", models.Session{Capacity: 10}, models.Session{StartsAt: testNow.Add(9 * 24 * time.Hour), Capacity: 10})
	env.addPanel(t, "other", models.Session{Capacity: 10})
	b := env.browser(t)
	token := manageToken(t, b.signUp("cal", func() map[string]string {
		f := person("ada@example.com")
		f["session"] = fmt.Sprint(p.Sessions[0].ID)
		return f
	}()))
	cases := []struct {
		path        string
		events      int
		disposition string
		private     bool
	}{
		{fmt.Sprintf("/panels/cal/sessions/%d.ics", p.Sessions[0].ID), 1, "attachment", false},
		{"/panels/cal/calendar.ics", 2, "inline", false},
		{"/calendar.ics", 3, "inline", false},
		{"/registrations/" + token + "/invite.ics", 1, "attachment", true},
	}
	for _, tc := range cases {
		r := b.get(tc.path)
		assertStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		if !strings.HasPrefix(r.header.Get("Content-Disposition"), tc.disposition+"; filename=") {
			t.Errorf("%s: Content-Disposition %q", tc.path, r.header.Get("Content-Disposition"))
		}
		if r.header.Get("ETag") == "" || r.header.Get("Last-Modified") == "" {
			t.Errorf("%s: no ETag or Last-Modified", tc.path)
		}
		if tc.private != (r.header.Get("Cache-Control") == "no-store") {
			t.Errorf("%s: Cache-Control %q", tc.path, r.header.Get("Cache-Control"))
		}
		cal := decodeCalendar(t, r.body)
		if m := cal.Props.Get(ical.PropMethod); m == nil || m.Value != "PUBLISH" {
			t.Errorf("%s: METHOD %v; want PUBLISH", tc.path, m)
		}
		if n := len(cal.Events()); n != tc.events {
			t.Errorf("%s: %d events; want %d", tc.path, n, tc.events)
		}
		if strings.Contains(r.body, "ATTENDEE") || strings.Contains(r.body, "TZID=") {
			t.Errorf("%s: a download must carry no ATTENDEE and no TZID:\n%s", tc.path, r.body)
		}
		if strings.Contains(r.body, "meet.example.com") {
			t.Errorf("%s: the calendar shows the session's shared join link", tc.path)
		}
		// RFC 5546 (3.2.1) requires an ORGANIZER in every PUBLISH event;
		// without one libical refuses the file.
		for _, ev := range cal.Events() {
			if org := ev.Props.Get(ical.PropOrganizer); org == nil || !strings.HasPrefix(org.Value, "mailto:") {
				t.Errorf("%s: event without an ORGANIZER:\n%s", tc.path, r.body)
			}
		}
	}
	// The registrant's own file has the invite's UID, so the two never duplicate.
	own := decodeCalendar(t, b.get("/registrations/"+token+"/invite.ics").body)
	if uid := own.Events()[0].Props.Get(ical.PropUID).Value; !strings.HasPrefix(uid, "reg-") {
		t.Fatalf("own calendar UID = %q; want the invite's reg-… UID", uid)
	}
}

func TestCalendarFeed_ConditionalRequestsAnswer304(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "poll", models.Session{Capacity: 10})
	first := env.browser(t).get("/calendar.ics")
	assertStatus(t, first, http.StatusOK)
	for header, value := range map[string]string{
		"If-None-Match":     first.header.Get("ETag"),
		"If-Modified-Since": first.header.Get("Last-Modified"),
	} {
		req := httptest.NewRequest(http.MethodGet, "/calendar.ics", nil)
		req.Header.Set(header, value)
		r := env.browser(t).do(req)
		if r.status != http.StatusNotModified || r.body != "" {
			t.Errorf("%s: status %d with %d bytes; want an empty 304", header, r.status, len(r.body))
		}
	}
}

func TestCalendarFeed_EmptyFeedIsStillACalendar(t *testing.T) {
	env := newTestEnv(t)
	r := env.browser(t).get("/calendar.ics")
	assertStatus(t, r, http.StatusOK)
	if !strings.HasPrefix(r.body, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(r.body, "END:VCALENDAR\r\n") {
		t.Fatalf("empty feed:\n%q", r.body)
	}
}

func TestCalendarDownloads_UnknownThingsAreNotFound(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "known", models.Session{Capacity: 10})
	env.addPanel(t, "else", models.Session{Capacity: 10})
	other := env.mustPanel(t, "else").Sessions[0].ID
	for _, path := range []string{
		"/panels/known/sessions/999999.ics",
		fmt.Sprintf("/panels/known/sessions/%d.ics", other), // a session of another panel
		"/panels/nope/calendar.ics",
		"/registrations/" + strings.Repeat("y", 43) + "/invite.ics",
	} {
		assertStatus(t, env.browser(t).get(path), http.StatusNotFound)
	}
	_ = p
}

func TestManagePage_OffersCalendarLinks(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "links", models.Session{Capacity: 10})
	b := env.browser(t)
	token := manageToken(t, b.signUp("links", person("ada@example.com")))
	page := b.get("/registrations/" + token)
	assertContains(t, page.body, "https://calendar.google.com/calendar/render?", "https://outlook.live.com/calendar/",
		`/registrations/`+token+`/invite.ics`)
	panel := b.get("/panels/links")
	assertContains(t, panel.body, "/panels/links/calendar.ics", ".ics\">Add to calendar (.ics)")
}
