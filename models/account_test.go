package models

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func newOwner(t *testing.T, s *Store) *Account {
	t.Helper()
	acc, err := s.CreateAccount(context.Background(), NewAccount{
		Email: "Owner@Example.com", Name: "Olive Owner", Password: "correct horse battery", Role: RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestHashPassword_VerifiesOnlyTheRightPassword(t *testing.T) {
	hash, err := HashPassword("s3cret-pässwörd 🔑")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$") {
		t.Fatalf("hash = %q; want a PHC argon2id string", hash)
	}
	if !checkPassword(hash, "s3cret-pässwörd 🔑") || checkPassword(hash, "s3cret-passwörd 🔑") || checkPassword("garbage", "x") {
		t.Fatal("checkPassword accepts the wrong password or a malformed hash")
	}
	if checkPassword(dummyHash, "") {
		t.Fatal("the dummy hash matched something")
	}
}

func TestCreateAccount_Validation(t *testing.T) {
	s, _ := newTestStore(t)
	newOwner(t, s)
	cases := []struct {
		in    NewAccount
		field string
	}{
		{NewAccount{Email: "owner@example.com", Password: "another long pass", Role: RoleOrganizer}, "email"},
		{NewAccount{Email: "x@example.com", Password: "short", Role: RoleOrganizer}, "password"},
		{NewAccount{Email: "x@example.com", Password: strings.Repeat("p", 1025), Role: RoleOrganizer}, "password"},
		{NewAccount{Email: "not-an-email", Password: "long enough pass", Role: RoleOrganizer}, "email"},
		{NewAccount{Email: "x@example.com", Password: "long enough pass", Role: "admin"}, "role"},
	}
	for i, tc := range cases {
		_, err := s.CreateAccount(context.Background(), tc.in)
		var verr *ValidationError
		if !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
			t.Errorf("case %d: %v; want a %s error", i, err, tc.field)
		}
	}
}

func TestCreateFirstOwner_OnlyWhenNoAccountExists(t *testing.T) {
	s, _ := newTestStore(t)
	for i, want := range []bool{true, false} {
		created, err := s.CreateFirstOwner(context.Background(), "first@example.com", "a very long password")
		if err != nil || created != want {
			t.Fatalf("call %d: created %v, %v; want %v", i, created, err, want)
		}
	}
}

func TestAuthenticate_OneAnswerForEveryFailureAndLockout(t *testing.T) {
	s, clock := newTestStore(t)
	newOwner(t, s)
	ctx := context.Background()
	if acc, err := s.Authenticate(ctx, " owner@example.COM ", "correct horse battery"); err != nil || acc.Role != RoleOwner {
		t.Fatalf("sign-in = %v, %v", acc, err)
	}
	if _, err := s.Authenticate(ctx, "nobody@example.com", "correct horse battery"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("unknown address = %v; want ErrBadCredentials", err)
	}
	for range lockoutThreshold {
		if _, err := s.Authenticate(ctx, "owner@example.com", "wrong"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password = %v", err)
		}
	}
	if _, err := s.Authenticate(ctx, "owner@example.com", "correct horse battery"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("locked account with the right password = %v; want ErrBadCredentials", err)
	}
	clock.Set(testNow.Add(lockoutPeriod + time.Second))
	if _, err := s.Authenticate(ctx, "owner@example.com", "correct horse battery"); err != nil {
		t.Fatalf("after the lockout = %v", err)
	}
}

func TestAdminSession_IdleAndAbsoluteTimeouts(t *testing.T) {
	s, clock := newTestStore(t)
	acc := newOwner(t, s)
	ctx := context.Background()
	token, err := s.StartAdminSession(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ { // used every 90 minutes: idle never runs out
		clock.Set(testNow.Add(time.Duration(i) * 90 * time.Minute))
		if got, err := s.AccountBySession(ctx, token); err != nil || got.ID != acc.ID {
			t.Fatalf("use %d: %v, %v", i, got, err)
		}
	}
	clock.Set(testNow.Add(SessionLifetime))
	if _, err := s.AccountBySession(ctx, token); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the lifetime = %v; want ErrNotFound", err)
	}
	clock.Set(testNow)
	idle, _ := s.StartAdminSession(ctx, acc.ID)
	clock.Set(testNow.Add(SessionIdleTimeout + time.Minute))
	if _, err := s.AccountBySession(ctx, idle); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after idling = %v; want ErrNotFound", err)
	}
	clock.Set(testNow)
	out, _ := s.StartAdminSession(ctx, acc.ID)
	if err := s.EndAdminSession(ctx, out); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountBySession(ctx, out); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after sign-out = %v; want ErrNotFound", err)
	}
}

func TestAPIToken_CreateUseRevoke(t *testing.T) {
	s, _ := newTestStore(t)
	acc := newOwner(t, s)
	ctx := context.Background()
	secret, tok, err := s.CreateAPIToken(ctx, acc.ID, "CRM sync")
	if err != nil || !strings.HasPrefix(secret, "podium_") || tok.TokenHash == secret {
		t.Fatalf("token = %q %+v, %v", secret, tok, err)
	}
	if got, err := s.AccountByAPIToken(ctx, secret); err != nil || got.ID != acc.ID {
		t.Fatalf("use = %v, %v", got, err)
	}
	if err := s.RevokeAPIToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AccountByAPIToken(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked token = %v; want ErrNotFound", err)
	}
	for _, bad := range []string{"", "podium_", secret + "x", strings.Replace(secret, "podium_", "other_", 1)} {
		if _, err := s.AccountByAPIToken(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("token %q = %v; want ErrNotFound", bad, err)
		}
	}
	if err := s.RevokeAPIToken(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke unknown = %v", err)
	}
}

func TestDeleteAccount_KeepsTheLastOwner(t *testing.T) {
	s, _ := newTestStore(t)
	owner := newOwner(t, s)
	var verr *ValidationError
	if err := s.DeleteAccount(context.Background(), owner.ID); !errors.As(err, &verr) {
		t.Fatalf("delete the last owner = %v; want a validation error", err)
	}
}
