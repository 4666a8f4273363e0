package views

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"podium/models"
)

// PanelInput is the panel form as typed. Learning points are one per line;
// speakers are rows with a position number that orders them.
type PanelInput struct {
	Title, Slug, Format, Summary, Description string
	LearningPoints                            string
	Speakers                                  []SpeakerInput
	OrganizerName, OrganizerEmail             string
	// Reminders are the ticked lead times, in minutes.
	Reminders []string
	// FollowUps is the follow-up emails' settings as typed.
	FollowUps FollowUpInput
	// Sponsors are rows like speakers; each keeps its id, so the consents
	// given to it stay its own.
	Sponsors []SponsorInput
	// RetentionDays is the panel's own retention; empty takes the site's.
	RetentionDays string
	// Gating: the domain lists one per line, and the two checks.
	BlockedDomains, AllowedDomains string
	ConfirmEmail, RequireApproval  bool
}

// SponsorInput is one sponsor row as typed.
type SponsorInput struct {
	Position, ID, Name, WebsiteURL, PrivacyURL, LogoURL string
	Remove                                              bool
}

func (s SponsorInput) blank() bool {
	return strings.TrimSpace(s.Name+s.WebsiteURL+s.PrivacyURL+s.LogoURL) == ""
}

// FollowUpInput is the panel form's follow-up settings as typed.
type FollowUpInput struct {
	Enabled                   bool
	DelayMinutes              string
	ThanksSubject, ThanksText string
	MissedSubject, MissedText string
}

// SpeakerInput is one speaker row as typed.
type SpeakerInput struct {
	Position, Name, Role, Organisation, Bio string
	Remove                                  bool
}

func (s SpeakerInput) blank() bool {
	return strings.TrimSpace(s.Name+s.Role+s.Organisation+s.Bio) == ""
}

// NewPanelInput is the form filled with a stored panel.
func NewPanelInput(p *models.Panel) PanelInput {
	in := PanelInput{
		Title: p.Title, Slug: p.Slug, Format: p.Format, Summary: p.Summary, Description: p.Description,
		OrganizerName: p.OrganizerName, OrganizerEmail: p.OrganizerEmail,
	}
	points := make([]string, len(p.LearningPoints))
	for i, lp := range p.LearningPoints {
		points[i] = lp.Text
	}
	in.LearningPoints = strings.Join(points, "\n")
	for i, s := range p.Speakers {
		in.Speakers = append(in.Speakers, SpeakerInput{Position: strconv.Itoa(i + 1), Name: s.Name, Role: s.Role,
			Organisation: s.Organisation, Bio: s.Bio})
	}
	for _, m := range p.ReminderMinutes {
		in.Reminders = append(in.Reminders, strconv.Itoa(m))
	}
	for i, s := range p.Sponsors {
		in.Sponsors = append(in.Sponsors, SponsorInput{Position: strconv.Itoa(i + 1), ID: strconv.FormatInt(s.ID, 10),
			Name: s.Name, WebsiteURL: s.WebsiteURL, PrivacyURL: s.PrivacyURL, LogoURL: s.LogoURL})
	}
	if p.RetentionDays != nil {
		in.RetentionDays = strconv.Itoa(*p.RetentionDays)
	}
	in.BlockedDomains = strings.Join(p.BlockedEmailDomains, "\n")
	in.AllowedDomains = strings.Join(p.AllowedEmailDomains, "\n")
	in.ConfirmEmail, in.RequireApproval = p.RequireEmailConfirmation, p.RequireApproval
	f := p.FollowUps
	in.FollowUps = FollowUpInput{Enabled: f.Enabled, DelayMinutes: strconv.Itoa(f.DelayMinutes),
		ThanksSubject: f.ThanksSubject, ThanksText: f.ThanksText, MissedSubject: f.MissedSubject, MissedText: f.MissedText}
	return in
}

// Normalised drops removed and empty speaker rows and orders the rest by
// their position number, renumbering them 1, 2, 3.
func (in PanelInput) Normalised() PanelInput {
	out := in
	out.Speakers = orderRows(in.Speakers,
		func(s SpeakerInput) bool { return !s.Remove && !s.blank() },
		func(s SpeakerInput) string { return s.Position },
		func(s *SpeakerInput, pos string) { s.Position = pos })
	out.Sponsors = orderRows(in.Sponsors,
		func(s SponsorInput) bool { return !s.Remove && !s.blank() },
		func(s SponsorInput) string { return s.Position },
		func(s *SponsorInput, pos string) { s.Position = pos })
	return out
}

// Apply copies the (normalised) form onto p; the panel's status, sessions
// and questions are left as they are.
func (in PanelInput) Apply(p *models.Panel) {
	p.Title, p.Slug, p.Format = in.Title, strings.TrimSpace(in.Slug), strings.TrimSpace(in.Format)
	p.Summary, p.Description = strings.TrimSpace(in.Summary), strings.TrimSpace(in.Description)
	p.OrganizerName, p.OrganizerEmail = strings.TrimSpace(in.OrganizerName), strings.TrimSpace(in.OrganizerEmail)
	p.LearningPoints = nil
	for _, line := range models.ParseLines(in.LearningPoints) {
		p.LearningPoints = append(p.LearningPoints, models.LearningPoint{Text: line})
	}
	p.Speakers = nil
	for _, s := range in.Speakers {
		p.Speakers = append(p.Speakers, models.Speaker{Name: strings.TrimSpace(s.Name), Role: strings.TrimSpace(s.Role),
			Organisation: strings.TrimSpace(s.Organisation), Bio: strings.TrimSpace(s.Bio)})
	}
	p.ReminderMinutes = models.Minutes{}
	for _, r := range in.Reminders {
		if m, err := strconv.Atoi(r); err == nil {
			p.ReminderMinutes = append(p.ReminderMinutes, m)
		}
	}
	p.Sponsors = nil
	for _, s := range in.Sponsors {
		id, _ := strconv.ParseInt(s.ID, 10, 64) // not one of the panel's: a new sponsor
		p.Sponsors = append(p.Sponsors, models.Sponsor{ID: id, Name: s.Name, WebsiteURL: s.WebsiteURL,
			PrivacyURL: s.PrivacyURL, LogoURL: s.LogoURL})
	}
	p.Gating = models.Gating{BlockedEmailDomains: models.ParseLines(in.BlockedDomains),
		AllowedEmailDomains: models.ParseLines(in.AllowedDomains), RequireEmailConfirmation: in.ConfirmEmail,
		RequireApproval: in.RequireApproval}
	p.RetentionDays = nil
	if strings.TrimSpace(in.RetentionDays) != "" {
		days, ok := wholeNumber(in.RetentionDays)
		if !ok {
			days = -1 // refused by the model's check, with its message
		}
		p.RetentionDays = &days
	}
	f := in.FollowUps
	delay, ok := wholeNumber(f.DelayMinutes)
	switch {
	case strings.TrimSpace(f.DelayMinutes) == "":
		delay = models.DefaultFollowUps.DelayMinutes
	case !ok:
		delay = -1 // refused by the model's check, with its message
	}
	p.FollowUps = models.FollowUpSettings{Enabled: f.Enabled, DelayMinutes: delay,
		ThanksSubject: f.ThanksSubject, ThanksText: f.ThanksText, MissedSubject: f.MissedSubject, MissedText: f.MissedText}
}

// PanelFormPage creates or edits a panel.
type PanelFormPage struct {
	AdminPage
	Heading   string
	Action    string
	Submit    string
	CSRFToken string
	Errors    []FieldError
	Main      []Field
	Points    Field
	Speakers  []SpeakerRow
	Organizer []Field
	Reminders Field
	FollowUps []Field
	Sponsors  []SponsorRow
	Retention Field
	Gating    []Field
}

// gatingFields are who may register through the public form, and how.
func gatingFields(in PanelInput, errs map[string]string) []Field {
	blocked := newField("blocked_email_domains", "Refuse addresses at these domains", "textarea", in.BlockedDomains, errs)
	blocked.Rows, blocked.Hint = 3, "One per line, like gmail.com; a domain covers its subdomains. The form tells people plainly why an address is refused, and stores nothing."
	allowed := newField("allowed_email_domains", "Take only addresses at these domains", "textarea", in.AllowedDomains, errs)
	allowed.Rows, allowed.Hint = 3, "One per line. Leave empty to take every domain not refused above."
	confirm := newField("require_email_confirmation", "Ask people to confirm their email address", "checkbox", "", errs)
	confirm.Checked = in.ConfirmEmail
	confirm.Hint = "Their place is held for 48 hours until they click the link we email them; then it is freed for the waitlist."
	approval := newField("require_approval", "Approve each registration yourself", "checkbox", "", errs)
	approval.Checked = in.RequireApproval
	approval.Hint = "Registrations wait, without a seat, until you approve or decline them on the registrants page; each decision is emailed."
	return []Field{blocked, allowed, confirm, approval}
}

// SponsorRow is one sponsor's fieldset; IDName and ID carry its id.
type SponsorRow struct {
	SpeakerRow
	IDName, ID string
}

// blankSponsorRows is how many empty sponsor rows the form offers.
const blankSponsorRows = 1

// SpeakerRow is one speaker's fieldset.
type SpeakerRow struct {
	Legend string
	Fields []Field
	Remove *Field
}

// blankSpeakerRows is how many empty speaker rows the form offers.
const blankSpeakerRows = 2

// reminderChoices are the lead times the form offers, in minutes.
var reminderChoices = []int{7 * 24 * 60, 24 * 60, 3 * 60, 60, 15}

// NewPanelFormPage builds the panel form with what was typed and its messages.
func NewPanelFormPage(frame AdminPage, site Site, heading, action, submit string, in PanelInput, errs map[string]string) PanelFormPage {
	page := PanelFormPage{AdminPage: frame, Heading: heading, Action: action, Submit: submit, CSRFToken: frame.CSRFToken}
	errs = panelFormErrors(errs, in)
	title := newField("title", "Title", "text", in.Title, errs)
	title.Required, title.MaxLength = true, 200
	slug := newField("slug", "Web address", "text", in.Slug, errs)
	slug.MaxLength, slug.Hint = 80, "The end of the panel's link: "+site.URL("/panels/")+"… Lower-case letters, digits and dashes. Leave it empty to make one from the title."
	format := newField("format", "Format", "text", in.Format, errs)
	format.Hint = "Shown above the title, e.g. Free virtual panel discussion."
	summary := newField("summary", "Summary", "textarea", in.Summary, errs)
	summary.Rows, summary.Hint = 2, "One or two sentences for the panel list and link previews."
	description := newField("description", "Description", "textarea", in.Description, errs)
	description.Rows = 8
	page.Main = []Field{title, slug, format, summary, description}

	page.Points = newField("learning_points", "Key learning points", "textarea", in.LearningPoints, errs)
	page.Points.Rows, page.Points.Hint = 5, "One per line, in the order to show them. To reorder, move the lines."

	for i, s := range in.Speakers {
		page.Speakers = append(page.Speakers, newSpeakerRow(i, s, errs, true))
	}
	for i := len(in.Speakers); i < len(in.Speakers)+blankSpeakerRows; i++ {
		page.Speakers = append(page.Speakers, newSpeakerRow(i, SpeakerInput{}, errs, false))
	}

	orgName := newField("organizer_name", "Organizer name", "text", in.OrganizerName, errs)
	orgName.Hint = "Shown on the panel page and in invites."
	orgEmail := newField("organizer_email", "Organizer email", "email", in.OrganizerEmail, errs)
	orgEmail.MaxLength, orgEmail.Hint = models.MaxEmailLength, "Calendar invites name this address as the organizer."
	page.Organizer = []Field{orgName, orgEmail}
	page.Reminders = reminderField(in.Reminders, errs)
	for i, s := range in.Sponsors {
		page.Sponsors = append(page.Sponsors, newSponsorRow(i, s, errs, true))
	}
	for i := len(in.Sponsors); i < len(in.Sponsors)+blankSponsorRows; i++ {
		page.Sponsors = append(page.Sponsors, newSponsorRow(i, SponsorInput{}, errs, false))
	}
	page.Gating = gatingFields(in, errs)
	page.Retention = newField("retention_days", "Keep registrants for (days)", "number", in.RetentionDays, errs)
	page.Retention.Min, page.Retention.Max = "1", "3650"
	page.Retention.Hint = "How long after the panel's last session ends its registrants are kept before they are erased. Leave empty for the site's default."

	page.FollowUps = followUpFields(in.FollowUps, errs)
	page.Errors = ErrorSummary(errs, "title", "slug", "format", "summary", "description", "learning_points",
		"organizer_name", "organizer_email", "reminder_minutes", "follow_ups.enabled", "follow_ups.delay_minutes",
		"follow_ups.thanks_subject", "follow_ups.thanks_text", "follow_ups.missed_subject", "follow_ups.missed_text",
		"sponsors", "blocked_email_domains", "allowed_email_domains", "retention_days", "status")
	page.AdminPage = page.AdminPage.WithErrors(page.Errors)
	return page
}

// followUpFields are the follow-up emails' settings on the panel form.
func followUpFields(in FollowUpInput, errs map[string]string) []Field {
	enabled := newField("follow_ups.enabled", "Send follow-up emails after each session", "checkbox", "", errs)
	enabled.Checked = in.Enabled
	enabled.Hint = "Attendees get a thank-you, everyone else a \"sorry we missed you\", both with the recording's link when there is one."
	delay := newField("follow_ups.delay_minutes", "Minutes after the session ends", "number", in.DelayMinutes, errs)
	delay.Min, delay.Max = "0", "20160"
	delay.Hint = "They go sooner once you import an attendance report. Up to 14 days (20160 minutes)."
	thanksSubject := newField("follow_ups.thanks_subject", "Subject of the thank-you", "text", in.ThanksSubject, errs)
	thanksSubject.MaxLength, thanksSubject.Hint = 200, "Leave empty for \"Thank you for attending: \" and the title."
	thanksText := newField("follow_ups.thanks_text", "Text of the thank-you", "textarea", in.ThanksText, errs)
	thanksText.Rows, thanksText.MaxLength, thanksText.Hint = 4, 5000, "Paragraphs separated by a blank line. Leave empty for Podium's wording."
	missedSubject := newField("follow_ups.missed_subject", "Subject of the \"sorry we missed you\"", "text", in.MissedSubject, errs)
	missedSubject.MaxLength, missedSubject.Hint = 200, "Leave empty for \"Sorry we missed you: \" and the title."
	missedText := newField("follow_ups.missed_text", "Text of the \"sorry we missed you\"", "textarea", in.MissedText, errs)
	missedText.Rows, missedText.MaxLength, missedText.Hint = 4, 5000, "Paragraphs separated by a blank line. Leave empty for Podium's wording."
	return []Field{enabled, delay, thanksSubject, thanksText, missedSubject, missedText}
}

// panelFormErrors files the model's messages under the form's controls: a
// learning point's message under the one textarea, naming the line; and no
// message for an empty address when the title it is made from is missing,
// since it would only repeat the title's.
func panelFormErrors(errs map[string]string, in PanelInput) map[string]string {
	out := maps.Clone(errs)
	if _, noTitle := errs["title"]; noTitle && strings.TrimSpace(in.Slug) == "" {
		delete(out, "slug")
	}
	for _, key := range slices.Sorted(maps.Keys(errs)) {
		rest, ok := strings.CutPrefix(key, "learning_points[")
		if !ok {
			continue
		}
		delete(out, key)
		n, err := strconv.Atoi(strings.TrimSuffix(rest, "]"))
		if _, seen := out["learning_points"]; !seen && err == nil {
			out["learning_points"] = fmt.Sprintf("Line %d: %s", n+1, errs[key])
		}
	}
	return out
}

func newSpeakerRow(i int, s SpeakerInput, errs map[string]string, filled bool) SpeakerRow {
	r := rowFields{group: "speakers", index: i, errs: errs}
	bio := r.field("bio", "Short biography", "textarea", s.Bio)
	bio.Rows = 3
	row := SpeakerRow{Legend: fmt.Sprintf("Speaker %d", i+1), Fields: []Field{
		r.position(s.Position, filled), r.field("name", "Name", "text", s.Name), r.field("role", "Role", "text", s.Role),
		r.field("organisation", "Organisation", "text", s.Organisation), bio,
	}}
	if filled {
		row.Remove = r.remove("Remove this speaker", "")
	} else {
		row.Legend = "Add a speaker"
	}
	return row
}

func newSponsorRow(i int, s SponsorInput, errs map[string]string, filled bool) SponsorRow {
	r := rowFields{group: "sponsors", index: i, errs: errs}
	privacy := r.field("privacy_url", "Privacy policy (https://…)", "url", s.PrivacyURL)
	privacy.Hint = "Linked beside the sponsor's consent box: people read it before they agree."
	logo := r.field("logo_url", "Logo", "text", s.LogoURL)
	logo.Hint = "Optional. Public pages show it only when this site serves it (a path such as /public/img/acme.png)."
	row := SponsorRow{IDName: r.key("id"), ID: s.ID, SpeakerRow: SpeakerRow{Legend: fmt.Sprintf("Sponsor %d", i+1),
		Fields: []Field{r.position(s.Position, filled), r.field("name", "Name", "text", s.Name),
			r.field("website_url", "Website (https://…)", "url", s.WebsiteURL), privacy, logo}}}
	if filled {
		row.Remove = r.remove("Remove this sponsor", "Consents already given to it stay on record; no one new can give one.")
	} else {
		row.Legend = "Add a sponsor"
	}
	return row
}

// reminderField is the group of reminder checkboxes: the usual lead times
// and any others the panel already has.
func reminderField(ticked []string, errs map[string]string) Field {
	f := newField("reminder_minutes", "Email reminders to registrants", "checkboxes", "", errs)
	f.Hint = "Sent to everyone with a place, before each session. At most five."
	choices := slices.Clone(reminderChoices)
	for _, t := range ticked {
		if m, err := strconv.Atoi(t); err == nil && !slices.Contains(choices, m) {
			choices = append(choices, m)
		}
	}
	slices.SortFunc(choices, func(a, b int) int { return cmp.Compare(b, a) })
	for _, m := range choices {
		v := strconv.Itoa(m)
		f.Options = append(f.Options, Option{Value: v, Label: leadLabel(m) + " before", Selected: slices.Contains(ticked, v)})
	}
	return f
}

// leadLabel writes a lead time in the largest whole unit: "1 week", "3 hours".
func leadLabel(minutes int) string {
	switch {
	case minutes%(7*24*60) == 0:
		return plural(minutes/(7*24*60), "week", "weeks")
	case minutes%(24*60) == 0:
		return plural(minutes/(24*60), "day", "days")
	case minutes%60 == 0:
		return plural(minutes/60, "hour", "hours")
	default:
		return plural(minutes, "minute", "minutes")
	}
}
