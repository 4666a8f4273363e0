package handlers

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"podium/models"
)

func TestReadyz_FailsUntilStartedAndWhenDatabaseIsGone(t *testing.T) {
	var ready atomic.Bool
	env := newTestEnv(t, func(c *Config) { c.Ready = ready.Load })
	env.addPanel(t, "soon", models.Session{Capacity: 5})
	b := env.browser(t)

	r := b.get("/readyz")
	assertStatus(t, r, http.StatusServiceUnavailable)
	assertContains(t, r.body, "starting")
	assertStatus(t, b.get("/healthz"), http.StatusOK)
	for _, path := range []string{"/", "/panels/soon", "/admin/login", "/api/v1/panels"} {
		r := b.get(path)
		assertStatus(t, r, http.StatusServiceUnavailable)
		if r.header.Get("Retry-After") == "" {
			t.Errorf("GET %s while starting has no Retry-After", path)
		}
	}
	assertContains(t, b.get("/").body, "Podium is starting")
	assertContains(t, b.get("/api/v1/panels").body, `"status":503`)

	ready.Store(true)
	r = b.get("/readyz")
	assertStatus(t, r, http.StatusOK)
	assertContains(t, r.body, "ready")
	assertStatus(t, b.get("/panels/soon"), http.StatusOK)

	_ = env.store.Close()
	assertStatus(t, b.get("/readyz"), http.StatusServiceUnavailable)
}

func TestSmallForms_RefuseLargeBodies(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "small", models.Session{Capacity: 5})
	b := env.browser(t)
	token := manageToken(t, b.signUp("small", person("ada@example.com")))
	form := formFields(t, b.get("/registrations/"+token).body)
	form.Set("padding", strings.Repeat("x", smallBodyLimit))
	assertStatus(t, b.post("/registrations/"+token+"/cancel", form), http.StatusRequestEntityTooLarge)
	if n := env.countRegistrations(t, mustSession(t, p, 0))[models.RegistrationConfirmed]; n != 1 {
		t.Fatalf("confirmed = %d; an oversized cancel must change nothing", n)
	}

	login := formFields(t, b.get("/admin/login").body)
	login.Set("email", "owner@example.com")
	login.Set("password", strings.Repeat("p", smallBodyLimit))
	assertStatus(t, b.post("/admin/login", login), http.StatusRequestEntityTooLarge)
}

func TestMetrics_CountRequestsSignUpsAndTheOutbox(t *testing.T) {
	var metrics *Metrics
	env := newTestEnv(t, func(c *Config) { metrics = NewMetrics(c.Store); c.Metrics = metrics })
	env.addPanel(t, "counted", models.Session{Capacity: 1, Waitlist: true})
	b := env.browser(t)
	assertStatus(t, b.signUp("counted", person("first@example.com")), http.StatusSeeOther)
	assertStatus(t, env.browser(t).signUp("counted", person("second@example.com")), http.StatusSeeOther)
	assertStatus(t, env.browser(t).signUp("counted", person("first@example.com")), http.StatusSeeOther)
	b.get("/nowhere/" + strings.Repeat("x", 10))
	b.get("/panels/no-such-panel")
	metrics.ObserveDeliveries([]models.DeliveryResult{{ID: 1, Attempts: 1}, {ID: 2, Attempts: 1, Err: io.EOF}})

	rec := httptest.NewRecorder()
	metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	assertContains(t, body,
		`podium_http_request_duration_seconds_count{code="200",method="GET",route="/panels/:slug"} 3`,
		`podium_http_request_duration_seconds_count{code="303",method="POST",route="/panels/:slug/register"} 3`,
		`podium_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 1`,
		`podium_http_request_duration_seconds_count{code="404",method="GET",route="/panels/:slug"} 1`,
		`podium_registrations_total{result="confirmed"} 1`,
		`podium_registrations_total{result="waitlisted"} 1`,
		`podium_registrations_total{result="duplicate"} 1`,
		// Confirmation, waitlist notice and the duplicate's new link.
		`podium_outbox_messages{status="queued"} 3`,
		`podium_outbox_messages{status="sent"} 0`,
		`podium_database_up 1`,
		`podium_mail_deliveries_total{outcome="sent"} 1`,
		`podium_mail_deliveries_total{outcome="retry"} 1`,
		`go_goroutines`, `process_resident_memory_bytes`,
	)
	if strings.Contains(body, "xxxxxxxxxx") {
		t.Fatal("a raw request path became a metric label")
	}
	if !strings.Contains(body, "podium_outbox_oldest_waiting_seconds") {
		t.Fatal("no outbox age")
	}
	// Metrics are never on the public port.
	assertStatus(t, b.get("/metrics"), http.StatusNotFound)
}
