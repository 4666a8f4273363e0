package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// errStarting answers requests that arrive before start-up has finished.
var errStarting = &models.Error{Code: models.CodeUnavailable, Title: "Starting up",
	Message: "Podium is starting. Please try again in a few seconds."}

// readyTimeout bounds how long /readyz waits for the database.
const readyTimeout = 2 * time.Second

// healthz answers 200 when the process and its database answer: liveness.
func (h *Handlers) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := h.store.Ping(c.UserContext()); err != nil {
		h.log.Warn("health check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
	}
	return c.SendString("ok")
}

// readyz answers 200 when Podium can serve traffic: start-up (migrations,
// seeding) has finished and the database answers within readyTimeout.
func (h *Handlers) readyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if !h.ready() {
		return c.Status(fiber.StatusServiceUnavailable).SendString("starting: migrating the database")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.Warn("readiness check failed", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable")
	}
	return c.SendString("ready")
}

// whileStarting answers 503 with Retry-After until start-up has finished, so
// no request reaches a database that is still being migrated.
func (h *Handlers) whileStarting(c *fiber.Ctx) error {
	if h.ready() {
		return c.Next()
	}
	c.Set(fiber.HeaderRetryAfter, "5")
	return errStarting
}
