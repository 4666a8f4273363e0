package handlers

import (
	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// apiShowSession answers GET /api/v1/sessions/{id}.
func (h *Handlers) apiShowSession(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	sess, err := h.store.SessionByID(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "session", id)
	}
	return c.JSON(toSessionJSON(sess))
}

// apiUpdateSession answers PATCH /api/v1/sessions/{id}. A new time, duration,
// time zone, join link or venue sends every confirmed registrant an updated
// invite, as the admin does: the answer carries the fan-out, which the
// background jobs work through.
func (h *Handlers) apiUpdateSession(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	var patch apiSessionPatch
	if err := decodeJSON(c, &patch); err != nil {
		return err
	}
	res, err := h.store.EditSession(c.UserContext(), id, patch.update)
	if err != nil {
		return models.NotFoundAs(err, "session", id)
	}
	if res.Fanout != nil || len(res.Promoted) > 0 {
		h.sessionChanged()
	}
	h.log.Info("api: session updated", "session", id, "account", currentAccount(c).ID,
		"fanout", res.Fanout != nil, "promoted", len(res.Promoted))
	return c.JSON(toSessionChangeJSON(res))
}
