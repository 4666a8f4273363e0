package handlers

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// showTrackedLinks is a panel's tracked-link builder: once its form is sent
// (a GET, as building a link changes nothing) it shows the tagged link and
// embed snippet, and it counts the panel's registrations by source.
func (h *Handlers) showTrackedLinks(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	sources, err := h.store.RegistrationsBySource(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	typed := views.NewTrackedLink(p)
	var built *models.TrackedLink
	var errs map[string]string
	if c.Request().URI().QueryArgs().Has("channel") {
		typed = trackedLinkInput(c)
		link := typed // Validate resolves the tags; the form shows them as typed
		err := link.Validate()
		if errs = validationFields(err); errs == nil && err != nil {
			return err
		}
		if err == nil {
			built = &link
		}
	}
	frame := h.adminFrame(c, "Tracked links for "+p.Title, views.SectionPanels)
	frame.Crumbs = []views.Link{{URL: "/admin/panels", Text: "Panels"}, {URL: views.AdminPanelURL(p.ID), Text: p.Title}}
	page, err := views.NewTrackedLinksPage(frame, h.site, p, typed, built, errs, sources)
	if err != nil {
		return err
	}
	return h.renderForm(c, views.PageAdminLinks, page, errs)
}

// trackedLinkInput copies the builder's form out of the query string.
func trackedLinkInput(c *fiber.Ctx) models.TrackedLink {
	query := func(name string) string { return strings.Clone(c.Query(name)) }
	return models.TrackedLink{Channel: query("channel"), Source: query("source"), Medium: query("medium"),
		Campaign: query("campaign"), Content: query("content")}
}
