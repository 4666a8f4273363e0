package views

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// The organizer admin's pages. Handlers fill these typed structs; the
// templates under templates/admin only format them.
const (
	PageAdminDashboard    = "admin/dashboard"
	PageAdminPanels       = "admin/panels"
	PageAdminPanel        = "admin/panel"
	PageAdminPanelForm    = "admin/panel_form"
	PageAdminQuestions    = "admin/questions"
	PageAdminSession      = "admin/session"
	PageAdminSessionForm  = "admin/session_form"
	PageAdminConfirm      = "admin/confirm"
	PageAdminRegistrants  = "admin/registrants"
	PageAdminOutbox       = "admin/outbox"
	PageAdminMail         = "admin/mail"
	PageAdminAccounts     = "admin/accounts"
	PageAdminTokens       = "admin/tokens"
	PageAdminTokenCreated = "admin/token_created"
)

// Admin sections, for the navigation's current item.
const (
	SectionDashboard = "dashboard"
	SectionPanels    = "panels"
	SectionOutbox    = "outbox"
	SectionAccounts  = "accounts"
	SectionTokens    = "tokens"
	// SectionPeople is a person's data and the retention plan (owners).
	SectionPeople = "people"
)

// AdminPage is what every admin page's head and foot need: the signed-in
// account, the navigation, the sign-out form's CSRF token and a flash message.
type AdminPage struct {
	Page
	CSRFToken string
	Account   string // the signed-in address, shown beside "Sign out"
	Nav       []NavItem
	// Crumbs lead back from the page, e.g. Panels › AI and jobs.
	Crumbs []Link
	Flash  Flash
}

// NavItem is one link of the admin navigation.
type NavItem struct {
	URL, Label string
	Current    bool
}

// Link is a URL with its text.
type Link struct {
	URL, Text string
}

// Flash is a one-off message after an action; Error marks a refusal.
type Flash struct {
	Message string
	Error   bool
}

// NewAdminPage builds the frame of an admin page for acc. Owners also see
// the accounts and API token pages.
func NewAdminPage(title string, acc *models.Account, csrfToken, section string, flash Flash) AdminPage {
	nav := []NavItem{
		{URL: "/admin", Label: "Dashboard", Current: section == SectionDashboard},
		{URL: "/admin/panels", Label: "Panels", Current: section == SectionPanels},
		{URL: "/admin/outbox", Label: "Emails", Current: section == SectionOutbox},
	}
	page := AdminPage{Page: Page{Title: title, NoIndex: true}, CSRFToken: csrfToken, Flash: flash}
	if acc != nil {
		page.Account = acc.Email
		if acc.Role == models.RoleOwner {
			nav = append(nav,
				NavItem{URL: "/admin/accounts", Label: "Accounts", Current: section == SectionAccounts},
				NavItem{URL: "/admin/tokens", Label: "API tokens", Current: section == SectionTokens},
				NavItem{URL: "/admin/webhooks", Label: "Webhooks", Current: section == SectionWebhooks},
				NavItem{URL: "/admin/audit-log", Label: "Audit log", Current: section == SectionAudit},
				NavItem{URL: "/admin/people", Label: "People's data", Current: section == SectionPeople})
		}
	}
	page.Nav = nav
	return page
}

// WithErrors marks the title for screen readers when a form came back with
// errors, and returns the page.
func (p AdminPage) WithErrors(errs []FieldError) AdminPage {
	if len(errs) > 0 && !strings.HasPrefix(p.Title, "Error: ") {
		p.Title = "Error: " + p.Title
	}
	return p
}

// Field is one labelled form control with what was typed and its message.
type Field struct {
	ID, Name, Label, Hint string
	Type                  string // input type; "textarea", "select" and "checkbox" pick the partial
	Value                 string
	Error                 string
	Autocomplete          string
	Required              bool
	Checked               bool
	MaxLength             int
	Rows                  int
	Min, Max              string
	Options               []Option
	// Enhance names a progressive enhancement of admin.js, e.g. "zone".
	Enhance string
	// Quiet controls are never labelled "(optional)": search filters, and
	// the parts of a repeated row.
	Quiet bool
}

// Option is one choice of a select or of a group of checkboxes.
type Option struct {
	Value, Label string
	Selected     bool
}

// newField makes a control whose name is also its validation key.
func newField(name, label, typ, value string, errs map[string]string) Field {
	return Field{ID: FieldID(name), Name: name, Label: label, Type: typ, Value: value, Error: errs[name]}
}

// FieldID turns a validation key ("speakers[2].name") into the id of its
// control ("field-speakers-2-name"), which the error summary links to.
func FieldID(key string) string {
	var b strings.Builder
	b.WriteString("field-")
	dash := false
	for _, r := range key {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// ErrorSummary lists a form's messages, the fields named in order first and
// any others after them, each linking to its control.
func ErrorSummary(errs map[string]string, order ...string) []FieldError {
	out := make([]FieldError, 0, len(errs))
	seen := map[string]bool{}
	for _, key := range order {
		if msg, ok := errs[key]; ok && !seen[key] {
			out = append(out, FieldError{Field: FieldID(key), Message: msg})
			seen[key] = true
		}
	}
	for _, key := range slices.Sorted(maps.Keys(errs)) {
		if !seen[key] {
			out = append(out, FieldError{Field: FieldID(key), Message: errs[key]})
		}
	}
	return out
}

// ActionForm is a one-button POST form: publish, cancel, resend, revoke.
type ActionForm struct {
	Action    string
	CSRFToken string
	Label     string
	// Describe is the button's accessible name when the label alone is
	// ambiguous in a table ("Cancel Ada Lovelace's registration").
	Describe string
	// Return is where to come back to afterwards (an admin path).
	Return string
	Danger bool
	// Value is sent as the "value" field, e.g. attended=yes or no.
	Value string
	// Confirm is a question admin.js asks before sending, for actions that
	// cannot be undone.
	Confirm string
}

// Admin URLs.

// AdminPanelURL is a panel's admin page.
func AdminPanelURL(id int64) string { return "/admin/panels/" + strconv.FormatInt(id, 10) }

// AdminSessionURL is a session's admin page.
func AdminSessionURL(panelID, sessionID int64) string {
	return AdminPanelURL(panelID) + "/sessions/" + strconv.FormatInt(sessionID, 10)
}

// AdminRegistrationURL is the base of a registration's admin actions.
func AdminRegistrationURL(id int64) string {
	return "/admin/registrations/" + strconv.FormatInt(id, 10)
}

// AdminMailURL is an outbox message's page in the mail viewer.
func AdminMailURL(id int64) string { return "/admin/outbox/" + strconv.FormatInt(id, 10) }

// formatCount writes 12345 as "12,345".
func formatCount(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + formatCount(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatStamp writes an instant for the admin, in UTC: "20 Nov 2026, 09:00 UTC".
func formatStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// formatStampPtr is formatStamp for an optional instant, with a word for none.
func formatStampPtr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return formatStamp(*t)
}

// plural gives "1 registrant" or "3 registrants".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return formatCount(n) + " " + many
}

// ActionRefusal is what the admin says when a model refuses an action for a
// reason the organizer can act on; ok is false for other errors.
func ActionRefusal(err error) (message string, ok bool) {
	if err == nil {
		return "", false
	}
	switch e := models.AsError(err); e.Code {
	case models.CodeInvalid, models.CodeConflict, models.CodeGone:
		return e.ForOrganizer(), true
	}
	return "", false
}
