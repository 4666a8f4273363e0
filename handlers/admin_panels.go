package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// maxFormRows bounds the repeated rows (speakers, questions) read from a form.
const maxFormRows = 100

// listPanels lists every panel with its numbers.
func (h *Handlers) listPanels(c *fiber.Ctx) error {
	panels, err := h.store.AdminPanels(c.UserContext())
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, "Panels", views.SectionPanels)
	return h.render(c, views.PageAdminPanels, views.NewPanelsPage(frame, panels, h.store.Now()))
}

// newPanel shows an empty panel form, with the default reminders ticked.
func (h *Handlers) newPanel(c *fiber.Ctx) error {
	in := views.NewPanelInput(&models.Panel{ReminderMinutes: models.DefaultReminders, FollowUps: models.DefaultFollowUps})
	return h.renderPanelForm(c, nil, in, nil)
}

// renderPanelForm renders the create form (p nil) or the edit form of p.
func (h *Handlers) renderPanelForm(c *fiber.Ctx, p *models.Panel, in views.PanelInput, errs map[string]string) error {
	heading, action, submit := "Create a panel", "/admin/panels", "Create panel"
	var crumbs []views.Link
	if p != nil {
		heading, action, submit = "Edit "+p.Title, views.AdminPanelURL(p.ID), "Save changes"
		crumbs = []views.Link{{URL: views.AdminPanelURL(p.ID), Text: p.Title}}
	}
	frame := h.adminFrame(c, heading, views.SectionPanels)
	frame.Crumbs = append([]views.Link{{URL: "/admin/panels", Text: "Panels"}}, crumbs...)
	page := views.NewPanelFormPage(frame, h.site, heading, action, submit, in, errs)
	return h.renderForm(c, views.PageAdminPanelForm, page, errs)
}

// panelInput copies the panel form out of the request.
func panelInput(c *fiber.Ctx) views.PanelInput {
	in := views.PanelInput{
		Title: formText(c, "title"), Slug: formText(c, "slug"), Format: formText(c, "format"),
		Summary: formText(c, "summary"), Description: formText(c, "description"),
		LearningPoints: formText(c, "learning_points"), OrganizerName: formText(c, "organizer_name"),
		OrganizerEmail: formText(c, "organizer_email"), Reminders: formList(c, "reminder_minutes"),
		FollowUps: views.FollowUpInput{
			Enabled: c.FormValue("follow_ups.enabled") != "", DelayMinutes: formText(c, "follow_ups.delay_minutes"),
			ThanksSubject: formText(c, "follow_ups.thanks_subject"), ThanksText: formText(c, "follow_ups.thanks_text"),
			MissedSubject: formText(c, "follow_ups.missed_subject"), MissedText: formText(c, "follow_ups.missed_text"),
		},
	}
	form := posted(c)
	form.rows("speakers", func(key string) {
		in.Speakers = append(in.Speakers, views.SpeakerInput{
			Position: formText(c, key+"position"), Name: formText(c, key+"name"), Role: formText(c, key+"role"),
			Organisation: formText(c, key+"organisation"), Bio: formText(c, key+"bio"),
			Remove: c.FormValue(key+"remove") != "",
		})
	})
	form.rows("sponsors", func(key string) {
		in.Sponsors = append(in.Sponsors, views.SponsorInput{
			Position: formText(c, key+"position"), ID: formText(c, key+"id"), Name: formText(c, key+"name"),
			WebsiteURL: formText(c, key+"website_url"), PrivacyURL: formText(c, key+"privacy_url"),
			LogoURL: formText(c, key+"logo_url"), Remove: c.FormValue(key+"remove") != "",
		})
	})
	in.RetentionDays = formText(c, "retention_days")
	in.BlockedDomains, in.AllowedDomains = formText(c, "blocked_email_domains"), formText(c, "allowed_email_domains")
	in.ConfirmEmail = c.FormValue("require_email_confirmation") != ""
	in.RequireApproval = c.FormValue("require_approval") != ""
	return in.Normalised()
}

// formList copies every value of a repeated form field (ticked checkboxes).
func formList(c *fiber.Ctx, name string) []string { return posted(c).values(name) }

// createPanel stores a new draft panel.
func (h *Handlers) createPanel(c *fiber.Ctx) error {
	in := panelInput(c)
	p := &models.Panel{Status: models.PanelDraft, FollowUps: models.DefaultFollowUps}
	in.Apply(p)
	err := h.store.CreatePanel(c.UserContext(), p)
	if errs := validationFields(err); errs != nil {
		return h.renderPanelForm(c, nil, in, errs)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "Panel created as a draft. Add a session, then publish it.", false)
	return c.Redirect(views.AdminPanelURL(p.ID), fiber.StatusSeeOther)
}

// adminPanel loads the panel named in the path, whatever its status.
func (h *Handlers) adminPanel(c *fiber.Ctx) (*models.Panel, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.store.PanelByID(c.UserContext(), id)
}

// showAdminPanel shows a panel's state, sessions and questions.
func (h *Handlers) showAdminPanel(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, p.Title, views.SectionPanels)
	attendance, err := h.store.PanelAttendance(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	links, err := h.store.ShareLinks(c.UserContext(), p.ID)
	if err != nil {
		return err
	}
	now := h.store.Now()
	return h.render(c, views.PageAdminPanel, views.NewAdminPanelPage(frame, h.site, p, attendance, now).
		WithShareLinks(p, links, now))
}

// editPanel shows the panel form filled in.
func (h *Handlers) editPanel(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	return h.renderPanelForm(c, p, views.NewPanelInput(p), nil)
}

// updatePanel saves the panel form; status, sessions and questions keep
// their stored values.
func (h *Handlers) updatePanel(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	in := panelInput(c)
	in.Apply(p)
	err = h.store.UpdatePanel(c.UserContext(), p)
	if errs := validationFields(err); errs != nil {
		return h.renderPanelForm(c, p, in, errs)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "Changes saved.", false)
	return c.Redirect(views.AdminPanelURL(p.ID), fiber.StatusSeeOther)
}

// previewPanel renders the public page as attendees will see it, drafts too.
func (h *Handlers) previewPanel(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	form := views.RegistrationForm{CSRFToken: csrfToken(c), Notice: views.PreviewNotice(p)}
	page := views.NewPanelPage(p, h.store.Now(), form)
	page.Title, page.NoIndex = "Preview: "+p.Title, true
	setPrivateHeaders(c)
	return h.render(c, views.PagePanel, page)
}

// publishPanel, unpublishPanel and archivePanel change who can see a panel.
func (h *Handlers) publishPanel(c *fiber.Ctx) error {
	return h.setPanelStatus(c, models.PanelPublished, "Published: people can now see the panel and register.")
}

func (h *Handlers) unpublishPanel(c *fiber.Ctx) error {
	return h.setPanelStatus(c, models.PanelDraft, "The panel is a draft again: its page is hidden from attendees.")
}

func (h *Handlers) archivePanel(c *fiber.Ctx) error {
	return h.setPanelStatus(c, models.PanelArchived, "Archived: the panel is hidden and its registrations kept.")
}

func (h *Handlers) setPanelStatus(c *fiber.Ctx, status models.PanelStatus, done string) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = h.store.SetPanelStatus(c.UserContext(), id, status)
	return h.afterAction(c, err, done, views.AdminPanelURL(id))
}

// duplicatePanel copies a panel into a new draft and opens it for editing.
func (h *Handlers) duplicatePanel(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	dup, err := h.store.DuplicatePanel(c.UserContext(), id)
	if err != nil {
		return err
	}
	h.setFlash(c, "This is a draft copy, without sessions. Change what differs, save, then add sessions.", false)
	return c.Redirect(views.AdminPanelURL(dup.ID)+"/edit", fiber.StatusSeeOther)
}

// editQuestions shows the panel's custom questions.
func (h *Handlers) editQuestions(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	return h.renderQuestions(c, p, views.NewQuestionInputs(p.Questions), nil)
}

func (h *Handlers) renderQuestions(c *fiber.Ctx, p *models.Panel, rows []views.QuestionInput, errs map[string]string) error {
	frame := h.adminFrame(c, "Questions for "+p.Title, views.SectionPanels)
	return h.renderForm(c, views.PageAdminQuestions, views.NewQuestionsPage(frame, p, rows, errs), errs)
}

// updateQuestions saves the questions; a question keeps its id, and so its
// answers, unless it is removed.
func (h *Handlers) updateQuestions(c *fiber.Ctx) error {
	p, err := h.adminPanel(c)
	if err != nil {
		return err
	}
	var rows []views.QuestionInput
	posted(c).rows("questions", func(key string) {
		id, _ := strconv.ParseInt(c.FormValue(key+"id"), 10, 64)
		rows = append(rows, views.QuestionInput{
			ID: id, Position: formText(c, key+"position"), Kind: formText(c, key+"kind"), Label: formText(c, key+"label"),
			Options: formText(c, key+"options"), Required: c.FormValue(key+"required") != "",
			Remove: c.FormValue(key+"remove") != "",
		})
	})
	rows = views.NormaliseQuestions(rows)
	p.Questions = views.Questions(rows)
	err = h.store.UpdatePanel(c.UserContext(), p)
	if errs := validationFields(err); errs != nil {
		return h.renderQuestions(c, p, rows, errs)
	}
	if err != nil {
		return err
	}
	h.setFlash(c, "Questions saved.", false)
	return c.Redirect(views.AdminPanelURL(p.ID), fiber.StatusSeeOther)
}
