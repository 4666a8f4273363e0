package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"podium/models"
)

func TestPanelPage_CachedButNeverStaleAfterAnOrganizerChange(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "cached", models.Session{Capacity: 10})
	first, second := env.browser(t).get("/panels/cached"), env.browser(t).get("/panels/cached")
	token := func(body string) string {
		m := hiddenInput.FindAllStringSubmatch(body, -1)
		for _, f := range m {
			if f[1] == "_csrf" {
				return f[2]
			}
		}
		return ""
	}
	if token(first.body) == "" || token(first.body) == token(second.body) {
		t.Fatal("two visitors of a cached page must get their own CSRF tokens")
	}
	api := env.apiClient(t)
	r := api.call(http.MethodPatch, fmt.Sprintf("/api/v1/panels/%d", p.ID), map[string]any{"title": "A new title"})
	assertStatus(t, r, http.StatusOK)
	assertContains(t, env.browser(t).get("/panels/cached").body, "<h1>A new title</h1>")
}

func TestPanelPage_SeatsLeftCatchUpWithinASecond(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "seats", models.Session{Capacity: 10})
	assertContains(t, env.browser(t).get("/panels/seats").body, "10 places left")
	assertStatus(t, env.browser(t).signUp("seats", person("a@example.com")), http.StatusSeeOther)
	env.clock.Set(testNow.Add(pageCacheTTL + time.Millisecond))
	if body := env.browser(t).get("/panels/seats").body; !strings.Contains(body, "9 places left") {
		t.Fatal("seats left did not catch up after the cache lifetime")
	}
}

func TestCalendarFeed_CachedButNeverStaleAfterAnOrganizerChange(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "fed", models.Session{Capacity: 10})
	b := env.browser(t)
	assertContains(t, b.get("/calendar.ics").body, "SUMMARY:Panel fed")
	// A change the app was not told of waits for the cache's lifetime...
	env.addPanel(t, "unannounced", models.Session{Capacity: 10})
	if strings.Contains(b.get("/calendar.ics").body, "unannounced") {
		t.Fatal("the feed was rendered again within the cache's lifetime")
	}
	env.clock.Set(testNow.Add(pageCacheTTL + time.Millisecond))
	assertContains(t, b.get("/calendar.ics").body, "SUMMARY:Panel unannounced")
	// ...while an organizer's change shows at once, in both feeds.
	api := env.apiClient(t)
	r := api.call(http.MethodPatch, fmt.Sprintf("/api/v1/panels/%d", p.ID), map[string]any{"title": "Renamed panel"})
	assertStatus(t, r, http.StatusOK)
	assertContains(t, b.get("/calendar.ics").body, "SUMMARY:Renamed panel")
	assertContains(t, b.get("/panels/fed/calendar.ics").body, "SUMMARY:Renamed panel")
}
