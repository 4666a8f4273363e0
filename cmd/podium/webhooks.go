package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"podium/mailer"
	"podium/models"
	"podium/webhooks"
)

// newWebhookWorker builds the webhook delivery worker. An endpoint it
// disables is reported to its owner by email when Podium sends email
// (sender is not nil).
func newWebhookWorker(cfg config, store *models.Store, sender *mailer.Sender, log *slog.Logger) *webhooks.Worker {
	w := webhooks.NewWorker(store, webhooks.NewClient(cfg.WebhookAllowPrivate), log)
	if cfg.WebhookAllowPrivate {
		log.Info("PODIUM_WEBHOOK_ALLOW_PRIVATE: webhooks may reach loopback and private addresses")
	}
	if sender == nil {
		return w
	}
	w.Disabled = func(d models.DisabledEndpoint) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := tellWebhookOwners(ctx, cfg, store, sender, d); err != nil {
			log.Error("could not email the owners of a disabled webhook endpoint", "endpoint", d.ID, "err", err)
		}
	}
	return w
}

// tellWebhookOwners emails the account that created a disabled endpoint,
// or every owner when that account is gone.
func tellWebhookOwners(ctx context.Context, cfg config, store *models.Store, sender *mailer.Sender, d models.DisabledEndpoint) error {
	accounts, err := store.Accounts(ctx)
	if err != nil {
		return err
	}
	var to []models.Account
	for _, a := range accounts {
		if d.AccountID != nil && a.ID == *d.AccountID {
			to = []models.Account{a}
			break
		}
		if a.Role == models.RoleOwner {
			to = append(to, a)
		}
	}
	page := cfg.BaseURL + "/admin/webhooks/" + strconv.FormatInt(d.ID, 10)
	var msgs []mailer.Message
	for _, a := range to {
		msgs = append(msgs, mailer.Message{
			MessageID: fmt.Sprintf("<webhook-%d-disabled-%d@podium>", d.ID, time.Now().Unix()),
			FromName:  cfg.MailName, FromAddress: cfg.MailFrom, ToName: a.Name, ToAddress: a.Email,
			Subject: "Podium turned off a webhook endpoint",
			Text: "Podium has stopped sending events to this webhook endpoint:\n\n  " + d.URL + "\n\n" + d.Reason +
				"\n\nEvents from now on are not sent to it. Once the receiver works again, turn the endpoint back on and send " +
				"the failed deliveries again from its page:\n\n  " + page + "\n",
		})
	}
	for i, err := range sender.Send(ctx, msgs) {
		if err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}
