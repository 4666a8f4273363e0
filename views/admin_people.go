package views

import (
	"cmp"
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// The owners' pages for a person's data (subject access and erasure) and
// the retention plan.
const (
	PageAdminPeople    = "admin/people"
	PageAdminRetention = "admin/retention"
	// PeopleURL is the people page; a lookup adds ?email=.
	PeopleURL = "/admin/people"
	// EraseURL is where the erase form posts.
	EraseURL = "/admin/people/erase"
	// RetentionURL is the retention plan.
	RetentionURL = "/admin/retention"
)

// PersonPage is the lookup form and, once a valid address was looked up,
// everything Podium holds about it, with the form that erases it.
type PersonPage struct {
	AdminPage
	Search Field
	Errors []FieldError
	// Email is the address looked up, normalised; empty before a lookup.
	Email string
	// NothingHeld says a valid address was looked up and Podium holds
	// nothing about it.
	NothingHeld bool
	// Summary counts what is held, e.g. "2 registrations, each with …".
	Summary       string
	Registrations []PersonRegistrationView
	OptOuts       []OptOutView
	// Erase is set when there is something to erase.
	Erase        *EraseForm
	RetentionURL string
}

// PersonRegistrationView is one of a person's registrations.
type PersonRegistrationView struct {
	// Heading names the registration: its panel's title.
	Heading, PanelURL   string
	Status, StatusLabel string
	Details             []Detail
	Answers             []AnswerView
	Consents            []PersonConsentRow
	Emails              []PersonEmailRow
}

// Detail is one labelled value of a description list.
type Detail struct{ Label, Value string }

// PersonConsentRow is a consent as it stands, for the admin.
type PersonConsentRow struct {
	Purpose, Wording, Channel string
	// State says given or withdrawn, with when; StateClass is its CSS class.
	State, StateClass string
}

// PersonEmailRow is an email sent or queued to a registration.
type PersonEmailRow struct {
	Kind, Status, StatusLabel, Queued, Sent string
}

// OptOutView is a panel whose reminders the address stopped.
type OptOutView struct {
	Panel, PanelURL, Since string
}

// EraseForm erases everything held about Email once Confirm is ticked.
type EraseForm struct {
	Action, CSRFToken, Email string
	// Count says what goes: "2 registrations".
	Count   string
	Confirm Field
	// Question is what admin.js asks before sending.
	Question string
}

// NewPersonPage builds the people page: email is what was typed, data
// what Podium holds (nil before a valid lookup), errs the messages of the
// lookup ("email") and of the erase form ("confirm").
func NewPersonPage(frame AdminPage, email string, data *models.PersonData, errs map[string]string) PersonPage {
	page := PersonPage{AdminPage: frame, RetentionURL: RetentionURL}
	page.Search = newField("email", "Email address", "email", email, errs)
	page.Search.Required, page.Search.Autocomplete, page.Search.MaxLength = true, "off", models.MaxEmailLength
	page.Search.Hint = "The address a person registered with. Each lookup is written to the audit log."
	page.Errors = ErrorSummary(errs, "email", "confirm")
	page.AdminPage = page.AdminPage.WithErrors(page.Errors)
	if data == nil {
		return page
	}
	page.Email = data.Email
	page.NothingHeld = len(data.Registrations) == 0 && len(data.OptOuts) == 0
	titles := map[int64]string{}
	for i := range data.Registrations {
		r := newPersonRegistrationView(&data.Registrations[i])
		if s := data.Registrations[i].Session; s != nil {
			titles[s.PanelID] = r.Heading
		}
		page.Registrations = append(page.Registrations, r)
	}
	for _, o := range data.OptOuts {
		title, ok := titles[o.PanelID]
		if !ok {
			title = "Panel " + strconv.FormatInt(o.PanelID, 10)
		}
		page.OptOuts = append(page.OptOuts, OptOutView{Panel: title, PanelURL: AdminPanelURL(o.PanelID),
			Since: formatStamp(o.CreatedAt)})
	}
	if len(data.Registrations) > 0 {
		count := plural(len(data.Registrations), "registration", "registrations")
		page.Summary = count + ", each with its answers, its consents and the emails sent or queued to it."
		confirm := newField("confirm", "I understand: erase everything Podium holds about "+data.Email+
			". This cannot be undone.", "checkbox", "", errs)
		page.Erase = &EraseForm{Action: EraseURL, CSRFToken: frame.CSRFToken, Email: data.Email, Count: count,
			Confirm: confirm, Question: "Erase " + count + " of " + data.Email + "? This cannot be undone."}
	}
	return page
}

// ErasureDone is the message after an erasure: how many registrations
// went, and how many places they freed went to the waitlist.
func ErasureDone(registrations, promoted int) string {
	msg := "Erased " + plural(registrations, "registration", "registrations") +
		": the person's details, answers and links are gone."
	if promoted > 0 {
		msg += " " + plural(promoted, "place", "places") + " freed went to the waitlist."
	}
	return msg
}

func newPersonRegistrationView(pr *models.PersonRegistration) PersonRegistrationView {
	r := &pr.Registration
	v := PersonRegistrationView{Heading: "A panel that no longer exists", Status: string(r.Status),
		StatusLabel: registrationStatusLabel(r.Status)}
	labels := map[int64]string{}
	session := "Unknown"
	if s := r.Session; s != nil {
		session = formatStamp(s.StartsAt)
		if s.Panel != nil {
			v.Heading, v.PanelURL = s.Panel.Title, AdminPanelURL(s.PanelID)
			for _, q := range s.Panel.Questions {
				labels[q.ID] = q.Label
			}
		}
	}
	v.Details = []Detail{
		{"Name", r.Name}, {"Email address", r.Email}, {"Session starts", session},
		{"Status", v.StatusLabel}, {"Registered", formatStamp(r.CreatedAt)},
		{"Erased", formatStampPtr(r.ErasedAt, "No")}, {"Attendance", orNone(attendanceLabel(r))},
		{"Organisation", orNone(r.Organisation)}, {"Job title", orNone(r.JobTitle)},
		{"utm_source", orNone(r.Source)}, {"utm_medium", orNone(r.Medium)}, {"utm_campaign", orNone(r.Campaign)},
		{"utm_term", orNone(r.Term)}, {"utm_content", orNone(r.Content)}, {"Referrer", orNone(r.Referrer)},
	}
	for _, a := range r.Answers {
		label, ok := labels[a.QuestionID]
		if !ok {
			label = "Question " + strconv.FormatInt(a.QuestionID, 10)
		}
		v.Answers = append(v.Answers, AnswerView{Question: label, Value: strings.ReplaceAll(a.Value, "\n", "; ")})
	}
	for _, c := range pr.Consents {
		v.Consents = append(v.Consents, newPersonConsentRow(c))
	}
	for _, m := range pr.Emails {
		v.Emails = append(v.Emails, PersonEmailRow{Kind: kindLabel(m.Kind), Status: string(m.Status),
			StatusLabel: outboxStatusLabel(m.Status), Queued: formatStamp(m.CreatedAt), Sent: formatStampPtr(m.SentAt, "Not sent")})
	}
	return v
}

func newPersonConsentRow(c models.ConsentState) PersonConsentRow {
	v := PersonConsentRow{Purpose: consentPurposeLabel(c), Wording: c.Text, Channel: channelLabel(c.Channel)}
	if c.Given {
		v.State, v.StateClass = "Given "+formatStamp(c.GivenAt), "confirmed"
	} else {
		v.State, v.StateClass = "Withdrawn "+formatStamp(c.CreatedAt), "cancelled"
		if !c.GivenAt.IsZero() {
			v.State += " (given " + formatStamp(c.GivenAt) + ")"
		}
	}
	return v
}

func consentPurposeLabel(c models.ConsentState) string {
	switch c.Purpose {
	case models.ConsentRegistration:
		return "Handling the registration"
	case models.ConsentMarketing:
		return "The organizer's news"
	case models.ConsentSponsor:
		return "Sharing details with " + cmp.Or(c.SponsorName, "a sponsor")
	}
	return string(c.Purpose)
}

func channelLabel(ch models.Channel) string {
	switch ch {
	case models.ChannelForm:
		return "Sign-up form"
	case models.ChannelManage:
		return "Their own manage page"
	case models.ChannelAdmin:
		return "Admin"
	case models.ChannelAPI:
		return "API"
	case models.ChannelSystem:
		return "Podium"
	}
	return string(ch)
}

// RetentionPage is the retention plan: when each panel's registrants are
// erased.
type RetentionPage struct {
	AdminPage
	// DefaultDays is the site's default retention, e.g. "365 days".
	DefaultDays string
	Plans       []RetentionRow
	// DueNotice says how many panels' registrants are due to be erased
	// now ("" for none).
	DueNotice string
}

// RetentionRow is one panel's plan.
type RetentionRow struct {
	Panel, PanelURL, EditURL string
	LastEnds, Keep, EraseAt  string
	Registrants              string
	// State is "" for a plan still to come; Due marks one whose date has
	// passed with registrants still held.
	State string
	Due   bool
}

// NewRetentionPage builds the plan from the store's plans, soonest first.
func NewRetentionPage(frame AdminPage, plans []models.RetentionPlan, defaultDays int, now time.Time) RetentionPage {
	page := RetentionPage{AdminPage: frame, DefaultDays: plural(defaultDays, "day", "days")}
	due := 0
	for _, p := range plans {
		row := RetentionRow{Panel: p.PanelTitle, PanelURL: AdminPanelURL(p.PanelID), EditURL: AdminPanelURL(p.PanelID) + "/edit",
			LastEnds: formatStamp(p.LastEnds), EraseAt: formatStamp(p.EraseAt), Registrants: formatCount(p.Registrants)}
		row.Keep = "Site default (" + page.DefaultDays + ")"
		if p.PanelDays != nil {
			row.Keep = plural(*p.PanelDays, "day", "days")
		}
		switch past := !p.EraseAt.After(now); {
		case past && p.Registrants > 0:
			row.Due, row.State = true, "Due: erased within the hour"
			due++
		case past:
			row.State = "Erased"
		default:
			row.State = "Scheduled"
		}
		page.Plans = append(page.Plans, row)
	}
	if due > 0 {
		page.DueNotice = plural(due, "panel's", "panels'") + " registrants are due: Podium erases them within the hour."
	}
	return page
}
