package handlers

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// audit records what the signed-in account (or API token) did. A failure
// to record is logged, not shown: the action itself has happened.
func (h *Handlers) audit(ctx context.Context, acc *models.Account, channel models.Channel, action, subject string, rows int) {
	id, actor := models.AuditActor(acc)
	err := h.store.Audit(ctx, models.AuditEntry{AccountID: id, Actor: actor, Channel: channel, Action: action,
		Subject: subject, RowCount: rows})
	if err != nil {
		h.log.Error("could not write the audit log", "action", action, "err", err)
	}
}

func webhookSubject(id int64) string { return "webhook endpoint " + strconv.FormatInt(id, 10) }

// auditEntryJSON is a line of the audit log.
type auditEntryJSON struct {
	ID        int64  `json:"id"`
	At        string `json:"at"`
	AccountID *int64 `json:"account_id"`
	Actor     string `json:"actor"`
	Channel   string `json:"channel"`
	Action    string `json:"action"`
	Subject   string `json:"subject"`
	Rows      int    `json:"rows"`
}

// apiAuditLog answers GET /api/v1/audit-log (owners only), newest first.
func (h *Handlers) apiAuditLog(c *fiber.Ctx) error {
	limit, before, err := pageParams(c)
	if err != nil {
		return err
	}
	entries, err := h.store.AuditLog(c.UserContext(), before, limit)
	if err != nil {
		return err
	}
	out := make([]auditEntryJSON, len(entries))
	for i, e := range entries {
		out[i] = auditEntryJSON{ID: e.ID, At: rfc3339(e.CreatedAt), AccountID: e.AccountID, Actor: e.Actor,
			Channel: string(e.Channel), Action: e.Action, Subject: e.Subject, Rows: e.RowCount}
	}
	var last int64
	if len(entries) == limit {
		last = entries[len(entries)-1].ID
	}
	return c.JSON(newList(out, last))
}

// showAuditLog is the admin's audit log page (owners only).
func (h *Handlers) showAuditLog(c *fiber.Ctx) error {
	before := int64(c.QueryInt("before"))
	entries, err := h.store.AuditLog(c.UserContext(), max(before, 0), views.AuditPageSize+1)
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, "Audit log", views.SectionAudit)
	return h.render(c, views.PageAdminAudit, views.NewAuditPage(frame, entries))
}
