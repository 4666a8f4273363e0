package views

import (
	"slices"
	"strconv"
	"time"

	"podium/models"
)

// Page is what every page's head and foot need.
type Page struct {
	Title       string
	Description string
	// NoIndex keeps private pages (manage links) out of search engines.
	NoIndex bool
	// Share is the link-preview and schema.org data of a public page that
	// is meant to be shared; nil elsewhere.
	Share *ShareMeta
}

// IndexPage lists upcoming panels.
type IndexPage struct {
	Page
	Panels []PanelCard
	// OnDemand are past panels whose recording can be watched.
	OnDemand []PanelCard
}

// PanelCard is one panel in the list on the home page.
type PanelCard struct {
	URL         string
	Title       string
	Format      string
	Summary     string
	NextSession SessionView
}

// PanelPage is a panel's landing page with its sign-up form.
type PanelPage struct {
	Page
	Panel          *models.Panel
	Sessions       []SessionView
	Form           RegistrationForm
	HasOpenSession bool
	// OnDemand is true when what the form offers is the replay only;
	// Ended when every session is over and none offers a replay.
	OnDemand, Ended bool
	// CallToAction is the hero button's and the form's heading.
	CallToAction string
	// FeedURL is the panel's subscribable calendar feed.
	FeedURL string
	// Partners are the panel's sponsors, named "In partnership with".
	Partners []Partner
}

// RegistrationForm is the sign-up form, with what was typed and the
// messages of a failed submission.
type RegistrationForm struct {
	Action    string
	CSRFToken string
	// Notice is a message for the whole form, e.g. an expired form.
	Notice   string
	Errors   map[string]string
	Values   FormValues
	Sessions []SessionView // open sessions; a choice is shown when there are several
	// Questions are the panel's custom questions, in order.
	Questions []models.Question
	// Submit is the button's label.
	Submit string
	// Consents are the form's consent checkboxes.
	Consents ConsentBoxes
}

// FormValues are the sign-up form's fields as typed: exactly what a
// registration takes. Source and Referrer carry the landing page's
// utm_source and Referer through the form.
type FormValues = models.RegistrationInput

// ErrorList is the form's messages in field order, for the summary box.
// Messages for questions no longer on the form come last.
func (f RegistrationForm) ErrorList() []FieldError {
	fields := []string{"session", "name", "email", "organisation", "job_title"}
	for _, q := range f.Questions {
		fields = append(fields, q.FieldName())
	}
	fields = append(fields, "sponsors", "consent")
	var out []FieldError
	for _, field := range fields {
		if msg, ok := f.Errors[field]; ok {
			out = append(out, FieldError{Field: field, Message: msg})
		}
	}
	var others []string
	for field := range f.Errors {
		if !slices.Contains(fields, field) {
			others = append(others, field)
		}
	}
	slices.Sort(others)
	for _, field := range others {
		out = append(out, FieldError{Field: field, Message: f.Errors[field]})
	}
	return out
}

// FieldError is one message of the error summary.
type FieldError struct {
	Field   string
	Message string
}

// RegistrationPage is the registrant's own page behind the manage link.
type RegistrationPage struct {
	Page
	Registration *models.Registration
	Panel        *models.Panel
	Session      SessionView
	CancelAction string
	CSRFToken    string
	PanelURL     string
	// Calendar links are shown to confirmed registrants.
	Calendar *CalendarLinks
	// JoinURL and WatchURL are the registrant's personal links, when they
	// have them now; OnDemand is a registration for the replay.
	JoinURL, WatchURL string
	OnDemand          bool
	Confirmed         bool
	Waitlisted        bool
	Cancelled         bool
	CanCancel         bool
	// Pending waits for the organizer; Declined was refused. Unconfirmed
	// holds its place until ConfirmBy, once the address is confirmed
	// through ConfirmAction.
	Pending, Declined, Unconfirmed bool
	ConfirmBy, ConfirmAction       string
	// Flash is a one-off message, e.g. after cancelling.
	Flash string
	// Consents are the registration's consents; WithdrawAction withdraws
	// one, EraseURL asks to delete the person's data.
	Consents       []ConsentView
	WithdrawAction string
	EraseURL       string
}

// ErasePage asks a person to confirm the deletion of their data.
type ErasePage struct {
	Page
	Registration *models.Registration
	Panel        *models.Panel
	EraseAction  string
	BackURL      string
	CSRFToken    string
}

// MessagePage is a plain page with a heading and a message: errors, a full
// or closed session.
type MessagePage struct {
	Page
	Heading  string
	Message  string
	LinkURL  string
	LinkText string
}

// PageUnsubscribe is the page behind a reminder's one-click unsubscribe link.
const PageUnsubscribe = "pages/unsubscribe"

// UnsubscribePage asks to stop a panel's reminders, or says they stopped.
type UnsubscribePage struct {
	Page
	Heading, Message string
	Action           string // the form's target; empty once stopped
	PanelURL         string
}

// NewUnsubscribePage is the page for token's registration in panel, whose
// reminders have stopped or not.
func NewUnsubscribePage(panel *models.Panel, token string, stopped bool) UnsubscribePage {
	page := UnsubscribePage{
		Page:     Page{Title: "Reminders for " + panel.Title, NoIndex: true, Description: "Stop the reminder emails for " + panel.Title + "."},
		Heading:  "Stop reminders for " + panel.Title + "?",
		Message:  "You will get no more reminder emails for this event.",
		Action:   UnsubscribeURL(token),
		PanelURL: PanelURL(panel.Slug),
	}
	if stopped {
		page.Heading, page.Action = "No more reminders for "+panel.Title, ""
		page.Message = "Done: you will get no more reminder emails for this event."
	}
	return page
}

// NewIndexPage builds the home page from the upcoming panels.
func NewIndexPage(listings []models.PanelListing, now time.Time) IndexPage {
	page := IndexPage{Page: Page{
		Title:       "Upcoming panels",
		Description: "Free panel discussions and webinars: reserve your place.",
	}}
	for _, l := range listings {
		card := PanelCard{
			URL: PanelURL(l.Panel.Slug), Title: l.Panel.Title, Format: l.Panel.Format,
			Summary: l.Panel.Summary, NextSession: NewSessionView(l.NextSession, now),
		}
		if l.NextSession.OnDemand(now) {
			page.OnDemand = append(page.OnDemand, card)
		} else {
			page.Panels = append(page.Panels, card)
		}
	}
	return page
}

// NewPanelPage builds a panel's landing page around its sign-up form.
func NewPanelPage(p *models.Panel, now time.Time, form RegistrationForm) PanelPage {
	open := p.OpenSessions(now)
	onDemand := len(open) > 0
	for _, s := range open {
		onDemand = onDemand && s.OnDemand(now)
	}
	cta := "Reserve your free place"
	switch {
	case onDemand:
		cta = "Watch on demand"
	case len(open) == 0 && len(p.Sessions) == 0 && p.Ended > 0:
		cta = "Registration closed"
	}
	form.Submit = cta
	form.Action = PanelURL(p.Slug) + "/register"
	form.Sessions = NewSessionViews(open, now)
	form.Questions = p.Questions
	form.Consents = NewConsentBoxes(p)
	sessions := NewSessionViews(p.Sessions, now)
	for i := range sessions {
		sessions[i].ICSURL = PanelURL(p.Slug) + "/sessions/" + strconv.FormatInt(sessions[i].ID, 10) + ".ics"
	}
	return PanelPage{
		Page:           Page{Title: p.Title, Description: p.Summary},
		Panel:          p,
		Sessions:       sessions,
		Form:           form,
		HasOpenSession: len(open) > 0,
		OnDemand:       onDemand,
		Ended:          len(p.Sessions) == 0 && p.Ended > 0,
		CallToAction:   cta,
		FeedURL:        PanelURL(p.Slug) + "/calendar.ics",
		Partners:       NewPartners(p.Sponsors),
	}
}

// NewRegistrationPage builds the registrant's own page; personal holds the
// tokens of the join and replay links it offers.
func NewRegistrationPage(site Site, reg *models.Registration, token string, personal models.RegistrationLinks, csrfToken string, now time.Time) RegistrationPage {
	sess := *reg.Session
	var links *CalendarLinks
	var joinURL, watchURL string
	if personal.Join != "" {
		joinURL = site.URL(JoinURL(personal.Join))
	}
	if personal.Watch != "" {
		watchURL = site.URL(WatchURL(personal.Watch))
	}
	if reg.Status == models.RegistrationConfirmed && !reg.OnDemand && !reg.Unconfirmed() &&
		sess.Status == models.SessionScheduled && !sess.Ended(now) {
		manage := site.URL(RegistrationURL(token))
		l := NewCalendarLinks(RegistrationEvent(site, reg, manage, joinURL, sess.Sequence, now), RegistrationURL(token)+"/invite.ics")
		links = &l
	}
	page := RegistrationPage{
		JoinURL:  joinURL,
		WatchURL: watchURL,
		OnDemand: reg.OnDemand,
		Calendar: links,
		Page: Page{Title: "Your registration", NoIndex: true,
			Description: "Your registration for " + sess.Panel.Title + ": the session's time, your calendar invite and how to cancel."},
		Registration:   reg,
		Panel:          sess.Panel,
		Session:        NewSessionView(sess, now),
		CancelAction:   RegistrationURL(token) + "/cancel",
		WithdrawAction: RegistrationURL(token) + "/consents/withdraw",
		EraseURL:       RegistrationURL(token) + "/erase",
		CSRFToken:      csrfToken,
		PanelURL:       PanelURL(sess.Panel.Slug),
		Confirmed:      reg.Status == models.RegistrationConfirmed,
		Waitlisted:     reg.Status == models.RegistrationWaitlisted,
		Cancelled:      reg.Status == models.RegistrationCancelled,
		CanCancel: reg.Status != models.RegistrationCancelled && reg.Status != models.RegistrationDeclined &&
			(reg.OnDemand || now.Before(sess.StartsAt)),
		Pending:       reg.Status == models.RegistrationPending,
		Declined:      reg.Status == models.RegistrationDeclined,
		Unconfirmed:   reg.Unconfirmed() && reg.Status != models.RegistrationCancelled,
		ConfirmAction: RegistrationURL(token) + "/confirm",
	}
	if reg.ConfirmBy != nil {
		page.ConfirmBy = longStamp(*reg.ConfirmBy)
	}
	return page
}

// PanelURL is the path of a panel's landing page.
func PanelURL(slug string) string { return "/panels/" + slug }

// RegistrationURL is the path of a registrant's own page.
func RegistrationURL(token string) string { return "/registrations/" + token }

// JoinURL is a registrant's personal join link.
func JoinURL(token string) string { return "/j/" + token }

// WatchURL is a registrant's personal replay link.
func WatchURL(token string) string { return "/w/" + token }

// UnsubscribeURL is the page behind a reminder's one-click unsubscribe link.
func UnsubscribeURL(token string) string { return "/unsubscribe/" + token }

// PageAdminLogin is the organizer sign-in page.
const PageAdminLogin = "pages/admin_login"

// LoginPage is the sign-in form.
type LoginPage struct {
	Page
	CSRFToken string
	Next      string
	Email     string
	Error     string
}
