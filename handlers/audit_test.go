package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"podium/models"
)

// Every registrant export and every change to where their details flow is
// in the audit log, with who, what and how many rows; owners read it in the
// admin and the API, organizers cannot.
func TestAuditLog_RecordsExportsAndWebhookChanges(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "audited", models.Session{Capacity: 10})
	env.addRegistrants(t, p.Sessions[0].ID, 3)
	owner := env.adminBrowser(t, models.RoleOwner)
	assertStatus(t, owner.get(fmt.Sprintf("/admin/panels/%d/registrants.csv", p.ID)), http.StatusOK)
	assertStatus(t, owner.get(fmt.Sprintf("/admin/panels/%d/sessions/%d/registrants.csv?status=cancelled", p.ID, p.Sessions[0].ID)),
		http.StatusOK)
	api := env.apiClient(t)
	hook := api.createWebhook(map[string]any{"url": hookURL})
	assertStatus(t, api.call(http.MethodDelete, webhookPath(hook.ID, ""), nil), http.StatusNoContent)

	log := decodeAs[listJSON[auditEntryJSON]](t, api.get("/api/v1/audit-log"), http.StatusOK)
	want := []struct {
		actor, channel, action, subject string
		rows                            int
	}{
		{"api-owner@example.com (owner)", "api", models.AuditWebhookDeleted, fmt.Sprintf("webhook endpoint %d", hook.ID), 0},
		{"api-owner@example.com (owner)", "api", models.AuditWebhookCreated, hookURL, 0},
		{"owner@example.com (owner)", "admin", models.AuditRegistrantsExported,
			fmt.Sprintf("session %d of panel %d (audited)", p.Sessions[0].ID, p.ID), 0},
		{"owner@example.com (owner)", "admin", models.AuditRegistrantsExported, fmt.Sprintf("panel %d (audited)", p.ID), 3},
	}
	if len(log.Data) != len(want) {
		t.Fatalf("audit log = %+v; want %d lines", log.Data, len(want))
	}
	for i, w := range want {
		got := log.Data[i]
		if got.Actor != w.actor || got.Channel != w.channel || got.Action != w.action || got.Subject != w.subject ||
			got.Rows != w.rows || got.At != rfc3339(testNow) || got.AccountID == nil {
			t.Errorf("line %d = %+v; want %+v", i, got, w)
		}
	}
	page := decodeAs[listJSON[auditEntryJSON]](t, api.get("/api/v1/audit-log?limit=3"), http.StatusOK)
	if len(page.Data) != 3 || page.NextCursor == nil {
		t.Fatalf("first page = %+v; want 3 lines and a cursor", page)
	}
	rest := decodeAs[listJSON[auditEntryJSON]](t, api.get("/api/v1/audit-log?limit=3&cursor="+url.QueryEscape(*page.NextCursor)), http.StatusOK)
	if len(rest.Data) != 1 || rest.Data[0].ID != log.Data[3].ID {
		t.Fatalf("second page = %+v; want the oldest line", rest)
	}
	assertContains(t, owner.get("/admin/audit-log").body, "Exported registrants (CSV)", "Deleted a webhook endpoint",
		"owner@example.com (owner)")

	organizer := env.adminBrowser(t, models.RoleOrganizer)
	assertStatus(t, organizer.get("/admin/audit-log"), http.StatusForbidden)
	org := env.tokenClient(t, env.addAccount(t, "organizer-api@example.com", models.RoleOrganizer))
	assertStatus(t, org.get("/api/v1/audit-log"), http.StatusForbidden)
}
