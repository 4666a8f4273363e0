package views

import (
	"strconv"
	"time"

	"podium/models"
)

// PanelsPage lists every panel for the organizer.
type PanelsPage struct {
	AdminPage
	Panels []PanelRow
}

// PanelRow is one panel in the list.
type PanelRow struct {
	Title, URL, Status, StatusLabel string
	Sessions, Confirmed, Waitlisted int
	Next                            string // the next session's date and time, or ""
}

// NewPanelsPage builds the panel list.
func NewPanelsPage(frame AdminPage, panels []models.PanelSummary, now time.Time) PanelsPage {
	page := PanelsPage{AdminPage: frame}
	for _, s := range panels {
		row := PanelRow{
			Title: s.Panel.Title, URL: AdminPanelURL(s.Panel.ID), Status: string(s.Panel.Status),
			StatusLabel: panelStatusLabel(s.Panel.Status), Sessions: s.Sessions, Confirmed: s.Confirmed, Waitlisted: s.Waitlisted,
		}
		if s.NextSession != nil {
			v := NewSessionView(*s.NextSession, now)
			row.Next = v.ShortDate + ", " + v.Time + " " + v.Zone
		}
		page.Panels = append(page.Panels, row)
	}
	return page
}

func panelStatusLabel(s models.PanelStatus) string {
	switch s {
	case models.PanelPublished:
		return "Published"
	case models.PanelArchived:
		return "Archived"
	default:
		return "Draft"
	}
}

// AdminPanelPage is one panel's admin page: its state, sessions, questions
// and what can be done with it.
type AdminPanelPage struct {
	AdminPage
	Title, Status, StatusLabel, StatusHelp string
	// PublicURL is the attendees' page, set once published.
	PublicURL   string
	PreviewURL  string
	EditURL     string
	QuestionURL string
	NewSession  string
	Registrants string
	ExportURL   string
	Sessions    []AdminSessionRow
	Questions   []string
	Actions     []ActionForm
	// Sponsors are the panel's sponsors, each with its leads' download.
	Sponsors []AdminSponsorRow
	// LinksURL is the panel's tracked-link builder.
	LinksURL string
	// ShareLinks are the sponsors' share links (WithShareLinks); ShareDays
	// the share form's default lifetime.
	ShareLinks []ShareLinkRow
	ShareDays  int
}

// AdminSponsorRow is a sponsor on its panel's admin page; ShareAction
// makes a share link to its leads.
type AdminSponsorRow struct {
	ID                                      int64
	Name, PrivacyURL, LeadsURL, ShareAction string
}

// AdminSessionRow is a session in a panel's admin page.
type AdminSessionRow struct {
	URL, When, Place, Status, StatusLabel, Taken string
	// Attended and Watched sum up attendance once the session has ended.
	Attended, Watched string
}

// NewAdminPanelPage builds a panel's admin page.
func NewAdminPanelPage(frame AdminPage, site Site, p *models.Panel, attendance map[int64]models.AttendanceStats, now time.Time) AdminPanelPage {
	base := AdminPanelURL(p.ID)
	page := AdminPanelPage{
		AdminPage: frame, Title: p.Title, Status: string(p.Status), StatusLabel: panelStatusLabel(p.Status),
		PreviewURL: base + "/preview", EditURL: base + "/edit", QuestionURL: base + "/questions",
		NewSession: base + "/sessions/new", Registrants: base + "/registrants", ExportURL: base + "/registrants.csv",
		LinksURL: TrackedLinksURL(p.ID), ShareDays: models.DefaultShareDays,
	}
	page.Crumbs = []Link{{URL: "/admin/panels", Text: "Panels"}}
	for _, sp := range p.Sponsors {
		sponsor := base + "/sponsors/" + strconv.FormatInt(sp.ID, 10)
		page.Sponsors = append(page.Sponsors, AdminSponsorRow{ID: sp.ID, Name: sp.Name, PrivacyURL: sp.PrivacyURL,
			LeadsURL: sponsor + "/leads.csv", ShareAction: sponsor + "/share-links"})
	}
	for _, s := range p.Sessions {
		row := newAdminSessionRow(p.ID, s, now)
		if st, ok := attendance[s.ID]; ok && s.Ended(now) {
			row.Attended = formatCount(st.Attended) + " of " + formatCount(st.Registered) + " (" + strconv.Itoa(st.Rate()) + "%)"
			if st.MedianMinutes >= 0 {
				row.Attended += ", median " + strconv.Itoa(st.MedianMinutes) + " min"
			}
			row.Watched = formatCount(st.Watched)
		}
		page.Sessions = append(page.Sessions, row)
	}
	for _, q := range p.Questions {
		page.Questions = append(page.Questions, q.Label+" ("+questionKindLabel(q.Kind)+requiredSuffix(q.Required)+")")
	}
	action := func(path, label string, danger bool, confirm string) ActionForm {
		return ActionForm{Action: base + path, CSRFToken: frame.CSRFToken, Label: label, Danger: danger, Confirm: confirm}
	}
	switch p.Status {
	case models.PanelPublished:
		page.PublicURL = site.URL(PanelURL(p.Slug))
		page.StatusHelp = "Anyone with the link can see this panel and register."
		page.Actions = append(page.Actions, action("/unpublish", "Unpublish (back to draft)", false,
			"Unpublish this panel? Its page disappears until you publish it again; registrations are kept."))
	case models.PanelArchived:
		page.StatusHelp = "Archived: hidden from attendees and kept for your records."
		page.Actions = append(page.Actions, action("/unpublish", "Restore as a draft", false, ""))
	default:
		page.StatusHelp = "Only organizers can see a draft. Add a session, then publish it."
		page.Actions = append(page.Actions, action("/publish", "Publish", false, ""))
	}
	page.Actions = append(page.Actions, action("/duplicate", "Duplicate", false, ""))
	if p.Status != models.PanelArchived {
		page.Actions = append(page.Actions, action("/archive", "Archive", true,
			"Archive this panel? It is hidden from attendees; registrations are kept."))
	}
	return page
}

func newAdminSessionRow(panelID int64, s models.Session, now time.Time) AdminSessionRow {
	v := NewSessionView(s, now)
	row := AdminSessionRow{
		URL: AdminSessionURL(panelID, s.ID), When: v.ShortDate + ", " + v.Time + " " + v.Zone + " · " + v.Duration,
		Place: "Online", Status: v.Status, StatusLabel: v.StatusLabel,
	}
	if !s.Online() {
		row.Place = s.Venue
	}
	if s.Capacity > 0 {
		row.Taken = formatCount(s.SeatsTaken) + " of " + formatCount(s.Capacity)
	} else {
		row.Taken = formatCount(s.SeatsTaken) + " (no limit)"
	}
	return row
}

func requiredSuffix(required bool) string {
	if required {
		return ", required"
	}
	return ", optional"
}

// PreviewNotice is shown above the sign-up form when an organizer previews
// a panel that attendees cannot see yet.
func PreviewNotice(p *models.Panel) string {
	if p.Status == models.PanelPublished {
		return ""
	}
	return "Preview: this panel is not published, so this form does not take registrations yet."
}
