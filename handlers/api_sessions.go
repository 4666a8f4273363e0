package handlers

import (
	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// apiCancelSession answers POST /api/v1/sessions/{id}/cancel: every
// registrant is told, confirmed ones with a calendar cancellation.
// Cancelling twice is harmless and starts nothing new.
func (h *Handlers) apiCancelSession(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	res, err := h.store.CancelSession(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "session", id)
	}
	if res.Fanout != nil {
		h.sessionChanged()
	}
	h.log.Info("api: session cancelled", "session", id, "account", currentAccount(c).ID, "fanout", res.Fanout != nil)
	return c.JSON(toSessionChangeJSON(res))
}
