package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
)

// webhookJSON is an endpoint. Its secret appears only when created or
// rotated (webhookSecretJSON).
type webhookJSON struct {
	ID             int64              `json:"id"`
	URL            string             `json:"url"`
	Description    string             `json:"description"`
	EventTypes     []string           `json:"event_types"`
	Active         bool               `json:"active"`
	DisabledReason string             `json:"disabled_reason"`
	FailingSince   *string            `json:"failing_since"`
	CreatedAt      string             `json:"created_at"`
	UpdatedAt      string             `json:"updated_at"`
	Health         *webhookHealthJSON `json:"health,omitempty"`
}

// webhookHealthJSON is an endpoint's recent attempts.
type webhookHealthJSON struct {
	Delivered24h  int     `json:"delivered_24h"`
	Failed24h     int     `json:"failed_24h"`
	Queued        int     `json:"queued"`
	LastAttemptAt *string `json:"last_attempt_at"`
}

// webhookSecretJSON is an endpoint with its secret, shown once.
type webhookSecretJSON struct {
	webhookJSON
	Secret string `json:"secret"`
}

// webhookAttemptJSON is one delivery attempt.
type webhookAttemptJSON struct {
	ID             int64  `json:"id"`
	DeliveryID     int64  `json:"delivery_id"`
	AttemptedAt    string `json:"attempted_at"`
	EventType      string `json:"event_type"`
	StatusCode     *int   `json:"status_code"`
	Error          string `json:"error"`
	DurationMS     int    `json:"duration_ms"`
	DeliveryStatus string `json:"delivery_status"`
}

// apiWebhookInput is the body of POST /webhooks and PATCH /webhooks/{id}.
type apiWebhookInput struct {
	URL         patchField[string]   `json:"url"`
	Description patchField[string]   `json:"description"`
	EventTypes  patchField[[]string] `json:"event_types"`
	Active      patchField[bool]     `json:"active"`
}

func (in *apiWebhookInput) applyTo(ep *models.WebhookEndpoint) models.WebhookInput {
	out := models.WebhookInput{URL: ep.URL, Description: ep.Description, EventTypes: ep.EventTypes, Active: ep.Active}
	in.URL.apply(&out.URL)
	in.Description.apply(&out.Description)
	in.EventTypes.apply(&out.EventTypes)
	in.Active.apply(&out.Active)
	return out
}

func toWebhookJSON(ep *models.WebhookEndpoint) webhookJSON {
	types := append([]string{}, ep.EventTypes...)
	if len(types) == 0 {
		types = []string{"*"}
	}
	return webhookJSON{ID: ep.ID, URL: ep.URL, Description: ep.Description, EventTypes: types, Active: ep.Active,
		DisabledReason: ep.DisabledReason, FailingSince: rfc3339Ptr(ep.FailingSince),
		CreatedAt: rfc3339(ep.CreatedAt), UpdatedAt: rfc3339(ep.UpdatedAt)}
}

// subscription reads event_types: ["*"] means every type, as does leaving
// it out of a new endpoint; an empty list, which would mean every type to
// the store, is refused rather than read as "nothing".
func subscription(types []string) ([]string, error) {
	switch {
	case len(types) == 1 && types[0] == "*":
		return nil, nil
	case types != nil && len(types) == 0:
		return nil, &models.ValidationError{Fields: map[string]string{
			"event_types": `Choose at least one event type, or ["*"] for every type.`}}
	}
	return types, nil
}

// ownerTokenOnly keeps routes to owners' tokens: webhooks send people's
// details to other systems, the audit log says who took them out, and a
// person's data is everything held about them. does says what the route
// does, for the refusal ("manages webhooks").
func ownerTokenOnly(does string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if acc := currentAccount(c); acc == nil || acc.Role != models.RoleOwner {
			return fiber.NewError(fiber.StatusForbidden, "Only an owner's token "+does+".")
		}
		return c.Next()
	}
}

// apiListWebhooks answers GET /api/v1/webhooks.
func (h *Handlers) apiListWebhooks(c *fiber.Ctx) error {
	eps, err := h.store.WebhookEndpoints(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(eps))
	for i := range eps {
		out[i] = toWebhookJSON(&eps[i])
	}
	return c.JSON(listJSON[webhookJSON]{Data: out})
}

// apiCreateWebhook answers POST /api/v1/webhooks with 201, the endpoint and
// its secret, shown this once.
func (h *Handlers) apiCreateWebhook(c *fiber.Ctx) error {
	var in apiWebhookInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if !in.Active.Set {
		in.Active = patchField[bool]{Set: true, Value: true}
	}
	input := in.applyTo(&models.WebhookEndpoint{})
	types, err := subscription(input.EventTypes)
	if err != nil {
		return err
	}
	input.EventTypes = types
	ep, secret, err := h.store.CreateWebhookEndpoint(c.UserContext(), input, currentAccount(c).ID)
	if err != nil {
		return err
	}
	h.log.Info("api: webhook endpoint created", "endpoint", ep.ID, "account", currentAccount(c).ID)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAPI, models.AuditWebhookCreated, ep.URL, 0)
	return apiCreated(c, webhookSecretJSON{webhookJSON: toWebhookJSON(ep), Secret: secret})
}

// apiShowWebhook answers GET /api/v1/webhooks/{id}, with its health.
func (h *Handlers) apiShowWebhook(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	ep, err := h.store.WebhookEndpointByID(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "webhook", id)
	}
	health, err := h.store.WebhookEndpointHealth(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := toWebhookJSON(ep)
	out.Health = &webhookHealthJSON{Delivered24h: health.Delivered, Failed24h: health.Failed, Queued: health.Queued,
		LastAttemptAt: rfc3339Ptr(health.LastAttemptAt)}
	return c.JSON(out)
}

// apiUpdateWebhook answers PATCH /api/v1/webhooks/{id}.
func (h *Handlers) apiUpdateWebhook(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	var in apiWebhookInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.EventTypes.Set {
		if in.EventTypes.Value, err = subscription(in.EventTypes.Value); err != nil {
			return err
		}
	}
	ep, err := h.store.UpdateWebhookEndpoint(c.UserContext(), id, func(ep *models.WebhookEndpoint) models.WebhookInput {
		return in.applyTo(ep)
	})
	if err != nil {
		return models.NotFoundAs(err, "webhook", id)
	}
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAPI, models.AuditWebhookChanged, webhookSubject(id)+": "+ep.URL, 0)
	return c.JSON(toWebhookJSON(ep))
}

// apiDeleteWebhook answers DELETE /api/v1/webhooks/{id} with 204.
func (h *Handlers) apiDeleteWebhook(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteWebhookEndpoint(c.UserContext(), id); err != nil {
		return models.NotFoundAs(err, "webhook", id)
	}
	h.log.Info("api: webhook endpoint deleted", "endpoint", id, "account", currentAccount(c).ID)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAPI, models.AuditWebhookDeleted, webhookSubject(id), 0)
	return c.SendStatus(fiber.StatusNoContent)
}

// apiRotateWebhookSecret answers POST /api/v1/webhooks/{id}/rotate-secret:
// the new secret, shown once; the old one signs too for 24 hours.
func (h *Handlers) apiRotateWebhookSecret(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	ep, secret, err := h.store.RotateWebhookSecret(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "webhook", id)
	}
	h.log.Info("api: webhook secret rotated", "endpoint", id, "account", currentAccount(c).ID)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAPI, models.AuditWebhookSecretRotate, webhookSubject(id), 0)
	return c.JSON(webhookSecretJSON{webhookJSON: toWebhookJSON(ep), Secret: secret})
}

// apiTestWebhook answers POST /api/v1/webhooks/{id}/test with 202.
func (h *Handlers) apiTestWebhook(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	eventID, err := h.store.SendTestWebhook(c.UserContext(), id)
	if err != nil {
		return models.NotFoundAs(err, "webhook", id)
	}
	h.notify()
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"webhook_id": "msg_" + strconv.FormatInt(eventID, 10)})
}

// apiWebhookDeliveries answers GET /api/v1/webhooks/{id}/deliveries: its
// attempts, newest first, a page at a time.
func (h *Handlers) apiWebhookDeliveries(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	if _, err := h.store.WebhookEndpointByID(c.UserContext(), id); err != nil {
		return models.NotFoundAs(err, "webhook", id)
	}
	limit, before, err := pageParams(c)
	if err != nil {
		return err
	}
	attempts, err := h.store.WebhookAttempts(c.UserContext(), id, before, limit)
	if err != nil {
		return err
	}
	out := make([]webhookAttemptJSON, len(attempts))
	for i, a := range attempts {
		out[i] = webhookAttemptJSON{ID: a.ID, DeliveryID: a.DeliveryID, AttemptedAt: rfc3339(a.AttemptedAt),
			EventType: a.EventType, Error: a.Error, DurationMS: a.DurationMS, DeliveryStatus: a.DeliveryStatus}
		if a.StatusCode != 0 {
			out[i].StatusCode = &attempts[i].StatusCode
		}
	}
	var last int64
	if len(attempts) == limit {
		last = attempts[len(attempts)-1].ID
	}
	return c.JSON(newList(out, last))
}

// apiReplayWebhookDelivery answers POST
// /api/v1/webhooks/{id}/deliveries/{delivery_id}/replay with 202.
func (h *Handlers) apiReplayWebhookDelivery(c *fiber.Ctx) error {
	id, err := apiID(c)
	if err != nil {
		return err
	}
	deliveryID, err := strconv.ParseInt(c.Params("delivery_id"), 10, 64)
	if err != nil || deliveryID <= 0 {
		return models.ErrNotFound
	}
	if err := h.store.ReplayWebhookDelivery(c.UserContext(), id, deliveryID); err != nil {
		return models.NotFoundAs(err, "delivery", deliveryID)
	}
	h.notify()
	return c.SendStatus(fiber.StatusAccepted)
}
