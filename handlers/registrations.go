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
	return views.FormValues{
		SessionID:    sessionID,
		Name:         strings.Clone(c.FormValue("name")),
		Email:        strings.Clone(c.FormValue("email")),
		Organisation: strings.Clone(c.FormValue("organisation")),
		JobTitle:     strings.Clone(c.FormValue("job_title")),
		Consent:      consent == "yes" || consent == "on" || consent == "true",
		Source:       strings.Clone(c.FormValue("utm_source")),
		Referrer:     strings.Clone(c.FormValue("referrer")),
		Answers:      formAnswers(c),
	}
}

// maxAnswerFields bounds how many q_<id> fields a form may send.
const maxAnswerFields = models.MaxQuestions + 10

// formAnswers copies the custom questions' answers, sent as q_<id> fields
// (a multiple choice question sends one field per chosen option), out of
// Fiber's reused request memory.
func formAnswers(c *fiber.Ctx) map[int64][]string {
	args := c.Request().PostArgs()
	answers := map[int64][]string{}
	args.VisitAll(func(key, _ []byte) {
		idText, ok := strings.CutPrefix(string(key), "q_")
		id, err := strconv.ParseInt(idText, 10, 64)
		if !ok || err != nil || id <= 0 || answers[id] != nil || len(answers) >= maxAnswerFields {
			return
		}
		for _, v := range args.PeekMulti(string(key)) {
			answers[id] = append(answers[id], string(v))
		}
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
	page := views.NewRegistrationPage(h.site, reg, token, links, csrfToken(c), h.store.Now())
	if c.Query("cancelled") == "1" && page.Cancelled {
		page.Flash = "Your registration has been cancelled."
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

// setPrivateHeaders keeps a page behind a secret link out of caches, search
// engines and other sites' Referer logs.
func setPrivateHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set("X-Robots-Tag", "noindex, nofollow")
}
