package views

import (
	"strconv"

	"podium/models"
)

// Page names of the development mail viewer.
const (
	PageMailList    = "pages/mail_list"
	PageMailMessage = "pages/mail_message"
)

// MailSummary is one outbox message in the mail viewer.
type MailSummary struct {
	ID        int64
	URL       string
	To        string
	Subject   string
	Kind      string
	Status    string
	Attempts  int
	LastError string
	Created   string
	Method    string
}

// NewMailSummary describes a rendered outbox message.
func NewMailSummary(msg *models.OutboxMessage, email Email) MailSummary {
	to := ""
	if msg.Registration != nil {
		to = msg.Registration.Name + " <" + msg.Registration.Email + ">"
	}
	return MailSummary{
		ID: msg.ID, URL: "/dev/mail/" + strconv.FormatInt(msg.ID, 10), To: to, Subject: email.Subject,
		Kind: string(msg.Kind), Status: string(msg.Status), Attempts: msg.Attempts, LastError: msg.LastError,
		Created: msg.CreatedAt.UTC().Format("2 Jan 2006 15:04:05 UTC"), Method: string(email.CalendarMethod),
	}
}

// MailListPage lists the newest outbox messages.
type MailListPage struct {
	Page
	Counts   map[string]int // by outbox status
	Messages []MailSummary
	OlderURL string
}

// MailMessagePage shows one message.
type MailMessagePage struct {
	Page
	Summary     MailSummary
	Text        string
	HasCalendar bool
}
