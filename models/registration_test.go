package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func validInput(sessionID int64, email string) RegistrationInput {
	return RegistrationInput{SessionID: sessionID, Name: "Ada Lovelace", Email: email, Consent: true}
}

func TestRegistrationInput_ValidateRejectsBadFields(t *testing.T) {
	long := strings.Repeat("x", MaxNameLength+1)
	cases := []struct {
		name  string
		edit  func(*RegistrationInput)
		field string
	}{
		{"missing session", func(in *RegistrationInput) { in.SessionID = 0 }, "session"},
		{"empty name", func(in *RegistrationInput) { in.Name = "   " }, "name"},
		{"long name", func(in *RegistrationInput) { in.Name = long }, "name"},
		{"name with line break", func(in *RegistrationInput) { in.Name = "Eve\r\nBcc: x@example.com" }, "name"},
		{"name with bidi override", func(in *RegistrationInput) { in.Name = "Eve\u202Egnp.exe" }, "name"},
		{"name with NUL", func(in *RegistrationInput) { in.Name = "Eve\x00" }, "name"},
		{"empty email", func(in *RegistrationInput) { in.Email = "" }, "email"},
		{"email without at", func(in *RegistrationInput) { in.Email = "ada.example.com" }, "email"},
		{"email with display name", func(in *RegistrationInput) { in.Email = "Ada <ada@example.com>" }, "email"},
		{"email without dot in domain", func(in *RegistrationInput) { in.Email = "ada@localhost" }, "email"},
		{"email with newline", func(in *RegistrationInput) { in.Email = "ada@example.com\nBcc: x@y.z" }, "email"},
		{"email too long", func(in *RegistrationInput) { in.Email = strings.Repeat("a", 250) + "@example.com" }, "email"},
		{"long organisation", func(in *RegistrationInput) { in.Organisation = long }, "organisation"},
		{"job title with tab", func(in *RegistrationInput) { in.JobTitle = "Chief\tOfficer" }, "job_title"},
		{"no consent", func(in *RegistrationInput) { in.Consent = false }, "consent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validInput(1, "ada@example.com")
			tc.edit(&in)
			var verr *ValidationError
			if err := in.Validate(); !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
				t.Fatalf("Validate() = %v; want a message for %q", err, tc.field)
			}
		})
	}
}

func TestRegistrationInput_ValidateAcceptsInternationalNames(t *testing.T) {
	for _, name := range []string{"José Ñúñez", "王小明", "Zoë O'Brien-Smith", "محمد", "Ada 🚀"} {
		in := validInput(1, "  Ada.Lovelace+panel@Example.co.uk ")
		in.Name = name
		if err := in.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v", name, err)
		}
		if in.Email != "Ada.Lovelace+panel@Example.co.uk" {
			t.Errorf("email kept as %q; want trimmed as typed", in.Email)
		}
	}
}

func TestRegister_ConfirmsUntilFullThenWaitlists(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 2, true)
	ctx := context.Background()
	want := []RegistrationStatus{RegistrationConfirmed, RegistrationConfirmed, RegistrationWaitlisted}
	for i, status := range want {
		res, err := s.Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i)))
		if err != nil {
			t.Fatalf("register %d: %v", i, err)
		}
		if res.Registration.Status != status || len(res.Token) != 43 || res.Duplicate {
			t.Fatalf("register %d = %+v; want %s with a token", i, res, status)
		}
	}
	assertSeatsTaken(t, s, sess.ID, 2)
}

func TestRegister_FullSessionWithoutWaitlistRefuses(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 1, false)
	ctx := context.Background()
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "b@example.com")); !errors.Is(err, ErrSessionFull) {
		t.Fatalf("second register = %v; want ErrSessionFull", err)
	}
	assertRegistrationCount(t, s, sess.ID, 1)
}

func TestRegister_ClosedOrCancelledSessionRefuses(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 10, false)
	ctx := context.Background()
	clock.Set(sess.StartsAt)
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "a@example.com")); !errors.Is(err, ErrRegistrationClosed) {
		t.Fatalf("register at start = %v; want ErrRegistrationClosed", err)
	}
	clock.Set(testNow)
	if err := s.write.Exec("UPDATE sessions SET status = 'cancelled' WHERE id = ?", sess.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "a@example.com")); !errors.Is(err, ErrSessionCancelled) {
		t.Fatalf("register cancelled = %v; want ErrSessionCancelled", err)
	}
	assertRegistrationCount(t, s, sess.ID, 0)
}

func TestRegister_SessionOfAnotherPanelRefused(t *testing.T) {
	s, _ := newTestStore(t)
	p, _ := newTestPanel(t, s, 10, false)
	other := &Panel{Title: "Other", Status: PanelPublished, Sessions: []Session{{
		StartsAt: testNow.Add(time.Hour), DurationMinutes: 30, TimeZone: "UTC", Venue: "Hall"}}}
	if err := s.CreatePanel(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	_, err := s.Register(context.Background(), p.ID, validInput(other.Sessions[0].ID, "a@example.com"))
	var verr *ValidationError
	if !errors.As(err, &verr) || verr.Fields["session"] == "" {
		t.Fatalf("register = %v; want a session validation error", err)
	}
}

func TestRegister_DuplicateEmailCreatesNothingNew(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 10, false)
	ctx := context.Background()
	first, err := s.Register(ctx, p.ID, validInput(sess.ID, "ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Register(ctx, p.ID, validInput(sess.ID, "  ADA@Example.com "))
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || second.Registration.ID != first.Registration.ID || second.Token == first.Token {
		t.Fatalf("second = %+v; want the first registration with a new token", second)
	}
	assertRegistrationCount(t, s, sess.ID, 1)
	assertSeatsTaken(t, s, sess.ID, 1)
	for _, tok := range []string{first.Token, second.Token} {
		if reg, err := s.RegistrationByToken(ctx, tok); err != nil || reg.ID != first.Registration.ID {
			t.Fatalf("token lookup = %v, %v", reg, err)
		}
	}
}

func TestRegister_ConcurrentSignUpsNeverOverbook(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 20, true)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Register(context.Background(), p.ID, validInput(sess.ID, fmt.Sprintf("u%d@example.com", i)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	assertSeatsTaken(t, s, sess.ID, 20)
	assertStatusCount(t, s, sess.ID, RegistrationConfirmed, 20)
	assertStatusCount(t, s, sess.ID, RegistrationWaitlisted, n-20)
}

func TestCancel_FreesSeatAndPromotesOldestWaitlisted(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 1, true)
	ctx := context.Background()
	var tokens []string
	for i := range 3 {
		clock.Set(testNow.Add(time.Duration(i) * time.Minute))
		res, err := s.Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i)))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, res.Token)
	}
	res, err := s.CancelByToken(ctx, tokens[0])
	if err != nil {
		t.Fatal(err)
	}
	if res.Registration.Status != RegistrationCancelled || res.Promoted == nil || res.Promoted.Email != "p1@example.com" {
		t.Fatalf("cancel = %+v; want p1 promoted", res)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	assertStatusCount(t, s, sess.ID, RegistrationConfirmed, 1)
	assertStatusCount(t, s, sess.ID, RegistrationWaitlisted, 1)

	again, err := s.CancelByToken(ctx, tokens[0])
	if err != nil || again.Promoted != nil {
		t.Fatalf("second cancel = %+v, %v; want a harmless no-op", again, err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)

	// A waitlisted registrant who cancels frees no seat.
	if _, err := s.CancelByToken(ctx, tokens[2]); err != nil {
		t.Fatal(err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestCancel_AfterStartRefused(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 5, false)
	res, err := s.Register(context.Background(), p.ID, validInput(sess.ID, "a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(sess.StartsAt.Add(time.Minute))
	if _, err := s.CancelByToken(context.Background(), res.Token); !errors.Is(err, ErrRegistrationClosed) {
		t.Fatalf("cancel after start = %v; want ErrRegistrationClosed", err)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestRegistrationByToken_UnknownTokenNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	for _, tok := range []string{"", "short", strings.Repeat("A", 43)} {
		if _, err := s.RegistrationByToken(context.Background(), tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("RegistrationByToken(%q) = %v; want ErrNotFound", tok, err)
		}
	}
}

func TestSeatCounter_CheckConstraintRefusesOverbooking(t *testing.T) {
	s, _ := newTestStore(t)
	_, sess := newTestPanel(t, s, 1, false)
	err := s.write.Exec("UPDATE sessions SET seats_taken = 2 WHERE id = ?", sess.ID).Error
	if err == nil || !strings.Contains(strings.ToUpper(err.Error()), "CHECK") {
		t.Fatalf("overbooking update = %v; want a CHECK constraint failure", err)
	}
}

func assertSeatsTaken(t *testing.T, s *Store, sessionID int64, want int) {
	t.Helper()
	var sess Session
	if err := s.read.Take(&sess, sessionID).Error; err != nil {
		t.Fatal(err)
	}
	if sess.SeatsTaken != want {
		t.Fatalf("seats_taken = %d; want %d", sess.SeatsTaken, want)
	}
}

func assertStatusCount(t *testing.T, s *Store, sessionID int64, status RegistrationStatus, want int64) {
	t.Helper()
	var n int64
	if err := s.read.Model(&Registration{}).Where("session_id = ? AND status = ?", sessionID, status).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("%s registrations = %d; want %d", status, n, want)
	}
}

func assertRegistrationCount(t *testing.T, s *Store, sessionID int64, want int64) {
	t.Helper()
	var n int64
	if err := s.read.Model(&Registration{}).Where("session_id = ?", sessionID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("registrations = %d; want %d", n, want)
	}
}
