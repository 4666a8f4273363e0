package views

import (
	"strconv"

	"podium/models"
)

// OutboxHealth is the dashboard's and the outbox page's count of emails by
// delivery status.
type OutboxHealth struct {
	Queued, Sending, Sent, Failed, Skipped int
	// Stuck is true when messages have failed and need an organizer.
	Stuck bool
}

// NewOutboxHealth reads the counts by status.
func NewOutboxHealth(counts map[models.OutboxStatus]int) OutboxHealth {
	return OutboxHealth{
		Queued: counts[models.OutboxQueued], Sending: counts[models.OutboxSending], Sent: counts[models.OutboxSent],
		Failed: counts[models.OutboxFailed], Skipped: counts[models.OutboxSkipped], Stuck: counts[models.OutboxFailed] > 0,
	}
}

// OutboxRow is one email in the outbox list.
type OutboxRow struct {
	ID          int64
	URL         string
	To          string
	Subject     string
	Kind        string
	Status      string // queued, sending, sent, failed, skipped: the CSS class
	StatusLabel string
	Attempts    int
	LastError   string
	Created     string
	Invite      string // "Invite", "Cancellation" or empty
	// Resend is set for failed messages.
	Resend *ActionForm
}

// NewOutboxRow describes a rendered outbox message for the admin.
func NewOutboxRow(msg *models.OutboxMessage, email Email, csrfToken string) OutboxRow {
	row := OutboxRow{
		ID: msg.ID, URL: AdminMailURL(msg.ID), Subject: email.Subject, Kind: kindLabel(msg.Kind),
		Status: string(msg.Status), StatusLabel: outboxStatusLabel(msg.Status), Attempts: msg.Attempts,
		LastError: msg.LastError, Created: formatStamp(msg.CreatedAt),
	}
	if msg.Registration != nil {
		row.To = msg.Registration.Name + " <" + msg.Registration.Email + ">"
	}
	switch email.CalendarMethod {
	case CalendarMethod(models.CalendarRequest):
		row.Invite = "Invite"
	case CalendarMethod(models.CalendarCancel):
		row.Invite = "Cancellation"
	}
	if msg.Status == models.OutboxFailed {
		row.Resend = &ActionForm{
			Action: AdminMailURL(msg.ID) + "/resend", CSRFToken: csrfToken, Label: "Resend",
			Describe: "Resend “" + email.Subject + "” to " + row.To,
		}
	}
	return row
}

func outboxStatusLabel(s models.OutboxStatus) string {
	switch s {
	case models.OutboxQueued:
		return "Waiting to send"
	case models.OutboxSending:
		return "Sending"
	case models.OutboxSent:
		return "Sent"
	case models.OutboxFailed:
		return "Failed"
	default:
		return "Not sent: no longer needed"
	}
}

func kindLabel(k models.OutboxKind) string {
	switch k {
	case models.KindConfirmation:
		return "Confirmation"
	case models.KindWaitlisted:
		return "Waitlist notice"
	case models.KindPromoted:
		return "Place from the waitlist"
	case models.KindCancellation:
		return "Cancellation"
	case models.KindSessionUpdated:
		return "Session changed"
	case models.KindSessionCancelled:
		return "Session cancelled"
	case models.KindReminder:
		return "Reminder"
	default:
		return string(k)
	}
}

// OutboxPage lists emails, newest first.
type OutboxPage struct {
	AdminPage
	Health   OutboxHealth
	Messages []OutboxRow
	OlderURL string
}

// OutboxPageSize is how many emails one outbox page lists.
const OutboxPageSize = 50

// NewOutboxPage builds the outbox list from its rows; a full page links to older ones.
func NewOutboxPage(frame AdminPage, health OutboxHealth, rows []OutboxRow) OutboxPage {
	page := OutboxPage{AdminPage: frame, Health: health, Messages: rows}
	if len(rows) == OutboxPageSize {
		page.OlderURL = "/admin/outbox?before=" + strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	return page
}

// MailPage shows one email as its recipient gets it.
type MailPage struct {
	AdminPage
	Message OutboxRow
	Text    string
	// Links to the sandboxed HTML body, the invite and the MIME source.
	HTMLURL, InviteURL, SourceURL string
}

// NewMailPage builds the page of one email.
func NewMailPage(frame AdminPage, row OutboxRow, email Email) MailPage {
	page := MailPage{AdminPage: frame, Message: row, Text: email.Text,
		HTMLURL: row.URL + "/html", SourceURL: row.URL + "/source"}
	if len(email.Calendar) > 0 {
		page.InviteURL = row.URL + "/invite.ics"
	}
	page.Crumbs = []Link{{URL: "/admin/outbox", Text: "Emails"}}
	return page
}
