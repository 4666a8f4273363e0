package models

import (
	"podium/models/pgtest"

	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// These tests race the people's-data operations (erasure, consent
// withdrawal, the organizer's decision, a share link's count, the release
// of unconfirmed places) between two instances on one database, as
// instances_test.go races sign-ups: each must take effect exactly once.

// openInstancesOnClock opens two stores on one new database, both reading
// clock: two instances whose clocks agree, for a race after time moves.
func openInstancesOnClock(t *testing.T, clock *testClock) []*Store {
	t.Helper()
	dsn := testDSN(t)
	return []*Store{openStoreAt(t, dsn, clock), openStoreAt(t, dsn, clock)}
}

// instancePanel stores a published panel titled title (each title once per
// database) with gating g and one session of capacity seats, an hour long,
// a week after the store's now.
func instancePanel(t *testing.T, s *Store, title string, g Gating, capacity int, waitlist bool) (*Panel, *Session) {
	t.Helper()
	p := &Panel{Title: title, Status: PanelPublished, Gating: g,
		Sessions: []Session{{StartsAt: s.Now().AddDate(0, 0, 7), DurationMinutes: 60, TimeZone: "UTC",
			Capacity: capacity, Waitlist: waitlist, JoinURL: liveJoinURL}}}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel %q: %v", title, err)
	}
	return p, &p.Sessions[0]
}

// assertEvents fails unless want events of eventType are stored about the
// registration.
func assertEvents(t *testing.T, s *Store, who string, registrationID int64, eventType string, want int64) {
	t.Helper()
	if n := countWebhookRows(t, s, "webhook_events", "type = ? AND registration_id = ?", eventType, registrationID); n != want {
		t.Fatalf("%s: %d %s events; want %d", who, n, eventType, want)
	}
}

func TestInstances_ErasePersonFromBothAtOnceErasesOnceAndPromotesOnce(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	newWebhookEndpoint(t, stores[0], hookURL) // every type
	const rounds, places, racers = 5, 3, 4
	for r := range rounds {
		email := fmt.Sprintf("erase%d@example.com", r)
		var mine, waiting, sessions []int64
		for k := range places {
			p, sess := instancePanel(t, stores[0], fmt.Sprintf("Erasure race %d %d", r, k), Gating{}, 1, true)
			mine = append(mine, signUp(t, stores[k%2], p.ID, sess.ID, email).Registration.ID)
			waiting = append(waiting, signUp(t, stores[(k+1)%2], p.ID, sess.ID, fmt.Sprintf("wait%d-%d@example.com", r, k)).Registration.ID)
			sessions = append(sessions, sess.ID)
		}
		results := make([]*ErasureResult, racers)
		errs := make([]error, racers)
		pgtest.AtOnce(racers, func(i int) { results[i], errs[i] = stores[i%2].ErasePerson(ctx, email) })
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: erasing from both: %v", r, err)
		}
		var won []*ErasureResult
		for i, res := range results {
			switch res.Registrations {
			case places:
				won = append(won, res)
			case 0:
				if len(res.Promoted) != 0 {
					t.Fatalf("round %d: racer %d erased nothing but promoted %d", r, i, len(res.Promoted))
				}
			default:
				t.Fatalf("round %d: racer %d erased %d registrations; want %d or 0", r, i, res.Registrations, places)
			}
		}
		if len(won) != 1 {
			t.Fatalf("round %d: %d racers erased the person; want exactly 1", r, len(won))
		}
		if promoted := ids(won[0].Promoted); !slices.Equal(promoted, waiting) {
			t.Fatalf("round %d: the erasure promoted %v; want the waitlisted %v", r, promoted, waiting)
		}
		for k := range places {
			who := fmt.Sprintf("round %d, place %d", r, k)
			assertErased(t, stores[1], mine[k], testNow, RegistrationCancelled)
			assertEvents(t, stores[1], who, mine[k], EventRegistrationErased, 1)
			assertSeatsTaken(t, stores[1], sessions[k], 1)
			assertStored(t, stores[1], who+" waiting", waiting[k], RegistrationConfirmed)
			assertKinds(t, stores[1], who+" waiting", waiting[k], KindWaitlisted, KindPromoted)
			assertEvents(t, stores[1], who+" waiting", waiting[k], EventRegistrationPromoted, 1)
		}
	}
}

// A sign-up for a full session on one instance while another erases the
// person holding its seat: the seat is freed once and taken once, by the
// oldest on the waitlist, else by the newcomer whichever came first.
func TestInstances_SignUpDuringAnotherInstancesErasureGivesTheFreedSeatToOne(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	const rounds = 8
	signUpFirst := 0 // rounds without a waiter where the newcomer waited
	for r := range rounds {
		p, sess := instancePanel(t, stores[0], fmt.Sprintf("Seat race %d", r), Gating{}, 1, true)
		leaving := fmt.Sprintf("leaving%d@example.com", r)
		held := signUp(t, stores[1], p.ID, sess.ID, leaving).Registration.ID
		var waiter *RegisterResult
		if r%2 == 1 {
			waiter = signUp(t, stores[0], p.ID, sess.ID, fmt.Sprintf("waiter%d@example.com", r))
		}
		var joined *RegisterResult
		var erased *ErasureResult
		errs := make([]error, 2)
		// Each round the instances swap parts.
		pgtest.AtOnce(2, func(i int) {
			if i == 0 {
				joined, errs[0] = stores[r%2].Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("joining%d@example.com", r)))
				return
			}
			erased, errs[1] = stores[(r+1)%2].ErasePerson(ctx, leaving)
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		if erased.Registrations != 1 {
			t.Fatalf("round %d: erased %d registrations; want 1", r, erased.Registrations)
		}
		assertErased(t, stores[1], held, testNow, RegistrationCancelled)
		assertSeatsTaken(t, stores[1], sess.ID, 1)
		assertStatusCount(t, stores[1], sess.ID, RegistrationConfirmed, 1)
		newcomer, promoted := joined.Registration.ID, ids(erased.Promoted)
		switch {
		case waiter != nil:
			// The waitlist comes first whichever ran first.
			if !slices.Equal(promoted, []int64{waiter.Registration.ID}) || joined.Registration.Status != RegistrationWaitlisted {
				t.Fatalf("round %d: promoted %v, newcomer %s; want the waiter %d promoted and the newcomer waitlisted",
					r, promoted, joined.Registration.Status, waiter.Registration.ID)
			}
			assertStored(t, stores[1], "waiter", waiter.Registration.ID, RegistrationConfirmed)
			assertKinds(t, stores[1], "waiter", waiter.Registration.ID, KindWaitlisted, KindPromoted)
			assertStored(t, stores[1], "newcomer", newcomer, RegistrationWaitlisted)
			assertKinds(t, stores[1], "newcomer", newcomer, KindWaitlisted)
		case joined.Registration.Status == RegistrationWaitlisted:
			// The sign-up ran first and waited; the erasure promoted it.
			if !slices.Equal(promoted, []int64{newcomer}) {
				t.Fatalf("round %d: the newcomer waited, and the erasure promoted %v; want %d", r, promoted, newcomer)
			}
			assertStored(t, stores[1], "newcomer", newcomer, RegistrationConfirmed)
			assertKinds(t, stores[1], "newcomer", newcomer, KindWaitlisted, KindPromoted)
			signUpFirst++
		default:
			// The erasure ran first; the sign-up took the free seat.
			if joined.Registration.Status != RegistrationConfirmed || len(promoted) != 0 {
				t.Fatalf("round %d: newcomer %s, promoted %v; want confirmed, nobody promoted", r, joined.Registration.Status, promoted)
			}
			assertStored(t, stores[1], "newcomer", newcomer, RegistrationConfirmed)
			assertKinds(t, stores[1], "newcomer", newcomer, KindConfirmation)
		}
	}
	t.Logf("the sign-up ran first in %d of %d rounds without a waiter", signUpFirst, rounds/2)
}

// A person withdraws a sponsor's consent for the whole panel: through the
// same registration from both instances, or (with two sessions) through
// each of theirs, it is withdrawn once.
func TestInstances_WithdrawConsentFromBothAtOnceWithdrawsOnce(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	const rounds, racers = 6, 4
	for r := range rounds {
		p, first := sponsorPanel(t, stores[0], fmt.Sprintf("Consent race %d", r), "Globex")
		globex := p.Sponsors[0]
		email := fmt.Sprintf("withdraw%d@example.com", r)
		mine := signUpWith(t, stores[0], p.ID, first.ID, email, true, globex.ID).Registration.ID
		regs := []int64{mine}
		if r%2 == 1 {
			second := addSession(t, stores[0], p.ID, first.StartsAt.Add(24*time.Hour), 10)
			regs = append(regs, signUpWith(t, stores[1], p.ID, second.ID, email, true, globex.ID).Registration.ID)
		}
		withdrew := make([]bool, racers)
		errs := make([]error, racers)
		pgtest.AtOnce(racers, func(i int) {
			withdrew[i], errs[i] = stores[i%2].WithdrawConsent(ctx, regs[(i/2)%len(regs)], ConsentSponsor, globex.ID, ChannelManage)
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: withdrawing from both: %v", r, err)
		}
		if n := len(slices.DeleteFunc(slices.Clone(withdrew), func(ok bool) bool { return !ok })); n != 1 {
			t.Fatalf("round %d: %d of %d withdrawals reported a consent standing (%v); want exactly 1", r, n, racers, withdrew)
		}
		for _, id := range regs {
			if n := countWebhookRows(t, stores[1], "consents", "registration_id = ? AND sponsor_id = ? AND NOT given", id, globex.ID); n != 1 {
				t.Fatalf("round %d: registration %d has %d withdrawal rows; want 1", r, id, n)
			}
			if n := countWebhookRows(t, stores[1], "consents", "registration_id = ? AND purpose = ? AND NOT given", id, ConsentMarketing); n != 0 {
				t.Fatalf("round %d: registration %d's organizer's news withdrawn %d times; want untouched", r, id, n)
			}
		}
	}
}

func TestInstances_ApproveFromBothAtOnceSeatsOnce(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	const rounds, racers = 6, 4
	p, sess := instancePanel(t, stores[0], "Approval race", Gating{RequireApproval: true}, rounds, false)
	for r := range rounds {
		who := fmt.Sprintf("round %d's person", r)
		id := signUp(t, stores[r%2], p.ID, sess.ID, fmt.Sprintf("approve%d@example.com", r)).Registration.ID
		regs := make([]*Registration, racers)
		errs := make([]error, racers)
		pgtest.AtOnce(racers, func(i int) { regs[i], errs[i] = stores[i%2].Approve(ctx, id) })
		approved := 0
		for i, err := range errs {
			switch {
			case err == nil && regs[i].Status == RegistrationConfirmed:
				approved++
			case errors.Is(err, ErrNotPending):
			default:
				t.Fatalf("round %d: approval %d = %v, %v; want confirmed or ErrNotPending", r, i, regs[i], err)
			}
		}
		if approved != 1 {
			t.Fatalf("round %d: %d of %d approvals succeeded; want exactly 1", r, approved, racers)
		}
		assertStored(t, stores[1], who, id, RegistrationConfirmed)
		assertSeatsTaken(t, stores[1], sess.ID, r+1)
		assertKinds(t, stores[1], who, id, KindPending, KindConfirmation)
	}
}

func TestInstances_ApproveAndDeclineAtOnceOneDecides(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	newWebhookEndpoint(t, stores[0], hookURL, EventRegistrationCancelled)
	const rounds = 10
	p, sess := instancePanel(t, stores[0], "Decision race", Gating{RequireApproval: true}, rounds, false)
	seats := 0 // one per approval that won
	for r := range rounds {
		who := fmt.Sprintf("round %d's person", r)
		id := signUp(t, stores[r%2], p.ID, sess.ID, fmt.Sprintf("decide%d@example.com", r)).Registration.ID
		var approved, declined *Registration
		var approveErr, declineErr error
		// Each round the instances swap parts.
		pgtest.AtOnce(2, func(i int) {
			if i == 0 {
				approved, approveErr = stores[r%2].Approve(ctx, id)
				return
			}
			declined, declineErr = stores[(r+1)%2].Decline(ctx, id)
		})
		switch {
		case approveErr == nil && errors.Is(declineErr, ErrNotPending):
			if approved.Status != RegistrationConfirmed {
				t.Fatalf("round %d: the approval won with %s; want confirmed", r, approved.Status)
			}
			seats++
			assertStored(t, stores[1], who, id, RegistrationConfirmed)
			assertKinds(t, stores[1], who, id, KindPending, KindConfirmation)
			assertEvents(t, stores[1], who, id, EventRegistrationCancelled, 0)
		case declineErr == nil && errors.Is(approveErr, ErrNotPending):
			if declined.Status != RegistrationDeclined {
				t.Fatalf("round %d: the decline won with %s; want declined", r, declined.Status)
			}
			assertStored(t, stores[1], who, id, RegistrationDeclined)
			assertKinds(t, stores[1], who, id, KindPending, KindDeclined)
			assertEvents(t, stores[1], who, id, EventRegistrationCancelled, 1)
		default:
			t.Fatalf("round %d: approve = %v, decline = %v; want one to win and the other ErrNotPending",
				r, approveErr, declineErr)
		}
		assertSeatsTaken(t, stores[1], sess.ID, seats)
	}
	t.Logf("the approval won %d of %d rounds", seats, rounds)
}

func TestInstances_OpenAShareLinkFromBothCountsEveryUse(t *testing.T) {
	stores := openInstances(t, 2)
	ctx := context.Background()
	p, _ := sponsorPanel(t, stores[0], "Share race", "Globex")
	link, token := newShareLink(t, stores[0], p.ID, p.Sponsors[0].ID, DefaultShareDays)
	const rounds, opens = 3, 20
	for r := range rounds {
		errs := make([]error, opens)
		pgtest.AtOnce(opens, func(i int) { _, _, errs[i] = stores[i%2].OpenShareLink(ctx, token) })
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: opening from both: %v", r, err)
		}
		stored := storedShareLink(t, stores[1], link.ID)
		if want := opens * (r + 1); stored.Uses != want || !sameTime(stored.LastUsedAt, testNow) {
			t.Fatalf("round %d: %d uses, last used %v; want %d at %s", r, stored.Uses, stored.LastUsedAt, want, at(testNow))
		}
	}
}

// Both instances' jobs passes release a place whose hold ran out: it is
// cancelled once, its seat freed once and taken by the oldest waitlisted
// person whose address is confirmed, not by one still unconfirmed.
func TestInstances_ReleaseUnconfirmedFromBothAtOnceReleasesOnce(t *testing.T) {
	clock := &testClock{now: testNow}
	stores := openInstancesOnClock(t, clock)
	ctx := context.Background()
	newWebhookEndpoint(t, stores[0], hookURL) // every type
	const rounds, racers = 5, 4
	for r := range rounds {
		base := testNow.Add(time.Duration(r) * 3 * ConfirmHold)
		clock.Set(base)
		p, sess := instancePanel(t, stores[0], fmt.Sprintf("Release race %d", r), Gating{RequireEmailConfirmation: true}, 1, true)
		silent := signUp(t, stores[0], p.ID, sess.ID, fmt.Sprintf("silent%d@example.com", r)).Registration.ID
		clock.Set(base.Add(time.Minute))
		waiter := signUp(t, stores[1], p.ID, sess.ID, fmt.Sprintf("waiter%d@example.com", r))
		confirmEmail(t, stores[1], "waiter", waiter.Token)
		clock.Set(base.Add(2 * time.Minute))
		late := signUp(t, stores[0], p.ID, sess.ID, fmt.Sprintf("late%d@example.com", r))

		releasedAt := base.Add(ConfirmHold + 30*time.Second) // silent's hold ran out, late's not
		clock.Set(releasedAt)
		released := make([]int, racers)
		errs := make([]error, racers)
		pgtest.AtOnce(racers, func(i int) { released[i], errs[i] = stores[i%2].ReleaseUnconfirmed(ctx) })
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: releasing from both: %v", r, err)
		}
		total := 0
		for _, n := range released {
			total += n
		}
		if total != 1 {
			t.Fatalf("round %d: released %v; want one release in all", r, released)
		}
		if reg := assertErased(t, stores[1], silent, releasedAt, RegistrationCancelled); !sameTime(reg.CancelledAt, releasedAt) {
			t.Fatalf("round %d: silent cancelled at %v; want %s", r, reg.CancelledAt, at(releasedAt))
		}
		assertKinds(t, stores[1], "silent", silent, KindConfirmEmail)
		assertEvents(t, stores[1], "silent", silent, EventRegistrationCancelled, 1)
		assertEvents(t, stores[1], "silent", silent, EventRegistrationErased, 1)
		assertSeatsTaken(t, stores[1], sess.ID, 1)
		assertStored(t, stores[1], "waiter", waiter.Registration.ID, RegistrationConfirmed)
		assertKinds(t, stores[1], "waiter", waiter.Registration.ID, KindConfirmEmail, KindWaitlisted, KindPromoted)
		assertEvents(t, stores[1], "waiter", waiter.Registration.ID, EventRegistrationPromoted, 1)
		assertStored(t, stores[1], "late", late.Registration.ID, RegistrationWaitlisted)
		assertKinds(t, stores[1], "late", late.Registration.ID, KindConfirmEmail)
		// Late confirms, so no hold of this round runs out in the next.
		confirmEmail(t, stores[0], "late", late.Token)
	}
}

// Both instances' jobs passes erase a panel whose retention ran out: each
// registration is erased by one of them, and the erasure audited once.
func TestInstances_EraseExpiredFromBothAtOnceErasesAndAuditsOnce(t *testing.T) {
	clock := &testClock{now: testNow}
	stores := openInstancesOnClock(t, clock)
	ctx := context.Background()
	const rounds, registrants, racers = 4, 3, 4
	for r := range rounds {
		p, sess := instancePanel(t, stores[0], fmt.Sprintf("Retention race %d", r), Gating{}, 0, false)
		var regs []int64
		for k := range registrants {
			regs = append(regs, signUp(t, stores[k%2], p.ID, sess.ID, fmt.Sprintf("kept%d-%d@example.com", r, k)).Registration.ID)
		}
		erasedAt := sess.EndsAt().AddDate(0, 0, DefaultRetentionDays).Add(time.Second)
		clock.Set(erasedAt)
		erased := make([]map[int64]int, racers)
		errs := make([]error, racers)
		pgtest.AtOnce(racers, func(i int) { erased[i], errs[i] = stores[i%2].EraseExpired(ctx) })
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: erasing from both: %v", r, err)
		}
		var reported []int
		for _, m := range erased {
			if n, ok := m[p.ID]; ok {
				reported = append(reported, n)
			}
			if len(m) > 1 || (len(m) == 1 && m[p.ID] == 0) {
				t.Fatalf("round %d: erased %v; want only panel %d", r, m, p.ID)
			}
		}
		if !slices.Equal(reported, []int{registrants}) {
			t.Fatalf("round %d: the racers reported %v erased; want one report of %d", r, reported, registrants)
		}
		for _, id := range regs {
			assertErased(t, stores[1], id, erasedAt, RegistrationConfirmed)
		}
		if n := countWebhookRows(t, stores[1], "audit_log", "action = ? AND subject LIKE ?", AuditRegistrantsExpired,
			fmt.Sprintf("panel %d:%%", p.ID)); n != 1 {
			t.Fatalf("round %d: the panel's erasure audited %d times; want once", r, n)
		}
	}
}

// A person confirms their address just as another instance's jobs pass
// finds its hold run out: either the confirmation keeps the seat, or the
// release frees it for the waitlist, never both.
func TestInstances_ConfirmEmailAsTheHoldRunsOutEitherKeepsOrReleases(t *testing.T) {
	clock := &testClock{now: testNow}
	stores := openInstancesOnClock(t, clock)
	ctx := context.Background()
	const rounds = 8
	kept := 0
	for r := range rounds {
		base := testNow.Add(time.Duration(r) * 3 * ConfirmHold)
		clock.Set(base)
		p, sess := instancePanel(t, stores[0], fmt.Sprintf("Confirm race %d", r), Gating{RequireEmailConfirmation: true}, 1, true)
		holder := signUp(t, stores[0], p.ID, sess.ID, fmt.Sprintf("holder%d@example.com", r))
		waiter := signUp(t, stores[1], p.ID, sess.ID, fmt.Sprintf("waiter%d@example.com", r))
		confirmEmail(t, stores[1], "waiter", waiter.Token)

		clock.Set(*holder.Registration.ConfirmBy) // the last moment: the jobs pass releases it now
		var confirmed *Registration
		var released int
		errs := make([]error, 2)
		// Each round the instances swap parts.
		pgtest.AtOnce(2, func(i int) {
			if i == 0 {
				confirmed, errs[0] = stores[r%2].ConfirmEmail(ctx, holder.Token)
				return
			}
			released, errs[1] = stores[(r+1)%2].ReleaseUnconfirmed(ctx)
		})
		if errs[1] != nil {
			t.Fatalf("round %d: release: %v", r, errs[1])
		}
		assertSeatsTaken(t, stores[1], sess.ID, 1)
		switch released {
		case 0: // the confirmation came first
			if errs[0] != nil || confirmed.Status != RegistrationConfirmed || confirmed.ConfirmBy != nil {
				t.Fatalf("round %d: nothing released, and the confirmation = %v, %v; want confirmed", r, confirmed, errs[0])
			}
			kept++
			assertStored(t, stores[1], "holder", holder.Registration.ID, RegistrationConfirmed)
			assertKinds(t, stores[1], "holder", holder.Registration.ID, KindConfirmEmail, KindConfirmation)
			assertStored(t, stores[1], "waiter", waiter.Registration.ID, RegistrationWaitlisted)
			assertKinds(t, stores[1], "waiter", waiter.Registration.ID, KindConfirmEmail, KindWaitlisted)
		case 1: // the release came first: the link is dead, or finds the place cancelled
			if !errors.Is(errs[0], ErrNotFound) && (errs[0] != nil || confirmed.Status != RegistrationCancelled) {
				t.Fatalf("round %d: released, and the confirmation = %v, %v; want ErrNotFound or the place cancelled", r, confirmed, errs[0])
			}
			assertErased(t, stores[1], holder.Registration.ID, clock.Now(), RegistrationCancelled)
			assertKinds(t, stores[1], "holder", holder.Registration.ID, KindConfirmEmail)
			assertStored(t, stores[1], "waiter", waiter.Registration.ID, RegistrationConfirmed)
			assertKinds(t, stores[1], "waiter", waiter.Registration.ID, KindConfirmEmail, KindWaitlisted, KindPromoted)
		default:
			t.Fatalf("round %d: released %d; want 0 or 1", r, released)
		}
	}
	t.Logf("the confirmation kept the seat in %d of %d rounds", kept, rounds)
}
