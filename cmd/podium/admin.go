package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"podium/models"
)

// adminCommand runs `podium admin create` and `podium token create`: the
// first owner and API tokens for scripts, without the web admin.
func adminCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) < 2 || args[1] != "create" {
		return fmt.Errorf("usage: podium %s create [flags]", args[0])
	}
	fs := flag.NewFlagSet("podium "+args[0]+" create", flag.ContinueOnError)
	fs.SetOutput(stdout)
	db := dbFlag(fs, getenv)
	email := fs.String("email", "", "the account's email address")
	name := fs.String("name", "", "the account's name, or the token's name")
	role := fs.String("role", string(models.RoleOwner), "owner or organizer (admin create)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (admin create)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	opts, err := storeOptions(getenv)
	if err != nil {
		return err
	}
	store, err := models.Open(ctx, *db, opts...)
	if err != nil {
		return err
	}
	defer store.Close()
	if args[0] == "token" {
		return createToken(ctx, store, *email, *name, stdout)
	}
	password, err := readPassword(stdin, stdout, *fromStdin)
	if err != nil {
		return err
	}
	acc, err := store.CreateAccount(ctx, models.NewAccount{Email: *email, Name: *name, Password: password, Role: models.Role(*role)})
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "Created %s account %s. Sign in at /admin/login.\n", acc.Role, acc.Email)
	return nil
}

func createToken(ctx context.Context, store *models.Store, email, name string, stdout io.Writer) error {
	acc, err := store.AccountByEmail(ctx, email)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("no account with the email %q", email)
	}
	if err != nil {
		return err
	}
	secret, _, err := store.CreateAPIToken(ctx, acc.ID, name)
	if err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "%s\n", secret)
	fmt.Fprintln(os.Stderr, "Keep this token safe: it is shown only once. Use it as: Authorization: Bearer <token>")
	return nil
}

// readPassword reads a password from a terminal without echo, or one line of stdin.
func readPassword(stdin io.Reader, stdout io.Writer, fromStdin bool) (string, error) {
	if f, ok := stdin.(*os.File); ok && !fromStdin && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		return string(b), err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// describe turns a validation error into one readable line per field.
func describe(err error) error {
	var verr *models.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	var lines []string
	for field, msg := range verr.Fields {
		lines = append(lines, field+": "+msg)
	}
	return errors.New(strings.Join(lines, "; "))
}
