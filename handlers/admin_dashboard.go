package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"podium/views"
)

// showDashboard shows upcoming sessions with their fill rate, registrations
// per day and by source, and the outbox's health.
func (h *Handlers) showDashboard(c *fiber.Ctx) error {
	ctx := c.UserContext()
	now := h.store.Now()
	upcoming, err := h.store.UpcomingSessionsOverview(ctx)
	if err != nil {
		return err
	}
	days, err := h.store.RegistrationsPerDay(ctx, now.Add(-(views.ChartDays-1)*24*time.Hour))
	if err != nil {
		return err
	}
	counts, err := h.store.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	sources, err := h.store.RegistrationsBySource(ctx, 0)
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, "Dashboard", views.SectionDashboard)
	page := views.NewDashboardPage(frame, upcoming, days, views.NewOutboxHealth(counts), now).WithSources(sources)
	return h.render(c, views.PageAdminDashboard, page)
}
