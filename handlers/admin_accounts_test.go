package handlers

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"podium/models"
)

func TestAdminAccounts_OwnerCreatesAndDeletesAccounts(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOwner)
	short := b.postForm("/admin/accounts", url.Values{"email": {"new@example.com"}, "name": {"Nia"}, "role": {"organizer"}, "password": {"too short"}})
	assertStatus(t, short, http.StatusUnprocessableEntity)
	assertContains(t, short.body, "at least 12 characters", `value="new@example.com"`, `value="Nia"`, `href="#field-password"`)
	if strings.Contains(short.body, "too short") {
		t.Fatal("the typed password is sent back in the page")
	}

	created := b.follow(b.postForm("/admin/accounts", url.Values{
		"email": {"new@example.com"}, "name": {"Nia"}, "role": {"organizer"}, "password": {"a long enough password"}}))
	assertContains(t, created.body, "Account created for new@example.com.")
	acc, err := env.store.AccountByEmail(context.Background(), "new@example.com")
	if err != nil || acc.Role != models.RoleOrganizer {
		t.Fatalf("account = %+v, %v", acc, err)
	}
	assertStatus(t, env.browser(t).signIn("new@example.com", "a long enough password"), http.StatusSeeOther)

	deleted := b.follow(b.postForm("/admin/accounts/"+itoa(acc.ID)+"/delete", nil))
	assertContains(t, deleted.body, "Account deleted.")
	owner, _ := env.store.AccountByEmail(context.Background(), "owner@example.com")
	lastOwner := b.follow(b.postForm("/admin/accounts/"+itoa(owner.ID)+"/delete", nil))
	assertContains(t, lastOwner.body, "The last owner cannot be removed.", "flash-error")
}

func TestAdminTokens_SecretShownOnceThenRevoked(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOwner)
	assertStatus(t, b.postForm("/admin/tokens", url.Values{"name": {""}}), http.StatusUnprocessableEntity)

	created := b.postForm("/admin/tokens", url.Values{"name": {"CRM sync"}})
	assertStatus(t, created, http.StatusOK)
	secret := regexp.MustCompile(`podium_[A-Za-z0-9_-]{43}`).FindString(created.body)
	if secret == "" {
		t.Fatalf("no token on the result page:\n%s", created.body)
	}
	if created.header.Get("Cache-Control") != "no-store" {
		t.Fatal("the page with the secret may be cached")
	}
	if _, err := env.store.AccountByAPIToken(context.Background(), secret); err != nil {
		t.Fatalf("the shown token does not work: %v", err)
	}
	list := b.get("/admin/tokens")
	assertContains(t, list.body, "CRM sync", "owner@example.com", "Active")
	if strings.Contains(list.body, secret) {
		t.Fatal("the token list shows the secret again")
	}
	toks, _ := env.store.APITokens(context.Background())
	revoked := b.follow(b.postForm("/admin/tokens/"+itoa(toks[0].ID)+"/revoke", nil))
	assertContains(t, revoked.body, "Token revoked", "Revoked 20 Nov 2026")
	if _, err := env.store.AccountByAPIToken(context.Background(), secret); err == nil {
		t.Fatal("a revoked token still works")
	}
}
