package handlers

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// apiListRegistrations answers GET /api/v1/sessions/{id}/registrations:
// newest first, one page at a time, optionally by status or a search term,
// with the session's counts.
func (h *Handlers) apiListRegistrations(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	limit, before, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	// The counts come first: they also tell an unknown session from an empty one.
	totals, err := h.store.RegistrantCounts(ctx, 0, id)
	if err != nil {
		return models.NotFoundAs(err, "session", id)
	}
	page, next, err := h.store.Registrants(ctx, models.RegistrantQuery{
		SessionID: id, Status: models.RegistrationStatus(strings.Clone(c.Query("status"))),
		Search: strings.Clone(c.Query("search")), Before: before, Limit: limit,
	})
	if err != nil {
		return err
	}
	kinds, err := h.answerKinds(ctx, page)
	if err != nil {
		return err
	}
	data := make([]registrationJSON, len(page))
	for i := range page {
		data[i] = toRegistrationJSON(&page[i], kinds)
	}
	return c.JSON(registrationListJSON{listJSON: newList(data, next), Counts: toCountsJSON(totals)})
}

// apiCreateRegistration answers POST /api/v1/sessions/{id}/registrations:
// the same rules and emails as the public form. An address that already has
// a place gets its registration back with 200; nothing new is stored.
func (h *Handlers) apiCreateRegistration(c *fiber.Ctx) error {
	sessionID, err := apiID(c)
	if err != nil {
		return err
	}
	var in apiRegistrationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	res, err := h.store.AddRegistrationByOrganizer(c.UserContext(), sessionID, in.toModel(), models.ChannelAPI)
	if err != nil {
		return models.NotFoundAs(err, "session", sessionID)
	}
	h.registered(res)
	h.log.Info("api: registration", "session", sessionID, "registration", res.Registration.ID,
		"status", res.Registration.Status, "duplicate", res.Duplicate, "account", currentAccount(c).ID)
	out, err := h.registrationView(c.UserContext(), res.Registration.ID)
	if err != nil {
		return err
	}
	if res.Duplicate {
		return c.JSON(out)
	}
	return apiCreated(c, out)
}

// apiCancelRegistration answers POST /api/v1/registrations/{id}/cancel: the
// registrant is told, and a freed seat goes to the oldest waitlisted
// registrant. Cancelling twice is harmless; after the start it is refused.
func (h *Handlers) apiCancelRegistration(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	res, err := h.store.CancelRegistration(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "registration", id)
	}
	h.notify()
	h.log.Info("api: registration cancelled", "registration", id, "promoted", res.Promoted != nil,
		"account", currentAccount(c).ID)
	out, err := h.registrationView(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// apiApproveRegistration answers POST /api/v1/registrations/{id}/approve:
// a pending registration gets a seat (or a waitlist place) and its email.
func (h *Handlers) apiApproveRegistration(c *fiber.Ctx) error {
	return h.apiDecide(c, "approved", h.store.Approve)
}

// apiDeclineRegistration answers POST /api/v1/registrations/{id}/decline.
func (h *Handlers) apiDeclineRegistration(c *fiber.Ctx) error {
	return h.apiDecide(c, "declined", h.store.Decline)
}

func (h *Handlers) apiDecide(c *fiber.Ctx, done string, decide func(context.Context, int64) (*models.Registration, error)) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	if _, err := decide(c.UserContext(), id); err != nil {
		return models.NotFoundAs(err, "registration", id)
	}
	h.changed(true)
	h.log.Info("api: registration "+done, "registration", id, "account", currentAccount(c).ID)
	out, err := h.registrationView(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// registrationView reads a registration as the API shows it, answers included.
func (h *Handlers) registrationView(ctx context.Context, id int64) (registrationJSON, error) {
	reg, err := h.store.RegistrationByID(ctx, id)
	if err != nil {
		return registrationJSON{}, err
	}
	kinds, err := h.answerKinds(ctx, []models.Registration{*reg})
	if err != nil {
		return registrationJSON{}, err
	}
	return toRegistrationJSON(reg, kinds), nil
}

// answerKinds reads the question kinds that shape the answers of
// registrations of one session, only when one of them has answers.
func (h *Handlers) answerKinds(ctx context.Context, regs []models.Registration) (map[int64]models.QuestionKind, error) {
	for _, r := range regs {
		if len(r.Answers) > 0 && r.Session != nil {
			p, err := h.store.PanelByID(ctx, r.Session.PanelID)
			if err != nil {
				return nil, err
			}
			return questionKinds(p), nil
		}
	}
	return nil, nil
}
