package views

import (
	"strconv"

	"podium/models"
)

// AccountsPage lists the organizer accounts, with the form that adds one.
type AccountsPage struct {
	AdminPage
	Accounts []AccountRow
	Form     AccountForm
}

// AccountRow is one account in the list.
type AccountRow struct {
	Email, Name, Role, Created string
	// You marks the signed-in account, which cannot delete itself here.
	You    bool
	Delete ActionForm
}

// AccountForm adds an account; Fields keep what was typed (never the password).
type AccountForm struct {
	Action    string
	CSRFToken string
	Errors    []FieldError
	Fields    []Field
}

// AccountInput is the new-account form as typed.
type AccountInput struct {
	Email, Name, Role, Password string
}

// NewAccountsPage builds the accounts page; errs are the add form's messages.
func NewAccountsPage(frame AdminPage, accounts []models.Account, self int64, in AccountInput, errs map[string]string) AccountsPage {
	page := AccountsPage{AdminPage: frame}
	for _, a := range accounts {
		row := AccountRow{Email: a.Email, Name: a.Name, Role: roleLabel(a.Role), Created: formatStamp(a.CreatedAt), You: a.ID == self}
		row.Delete = ActionForm{
			Action: "/admin/accounts/" + strconv.FormatInt(a.ID, 10) + "/delete", CSRFToken: frame.CSRFToken,
			Label: "Delete", Describe: "Delete the account of " + a.Email, Danger: true,
			Confirm: "Delete the account of " + a.Email + "? They will no longer be able to sign in.",
		}
		page.Accounts = append(page.Accounts, row)
	}
	if in.Role == "" {
		in.Role = string(models.RoleOrganizer)
	}
	email := newField("email", "Email address", "email", in.Email, errs)
	email.Required, email.Autocomplete, email.MaxLength = true, "off", models.MaxEmailLength
	name := newField("name", "Name", "text", in.Name, errs)
	name.MaxLength = models.MaxNameLength
	role := newField("role", "Role", "select", "", errs)
	role.Options = []Option{
		{Value: string(models.RoleOrganizer), Label: "Organizer: runs panels, sessions and registrants", Selected: in.Role == string(models.RoleOrganizer)},
		{Value: string(models.RoleOwner), Label: "Owner: everything, including accounts and API tokens", Selected: in.Role == string(models.RoleOwner)},
	}
	role.Required = true
	password := newField("password", "Password", "password", "", errs)
	password.Required, password.Autocomplete = true, "new-password"
	password.Hint = "At least " + strconv.Itoa(models.MinPasswordLength) + " characters. Give it to the new organizer in person or by phone, not by email."
	page.Form = AccountForm{
		Action: "/admin/accounts", CSRFToken: frame.CSRFToken,
		Errors: ErrorSummary(errs, "email", "name", "role", "password", "account"),
		Fields: []Field{email, name, role, password},
	}
	page.AdminPage = page.AdminPage.WithErrors(page.Form.Errors)
	return page
}

func roleLabel(r models.Role) string {
	if r == models.RoleOwner {
		return "Owner"
	}
	return "Organizer"
}

// TokensPage lists API tokens with the form that creates one.
type TokensPage struct {
	AdminPage
	Tokens []TokenRow
	Form   AccountForm
}

// TokenRow is one API token in the list.
type TokenRow struct {
	Name, Account, Created, LastUsed, Status string
	Revoked                                  bool
	Revoke                                   ActionForm
}

// NewTokensPage builds the API tokens page; accounts name each token's owner.
func NewTokensPage(frame AdminPage, tokens []models.APIToken, accounts []models.Account, name string, errs map[string]string) TokensPage {
	emails := make(map[int64]string, len(accounts))
	for _, a := range accounts {
		emails[a.ID] = a.Email
	}
	page := TokensPage{AdminPage: frame}
	for _, t := range tokens {
		row := TokenRow{
			Name: t.Name, Account: emails[t.AccountID], Created: formatStamp(t.CreatedAt),
			LastUsed: formatStampPtr(t.LastUsedAt, "Never"), Status: "Active", Revoked: t.RevokedAt != nil,
		}
		if row.Revoked {
			row.Status = "Revoked " + formatStamp(*t.RevokedAt)
		}
		row.Revoke = ActionForm{
			Action: "/admin/tokens/" + strconv.FormatInt(t.ID, 10) + "/revoke", CSRFToken: frame.CSRFToken,
			Label: "Revoke", Describe: "Revoke the token " + t.Name, Danger: true,
			Confirm: "Revoke the token " + t.Name + "? Scripts using it stop working at once.",
		}
		page.Tokens = append(page.Tokens, row)
	}
	field := newField("name", "Token name", "text", name, errs)
	field.Required, field.MaxLength, field.Autocomplete = true, 100, "off"
	field.Hint = "What the token is for, so you recognise it later, e.g. CRM sync."
	page.Form = AccountForm{
		Action: "/admin/tokens", CSRFToken: frame.CSRFToken,
		Errors: ErrorSummary(errs, "name"), Fields: []Field{field},
	}
	page.AdminPage = page.AdminPage.WithErrors(page.Form.Errors)
	return page
}

// TokenCreatedPage shows a new token's secret, the only time it is shown.
type TokenCreatedPage struct {
	AdminPage
	Name   string
	Secret string
	// Example is a request that uses the token, for the organizer's developer.
	Example string
}

// NewTokenCreatedPage builds the page that shows a new token once.
func NewTokenCreatedPage(frame AdminPage, site Site, name, secret string) TokenCreatedPage {
	return TokenCreatedPage{
		AdminPage: frame, Name: name, Secret: secret,
		Example: "curl -H 'Authorization: Bearer " + secret + "' " + site.URL("/api/v1/panels"),
	}
}
