package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"podium/models"
)

// RegistrantsPage is the registrant list of a panel or, with Summary, the
// admin page of one session.
type RegistrantsPage struct {
	AdminPage
	Heading     string
	Summary     *SessionSummary
	Totals      []Stat
	Filter      RegistrantFilter
	Rows        []RegistrantRow
	OlderURL    string
	NewestURL   string
	ExportURL   string
	ShowSession bool
	Add         *AddRegistrantForm
	// After is the session page's "After the session" section.
	After *AfterSession
	// Pending says some rows await approval: DecideAction decides the
	// ticked ones, then returns to ReturnURL.
	Pending                 bool
	DecideAction, ReturnURL string
}

// Stat is one number with its label.
type Stat struct {
	Value, Label, Class string
}

// RegistrantFilter is the search form above the list (a GET form).
type RegistrantFilter struct {
	Action   string
	Search   Field
	Status   Field
	Active   bool
	ResetURL string
}

// RegistrantRow is one registration in the list.
type RegistrantRow struct {
	Name, Email, Organisation, JobTitle string
	Status, StatusLabel                 string
	Registered, Attended                string
	Session, SessionURL                 string
	Answers                             []AnswerView
	Actions                             []ActionForm
	// ID is the registration's id; Pending rows can be picked for a
	// decision in bulk.
	ID      int64
	Pending bool
}

// AnswerView is a custom question with a registrant's answer.
type AnswerView struct{ Question, Value string }

// RegistrantList is what a registrant page shows: one page of the query.
type RegistrantList struct {
	// BaseURL is the page's path without its query.
	BaseURL     string
	Query       models.RegistrantQuery
	Page        []models.Registration
	Next        int64
	Totals      models.RegistrantTotals
	Questions   []models.Question
	CSRFToken   string
	ShowSession bool
	Now         time.Time
}

// NewRegistrantsPage builds the list with its counts, filter and paging.
func NewRegistrantsPage(frame AdminPage, heading string, list RegistrantList) RegistrantsPage {
	q := list.Query
	page := RegistrantsPage{AdminPage: frame, Heading: heading, ShowSession: list.ShowSession}
	page.Totals = registrantStats(list.Totals)
	search := newField("q", "Search by name, email or organisation", "search", q.Search, nil)
	search.MaxLength, search.Quiet = 200, true
	status := newField("status", "Status", "select", "", nil)
	status.Quiet = true
	for _, o := range []struct{ v, l string }{{"", "Everyone"}, {"confirmed", "Confirmed"}, {"waitlisted", "Waitlisted"}, {"pending", "Awaiting approval"}, {"declined", "Declined"}, {"cancelled", "Cancelled"}} {
		status.Options = append(status.Options, Option{Value: o.v, Label: o.l, Selected: string(q.Status) == o.v})
	}
	page.Filter = RegistrantFilter{Action: list.BaseURL, Search: search, Status: status,
		Active: q.Search != "" || q.Status != "", ResetURL: list.BaseURL}
	filter := url.Values{}
	if q.Search != "" {
		filter.Set("q", q.Search)
	}
	if q.Status != "" {
		filter.Set("status", string(q.Status))
	}
	page.ExportURL = withQuery(strings.TrimSuffix(list.BaseURL, "/registrants")+"/registrants.csv", filter)
	current := filter
	if q.Before > 0 {
		current = cloneValues(filter)
		current.Set("before", strconv.FormatInt(q.Before, 10))
		page.NewestURL = withQuery(list.BaseURL, filter)
	}
	if list.Next > 0 {
		older := cloneValues(filter)
		older.Set("before", strconv.FormatInt(list.Next, 10))
		page.OlderURL = withQuery(list.BaseURL, older)
	}
	labels := make(map[int64]string, len(list.Questions))
	for _, qu := range list.Questions {
		labels[qu.ID] = qu.Label
	}
	back := withQuery(list.BaseURL, current)
	for i := range list.Page {
		row := newRegistrantRow(&list.Page[i], labels, list.CSRFToken, back, list.Now)
		page.Pending = page.Pending || row.Pending
		page.Rows = append(page.Rows, row)
	}
	page.DecideAction, page.ReturnURL = "/admin/registrations/decide", back
	return page
}

func registrantStats(t models.RegistrantTotals) []Stat {
	seats := "No limit"
	if t.SeatsLeft >= 0 {
		seats = formatCount(t.SeatsLeft)
	}
	return []Stat{
		{Value: formatCount(t.Confirmed), Label: "confirmed", Class: "confirmed"},
		{Value: formatCount(t.Waitlisted), Label: "waitlisted", Class: "waitlisted"},
		{Value: formatCount(t.Cancelled), Label: "cancelled", Class: "cancelled"},
		{Value: formatCount(t.Pending), Label: "awaiting approval", Class: "pending"},
		{Value: formatCount(t.Attended), Label: "attended", Class: "attended"},
		{Value: seats, Label: "places left", Class: "left"},
	}
}

func newRegistrantRow(r *models.Registration, labels map[int64]string, csrf, back string, now time.Time) RegistrantRow {
	row := RegistrantRow{
		Name: r.Name, Email: r.Email, Organisation: r.Organisation, JobTitle: r.JobTitle,
		Status: string(r.Status), StatusLabel: registrationStatusLabel(r.Status),
		Registered: formatStamp(r.CreatedAt), Attended: attendanceLabel(r),
	}
	if r.Session != nil {
		v := NewSessionView(*r.Session, now)
		row.Session, row.SessionURL = v.ShortDate+", "+v.Time+" "+v.Zone, AdminSessionURL(r.Session.PanelID, r.Session.ID)
	}
	for _, a := range r.Answers {
		row.Answers = append(row.Answers, AnswerView{Question: labels[a.QuestionID], Value: strings.ReplaceAll(a.Value, "\n", "; ")})
	}
	base := AdminRegistrationURL(r.ID)
	// Each button's accessible name starts with its visible label (WCAG
	// 2.5.3) and names the registrant, since every row has the same buttons.
	act := func(path, label, joiner, value string, danger bool) ActionForm {
		return ActionForm{Action: base + path, CSRFToken: csrf, Label: label, Describe: label + joiner + r.Name,
			Return: back, Value: value, Danger: danger}
	}
	switch r.Status {
	case models.RegistrationConfirmed:
		if r.Attendance != models.AttendanceAttended {
			row.Actions = append(row.Actions, act("/attended", "Mark attended", ": ", "yes", false))
		} else {
			row.Actions = append(row.Actions, act("/attended", "Not attended", ": ", "no", false))
		}
		row.Actions = append(row.Actions, act("/resend", "Resend invite", " to ", "", false))
	case models.RegistrationWaitlisted:
		row.Actions = append(row.Actions, act("/promote", "Give a place", " to ", "", false),
			act("/resend", "Resend notice", " to ", "", false))
	case models.RegistrationPending:
		row.ID, row.Pending = r.ID, true
		decline := act("/decline", "Decline", " the registration of ", "", true)
		decline.Confirm = "Decline the registration of " + r.Name + "? They will be told by email."
		row.Actions = append(row.Actions, act("/approve", "Approve", " the registration of ", "", false), decline)
	}
	if r.Status != models.RegistrationCancelled && r.Status != models.RegistrationDeclined {
		cancel := act("/cancel", "Cancel", " the registration of ", "", true)
		cancel.Confirm = "Cancel the registration of " + r.Name + "? They will get a cancellation email."
		row.Actions = append(row.Actions, cancel)
	}
	return row
}

// attendanceLabel says what is known of a registrant's attending, for the
// list; empty when nothing is.
func attendanceLabel(r *models.Registration) string {
	var label string
	switch r.Attendance {
	case models.AttendanceAttended:
		label = "Attended"
		if r.AttendedMinutes != nil {
			label += ", " + strconv.Itoa(*r.AttendedMinutes) + " min"
		} else if r.AttendedAt != nil {
			label += " " + formatStamp(*r.AttendedAt)
		}
	case models.AttendanceAbsent:
		label = "Absent"
	case models.AttendanceOnDemand:
		label = "Watched on demand"
	}
	if r.OnDemand {
		label = strings.TrimPrefix(label+"; registered for the replay", "; ")
	}
	return label
}

func registrationStatusLabel(s models.RegistrationStatus) string {
	switch s {
	case models.RegistrationConfirmed:
		return "Confirmed"
	case models.RegistrationWaitlisted:
		return "Waitlisted"
	case models.RegistrationPending:
		return "Awaiting approval"
	case models.RegistrationDeclined:
		return "Declined"
	default:
		return "Cancelled"
	}
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
