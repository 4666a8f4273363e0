package handlers

import (
	"github.com/gofiber/fiber/v2"

	"podium/models"
	"podium/views"
)

// listAccounts shows the accounts and the form that adds one (owners only).
func (h *Handlers) listAccounts(c *fiber.Ctx) error {
	return h.renderAccounts(c, views.AccountInput{}, nil)
}

func (h *Handlers) renderAccounts(c *fiber.Ctx, in views.AccountInput, errs map[string]string) error {
	accounts, err := h.store.Accounts(c.UserContext())
	if err != nil {
		return err
	}
	frame := h.adminFrame(c, "Accounts", views.SectionAccounts)
	page := views.NewAccountsPage(frame, accounts, currentAccount(c).ID, in, errs)
	return h.renderForm(c, views.PageAdminAccounts, page, errs)
}

// createAccount adds an organizer or owner with the password the owner chose.
func (h *Handlers) createAccount(c *fiber.Ctx) error {
	in := views.AccountInput{
		Email: formText(c, "email"), Name: formText(c, "name"), Role: formText(c, "role"), Password: formText(c, "password"),
	}
	acc, err := h.store.CreateAccount(c.UserContext(), models.NewAccount{
		Email: in.Email, Name: in.Name, Password: in.Password, Role: models.Role(in.Role),
	})
	if errs := validationFields(err); errs != nil {
		return h.renderAccounts(c, in, errs)
	}
	if err != nil {
		return err
	}
	h.log.Info("account created", "by", currentAccount(c).ID, "account", acc.ID, "role", acc.Role)
	h.setFlash(c, "Account created for "+acc.Email+".", false)
	return c.Redirect("/admin/accounts", fiber.StatusSeeOther)
}

// deleteAccount removes an account; the model keeps the last owner.
func (h *Handlers) deleteAccount(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = h.store.DeleteAccount(c.UserContext(), id)
	if err == nil {
		h.log.Info("account deleted", "by", currentAccount(c).ID, "account", id)
	}
	return h.afterAction(c, err, "Account deleted.", "/admin/accounts")
}

// listTokens shows the API tokens and the form that creates one.
func (h *Handlers) listTokens(c *fiber.Ctx) error {
	return h.renderTokens(c, "", nil)
}

func (h *Handlers) renderTokens(c *fiber.Ctx, name string, errs map[string]string) error {
	ctx := c.UserContext()
	tokens, err := h.store.APITokens(ctx)
	if err != nil {
		return err
	}
	accounts, err := h.store.Accounts(ctx)
	if err != nil {
		return err
	}
	page := views.NewTokensPage(h.adminFrame(c, "API tokens", views.SectionTokens), tokens, accounts, name, errs)
	return h.renderForm(c, views.PageAdminTokens, page, errs)
}

// createToken makes a token for the signed-in account and shows its secret
// once, on the answer to this POST, never in a redirect or a cookie.
func (h *Handlers) createToken(c *fiber.Ctx) error {
	name := formText(c, "name")
	secret, tok, err := h.store.CreateAPIToken(c.UserContext(), currentAccount(c).ID, name)
	if errs := validationFields(err); errs != nil {
		return h.renderTokens(c, name, errs)
	}
	if err != nil {
		return err
	}
	h.log.Info("api token created", "by", currentAccount(c).ID, "token", tok.ID)
	frame := h.adminFrame(c, "Token created", views.SectionTokens)
	return h.render(c, views.PageAdminTokenCreated, views.NewTokenCreatedPage(frame, h.site, tok.Name, secret))
}

// revokeToken stops a token from working.
func (h *Handlers) revokeToken(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	err = h.store.RevokeAPIToken(c.UserContext(), id)
	if err == nil {
		h.log.Info("api token revoked", "by", currentAccount(c).ID, "token", id)
	}
	return h.afterAction(c, err, "Token revoked: it no longer works.", "/admin/tokens")
}
