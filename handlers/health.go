package handlers

import "github.com/gofiber/fiber/v2"

// healthz answers 200 when the database answers.
func (h *Handlers) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := h.store.Ping(c.UserContext()); err != nil {
		h.log.Warn("health check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
	}
	return c.SendString("ok")
}
