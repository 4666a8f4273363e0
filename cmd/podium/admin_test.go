package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podium/models"
)

func TestAdminAndTokenCommands_CreateAccountAndPrintTokenOnce(t *testing.T) {
	db := filepath.Join(t.TempDir(), "podium.db")
	env := func(string) string { return "" }
	ctx := context.Background()
	var out bytes.Buffer
	err := run(ctx, []string{"podium", "admin", "create", "--db", db, "--email", "olive@example.com", "--password-stdin"},
		env, strings.NewReader("a long enough password\n"), &out)
	if err != nil || !strings.Contains(out.String(), "Created owner account olive@example.com") {
		t.Fatalf("admin create = %v: %s", err, out.String())
	}
	out.Reset()
	err = run(ctx, []string{"podium", "token", "create", "--db", db, "--email", "olive@example.com", "--name", "CRM"},
		env, strings.NewReader(""), &out)
	secret := strings.TrimSpace(out.String())
	if err != nil || !strings.HasPrefix(secret, "podium_") {
		t.Fatalf("token create = %v: %q", err, secret)
	}
	store, err := models.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if acc, err := store.AccountByAPIToken(ctx, secret); err != nil || acc.Email != "olive@example.com" {
		t.Fatalf("the printed token does not work: %v, %v", acc, err)
	}
	if _, err := store.Authenticate(ctx, "olive@example.com", "a long enough password"); err != nil {
		t.Fatalf("the password from stdin does not sign in: %v", err)
	}
}

func TestAdminCommand_RefusesBadInput(t *testing.T) {
	db := filepath.Join(t.TempDir(), "podium.db")
	for name, args := range map[string][]string{
		"short password":  {"podium", "admin", "create", "--db", db, "--email", "a@example.com", "--password-stdin"},
		"unknown verb":    {"podium", "admin", "delete"},
		"no such account": {"podium", "token", "create", "--db", db, "--email", "ghost@example.com", "--name", "x"},
	} {
		if err := run(context.Background(), args, func(string) string { return "" }, strings.NewReader("short\n"), &bytes.Buffer{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestServe_CreatesFirstOwnerFromEnvironment(t *testing.T) {
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"PODIUM_ADMIN_EMAIL": "olive@example.com"}[k]
	}, &bytes.Buffer{})
	if err == nil {
		t.Fatalf("config %+v: an admin email without a password was accepted", cfg)
	}
	base := startPodium(t, map[string]string{"PODIUM_ADMIN_EMAIL": "olive@example.com", "PODIUM_ADMIN_PASSWORD": "a long enough password"})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := csrfField.FindStringSubmatch(getBody(t, client, base+"/admin/login"))
	if token == nil {
		t.Fatal("the sign-in page has no CSRF field")
	}
	resp, err := client.PostForm(base+"/admin/login", url.Values{
		"_csrf": {token[1]}, "email": {"olive@example.com"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin" {
		t.Fatalf("sign-in as the owner from the environment = %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestBackupCommand_CopiesALiveDatabase(t *testing.T) {
	dir := t.TempDir()
	db, backup := filepath.Join(dir, "podium.db"), filepath.Join(dir, "backup.db")
	ctx := context.Background()
	env := func(string) string { return "" }
	if err := run(ctx, []string{"podium", "admin", "create", "--db", db, "--email", "o@example.com", "--password-stdin"},
		env, strings.NewReader("a long enough password\n"), &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"podium", "backup", "--db", db, backup}, env, strings.NewReader(""), &out); err != nil {
		t.Fatalf("backup: %v", err)
	}
	store, err := models.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Authenticate(ctx, "o@example.com", "a long enough password"); err != nil {
		t.Fatalf("the backup lacks the account: %v", err)
	}
	if err := run(ctx, []string{"podium", "backup", "--db", db, backup}, env, strings.NewReader(""), &out); err == nil {
		t.Fatal("backup overwrote an existing file")
	}
}

func TestBackupCommand_RefusesAMissingDatabaseAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "missing.db")
	err := run(context.Background(), []string{"podium", "backup", "--db", db, filepath.Join(dir, "b.db")},
		func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("backup of a missing database = %v; want a refusal", err)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatalf("backup created the database it was to copy: %v", err)
	}
}
