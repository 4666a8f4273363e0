package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"podium/models"
)

func TestAdminOutbox_ShowsEachEmailAsSent(t *testing.T) {
	env := newTestEnv(t, withMail)
	env.addPanel(t, "mail", models.Session{Capacity: 10})
	token := manageToken(t, env.browser(t).signUp("mail", person("ada@example.com")))
	b := env.adminBrowser(t, models.RoleOrganizer)

	list := b.get("/admin/outbox")
	assertContains(t, list.body, "You&#39;re registered: Panel mail", "Ada Lovelace &lt;ada@example.com&gt;", "Invite", "waiting to send")
	msg := b.get("/admin/outbox/1")
	assertContains(t, msg.body, "/registrations/"+token, "Calendar invite (.ics)")
	html := b.get("/admin/outbox/1/html")
	if !strings.Contains(html.header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatal("the HTML body is not sandboxed")
	}
	invite := b.get("/admin/outbox/1/invite.ics")
	assertStatus(t, invite, http.StatusOK)
	decodeCalendar(t, invite.body)
	source := b.get("/admin/outbox/1/source")
	assertContains(t, source.body, "Message-ID: <outbox-1@localhost>", "method=REQUEST", "multipart/mixed", "application/ics")
	for _, path := range []string{"/admin/outbox", "/admin/outbox/1/html", "/admin/outbox/1/source"} {
		if cc := b.get(path).header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control = %q; want no-store", path, cc)
		}
	}
	// The old development viewer is gone: the admin is the one place.
	assertStatus(t, env.browser(t).get("/dev/mail"), http.StatusNotFound)
}

func TestAdminOutbox_ResendsAFailedEmail(t *testing.T) {
	env := newTestEnv(t, withMail)
	env.addPanel(t, "fail", models.Session{Capacity: 10})
	env.browser(t).signUp("fail", person("ada@example.com"))
	ctx := context.Background()
	claimed, err := env.store.ClaimOutbox(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if err := env.store.RecordDeliveries(ctx, []models.DeliveryResult{{
		ID: claimed[0].ID, Err: errors.New("550 mailbox unavailable"), Permanent: true, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	b := env.adminBrowser(t, models.RoleOrganizer)
	dashboard := b.get("/admin")
	assertContains(t, dashboard.body, "could not be delivered", "stat-bad")
	list := b.get("/admin/outbox")
	assertContains(t, list.body, "Failed", "550 mailbox unavailable", `action="/admin/outbox/1/resend"`)

	page := b.follow(b.postForm("/admin/outbox/1/resend", nil))
	assertContains(t, page.body, "queued to be sent again")
	if counts, _ := env.store.OutboxCounts(ctx); counts[models.OutboxQueued] != 1 || counts[models.OutboxFailed] != 0 {
		t.Fatalf("counts after resend = %v", counts)
	}
	assertStatus(t, b.postForm("/admin/outbox/1/resend", nil), http.StatusNotFound)
}
