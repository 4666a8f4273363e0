package views

import (
	"slices"
	"strconv"
	"strings"

	"podium/models"
)

// The webhook pages of the admin (owners only).
const (
	PageAdminWebhooks      = "admin/webhooks"
	PageAdminWebhook       = "admin/webhook"
	PageAdminWebhookSecret = "admin/webhook_secret"
	SectionWebhooks        = "webhooks"
)

// WebhookURL is an endpoint's admin page.
func WebhookURL(id int64) string { return "/admin/webhooks/" + strconv.FormatInt(id, 10) }

// WebhookInput is the endpoint form as typed.
type WebhookInput struct {
	URL, Description string
	EventTypes       []string
}

// WebhooksPage lists the endpoints with the form that adds one.
type WebhooksPage struct {
	AdminPage
	Endpoints []WebhookRow
	Form      AccountForm
}

// WebhookRow is one endpoint in the list.
type WebhookRow struct {
	URL, Link, Events, Status, StatusClass string
}

// NewWebhooksPage builds the endpoints page.
func NewWebhooksPage(frame AdminPage, eps []models.WebhookEndpoint, in WebhookInput, errs map[string]string) WebhooksPage {
	page := WebhooksPage{AdminPage: frame}
	for i := range eps {
		status, class := webhookStatus(&eps[i])
		page.Endpoints = append(page.Endpoints, WebhookRow{URL: eps[i].URL, Link: WebhookURL(eps[i].ID),
			Events: eventsLabel(eps[i].EventTypes), Status: status, StatusClass: class})
	}
	url := newField("url", "Endpoint URL", "url", in.URL, errs)
	url.Required, url.MaxLength = true, 2000
	url.Hint = "Where Podium POSTs each event, signed by the Standard Webhooks specification."
	desc := newField("description", "Description", "text", in.Description, errs)
	desc.MaxLength, desc.Hint = 200, "For example: CRM, Slack, Zapier."
	types := newField("event_types", "Events", "checkboxes", "", errs)
	types.Hint = "Leave all unticked to receive every event, including those added later."
	for _, t := range models.WebhookEventTypes {
		types.Options = append(types.Options, Option{Value: t, Label: t, Selected: slices.Contains(in.EventTypes, t)})
	}
	page.Form = AccountForm{Action: "/admin/webhooks", CSRFToken: frame.CSRFToken,
		Fields: []Field{url, desc, types}, Errors: ErrorSummary(errs, "url", "description", "event_types")}
	page.AdminPage = page.AdminPage.WithErrors(page.Form.Errors)
	return page
}

func webhookStatus(ep *models.WebhookEndpoint) (label, class string) {
	switch {
	case !ep.Active && ep.DisabledReason != "":
		return "Disabled: " + ep.DisabledReason, "cancelled"
	case !ep.Active:
		return "Turned off", "cancelled"
	case ep.FailingSince != nil:
		return "Failing since " + formatStamp(*ep.FailingSince), "waitlisted"
	}
	return "Active", "confirmed"
}

func eventsLabel(types models.EventTypes) string {
	if len(types) == 0 {
		return "Every event"
	}
	return strings.Join(types, ", ")
}

// WebhookPage is one endpoint: its state, health, actions and attempts.
type WebhookPage struct {
	AdminPage
	URL, Description, Events, Status, StatusClass string
	Stats                                         []Stat
	Actions                                       []ActionForm
	Attempts                                      []WebhookAttemptRow
}

// WebhookAttemptRow is one attempt in the delivery log.
type WebhookAttemptRow struct {
	When, Event, Outcome, Duration string
	Failed                         bool
	Replay                         ActionForm
}

// NewWebhookPage builds an endpoint's page.
func NewWebhookPage(frame AdminPage, ep *models.WebhookEndpoint, h models.WebhookHealth, attempts []models.WebhookAttempt) WebhookPage {
	base := WebhookURL(ep.ID)
	page := WebhookPage{AdminPage: frame, URL: ep.URL, Description: ep.Description, Events: eventsLabel(ep.EventTypes)}
	page.Status, page.StatusClass = webhookStatus(ep)
	page.Stats = []Stat{
		{Value: formatCount(h.Delivered), Label: "delivered in 24 hours", Class: "confirmed"},
		{Value: formatCount(h.Failed), Label: "failed attempts in 24 hours", Class: "cancelled"},
		{Value: formatCount(h.Queued), Label: "waiting", Class: "waitlisted"},
	}
	act := func(path, label string, danger bool, confirm string) ActionForm {
		return ActionForm{Action: base + path, CSRFToken: frame.CSRFToken, Label: label, Danger: danger, Confirm: confirm}
	}
	page.Actions = append(page.Actions, act("/test", "Send a test event", false, ""),
		act("/rotate", "Rotate the secret", false, "Make a new secret? The current one keeps working for 24 hours."))
	if ep.Active {
		page.Actions = append(page.Actions, act("/disable", "Turn off", false, ""))
	} else {
		page.Actions = append(page.Actions, act("/enable", "Turn back on", false, ""))
	}
	page.Actions = append(page.Actions, act("/delete", "Delete", true, "Delete this endpoint and its delivery log?"))
	for _, a := range attempts {
		row := WebhookAttemptRow{When: formatStamp(a.AttemptedAt), Event: a.EventType,
			Duration: strconv.Itoa(a.DurationMS) + " ms", Failed: a.Error != ""}
		switch {
		case a.Error != "":
			row.Outcome = a.Error
		default:
			row.Outcome = "Delivered (" + strconv.Itoa(a.StatusCode) + ")"
		}
		row.Replay = ActionForm{Action: base + "/deliveries/" + strconv.FormatInt(a.DeliveryID, 10) + "/replay",
			CSRFToken: frame.CSRFToken, Label: "Send again", Describe: "Send the " + a.EventType + " event of " + row.When + " again"}
		page.Attempts = append(page.Attempts, row)
	}
	return page
}

// WebhookSecretPage shows a new secret once.
type WebhookSecretPage struct {
	AdminPage
	URL, Secret, BackURL string
}
