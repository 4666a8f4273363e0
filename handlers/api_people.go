package handlers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// This file holds the organizer's data duties in the API: a sponsor's
// leads, and a person's data (access and erasure). Each is audited.

// leadJSON is a sponsor's lead: what the person agreed to share.
type leadJSON struct {
	RegistrationID  int64   `json:"registration_id"`
	Name            string  `json:"name"`
	Email           string  `json:"email"`
	Organisation    string  `json:"organisation"`
	JobTitle        string  `json:"job_title"`
	Status          string  `json:"status"`
	RegisteredAt    string  `json:"registered_at"`
	SessionID       int64   `json:"session_id"`
	SessionStartsAt string  `json:"session_starts_at"`
	Attendance      string  `json:"attendance"`
	AttendedMinutes *int    `json:"attended_minutes"`
	WatchedAt       *string `json:"watched_at"`
	firstTouchJSON
	Answers        []answerJSON `json:"answers"`
	ConsentGivenAt string       `json:"consent_given_at"`
	// ConsentVersion is the version of the wording the person agreed to.
	ConsentVersion int64 `json:"consent_version"`
}

// leadsJSON is a sponsor's leads, with the sponsor.
type leadsJSON struct {
	Sponsor sponsorJSON `json:"sponsor"`
	PanelID int64       `json:"panel_id"`
	Leads   []leadJSON  `json:"leads"`
}

// apiSponsorLeads answers GET /api/v1/panels/{id}/sponsors/{sponsor_id}/leads:
// the registrants whose consent to share their details with the sponsor
// stands now, as CSV when asked (Accept: text/csv), else JSON.
func (h *Handlers) apiSponsorLeads(c *fiber.Ctx) error {
	return h.sendLeads(c, models.ChannelAPI, c.Accepts(fiber.MIMEApplicationJSON, "text/csv") == "text/csv")
}

// downloadLeads is the admin's download of a sponsor's leads, as CSV.
func (h *Handlers) downloadLeads(c *fiber.Ctx) error {
	return h.sendLeads(c, models.ChannelAdmin, true)
}

// sendLeads answers a leads download through channel, as CSV or JSON, and
// audits it.
func (h *Handlers) sendLeads(c *fiber.Ctx, channel models.Channel, asCSV bool) error {
	panelID, err := apiID(c)
	if err != nil {
		return err
	}
	sponsorID, err := strconv.ParseInt(c.Params("sponsor_id"), 10, 64)
	if err != nil || sponsorID <= 0 {
		return models.NotFoundAs(models.ErrNotFound, "sponsor", 0)
	}
	p, err := h.store.PanelByID(c.UserContext(), panelID)
	if err != nil {
		return models.NotFoundAs(err, "panel", panelID)
	}
	sp, leads, err := h.store.SponsorLeads(c.UserContext(), panelID, sponsorID)
	if err != nil {
		return models.NotFoundAs(err, "sponsor", sponsorID)
	}
	h.audit(c.UserContext(), currentAccount(c), channel, models.AuditLeadsExported,
		fmt.Sprintf("leads of sponsor %d (%s) of panel %d (%s)", sp.ID, sp.Name, p.ID, p.Slug), len(leads))
	setPrivateHeaders(c)
	if asCSV {
		return sendLeadsCSV(c, p, sp, leads)
	}
	kinds := questionKinds(p)
	out := leadsJSON{PanelID: p.ID, Leads: make([]leadJSON, len(leads)),
		Sponsor: sponsorJSON{ID: sp.ID, Name: sp.Name, WebsiteURL: sp.WebsiteURL, PrivacyURL: sp.PrivacyURL, LogoURL: sp.LogoURL}}
	for i := range leads {
		l := &leads[i]
		r := toRegistrationJSON(&l.Registration, kinds)
		out.Leads[i] = leadJSON{RegistrationID: r.ID, Name: r.Name, Email: r.Email, Organisation: r.Organisation,
			JobTitle: r.JobTitle, Status: r.Status, RegisteredAt: r.CreatedAt, SessionID: r.SessionID,
			Attendance: r.Attendance, AttendedMinutes: r.AttendedMinutes, WatchedAt: r.WatchedAt,
			firstTouchJSON: r.firstTouchJSON, Answers: r.Answers,
			ConsentGivenAt: rfc3339(l.ConsentGivenAt), ConsentVersion: l.ConsentTextID}
		if l.Session != nil {
			out.Leads[i].SessionStartsAt = rfc3339(l.Session.StartsAt)
		}
	}
	return c.JSON(out)
}

// sendLeadsCSV writes the leads as a formula-safe CSV download.
func sendLeadsCSV(c *fiber.Ctx, p *models.Panel, sp *models.Sponsor, leads []models.Lead) error {
	export := views.NewLeadsCSV(p.Questions)
	var buf bytes.Buffer
	buf.WriteString(views.CSVBOM)
	out := csv.NewWriter(&buf)
	out.UseCRLF = true
	_ = out.Write(export.Header())
	for i := range leads {
		_ = out.Write(export.Row(&leads[i]))
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s-leads.csv"`,
		p.Slug, models.Slugify(sp.Name)))
	return c.Send(buf.Bytes())
}

// personJSON is everything Podium holds about an address.
type personJSON struct {
	Email         string                   `json:"email"`
	Registrations []personRegistrationJSON `json:"registrations"`
	OptOuts       []optOutJSON             `json:"opt_outs"`
}

// personRegistrationJSON is one of a person's registrations.
type personRegistrationJSON struct {
	registrationJSON
	PanelID    int64         `json:"panel_id"`
	PanelTitle string        `json:"panel_title"`
	Consents   []consentJSON `json:"consents"`
	Emails     []emailJSON   `json:"emails"`
}

// consentJSON is a consent as it stands.
type consentJSON struct {
	Purpose   string `json:"purpose"`
	SponsorID *int64 `json:"sponsor_id"`
	Sponsor   string `json:"sponsor,omitempty"`
	Given     bool   `json:"given"`
	GivenAt   string `json:"given_at"`
	// WithdrawnAt is when a consent that no longer stands was withdrawn.
	WithdrawnAt *string `json:"withdrawn_at"`
	Channel     string  `json:"channel"`
	Wording     string  `json:"wording"`
	Version     int64   `json:"wording_version"`
}

// emailJSON is an email sent or queued to a registration.
type emailJSON struct {
	Kind      string  `json:"kind"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
	SentAt    *string `json:"sent_at"`
}

// optOutJSON is a panel whose reminders the address stopped.
type optOutJSON struct {
	PanelID   int64  `json:"panel_id"`
	CreatedAt string `json:"created_at"`
}

// personEmail reads the {email} of /people/{email}: Fiber leaves it
// percent-encoded.
func personEmail(c *fiber.Ctx) (string, error) {
	email, err := url.PathUnescape(c.Params("email"))
	if err != nil || email == "" {
		return "", fiber.NewError(fiber.StatusBadRequest, "The address in the path does not decode: percent-encode it.")
	}
	return email, nil
}

// errBadPersonEmail answers a malformed address in /people/{email}.
var errBadPersonEmail = fiber.NewError(fiber.StatusBadRequest,
	"Give a valid email address, like name@example.com, percent-encoded.")

// apiShowPerson answers GET /api/v1/people/{email} (owners only): a subject
// access request's answer. An address Podium does not hold answers 404.
func (h *Handlers) apiShowPerson(c *fiber.Ctx) error {
	email, err := personEmail(c)
	if err != nil {
		return err
	}
	data, err := h.store.PersonData(c.UserContext(), email)
	if errors.Is(err, models.ErrNotFound) {
		return errBadPersonEmail
	}
	if err != nil {
		return err
	}
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAPI, models.AuditPersonAccessed, "a person's data",
		len(data.Registrations))
	setPrivateHeaders(c)
	if len(data.Registrations) == 0 && len(data.OptOuts) == 0 {
		return fiber.NewError(fiber.StatusNotFound, "Podium holds nothing about this address.")
	}
	return c.JSON(toPersonJSON(data))
}

func toPersonJSON(data *models.PersonData) personJSON {
	out := personJSON{Email: data.Email, Registrations: make([]personRegistrationJSON, 0, len(data.Registrations)),
		OptOuts: make([]optOutJSON, 0, len(data.OptOuts))}
	for i := range data.Registrations {
		pr := &data.Registrations[i]
		var kinds map[int64]models.QuestionKind
		r := personRegistrationJSON{Consents: make([]consentJSON, 0, len(pr.Consents)),
			Emails: make([]emailJSON, 0, len(pr.Emails))}
		if pr.Session != nil && pr.Session.Panel != nil {
			r.PanelID, r.PanelTitle = pr.Session.Panel.ID, pr.Session.Panel.Title
			kinds = questionKinds(pr.Session.Panel)
		}
		r.registrationJSON = toRegistrationJSON(&pr.Registration, kinds)
		for _, st := range pr.Consents {
			cj := consentJSON{Purpose: string(st.Purpose), SponsorID: st.SponsorID, Sponsor: st.SponsorName,
				Given: st.Given, GivenAt: rfc3339(st.GivenAt), Channel: string(st.Channel), Wording: st.Text,
				Version: st.ConsentTextID}
			if !st.Given {
				cj.WithdrawnAt = rfc3339Ptr(&st.CreatedAt)
			}
			r.Consents = append(r.Consents, cj)
		}
		for _, m := range pr.Emails {
			r.Emails = append(r.Emails, emailJSON{Kind: string(m.Kind), Status: string(m.Status),
				CreatedAt: rfc3339(m.CreatedAt), SentAt: rfc3339Ptr(m.SentAt)})
		}
		out.Registrations = append(out.Registrations, r)
	}
	for _, o := range data.OptOuts {
		out.OptOuts = append(out.OptOuts, optOutJSON{PanelID: o.PanelID, CreatedAt: rfc3339(o.CreatedAt)})
	}
	return out
}

// erasureJSON is what an erasure did.
type erasureJSON struct {
	Erased   int `json:"erased"`
	Promoted int `json:"promoted"`
}

// apiErasePerson answers DELETE /api/v1/people/{email} (owners only):
// everything held about the address is erased; an address Podium does not
// hold answers 404.
func (h *Handlers) apiErasePerson(c *fiber.Ctx) error {
	email, err := personEmail(c)
	if err != nil {
		return err
	}
	res, err := h.store.ErasePerson(c.UserContext(), email)
	if errors.Is(err, models.ErrNotFound) {
		return errBadPersonEmail
	}
	if err != nil {
		return err
	}
	if res.Registrations == 0 && res.OptOuts == 0 {
		return fiber.NewError(fiber.StatusNotFound, "Podium holds nothing about this address.")
	}
	h.changed(true)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAPI, models.AuditPersonErased, "a person, on request",
		res.Registrations)
	return c.JSON(erasureJSON{Erased: res.Registrations, Promoted: len(res.Promoted)})
}
