package handlers

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// createRegistration handles the sign-up form.
func (h *Handlers) createRegistration(c *fiber.Ctx) error {
	ctx := c.UserContext()
	slug := strings.Clone(c.Params("slug"))
	panelID, err := h.store.PublishedPanelID(ctx, slug)
	if err != nil {
		return err
	}
	if c.FormValue("website") != "" {
		// The honeypot field is hidden from people; only bots fill it in.
		return h.renderMessage(c, fiber.StatusBadRequest, "We could not accept this form",
			"Please go back, reload the page and try again.")
	}
	values := formValues(c)
	res, err := h.store.Register(ctx, panelID, values)
	var verr *models.ValidationError
	if errors.As(err, &verr) {
		panel, err := h.store.PublishedPanel(ctx, slug)
		if err != nil {
			return err
		}
		form := views.RegistrationForm{CSRFToken: csrfToken(c), Errors: verr.Fields, Values: values}
		c.Status(fiber.StatusUnprocessableEntity)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return h.render(c, views.PagePanel, views.NewPanelPage(panel, h.store.Now(), form))
	}
	if err != nil {
		return err
	}
	h.registered(res)
	h.log.Info("registration", "panel", slug, "session", values.SessionID,
		"status", res.Registration.Status, "duplicate", res.Duplicate)
	return c.Redirect(views.RegistrationURL(res.Token), fiber.StatusSeeOther)
}

// formValues copies the sign-up form out of Fiber's reused request memory.
func formValues(c *fiber.Ctx) views.FormValues {
	sessionID, _ := strconv.ParseInt(c.FormValue("session"), 10, 64)
	consent := c.FormValue("consent")
	marketing := c.FormValue("marketing")
	form := posted(c)
	return views.FormValues{
		SessionID:    sessionID,
		Name:         strings.Clone(c.FormValue("name")),
		Email:        strings.Clone(c.FormValue("email")),
		Organisation: strings.Clone(c.FormValue("organisation")),
		JobTitle:     strings.Clone(c.FormValue("job_title")),
		Consent:      consent == "yes" || consent == "on" || consent == "true",
		Marketing:    marketing != "",
		Sponsors:     formSponsors(form),
		Source:       strings.Clone(c.FormValue("utm_source")),
		Medium:       strings.Clone(c.FormValue("utm_medium")),
		Campaign:     strings.Clone(c.FormValue("utm_campaign")),
		Term:         strings.Clone(c.FormValue("utm_term")),
		Content:      strings.Clone(c.FormValue("utm_content")),
		Referrer:     strings.Clone(c.FormValue("referrer")),
		Answers:      formAnswers(form),
	}
}

// wordingVersion reads a consent checkbox's value: the version of the
// wording the page showed, or 0 (the current one) for any other value.
func wordingVersion(value string) int64 {
	id, err := strconv.ParseInt(value, 10, 64)
	if err != nil || id < 0 {
		return 0
	}
	return id
}

// maxSponsorFields bounds how many sponsor_<id> boxes a form may send.
const maxSponsorFields = 20

// formSponsors reads the ticked sponsor boxes, sent as sponsor_<id> fields
// whose value is the version of the wording shown.
func formSponsors(form postedForm) map[int64]int64 {
	var ticked map[int64]int64
	form.visit(func(key string) {
		idText, ok := strings.CutPrefix(key, "sponsor_")
		if !ok {
			return
		}
		id, err := strconv.ParseInt(idText, 10, 64)
		if _, seen := ticked[id]; err != nil || id <= 0 || seen || len(ticked) >= maxSponsorFields {
			return
		}
		if values := form.values(key); len(values) > 0 && values[0] != "" {
			if ticked == nil {
				ticked = map[int64]int64{}
			}
			ticked[id] = wordingVersion(values[0])
		}
	})
	return ticked
}

// maxAnswerFields bounds how many q_<id> fields a form may send.
const maxAnswerFields = models.MaxQuestions + 10

// formAnswers copies the custom questions' answers, sent as q_<id> fields
// (a multiple choice question sends one field per chosen option), out of
// Fiber's reused request memory.
func formAnswers(form postedForm) map[int64][]string {
	answers := map[int64][]string{}
	form.visit(func(key string) {
		idText, ok := strings.CutPrefix(key, "q_")
		id, err := strconv.ParseInt(idText, 10, 64)
		if !ok || err != nil || id <= 0 || answers[id] != nil || len(answers) >= maxAnswerFields {
			return
		}
		answers[id] = form.values(key)
	})
	return answers
}

// showRegistration renders the registrant's own page.
func (h *Handlers) showRegistration(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, err := h.store.RegistrationByToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	links, err := h.store.LinksFor(c.UserContext(), reg)
	if err != nil {
		return err
	}
	consents, err := h.store.Consents(c.UserContext(), reg.ID)
	if err != nil {
		return err
	}
	page := views.NewRegistrationPage(h.site, reg, token, links, csrfToken(c), h.store.Now())
	page.Consents = views.NewConsentViews(consents)
	switch {
	case c.Query("cancelled") == "1" && page.Cancelled:
		page.Flash = "Your registration has been cancelled."
	case c.Query("confirmed") == "1" && !page.Unconfirmed:
		page.Flash = "Thank you: your email address is confirmed."
	case c.Query("withdrawn") == "1":
		page.Flash = "Done: you have withdrawn your consent. Nothing more is shared on its strength."
	}
	setPrivateHeaders(c)
	return h.render(c, views.PageRegistration, page)
}

// cancelRegistration cancels the registration behind a manage link.
func (h *Handlers) cancelRegistration(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	res, err := h.store.CancelByToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	h.changed(true)
	h.log.Info("cancellation", "registration", res.Registration.ID, "promoted", res.Promoted != nil)
	return c.Redirect(views.RegistrationURL(token)+"?cancelled=1", fiber.StatusSeeOther)
}

// withdrawConsent withdraws one of the registration's consents, named by
// the form's purpose and sponsor fields.
func (h *Handlers) withdrawConsent(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, err := h.store.RegistrationByToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	sponsorID, err := strconv.ParseInt(c.FormValue("sponsor", "0"), 10, 64)
	if err != nil || sponsorID < 0 {
		return h.renderMessage(c, fiber.StatusBadRequest, "We could not withdraw that",
			"The form named no consent we know. Go back to your page, reload it and try again.")
	}
	purpose := models.ConsentPurpose(c.FormValue("purpose"))
	withdrawn, err := h.store.WithdrawConsent(c.UserContext(), reg.ID, purpose, sponsorID, models.ChannelManage)
	switch {
	case errors.Is(err, models.ErrConsentRequired):
		return h.renderMessage(c, fiber.StatusUnprocessableEntity, "This one goes with your place",
			"We need your details to manage your place. To withdraw this consent, delete your data from your page.")
	case errors.Is(err, models.ErrNotFound):
		return h.renderMessage(c, fiber.StatusBadRequest, "We could not withdraw that",
			"The form named no consent you gave. Go back to your page, reload it and try again.")
	case err != nil:
		return err
	}
	h.log.Info("consent withdrawn", "registration", reg.ID, "purpose", purpose, "sponsor", sponsorID, "was_current", withdrawn)
	return c.Redirect(views.RegistrationURL(token)+"?withdrawn=1", fiber.StatusSeeOther)
}

// confirmEmail confirms the address of the registration behind the manage
// link: the link in the confirmation email leads to the page with this
// button, so a mail scanner that follows links confirms nothing.
func (h *Handlers) confirmEmail(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, err := h.store.ConfirmEmail(c.UserContext(), token)
	if err != nil {
		return err
	}
	h.changed(true)
	h.log.Info("email confirmed", "registration", reg.ID, "status", reg.Status)
	return c.Redirect(views.RegistrationURL(token)+"?confirmed=1", fiber.StatusSeeOther)
}

// showErase asks the person to confirm the deletion of their data.
func (h *Handlers) showErase(c *fiber.Ctx) error {
	token := strings.Clone(c.Params("token"))
	reg, err := h.store.RegistrationByToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	setPrivateHeaders(c)
	return h.render(c, views.PageErase, views.ErasePage{
		Page:         views.Page{Title: "Delete your data", NoIndex: true},
		Registration: reg, Panel: reg.Session.Panel, CSRFToken: csrfToken(c),
		EraseAction: views.RegistrationURL(token) + "/erase", BackURL: views.RegistrationURL(token),
	})
}

// eraseRegistration erases everything held about the address of the
// registration behind the manage link, once the person confirmed.
func (h *Handlers) eraseRegistration(c *fiber.Ctx) error {
	if c.FormValue("confirm") != "yes" {
		return h.showErase(c)
	}
	token := strings.Clone(c.Params("token"))
	res, err := h.store.EraseByToken(c.UserContext(), token)
	if err != nil {
		return err
	}
	h.changed(true)
	if err := h.store.Audit(c.UserContext(), models.AuditEntry{Actor: "the person, from their own page",
		Channel: models.ChannelManage, Action: models.AuditPersonErased, Subject: "a person, at their request",
		RowCount: res.Registrations}); err != nil {
		h.log.Error("could not write the audit log", "action", models.AuditPersonErased, "err", err)
	}
	h.log.Info("person erased from their page", "registrations", res.Registrations, "promoted", len(res.Promoted))
	setPrivateHeaders(c)
	return h.renderMessage(c, fiber.StatusOK, "Your data has been deleted",
		"We no longer hold your name, email address, organisation, answers or choices. Thank you for your interest.")
}

// setPrivateHeaders keeps a page behind a secret link out of caches, search
// engines and other sites' Referer logs.
func setPrivateHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set("X-Robots-Tag", "noindex, nofollow")
}
