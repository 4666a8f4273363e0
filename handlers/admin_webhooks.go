package handlers

import (
	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// listWebhooks shows the endpoints and the form that adds one.
func (h *Handlers) listWebhooks(c *fiber.Ctx) error {
	return h.renderWebhooks(c, views.WebhookInput{}, nil)
}

func (h *Handlers) renderWebhooks(c *fiber.Ctx, in views.WebhookInput, errs map[string]string) error {
	eps, err := h.store.WebhookEndpoints(c.UserContext())
	if err != nil {
		return err
	}
	page := views.NewWebhooksPage(h.adminFrame(c, "Webhooks", views.SectionWebhooks), eps, in, errs)
	return h.renderForm(c, views.PageAdminWebhooks, page, errs)
}

// createWebhook adds an endpoint and shows its secret once, on the answer
// to this POST.
func (h *Handlers) createWebhook(c *fiber.Ctx) error {
	in := views.WebhookInput{URL: formText(c, "url"), Description: formText(c, "description"),
		EventTypes: formList(c, "event_types")}
	ep, secret, err := h.store.CreateWebhookEndpoint(c.UserContext(),
		models.WebhookInput{URL: in.URL, Description: in.Description, EventTypes: in.EventTypes, Active: true},
		currentAccount(c).ID)
	if errs := validationFields(err); errs != nil {
		return h.renderWebhooks(c, in, errs)
	}
	if err != nil {
		return err
	}
	h.log.Info("webhook endpoint created", "endpoint", ep.ID, "by", currentAccount(c).ID)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, models.AuditWebhookCreated, ep.URL, 0)
	return h.showWebhookSecret(c, ep, secret)
}

func (h *Handlers) showWebhookSecret(c *fiber.Ctx, ep *models.WebhookEndpoint, secret string) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	frame := h.adminFrame(c, "Your endpoint's secret", views.SectionWebhooks)
	return h.render(c, views.PageAdminWebhookSecret, views.WebhookSecretPage{AdminPage: frame, URL: ep.URL,
		Secret: secret, BackURL: views.WebhookURL(ep.ID)})
}

// showWebhook shows an endpoint with its health and latest attempts.
func (h *Handlers) showWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	ep, err := h.store.WebhookEndpointByID(ctx, id)
	if err != nil {
		return err
	}
	health, err := h.store.WebhookEndpointHealth(ctx, id)
	if err != nil {
		return err
	}
	attempts, err := h.store.WebhookAttempts(ctx, id, 0, 50)
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, "Webhook endpoint", views.SectionWebhooks)
	frame.Crumbs = []views.Link{{URL: "/admin/webhooks", Text: "Webhooks"}}
	return h.render(c, views.PageAdminWebhook, views.NewWebhookPage(frame, ep, health, attempts))
}

// webhookAction runs an action on the endpoint in the path and returns to
// its page with done, or the refusal; audited names a change for the
// audit log ("" for none).
func (h *Handlers) webhookAction(c *fiber.Ctx, done, audited string, act func(id int64) error) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = act(id)
	if err == nil {
		h.log.Info("webhook endpoint changed", "endpoint", id, "by", currentAccount(c).ID, "action", c.Path())
		if audited != "" {
			h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, audited, webhookSubject(id), 0)
		}
	}
	return h.afterAction(c, err, done, views.WebhookURL(id))
}

// testWebhook sends the endpoint a webhook.test event.
func (h *Handlers) testWebhook(c *fiber.Ctx) error {
	return h.webhookAction(c, "Test event queued: it appears below once sent.", "", func(id int64) error {
		_, err := h.store.SendTestWebhook(c.UserContext(), id)
		h.notify()
		return err
	})
}

// setWebhookActive turns an endpoint on (clearing its failures) or off.
func (h *Handlers) setWebhookActive(active bool) fiber.Handler {
	done := "Endpoint turned off: it receives no events."
	if active {
		done = "Endpoint turned back on."
	}
	return func(c *fiber.Ctx) error {
		return h.webhookAction(c, done, models.AuditWebhookChanged, func(id int64) error {
			_, err := h.store.UpdateWebhookEndpoint(c.UserContext(), id, func(ep *models.WebhookEndpoint) models.WebhookInput {
				return models.WebhookInput{URL: ep.URL, Description: ep.Description, EventTypes: ep.EventTypes, Active: active}
			})
			return err
		})
	}
}

// deleteWebhook removes an endpoint.
func (h *Handlers) deleteWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = h.store.DeleteWebhookEndpoint(c.UserContext(), id)
	if err == nil {
		h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, models.AuditWebhookDeleted, webhookSubject(id), 0)
	}
	return h.afterAction(c, err, "Endpoint deleted.", "/admin/webhooks")
}

// replayWebhook sends a delivery again.
func (h *Handlers) replayWebhook(c *fiber.Ctx) error {
	did, err := pathID(c, "did")
	if err != nil {
		return err
	}
	return h.webhookAction(c, "Queued to be sent again.", "", func(id int64) error {
		err := h.store.ReplayWebhookDelivery(c.UserContext(), id, did)
		h.notify()
		return err
	})
}

// rotateWebhook makes a new secret and shows it once.
func (h *Handlers) rotateWebhook(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ep, secret, err := h.store.RotateWebhookSecret(c.UserContext(), id)
	if err != nil {
		return err
	}
	h.log.Info("webhook secret rotated", "endpoint", id, "by", currentAccount(c).ID)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, models.AuditWebhookSecretRotate, webhookSubject(id), 0)
	return h.showWebhookSecret(c, ep, secret)
}
