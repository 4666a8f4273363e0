package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// This file holds the owners' admin pages for a person's data: the
// subject access lookup, the erasure, and the retention plan. They mirror
// apiShowPerson and apiErasePerson, audited through the admin channel. The
// address is never written to the audit log nor to the server's log.

// Messages of the people page.
const (
	badPersonEmail = "Enter a valid email address, like name@example.com."
	nothingHeld    = "Podium holds nothing about this address."
	confirmErasure = "Tick the box to confirm the erasure: nothing was erased."
)

// showPerson is GET /admin/people: the lookup form and, with ?email=, what
// Podium holds about the address.
func (h *Handlers) showPerson(c *fiber.Ctx) error {
	setPrivateHeaders(c)
	if !c.Context().QueryArgs().Has("email") {
		return h.renderPerson(c, "", nil, nil)
	}
	return h.lookUpPerson(c, strings.Clone(c.Query("email")), nil)
}

// lookUpPerson shows what Podium holds about email, with errs on the
// erase form, and audits the lookup; a malformed address re-shows the
// form with a message (422).
func (h *Handlers) lookUpPerson(c *fiber.Ctx, email string, errs map[string]string) error {
	data, err := h.store.PersonData(c.UserContext(), email)
	if errors.Is(err, models.ErrNotFound) {
		return h.renderPerson(c, email, nil, map[string]string{"email": badPersonEmail})
	}
	if err != nil {
		return err
	}
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, models.AuditPersonAccessed, "a person's data",
		len(data.Registrations))
	if len(data.Registrations) == 0 {
		// Nothing to erase: the page has no erase form to point errs at.
		errs = nil
	}
	return h.renderPerson(c, email, data, errs)
}

// renderPerson renders the people page, as 422 when errs has messages.
func (h *Handlers) renderPerson(c *fiber.Ctx, email string, data *models.PersonData, errs map[string]string) error {
	page := views.NewPersonPage(h.adminFrame(c, "People's data", views.SectionPeople), email, data, errs)
	return h.renderForm(c, views.PageAdminPeople, page, errs)
}

// erasePerson is POST /admin/people/erase: with confirm=yes, everything
// Podium holds about the address is erased and the page says how much;
// without it, the person's page comes back with a message and nothing is
// erased.
func (h *Handlers) erasePerson(c *fiber.Ctx) error {
	setPrivateHeaders(c)
	email := formText(c, "email")
	if c.FormValue("confirm") != "yes" {
		return h.lookUpPerson(c, email, map[string]string{"confirm": confirmErasure})
	}
	res, err := h.store.ErasePerson(c.UserContext(), email)
	if errors.Is(err, models.ErrNotFound) {
		return h.renderPerson(c, email, nil, map[string]string{"email": badPersonEmail})
	}
	if err != nil {
		return err
	}
	if res.Registrations == 0 && res.OptOuts == 0 {
		h.setFlash(c, nothingHeld, true)
		return c.Redirect(views.PeopleURL, fiber.StatusSeeOther)
	}
	h.changed(true)
	h.audit(c.UserContext(), currentAccount(c), models.ChannelAdmin, models.AuditPersonErased, "a person, on request",
		res.Registrations)
	h.setFlash(c, views.ErasureDone(res.Registrations, len(res.Promoted)), false)
	return c.Redirect(views.PeopleURL, fiber.StatusSeeOther)
}

// showRetention is GET /admin/retention: when each panel's registrants
// are erased.
func (h *Handlers) showRetention(c *fiber.Ctx) error {
	plans, err := h.store.RetentionPlans(c.UserContext())
	if err != nil {
		return err
	}
	page := views.NewRetentionPage(h.adminFrame(c, "Retention plan", views.SectionPeople), plans,
		h.store.RetentionDays(), h.store.Now())
	return h.render(c, views.PageAdminRetention, page)
}
