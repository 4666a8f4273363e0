package handlers

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// createShareLink makes a share link to a sponsor's leads and shows it
// once.
func (h *Handlers) createShareLink(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	sponsorID, err := pathID(c, "sponsor_id")
	if err != nil {
		return err
	}
	days, err := strconv.Atoi(strings.TrimSpace(c.FormValue("days")))
	if err != nil {
		days = 0 // refused by the model, with its message
	}
	acc := currentAccount(c)
	link, token, err := h.store.CreateShareLink(c.UserContext(), p.ID, sponsorID, &acc.ID, days)
	if err != nil { // refusals go back to the panel with their message
		return h.afterAction(c, err, "", views.AdminPanelURL(p.ID))
	}
	name := sponsorName(p, sponsorID)
	h.audit(c.UserContext(), acc, models.ChannelAdmin, models.AuditShareLinkCreated,
		fmt.Sprintf("share link %d to the leads of sponsor %d (%s) of panel %d (%s), for %d days",
			link.ID, sponsorID, name, p.ID, p.Slug, days), 0)
	setPrivateHeaders(c)
	frame := h.adminFrame(c, "Share link", views.SectionPanels)
	frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title}}
	return h.render(c, views.PageAdminShareLink,
		views.NewShareLinkCreatedPage(frame, h.site, p.ID, name, token, link.ExpiresAt))
}

// revokeShareLink stops a share link at once.
func (h *Handlers) revokeShareLink(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "link_id")
	if err != nil {
		return err
	}
	if err := h.store.RevokeShareLink(c.UserContext(), p.ID, id); err != nil {
		return err
	}
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, models.AuditShareLinkRevoked,
		fmt.Sprintf("share link %d of panel %d (%s)", id, p.ID, p.Slug), 0)
	h.setFlash(c, "Revoked: the link no longer downloads anything.", false)
	return c.Redirect(views.AdminPanelURL(p.ID), fiber.StatusSeeOther)
}

// downloadSharedLeads answers a sponsor's share link with its leads as
// CSV, as they stand now, and audits the download.
func (h *Handlers) downloadSharedLeads(c *fiber.Ctx) error {
	setPrivateHeaders(c)
	if c.Method() == fiber.MethodHead {
		// A link checker's or preview's HEAD is no download: it neither
		// counts a use nor writes the audit log.
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		return nil
	}
	link, sp, err := h.store.OpenShareLink(c.UserContext(), strings.Clone(c.Params("token")))
	if err != nil {
		return err
	}
	p, err := h.store.PanelByID(c.UserContext(), sp.PanelID)
	if err != nil {
		return err
	}
	_, leads, err := h.store.SponsorLeads(c.UserContext(), p.ID, sp.ID)
	if err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), models.AuditEntry{
		Actor: fmt.Sprintf("%s, through share link %d", sp.Name, link.ID), Channel: models.ChannelShare,
		Action: models.AuditLeadsExported, RowCount: len(leads),
		Subject: fmt.Sprintf("leads of sponsor %d (%s) of panel %d (%s)", sp.ID, sp.Name, p.ID, p.Slug),
	}); err != nil {
		h.log.Error("could not write the audit log", "action", models.AuditLeadsExported, "err", err)
	}
	return sendLeadsCSV(c, p, sp, leads)
}

// sponsorName is the name of one of the panel's sponsors.
func sponsorName(p *models.Panel, id int64) string {
	for _, sp := range p.Sponsors {
		if sp.ID == id {
			return sp.Name
		}
	}
	return ""
}
