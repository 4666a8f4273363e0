package views

import (
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"slices"
	"strings"
	texttemplate "text/template"
	"time"

	"podium/models"
)

// Email is a rendered message, ready for the mailer.
type Email struct {
	Subject        string
	Text           string
	HTML           string
	Calendar       []byte // empty when the message carries no invite
	CalendarMethod CalendarMethod
	// UnsubscribeURL stops the panel's reminders in one click (RFC 8058);
	// set on reminders only.
	UnsubscribeURL string
}

// EmailData is what the email templates show.
type EmailData struct {
	Heading    string
	Name       string
	Intro      []string
	PanelTitle string
	PanelURL   string
	Session    SessionView
	JoinURL    string // the personal join link, for confirmed registrants of an online session
	// WatchURL is the personal replay link, when the session has a recording.
	WatchURL  string
	ManageURL string // empty once the message has been delivered
	// ManageLabel is the manage link's text.
	ManageLabel string
	Links       *CalendarLinks
	Organizer   string
	// UnsubscribeURL stops this panel's reminders (reminders only).
	UnsubscribeURL string
}

// EmailRenderer renders outbox messages; its templates are parsed once.
type EmailRenderer struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewEmailRenderer parses the embedded email templates.
func NewEmailRenderer() (*EmailRenderer, error) {
	sub, err := fs.Sub(templateFiles, "templates/emails")
	if err != nil {
		return nil, err
	}
	text, err := texttemplate.ParseFS(sub, "*.txt")
	if err != nil {
		return nil, fmt.Errorf("parse email templates: %w", err)
	}
	html, err := htmltemplate.ParseFS(sub, "*.html")
	if err != nil {
		return nil, fmt.Errorf("parse email templates: %w", err)
	}
	return &EmailRenderer{text: text, html: html}, nil
}

// Render turns an outbox message (with its registration, session and panel)
// into an email, with its invite when it carries one.
func (r *EmailRenderer) Render(site Site, msg *models.OutboxMessage, now time.Time) (Email, error) {
	reg := msg.Registration
	if reg == nil || reg.Session == nil || reg.Session.Panel == nil {
		return Email{}, fmt.Errorf("views: outbox message %d has no registration", msg.ID)
	}
	sess, panel := reg.Session, reg.Session.Panel
	when := NewSessionView(*sess, now)
	wording := emailWording(msg, panel, when, sess.RecordingURL != "")
	data := EmailData{
		Heading: wording.heading, Name: reg.Name, Intro: wording.intro,
		PanelTitle: panel.Title, PanelURL: site.URL(PanelURL(panel.Slug)),
		Session: when, Organizer: panel.OrganizerName,
	}
	if msg.ManageToken != "" && wording.manage {
		data.ManageURL, data.ManageLabel = site.URL(RegistrationURL(msg.ManageToken)), "View or cancel your place"
		if msg.Kind == models.KindConfirmEmail {
			data.ManageLabel = "Confirm your email address"
		}
	}
	if wording.join && msg.JoinToken != "" && reg.Status == models.RegistrationConfirmed && !reg.OnDemand && sess.Online() {
		data.JoinURL = site.URL(JoinURL(msg.JoinToken))
	}
	if msg.WatchToken != "" && sess.RecordingURL != "" {
		data.WatchURL = site.URL(WatchURL(msg.WatchToken))
	}
	if msg.UnsubscribeToken != "" { // reminders only (models.ClaimOutbox)
		data.UnsubscribeURL = site.URL(UnsubscribeURL(msg.UnsubscribeToken))
	}
	email := Email{Subject: wording.subject, UnsubscribeURL: data.UnsubscribeURL}
	if msg.CalendarMethod != "" {
		ev := RegistrationEvent(site, reg, data.ManageURL, data.JoinURL, msg.Sequence, now)
		email.CalendarMethod = CalendarMethod(msg.CalendarMethod)
		ev.Cancelled = email.CalendarMethod == MethodCancel
		cal, err := encodeCalendar(email.CalendarMethod, "", []CalendarEvent{ev})
		if err != nil {
			return Email{}, err
		}
		email.Calendar = cal
		if email.CalendarMethod == MethodRequest && msg.ManageToken != "" {
			links := NewCalendarLinks(ev, site.URL(RegistrationURL(msg.ManageToken)+"/invite.ics"))
			data.Links = &links
		}
	}
	// A confirmation's text and HTML are about 2 and 4 kB: builders with
	// room for that rarely grow, and String does not copy.
	var text, html strings.Builder
	text.Grow(3 << 10)
	html.Grow(6 << 10)
	if err := r.text.ExecuteTemplate(&text, "email_text", data); err != nil {
		return Email{}, err
	}
	if err := r.html.ExecuteTemplate(&html, "email_html", data); err != nil {
		return Email{}, err
	}
	email.Text, email.HTML = text.String(), html.String()
	return email, nil
}

// wording is the part of an email that depends on why it is sent.
type wording struct {
	subject, heading string
	intro            []string
	join, manage     bool
}

func emailWording(msg *models.OutboxMessage, panel *models.Panel, when SessionView, recording bool) wording {
	title := panel.Title
	date := when.Date + " at " + when.Time + " " + when.Zone
	switch msg.Kind {
	case models.KindOnDemand:
		return wording{"Watch on demand: " + title, "Your replay is ready", []string{
			"Thank you for registering for " + title + ". The session took place on " + date + ", and you can watch the recording whenever suits you.",
		}, false, true}
	case models.KindFollowUpAttended:
		f := panel.FollowUps
		return wording{orText(f.ThanksSubject, "Thank you for attending: "+title), "Thank you for attending",
			paragraphsOr(f.ThanksText, "Thank you for joining "+title+". We hope you found it worthwhile.",
				ifText(recording, "To watch it again, or to share it with a colleague, use the recording's link below.")),
			false, false}
	case models.KindFollowUpAbsent:
		f := panel.FollowUps
		return wording{orText(f.MissedSubject, "Sorry we missed you: "+title), "Sorry we missed you",
			paragraphsOr(f.MissedText, "We're sorry you couldn't join "+title+" on "+date+".",
				ifText(recording, "The good news: you can still catch up with the recording, with the link below.")),
			false, false}
	case models.KindConfirmation:
		return wording{"You're registered: " + title, "Your place is confirmed", []string{
			"Thank you for registering. Your place at " + title + " is confirmed.",
			"The invitation in this email adds the session to your calendar.",
		}, true, true}
	case models.KindWaitlisted:
		return wording{"You're on the waitlist: " + title, "You're on the waitlist", []string{
			title + " is fully booked, so we have put you on the waitlist.",
			"If a place frees up, it goes to the next person on the list and we will email you straight away.",
		}, false, true}
	case models.KindPromoted:
		return wording{"A place is yours: " + title, "Good news: a place is yours", []string{
			"A place has become free at " + title + ", and it is now yours.",
			"The invitation in this email adds the session to your calendar.",
		}, true, true}
	case models.KindConfirmEmail:
		return wording{"Confirm your email address: " + title, "Please confirm your email address", []string{
			"Thank you for registering for " + title + " on " + date + ".",
			"Confirm your email address with the link below within 48 hours, and before the session starts, to keep your place. If you did not register, ignore this email: your place will be freed.",
		}, false, true}
	case models.KindPending:
		return wording{"Registration received: " + title, "Your registration is awaiting approval", []string{
			"Thank you for registering for " + title + " on " + date + ".",
			"The organiser reviews registrations for this event. We will email you as soon as they have decided.",
		}, false, true}
	case models.KindDeclined:
		return wording{"Registration not accepted: " + title, "Your registration was not accepted", []string{
			"We're sorry: the organiser of " + title + " could not accept your registration.",
			"If you think this is a mistake, please contact the organiser.",
		}, false, false}
	case models.KindCancellation:
		return wording{"Registration cancelled: " + title, "Your registration is cancelled", []string{
			"Your registration for " + title + " on " + date + " is cancelled.",
			"If you change your mind, you can register again from the event page while places remain.",
		}, false, false}
	case models.KindSessionUpdated:
		return wording{"New details: " + title, "The session has changed", []string{
			"The details of " + title + " have changed. The new date, time and place are below.",
			"The invitation in this email updates the entry already in your calendar.",
		}, true, true}
	case models.KindSessionCancelled:
		return wording{"Cancelled: " + title, "The session is cancelled", []string{
			"We're sorry: the organiser has cancelled " + title + " on " + date + ".",
			"You do not need to do anything. If the session was in your calendar, this email removes it.",
		}, false, false}
	default: // reminder
		return wording{"Reminder: " + title + " starts in " + formatLead(msg.ReminderMinutes), "See you soon", []string{
			title + " starts in " + formatLead(msg.ReminderMinutes) + ", on " + date + ".",
		}, true, true}
	}
}

// orText is text, or fallback when the organizer left it empty.
func orText(text, fallback string) string {
	if text == "" {
		return fallback
	}
	return text
}

// ifText is text when cond holds, else empty.
func ifText(cond bool, text string) string {
	if cond {
		return text
	}
	return ""
}

// paragraphsOr splits the organizer's text at blank lines, or gives the
// default paragraphs (the non-empty ones) when it is empty.
func paragraphsOr(text string, defaults ...string) []string {
	if text == "" {
		return slices.DeleteFunc(defaults, func(p string) bool { return p == "" })
	}
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// formatLead says a reminder's lead time in words: "1 hour", "2 days".
func formatLead(minutes int) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case minutes%(24*60) == 0:
		return plural(minutes/(24*60), "day")
	case minutes%60 == 0:
		return plural(minutes/60, "hour")
	default:
		return plural(minutes, "minute")
	}
}
