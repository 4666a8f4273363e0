package views

import (
	"strconv"

	"podium/models"
)

// The audit log page (owners only).
const (
	PageAdminAudit = "admin/audit"
	SectionAudit   = "audit"
	// AuditPageSize is how many lines a page shows.
	AuditPageSize = 100
)

// AuditPage lists the audit log, newest first.
type AuditPage struct {
	AdminPage
	Rows     []AuditRow
	OlderURL string
}

// AuditRow is one line.
type AuditRow struct {
	When, Actor, Channel, Action, Subject, Rows string
}

// NewAuditPage builds the page from up to AuditPageSize+1 entries: the
// extra one says there are older ones.
func NewAuditPage(frame AdminPage, entries []models.AuditEntry) AuditPage {
	page := AuditPage{AdminPage: frame}
	if len(entries) > AuditPageSize {
		entries = entries[:AuditPageSize]
		page.OlderURL = "/admin/audit-log?before=" + strconv.FormatInt(entries[len(entries)-1].ID, 10)
	}
	for _, e := range entries {
		row := AuditRow{When: formatStamp(e.CreatedAt), Actor: e.Actor, Channel: string(e.Channel), Action: auditLabel(e.Action),
			Subject: e.Subject}
		switch e.Action {
		case models.AuditRegistrantsExported, models.AuditLeadsExported, models.AuditPersonAccessed,
			models.AuditPersonErased, models.AuditRegistrantsExpired:
			row.Rows = formatCount(e.RowCount)
		}
		page.Rows = append(page.Rows, row)
	}
	return page
}

func auditLabel(action string) string {
	switch action {
	case models.AuditRegistrantsExported:
		return "Exported registrants (CSV)"
	case models.AuditWebhookCreated:
		return "Added a webhook endpoint"
	case models.AuditWebhookChanged:
		return "Changed a webhook endpoint"
	case models.AuditWebhookDeleted:
		return "Deleted a webhook endpoint"
	case models.AuditWebhookSecretRotate:
		return "Rotated a webhook secret"
	case models.AuditLeadsExported:
		return "Downloaded a sponsor's leads"
	case models.AuditPersonAccessed:
		return "Looked up a person's data"
	case models.AuditPersonErased:
		return "Erased a person's data"
	case models.AuditRegistrantsExpired:
		return "Erased registrants past retention"
	case models.AuditShareLinkCreated:
		return "Made a sponsor's share link"
	case models.AuditShareLinkRevoked:
		return "Revoked a sponsor's share link"
	}
	return action
}
