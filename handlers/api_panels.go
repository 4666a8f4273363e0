package handlers

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// apiListPanels answers GET /api/v1/panels: every panel, newest first, with
// its numbers, one page at a time.
func (h *Handlers) apiListPanels(c *fiber.Ctx) error {
	limit, before, err := pageParams(c)
	if err != nil {
		return err
	}
	panels, err := h.store.AdminPanels(c.UserContext())
	if err != nil {
		return err
	}
	page, next := pageByID(panels, func(s models.PanelSummary) int64 { return s.Panel.ID }, before, limit)
	data := make([]panelSummaryJSON, len(page))
	for i := range page {
		data[i] = toPanelSummaryJSON(&page[i])
	}
	return c.JSON(newList(data, next))
}

// pageByID cuts one page from a whole list, by id descending: the items
// below before (all when 0), at most limit, and the cursor of the next page
// (0 when this is the last).
func pageByID[T any](items []T, id func(T) int64, before int64, limit int) (page []T, next int64) {
	slices.SortFunc(items, func(a, b T) int { return cmp.Compare(id(b), id(a)) })
	start := 0
	for before > 0 && start < len(items) && id(items[start]) >= before {
		start++
	}
	end := min(start+limit, len(items))
	if end < len(items) {
		next = id(items[end-1])
	}
	return items[start:end], next
}

// apiCreatePanel answers POST /api/v1/panels: a draft, unless the body says
// "status": "published", with the sessions it lists.
func (h *Handlers) apiCreatePanel(c *fiber.Ctx) error {
	var in apiPanelInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p := in.toModel()
	if err := h.store.CreatePanel(c.UserContext(), p); err != nil {
		return err
	}
	h.log.Info("api: panel created", "panel", p.ID, "account", currentAccount(c).ID)
	c.Location("/api/v1/panels/" + strconv.FormatInt(p.ID, 10))
	return apiCreated(c, toPanelJSON(p))
}

// apiShowPanel answers GET /api/v1/panels/{id}, whatever the panel's status.
func (h *Handlers) apiShowPanel(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	p, err := h.store.PanelByID(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "panel", id)
	}
	return c.JSON(toPanelJSON(p))
}

// apiUpdatePanel answers PATCH /api/v1/panels/{id}: the fields given
// replace the stored ones (a list replaces the whole list); the status may
// change too, and publishing needs a session.
func (h *Handlers) apiUpdatePanel(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	var patch apiPanelPatch
	if err := decodeJSON(c, &patch); err != nil {
		return err
	}
	p, err := h.store.EditPanel(c.UserContext(), id, patch.applyTo)
	if err != nil {
		return models.NotFoundAs(err, "panel", id)
	}
	h.log.Info("api: panel updated", "panel", p.ID, "account", currentAccount(c).ID)
	return c.JSON(toPanelJSON(p))
}

// apiAddSession answers POST /api/v1/panels/{id}/sessions.
func (h *Handlers) apiAddSession(c *fiber.Ctx) error {
	panelID, err := apiID(c)
	if err != nil {
		return err
	}
	var in apiSessionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sess := in.toModel()
	if err := h.store.AddSession(c.UserContext(), panelID, &sess); err != nil {
		return models.NotFoundAs(err, "panel", panelID)
	}
	h.log.Info("api: session added", "panel", panelID, "session", sess.ID, "account", currentAccount(c).ID)
	c.Location("/api/v1/sessions/" + strconv.FormatInt(sess.ID, 10))
	return apiCreated(c, toSessionJSON(&sess))
}
