package models

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests follow gating: the email domains a panel takes sign-ups from,
// email confirmation (double opt-in) with the place it holds for
// ConfirmHold, and the organizer's approval of pending registrations.

// gatedPanel stores a published panel with gating g and one session of
// capacity seats, an hour long, a week after testNow.
func gatedPanel(t *testing.T, s *Store, g Gating, capacity int, waitlist bool) (*Panel, *Session) {
	t.Helper()
	p := &Panel{Title: "Gated panel", Status: PanelPublished, Gating: g,
		Sessions: []Session{{StartsAt: testNow.AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC",
			Capacity: capacity, Waitlist: waitlist, JoinURL: liveJoinURL}}}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create gated panel: %v", err)
	}
	return p, &p.Sessions[0]
}

// assertKinds fails unless the emails queued for a registration are of the
// kinds want, oldest first.
func assertKinds(t *testing.T, s *Store, who string, registrationID int64, want ...OutboxKind) []OutboxMessage {
	t.Helper()
	msgs := outboxFor(t, s, registrationID)
	got := make([]OutboxKind, len(msgs))
	for i, m := range msgs {
		got[i] = m.Kind
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s's emails = %v; want %v", who, got, want)
	}
	return msgs
}

// signUpRows counts the rows of every table a sign-up writes to.
func signUpRows(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"registrations", "outbox_messages", "consents", "manage_tokens", "registration_links"} {
		out[table] = countWebhookRows(t, s, table, "1 = 1")
	}
	return out
}

// assertRefusedEmail fails unless a public sign-up of email is refused with
// a message on the email field containing want, writing nothing.
func assertRefusedEmail(t *testing.T, s *Store, panelID, sessionID int64, email, want string) {
	t.Helper()
	before := signUpRows(t, s)
	res, err := s.Register(context.Background(), panelID, validInput(sessionID, email))
	var verr *ValidationError
	if !errors.As(err, &verr) || !strings.Contains(verr.Fields["email"], want) {
		t.Fatalf("register %s = %+v, %v; want a message on email naming %q", email, res, err, want)
	}
	if after := signUpRows(t, s); !maps.Equal(after, before) {
		t.Fatalf("refused %s but rows changed: %v; want %v", email, after, before)
	}
}

// assertStored fails unless the registration is stored with status, and
// returns it.
func assertStored(t *testing.T, s *Store, who string, id int64, status RegistrationStatus) *Registration {
	t.Helper()
	reg, err := s.RegistrationByID(context.Background(), id)
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	if reg.Status != status {
		t.Fatalf("%s is %s; want %s", who, reg.Status, status)
	}
	return reg
}

// confirmEmail confirms the address behind a manage token.
func confirmEmail(t *testing.T, s *Store, who, token string) *Registration {
	t.Helper()
	reg, err := s.ConfirmEmail(context.Background(), token)
	if err != nil {
		t.Fatalf("%s confirms: %v", who, err)
	}
	return reg
}

// sameTime says whether a stored time is want.
func sameTime(got *time.Time, want time.Time) bool { return got != nil && got.Equal(want) }

func TestRegister_BlockedDomainRefusedWithoutWriting(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := gatedPanel(t, s, Gating{BlockedEmailDomains: Lines{"gmail.com"}}, 10, false)

	taken := signUp(t, s, p.ID, sess.ID, "a@notgmail.com")
	if taken.Registration.Status != RegistrationConfirmed || taken.Registration.ConfirmBy != nil {
		t.Fatalf("a@notgmail.com = %s, confirm by %v; want confirmed at once", taken.Registration.Status, taken.Registration.ConfirmBy)
	}
	for _, c := range []struct{ email, domain string }{
		{"a@gmail.com", "gmail.com"},
		{"a@mail.gmail.com", "mail.gmail.com"},
		{"B@GMail.COM", "gmail.com"},
	} {
		assertRefusedEmail(t, s, p.ID, sess.ID, c.email, c.domain)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	assertRegistrationCount(t, s, sess.ID, 1)
}

func TestRegister_AllowedDomainsTakeOnlyTheirsAndSubdomains(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := gatedPanel(t, s, Gating{AllowedEmailDomains: Lines{"example.com", "partner.org"},
		BlockedEmailDomains: Lines{"guests.example.com"}}, 10, false)

	for _, email := range []string{"a@example.com", "b@eu.example.com", "c@partner.org"} {
		if res := signUp(t, s, p.ID, sess.ID, email); res.Registration.Status != RegistrationConfirmed {
			t.Fatalf("%s = %s; want confirmed", email, res.Registration.Status)
		}
	}
	for _, email := range []string{"a@other.org", "a@notexample.com", "a@example.com.evil.net"} {
		assertRefusedEmail(t, s, p.ID, sess.ID, email, "example.com, partner.org")
	}
	// A blocked subdomain of an allowed domain stays blocked.
	assertRefusedEmail(t, s, p.ID, sess.ID, "x@guests.example.com", "does not take registrations from guests.example.com")
	assertSeatsTaken(t, s, sess.ID, 3)
}

func TestPanelGating_NormalisesDomainLists(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{BlockedEmailDomains: Lines{"@Example.COM", " GMAIL.com ", "gmail.com", "  "}}, 10, false)

	stored, err := s.PanelByID(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Lines{"example.com", "gmail.com"}); !slices.Equal(stored.BlockedEmailDomains, want) {
		t.Fatalf("blocked domains stored as %q; want %q", stored.BlockedEmailDomains, want)
	}
	assertRefusedEmail(t, s, p.ID, sess.ID, "Ada@EXAMPLE.com", "example.com")

	edited, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.AllowedEmailDomains = Lines{"@Partner.ORG", "partner.org"} })
	if err != nil {
		t.Fatal(err)
	}
	if stored, err = s.PanelByID(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if want := (Lines{"partner.org"}); !slices.Equal(stored.AllowedEmailDomains, want) ||
		!slices.Equal(edited.AllowedEmailDomains, want) {
		t.Fatalf("allowed domains edited to %q, stored as %q; want %q", edited.AllowedEmailDomains, stored.AllowedEmailDomains, want)
	}
	signUp(t, s, p.ID, sess.ID, "ada@Partner.org")
}

func TestPanelGating_RefusesInvalidDomains(t *testing.T) {
	tooMany := make(Lines, maxDomains+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("d%d.example.com", i)
	}
	cases := []struct {
		name   string
		domain Lines
		want   string
	}{
		{"words", Lines{"not a domain"}, `"not a domain"`},
		{"space inside", Lines{"example.com", "exa mple.com"}, `"exa mple.com"`},
		{"leading dash", Lines{"-bad.com"}, `"-bad.com"`},
		{"label ending in a dash", Lines{"bad-.com"}, `"bad-.com"`},
		{"no dot", Lines{"localhost"}, `"localhost"`},
		{"an address", Lines{"ada@example.com"}, `"ada@example.com"`},
		{"more than the limit", tooMany, "at most 500"},
	}
	for _, field := range []string{"blocked_email_domains", "allowed_email_domains"} {
		for _, c := range cases {
			t.Run(field+"/"+c.name, func(t *testing.T) {
				s, _ := newTestStore(t)
				ctx := context.Background()
				set := func(p *Panel) {
					if field == "blocked_email_domains" {
						p.BlockedEmailDomains = slices.Clone(c.domain)
					} else {
						p.AllowedEmailDomains = slices.Clone(c.domain)
					}
				}
				p := &Panel{Title: "Gated panel"}
				set(p)
				err := s.CreatePanel(ctx, p)
				var verr *ValidationError
				if !errors.As(err, &verr) || !strings.Contains(verr.Fields[field], c.want) {
					t.Fatalf("create = %v; want a message on %s naming %s", err, field, c.want)
				}
				if n := countWebhookRows(t, s, "panels", "1 = 1"); n != 0 {
					t.Fatalf("%d panels stored; want none", n)
				}

				p = &Panel{Title: "Gated panel"}
				if err := s.CreatePanel(ctx, p); err != nil {
					t.Fatal(err)
				}
				_, err = s.EditPanel(ctx, p.ID, set)
				if !errors.As(err, &verr) || !strings.Contains(verr.Fields[field], c.want) {
					t.Fatalf("edit = %v; want a message on %s naming %s", err, field, c.want)
				}
				if stored, err := s.PanelByID(ctx, p.ID); err != nil || len(stored.BlockedEmailDomains)+len(stored.AllowedEmailDomains) != 0 {
					t.Fatalf("after a refused edit the panel has domains %v / %v, %v", stored.BlockedEmailDomains, stored.AllowedEmailDomains, err)
				}
			})
		}
	}
}

func TestAddRegistrationByOrganizer_BypassesGating(t *testing.T) {
	s, _ := newTestStore(t)
	_, sess := gatedPanel(t, s, Gating{BlockedEmailDomains: Lines{"gmail.com"}, AllowedEmailDomains: Lines{"example.com"},
		RequireEmailConfirmation: true, RequireApproval: true}, 10, false)

	for _, channel := range []Channel{ChannelAdmin, ChannelAPI} {
		email := "ada-" + string(channel) + "@gmail.com"
		res, err := s.AddRegistrationByOrganizer(context.Background(), sess.ID, validInput(0, email), channel)
		if err != nil {
			t.Fatalf("organizer adds %s: %v", email, err)
		}
		reg := assertStored(t, s, email, res.Registration.ID, RegistrationConfirmed)
		if reg.ConfirmBy != nil || reg.Unconfirmed() {
			t.Fatalf("%s waits for confirmation until %v; want none", email, reg.ConfirmBy)
		}
		msgs := assertKinds(t, s, email, reg.ID, KindConfirmation)
		assertMessage(t, msgs[0], KindConfirmation, CalendarRequest, 0)
	}
	assertSeatsTaken(t, s, sess.ID, 2)
}

func TestRegister_EmailConfirmationHoldsPlaceAndAsksToConfirm(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireEmailConfirmation: true}, 1, true)

	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	if r := ada.Registration; r.Status != RegistrationConfirmed || !sameTime(r.ConfirmBy, testNow.Add(ConfirmHold)) || !r.Unconfirmed() {
		t.Fatalf("sign-up = %s, confirm by %v; want confirmed, held until %v", r.Status, r.ConfirmBy, testNow.Add(ConfirmHold))
	}
	reg := assertStored(t, s, "ada", ada.Registration.ID, RegistrationConfirmed)
	if !sameTime(reg.ConfirmBy, testNow.Add(48*time.Hour)) || reg.EmailConfirmedAt != nil {
		t.Fatalf("stored confirm by %v, confirmed at %v; want %v and nil", reg.ConfirmBy, reg.EmailConfirmedAt, testNow.Add(48*time.Hour))
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	msgs := assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail)
	assertMessage(t, msgs[0], KindConfirmEmail, "", 0)
	if msgs[0].ManageToken != ada.Token {
		t.Fatalf("confirm_email carries token %q; want the sign-up's manage token", msgs[0].ManageToken)
	}
	if byToken, err := s.RegistrationByToken(ctx, ada.Token); err != nil || byToken.ID != ada.Registration.ID {
		t.Fatalf("the manage token finds %v, %v; want registration %d", byToken, err, ada.Registration.ID)
	}

	ben := signUp(t, s, p.ID, sess.ID, "ben@example.com")
	if r := ben.Registration; r.Status != RegistrationWaitlisted || !sameTime(r.ConfirmBy, testNow.Add(ConfirmHold)) {
		t.Fatalf("second sign-up = %s, confirm by %v; want waitlisted and held", r.Status, r.ConfirmBy)
	}
	assertKinds(t, s, "ben", ben.Registration.ID, KindConfirmEmail)
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestUnconfirmed_GetsNoRemindersUpdatesOrFollowUps(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireEmailConfirmation: true}, 10, false)

	// A day and a half before the start: the hold outlasts the session.
	// Una signs up first, so the fan-out's range of ids covers her.
	clock.Set(sess.StartsAt.Add(-36 * time.Hour))
	una := signUp(t, s, p.ID, sess.ID, "una@example.com")
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	confirmEmail(t, s, "ada", ada.Token)

	clock.Set(sess.StartsAt.Add(-24 * time.Hour))
	if n, err := s.EnqueueDueReminders(ctx); err != nil || n != 1 {
		t.Fatalf("reminders = %d, %v; want 1, to the confirmed address only", n, err)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail, KindConfirmation, KindReminder)

	upd := sessionUpdateOf(sess)
	upd.StartsAt = sess.StartsAt.Add(time.Hour)
	res, err := s.UpdateSession(ctx, sess.ID, upd)
	if err != nil {
		t.Fatal(err)
	}
	if res.Fanout == nil || res.Fanout.Total != 1 {
		t.Fatalf("fan-out = %+v; want one registrant to tell", res.Fanout)
	}
	if n := runFanouts(t, s); n != 1 {
		t.Fatalf("fan-out queued %d; want 1", n)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail, KindConfirmation, KindReminder, KindSessionUpdated)

	clock.Set(upd.StartsAt.Add(2 * time.Hour))
	if n, err := s.QueueFollowUps(ctx, sess.ID); err != nil || n != 1 {
		t.Fatalf("follow-ups = %d, %v; want 1", n, err)
	}
	assertFollowUps(t, s, sess.ID, map[int64][]OutboxKind{ada.Registration.ID: {KindFollowUpAbsent}})
	assertKinds(t, s, "una", una.Registration.ID, KindConfirmEmail)
	if reg := assertStored(t, s, "una", una.Registration.ID, RegistrationConfirmed); !reg.Unconfirmed() {
		t.Fatal("una's address counts as confirmed")
	}
}

func TestConfirmEmail_ClearsHoldAndSendsInviteOnce(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireEmailConfirmation: true}, 10, false)
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")

	confirmedAt := testNow.Add(time.Hour)
	clock.Set(confirmedAt)
	reg := confirmEmail(t, s, "ada", ada.Token)
	if reg.ConfirmBy != nil || !sameTime(reg.EmailConfirmedAt, confirmedAt) || reg.Status != RegistrationConfirmed {
		t.Fatalf("confirmed = %s, confirm by %v, confirmed at %v; want confirmed, no hold, at %v",
			reg.Status, reg.ConfirmBy, reg.EmailConfirmedAt, confirmedAt)
	}
	stored := assertStored(t, s, "ada", ada.Registration.ID, RegistrationConfirmed)
	if stored.ConfirmBy != nil || !sameTime(stored.EmailConfirmedAt, confirmedAt) {
		t.Fatalf("stored confirm by %v, confirmed at %v; want nil and %v", stored.ConfirmBy, stored.EmailConfirmedAt, confirmedAt)
	}
	msgs := assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail, KindConfirmation)
	assertMessage(t, msgs[1], KindConfirmation, CalendarRequest, 0)
	if byToken, err := s.RegistrationByToken(ctx, msgs[1].ManageToken); err != nil || byToken.ID != ada.Registration.ID {
		t.Fatalf("the confirmation's manage token finds %v, %v; want registration %d", byToken, err, ada.Registration.ID)
	}

	clock.Set(testNow.Add(2 * time.Hour))
	confirmEmail(t, s, "ada again", ada.Token)
	assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail, KindConfirmation)
	if stored := assertStored(t, s, "ada", ada.Registration.ID, RegistrationConfirmed); !sameTime(stored.EmailConfirmedAt, confirmedAt) {
		t.Fatalf("confirming again moved the confirmation to %v; want %v", stored.EmailConfirmedAt, confirmedAt)
	}

	clock.Set(testNow.Add(ConfirmHold + time.Hour))
	if n, err := s.ReleaseUnconfirmed(ctx); err != nil || n != 0 {
		t.Fatalf("released %d, %v; want nothing of a confirmed address", n, err)
	}
	assertStored(t, s, "ada", ada.Registration.ID, RegistrationConfirmed)
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestReleaseUnconfirmed_FreesSeatForOldestConfirmedWaitlisted(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireEmailConfirmation: true}, 2, true)
	minute := func(n int) time.Time { return testNow.Add(time.Duration(n) * time.Minute) }
	signUpAt := func(n int, email string, confirm bool) *RegisterResult {
		clock.Set(minute(n))
		res := signUp(t, s, p.ID, sess.ID, email)
		if confirm {
			confirmEmail(t, s, email, res.Token)
		}
		return res
	}
	kept := signUpAt(0, "kept@example.com", true)      // a seat, confirmed
	silent := signUpAt(1, "silent@example.com", false) // the last seat, never confirmed
	late := signUpAt(2, "late@example.com", false)     // waitlisted first, not confirmed yet
	second := signUpAt(3, "second@example.com", true)  // the oldest confirmed on the waitlist
	third := signUpAt(4, "third@example.com", true)
	assertSeatsTaken(t, s, sess.ID, 2)
	assertKinds(t, s, "second", second.Registration.ID, KindConfirmEmail, KindWaitlisted)

	// Silent's hold has run out; late's has not.
	clock.Set(minute(1).Add(ConfirmHold).Add(30 * time.Second))
	if n, err := s.ReleaseUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("released %d, %v; want silent's place", n, err)
	}
	if reg := assertStored(t, s, "silent", silent.Registration.ID, RegistrationCancelled); !sameTime(reg.CancelledAt, clock.Now()) {
		t.Fatalf("silent cancelled at %v; want %v", reg.CancelledAt, clock.Now())
	}
	assertKinds(t, s, "silent", silent.Registration.ID, KindConfirmEmail)
	assertSeatsTaken(t, s, sess.ID, 2)
	msgs := assertKinds(t, s, "second", second.Registration.ID, KindConfirmEmail, KindWaitlisted, KindPromoted)
	assertMessage(t, msgs[2], KindPromoted, CalendarRequest, 0)
	assertStored(t, s, "second", second.Registration.ID, RegistrationConfirmed)
	assertStored(t, s, "late", late.Registration.ID, RegistrationWaitlisted)
	assertStored(t, s, "third", third.Registration.ID, RegistrationWaitlisted)
	assertStored(t, s, "kept", kept.Registration.ID, RegistrationConfirmed)

	// Late's waitlist place goes too, freeing no seat.
	clock.Set(minute(2).Add(ConfirmHold))
	if n, err := s.ReleaseUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("released %d, %v; want late's place", n, err)
	}
	assertStored(t, s, "late", late.Registration.ID, RegistrationCancelled)
	assertStored(t, s, "third", third.Registration.ID, RegistrationWaitlisted)
	assertKinds(t, s, "third", third.Registration.ID, KindConfirmEmail, KindWaitlisted)
	assertSeatsTaken(t, s, sess.ID, 2)
	if n, err := s.ReleaseUnconfirmed(ctx); err != nil || n != 0 {
		t.Fatalf("released %d, %v again; want nothing", n, err)
	}
}

func TestConfirmEmail_WaitlistedTakesFreeSeat(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireEmailConfirmation: true}, 1, true)
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	confirmEmail(t, s, "ada", ada.Token)
	ben := signUp(t, s, p.ID, sess.ID, "ben@example.com")

	cancelled, err := s.CancelByToken(ctx, ada.Token)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Promoted != nil {
		t.Fatalf("ada's seat went to %d, whose address is not confirmed", cancelled.Promoted.ID)
	}
	assertSeatsTaken(t, s, sess.ID, 0)
	assertStored(t, s, "ben", ben.Registration.ID, RegistrationWaitlisted)

	if reg := confirmEmail(t, s, "ben", ben.Token); reg.Status != RegistrationConfirmed || reg.ConfirmBy != nil {
		t.Fatalf("ben confirms: %s, confirm by %v; want the free seat", reg.Status, reg.ConfirmBy)
	}
	assertStored(t, s, "ben", ben.Registration.ID, RegistrationConfirmed)
	assertSeatsTaken(t, s, sess.ID, 1)
	msgs := assertKinds(t, s, "ben", ben.Registration.ID, KindConfirmEmail, KindPromoted)
	assertMessage(t, msgs[1], KindPromoted, CalendarRequest, 0)
}

func TestRegister_ApprovalWaitsPendingWithoutSeat(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := gatedPanel(t, s, Gating{RequireApproval: true}, 1, false)

	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	if r := ada.Registration; r.Status != RegistrationPending || r.ConfirmBy != nil || ada.Full {
		t.Fatalf("sign-up = %s, confirm by %v, full %v; want pending, no hold, not full", r.Status, r.ConfirmBy, ada.Full)
	}
	assertStored(t, s, "ada", ada.Registration.ID, RegistrationPending)
	msgs := assertKinds(t, s, "ada", ada.Registration.ID, KindPending)
	assertMessage(t, msgs[0], KindPending, "", 0)
	if msgs[0].ManageToken != ada.Token {
		t.Fatalf("pending email carries token %q; want the sign-up's manage token", msgs[0].ManageToken)
	}
	// Pending requests hold no seat, so more come in than there are seats.
	ben := signUp(t, s, p.ID, sess.ID, "ben@example.com")
	assertStored(t, s, "ben", ben.Registration.ID, RegistrationPending)
	assertSeatsTaken(t, s, sess.ID, 0)

	again := signUp(t, s, p.ID, sess.ID, "Ada@Example.com")
	if !again.Duplicate || again.Registration.ID != ada.Registration.ID {
		t.Fatalf("second sign-up = duplicate %v, id %d; want a duplicate of %d", again.Duplicate, again.Registration.ID, ada.Registration.ID)
	}
	assertStored(t, s, "ada", ada.Registration.ID, RegistrationPending)
	assertRegistrationCount(t, s, sess.ID, 2)
	assertSeatsTaken(t, s, sess.ID, 0)
	if last := outboxFor(t, s, ada.Registration.ID); len(last) != 2 || last[1].ManageToken != again.Token {
		t.Fatalf("duplicate sign-up: %d emails; want the owner told again with the new link", len(last))
	}
}

func TestApprove_GivesSeatThenWaitlistPlace(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireApproval: true}, 1, true)
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	ben := signUp(t, s, p.ID, sess.ID, "ben@example.com")

	decidedAt := testNow.Add(time.Hour)
	clock.Set(decidedAt)
	reg, err := s.Approve(ctx, ada.Registration.ID)
	if err != nil || reg.Status != RegistrationConfirmed {
		t.Fatalf("approve ada = %v, %v; want confirmed", reg, err)
	}
	if stored := assertStored(t, s, "ada", ada.Registration.ID, RegistrationConfirmed); !sameTime(stored.DecidedAt, decidedAt) {
		t.Fatalf("ada decided at %v; want %v", stored.DecidedAt, decidedAt)
	}
	assertSeatsTaken(t, s, sess.ID, 1)
	msgs := assertKinds(t, s, "ada", ada.Registration.ID, KindPending, KindConfirmation)
	assertMessage(t, msgs[1], KindConfirmation, CalendarRequest, 0)
	if byToken, err := s.RegistrationByToken(ctx, msgs[1].ManageToken); err != nil || byToken.ID != ada.Registration.ID {
		t.Fatalf("the confirmation's manage token finds %v, %v; want registration %d", byToken, err, ada.Registration.ID)
	}

	if reg, err := s.Approve(ctx, ben.Registration.ID); err != nil || reg.Status != RegistrationWaitlisted {
		t.Fatalf("approve ben on a full session = %v, %v; want waitlisted", reg, err)
	}
	assertStored(t, s, "ben", ben.Registration.ID, RegistrationWaitlisted)
	assertKinds(t, s, "ben", ben.Registration.ID, KindPending, KindWaitlisted)
	assertSeatsTaken(t, s, sess.ID, 1)

	if _, err := s.Approve(ctx, ada.Registration.ID); !errors.Is(err, ErrNotPending) {
		t.Fatalf("approve ada twice = %v; want ErrNotPending", err)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindPending, KindConfirmation)
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestApprove_FullSessionWithoutWaitlistRefuses(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireApproval: true}, 1, false)
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	ben := signUp(t, s, p.ID, sess.ID, "ben@example.com")
	if _, err := s.Approve(ctx, ada.Registration.ID); err != nil {
		t.Fatal(err)
	}

	if reg, err := s.Approve(ctx, ben.Registration.ID); !errors.Is(err, ErrSessionFull) {
		t.Fatalf("approve ben = %v, %v; want ErrSessionFull", reg, err)
	}
	if reg := assertStored(t, s, "ben", ben.Registration.ID, RegistrationPending); reg.DecidedAt != nil {
		t.Fatalf("ben decided at %v; want undecided", reg.DecidedAt)
	}
	assertKinds(t, s, "ben", ben.Registration.ID, KindPending)
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestDecline_RefusesAndTellsOnce(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireApproval: true}, 5, true)
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")

	decidedAt := testNow.Add(time.Hour)
	clock.Set(decidedAt)
	reg, err := s.Decline(ctx, ada.Registration.ID)
	if err != nil || reg.Status != RegistrationDeclined {
		t.Fatalf("decline = %v, %v; want declined", reg, err)
	}
	if stored := assertStored(t, s, "ada", ada.Registration.ID, RegistrationDeclined); !sameTime(stored.DecidedAt, decidedAt) {
		t.Fatalf("ada decided at %v; want %v", stored.DecidedAt, decidedAt)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindPending, KindDeclined)
	assertSeatsTaken(t, s, sess.ID, 0)

	if _, err := s.Approve(ctx, ada.Registration.ID); !errors.Is(err, ErrNotPending) {
		t.Fatalf("approve after decline = %v; want ErrNotPending", err)
	}
	if _, err := s.Decline(ctx, ada.Registration.ID); !errors.Is(err, ErrNotPending) {
		t.Fatalf("decline twice = %v; want ErrNotPending", err)
	}
	assertStored(t, s, "ada", ada.Registration.ID, RegistrationDeclined)
	assertKinds(t, s, "ada", ada.Registration.ID, KindPending, KindDeclined)
	assertSeatsTaken(t, s, sess.ID, 0)
}

func TestApprove_WaitsForConfirmedAddress(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	p, sess := gatedPanel(t, s, Gating{RequireApproval: true, RequireEmailConfirmation: true}, 5, false)
	ada := signUp(t, s, p.ID, sess.ID, "ada@example.com")
	silent := signUp(t, s, p.ID, sess.ID, "silent@example.com")
	if r := ada.Registration; r.Status != RegistrationPending || !sameTime(r.ConfirmBy, testNow.Add(ConfirmHold)) {
		t.Fatalf("sign-up = %s, confirm by %v; want pending and held", r.Status, r.ConfirmBy)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail)
	assertSeatsTaken(t, s, sess.ID, 0)

	if _, err := s.Approve(ctx, ada.Registration.ID); !errors.Is(err, ErrUnconfirmedEmail) {
		t.Fatalf("approve before confirming = %v; want ErrUnconfirmedEmail", err)
	}
	assertStored(t, s, "ada", ada.Registration.ID, RegistrationPending)

	if reg := confirmEmail(t, s, "ada", ada.Token); reg.Status != RegistrationPending || reg.ConfirmBy != nil {
		t.Fatalf("confirmed = %s, confirm by %v; want still pending, no hold", reg.Status, reg.ConfirmBy)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail, KindPending)
	assertSeatsTaken(t, s, sess.ID, 0)

	if reg, err := s.Approve(ctx, ada.Registration.ID); err != nil || reg.Status != RegistrationConfirmed {
		t.Fatalf("approve after confirming = %v, %v; want confirmed", reg, err)
	}
	assertKinds(t, s, "ada", ada.Registration.ID, KindConfirmEmail, KindPending, KindConfirmation)
	assertSeatsTaken(t, s, sess.ID, 1)

	// A pending request whose address was never confirmed lapses, freeing no seat.
	clock.Set(testNow.Add(ConfirmHold))
	if n, err := s.ReleaseUnconfirmed(ctx); err != nil || n != 1 {
		t.Fatalf("released %d, %v; want silent's request", n, err)
	}
	assertStored(t, s, "silent", silent.Registration.ID, RegistrationCancelled)
	assertStored(t, s, "ada", ada.Registration.ID, RegistrationConfirmed)
	assertSeatsTaken(t, s, sess.ID, 1)
}

func TestApproveAndDecline_UnknownRegistrationNotFound(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	if _, err := s.Approve(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("approve unknown = %v; want ErrNotFound", err)
	}
	if _, err := s.Decline(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("decline unknown = %v; want ErrNotFound", err)
	}
}

func TestSponsorLeads_UnconfirmedAddressIsNoLeadUntilConfirmed(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	p, sess := sponsorPanel(t, s, "Sponsored panel", "Globex")
	edited, err := s.EditPanel(ctx, p.ID, func(p *Panel) { p.RequireEmailConfirmation = true })
	if err != nil {
		t.Fatal(err)
	}
	globex := edited.Sponsors[0]
	leadIDs := func() []int64 {
		t.Helper()
		_, leads, err := s.SponsorLeads(ctx, p.ID, globex.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, l := range leads {
			out = append(out, l.ID)
		}
		return out
	}

	ada := signUpWith(t, s, p.ID, sess.ID, "ada@example.com", false, globex.ID)
	if !ada.Registration.Unconfirmed() {
		t.Fatal("the sign-up did not wait for the address to be confirmed")
	}
	assertConsents(t, s, ada.Registration.ID, registrationLine(s, ChannelForm, testNow), sponsorLine(globex, ChannelForm, testNow))
	if got := leadIDs(); len(got) != 0 {
		t.Fatalf("leads before confirming = %v; want none", got)
	}

	confirmEmail(t, s, "ada", ada.Token)
	if got, want := leadIDs(), []int64{ada.Registration.ID}; !slices.Equal(got, want) {
		t.Fatalf("leads after confirming = %v; want %v", got, want)
	}
}
