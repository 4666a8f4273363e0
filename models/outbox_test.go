package models

import (
	"podium/models/pgtest"

	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
)

func outboxFor(t *testing.T, s *Store, regID int64) []OutboxMessage {
	t.Helper()
	var msgs []OutboxMessage
	if err := s.read.Where("registration_id = ?", regID).Order("id").Find(&msgs).Error; err != nil {
		t.Fatal(err)
	}
	return msgs
}

func assertMessage(t *testing.T, m OutboxMessage, kind OutboxKind, method string, seq int) {
	t.Helper()
	if m.Kind != kind || m.CalendarMethod != method || m.Sequence != seq || m.Status != OutboxQueued {
		t.Fatalf("message = %s %q seq %d %s; want %s %q seq %d queued", m.Kind, m.CalendarMethod, m.Sequence, m.Status, kind, method, seq)
	}
}

func TestRegister_QueuesConfirmationInSameTransaction(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 1, true)
	ctx := context.Background()
	first, err := s.Register(ctx, p.ID, validInput(sess.ID, "a@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := outboxFor(t, s, first.Registration.ID)
	if len(msgs) != 1 || msgs[0].ManageToken != first.Token {
		t.Fatalf("outbox = %+v; want one confirmation carrying the manage token", msgs)
	}
	assertMessage(t, msgs[0], KindConfirmation, CalendarRequest, 0)

	waiting, err := s.Register(ctx, p.ID, validInput(sess.ID, "b@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	assertMessage(t, outboxFor(t, s, waiting.Registration.ID)[0], KindWaitlisted, "", 0)

	again, err := s.Register(ctx, p.ID, validInput(sess.ID, "A@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	msgs = outboxFor(t, s, first.Registration.ID)
	if len(msgs) != 2 || msgs[1].ManageToken != again.Token {
		t.Fatalf("duplicate sign-up: outbox = %d messages; want the owner told again with the new link", len(msgs))
	}
}

func TestCancel_QueuesCancelAndPromotionInvites(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 1, true)
	ctx := context.Background()
	a, _ := s.Register(ctx, p.ID, validInput(sess.ID, "a@example.com"))
	b, _ := s.Register(ctx, p.ID, validInput(sess.ID, "b@example.com"))
	if _, err := s.CancelByToken(ctx, a.Token); err != nil {
		t.Fatal(err)
	}
	msgs := outboxFor(t, s, a.Registration.ID)
	assertMessage(t, msgs[len(msgs)-1], KindCancellation, CalendarCancel, 1)
	msgs = outboxFor(t, s, b.Registration.ID)
	promo := msgs[len(msgs)-1]
	assertMessage(t, promo, KindPromoted, CalendarRequest, 0)
	if reg, err := s.RegistrationByToken(ctx, promo.ManageToken); err != nil || reg.ID != b.Registration.ID {
		t.Fatalf("promotion link = %v, %v; want b's registration", reg, err)
	}
	// A waitlisted registrant leaving gets a note without a calendar CANCEL.
	c, _ := s.Register(ctx, p.ID, validInput(sess.ID, "c@example.com"))
	if _, err := s.CancelByToken(ctx, c.Token); err != nil {
		t.Fatal(err)
	}
	msgs = outboxFor(t, s, c.Registration.ID)
	assertMessage(t, msgs[len(msgs)-1], KindCancellation, "", 0)
}

func TestOutbox_ClaimLeaseAndRecordOutcomes(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 10, false)
	ctx := context.Background()
	for i := range 4 {
		if _, err := s.Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
	}
	// The last message has been tried all but once before.
	if err := s.write.Exec("UPDATE outbox_messages SET attempts = ? WHERE id = (SELECT max(id) FROM outbox_messages)",
		MaxDeliveryAttempts-1).Error; err != nil {
		t.Fatal(err)
	}
	claimed, err := s.ClaimOutbox(ctx, 10, time.Minute)
	if err != nil || len(claimed) != 4 || claimed[0].Registration.Session.Panel == nil || claimed[0].Attempts != 1 ||
		claimed[3].Attempts != MaxDeliveryAttempts {
		t.Fatalf("claim = %d messages, %v; want 4 with registration, session and panel", len(claimed), err)
	}
	if again, _ := s.ClaimOutbox(ctx, 10, time.Minute); len(again) != 0 {
		t.Fatalf("leased messages claimed twice: %d", len(again))
	}
	results := []DeliveryResult{
		{ID: claimed[0].ID, Attempts: 1},
		{ID: claimed[1].ID, Attempts: 1, Err: errors.New("421 try later")},
		{ID: claimed[2].ID, Attempts: 1, Err: errors.New("550 no such user"), Permanent: true},
		{ID: claimed[3].ID, Attempts: claimed[3].Attempts, Err: errors.New("timeout")},
	}
	if err := s.RecordDeliveries(ctx, results); err != nil {
		t.Fatal(err)
	}
	want := []OutboxStatus{OutboxSent, OutboxQueued, OutboxFailed, OutboxFailed}
	for i, c := range claimed {
		m, err := s.OutboxMessageByID(ctx, c.ID)
		if err != nil || m.Status != want[i] {
			t.Fatalf("message %d = %v, %v; want %s", i, m.Status, err, want[i])
		}
		if (m.Status == OutboxSent) != (m.ManageToken == "") {
			t.Fatalf("message %d: token kept = %v with status %s; only delivered messages drop it", i, m.ManageToken != "", m.Status)
		}
		if i == 1 && (!m.NextAttemptAt.After(testNow) || m.LastError == "") {
			t.Fatalf("retry scheduled at %v (error %q); want later than now", m.NextAttemptAt, m.LastError)
		}
	}
	// Not due before its backoff; due after it.
	if due, _ := s.ClaimOutbox(ctx, 10, time.Minute); len(due) != 0 {
		t.Fatalf("retried before backoff: %d", len(due))
	}
	clock.Set(testNow.Add(time.Hour))
	if due, _ := s.ClaimOutbox(ctx, 10, time.Minute); len(due) != 1 || due[0].Attempts != 2 {
		t.Fatalf("after backoff claimed %d; want the one retry on attempt 2", len(due))
	}
	if err := s.ResendMessage(ctx, claimed[2].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.ResendMessage(ctx, claimed[0].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("resend of a sent message = %v; want ErrNotFound", err)
	}
	counts, _ := s.OutboxCounts(ctx)
	if counts[OutboxQueued] != 1 || counts[OutboxSending] != 1 || counts[OutboxSent] != 1 || counts[OutboxFailed] != 1 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestOutbox_InFlightMessagesReleasedAtStartAndAfterLease(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 10, false)
	ctx := context.Background()
	for i := range 2 {
		if _, err := s.Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := s.ClaimOutbox(ctx, 1, time.Minute); len(c) != 1 {
		t.Fatal("claim failed")
	}
	clock.Set(testNow.Add(2 * time.Minute))
	if c, _ := s.ClaimOutbox(ctx, 10, time.Minute); len(c) != 2 {
		t.Fatalf("claimed %d after the lease ran out; want both", len(c))
	}
	n, err := s.ReleaseInFlight(ctx)
	if pgtest.Postgres() {
		// Another live instance may hold them: only their lease frees them.
		if err != nil || n != 0 {
			t.Fatalf("released %d, %v; want 0 on PostgreSQL", n, err)
		}
		if c, _ := s.ClaimOutbox(ctx, 10, time.Minute); len(c) != 0 {
			t.Fatalf("claimed %d under a live lease; want 0", len(c))
		}
		clock.Set(testNow.Add(4 * time.Minute))
	} else if err != nil || n != 2 {
		t.Fatalf("released %d, %v; want 2", n, err)
	}
	if c, _ := s.ClaimOutbox(ctx, 10, time.Minute); len(c) != 2 {
		t.Fatalf("claimed %d after release; want 2", len(c))
	}
}

func TestRetryDelay_DoublesWithJitterUpToAnHour(t *testing.T) {
	for attempts, base := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 4: 4 * time.Minute, 20: time.Hour} {
		for range 50 {
			if d := RetryDelay(DefaultRetryDelay, attempts); d < base*8/10 || d > base*12/10 {
				t.Fatalf("RetryDelay(%d) = %v; want %v ±20%%", attempts, d, base)
			}
		}
	}
}

// addRegistrations inserts n confirmed registrations directly, for fan-out sizes.
func addRegistrations(t testing.TB, s *Store, sessionID int64, n int, status RegistrationStatus) {
	t.Helper()
	regs := make([]Registration, n)
	for i := range regs {
		email := fmt.Sprintf("bulk-%s-%d@example.com", status, i)
		regs[i] = Registration{SessionID: sessionID, Name: "Bulk", Email: email, EmailKey: email,
			ConsentAt: testNow, Status: status, CreatedAt: testNow, UpdatedAt: testNow}
	}
	if err := s.write.CreateInBatches(regs, 500).Error; err != nil {
		t.Fatal(err)
	}
	if status == RegistrationConfirmed {
		if err := s.write.Exec("UPDATE sessions SET seats_taken = seats_taken + ? WHERE id = ?", n, sessionID).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func runFanouts(t *testing.T, s *Store) int {
	t.Helper()
	total := 0
	for {
		n, err := s.RunFanoutBatch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func countKind(t *testing.T, s *Store, kind OutboxKind, method string, seq int) int64 {
	t.Helper()
	var n int64
	s.read.Model(&OutboxMessage{}).Where("kind = ? AND calendar_method = ? AND sequence = ?", kind, method, seq).Count(&n)
	return n
}

func TestUpdateSession_RescheduleRaisesSequenceAndFansOutInBatches(t *testing.T) {
	s, _ := newTestStore(t)
	_, sess := newTestPanel(t, s, 0, true)
	addRegistrations(t, s, sess.ID, 2*fanoutBatch+5, RegistrationConfirmed)
	addRegistrations(t, s, sess.ID, 3, RegistrationWaitlisted)
	ctx := context.Background()
	res, err := s.UpdateSession(ctx, sess.ID, SessionUpdate{
		StartsAt: sess.StartsAt.Add(24 * time.Hour), DurationMinutes: 90, TimeZone: sess.TimeZone,
		JoinURL: sess.JoinURL,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Session.Sequence != 1 || res.Fanout == nil || res.Fanout.Total != 2*fanoutBatch+5 {
		t.Fatalf("update = seq %d fanout %+v; want seq 1 and a fan-out to every confirmed registrant", res.Session.Sequence, res.Fanout)
	}
	if n := runFanouts(t, s); n != 2*fanoutBatch+5 {
		t.Fatalf("fan-out queued %d; want %d", n, 2*fanoutBatch+5)
	}
	if n := countKind(t, s, KindSessionUpdated, CalendarRequest, 1); n != 2*fanoutBatch+5 {
		t.Fatalf("updated invites = %d", n)
	}
	f, err := s.FanoutByID(ctx, res.Fanout.ID)
	if err != nil || f.Status != FanoutDone || f.Enqueued != f.Total {
		t.Fatalf("fan-out = %+v, %v; want done with all queued", f, err)
	}
	// Changing only capacity sends nothing and keeps the sequence.
	res, err = s.UpdateSession(ctx, sess.ID, SessionUpdate{
		StartsAt: res.Session.StartsAt, DurationMinutes: 90, TimeZone: sess.TimeZone, JoinURL: sess.JoinURL, Capacity: 5000,
	})
	if err != nil || res.Fanout != nil || res.Session.Sequence != 1 {
		t.Fatalf("capacity change = %+v, %v; want no fan-out", res, err)
	}
}

func TestUpdateSession_CapacityRulesAndPromotion(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 2, true)
	ctx := context.Background()
	for i := range 4 {
		if _, err := s.Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("p%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
	}
	upd := SessionUpdate{StartsAt: sess.StartsAt, DurationMinutes: 60, TimeZone: sess.TimeZone, JoinURL: sess.JoinURL, Waitlist: true, Capacity: 1}
	var verr *ValidationError
	if _, err := s.UpdateSession(ctx, sess.ID, upd); !errors.As(err, &verr) || verr.Fields["capacity"] == "" {
		t.Fatalf("capacity below seats taken = %v; want a capacity error", err)
	}
	upd.Capacity = 3
	res, err := s.UpdateSession(ctx, sess.ID, upd)
	if err != nil || len(res.Promoted) != 1 || res.Session.SeatsTaken != 3 {
		t.Fatalf("raise capacity = %+v, %v; want one promotion", res, err)
	}
	assertSeatsTaken(t, s, sess.ID, 3)
	assertStatusCount(t, s, sess.ID, RegistrationWaitlisted, 1)
}

func TestCancelSession_SendsCancelToHoldersAndNoticeToWaitlist(t *testing.T) {
	s, _ := newTestStore(t)
	_, sess := newTestPanel(t, s, 0, true)
	addRegistrations(t, s, sess.ID, 7, RegistrationConfirmed)
	addRegistrations(t, s, sess.ID, 2, RegistrationWaitlisted)
	ctx := context.Background()
	res, err := s.CancelSession(ctx, sess.ID)
	if err != nil || res.Session.Status != SessionCancelled || res.Session.Sequence != 1 {
		t.Fatalf("cancel = %+v, %v", res, err)
	}
	runFanouts(t, s)
	if n := countKind(t, s, KindSessionCancelled, CalendarCancel, 1); n != 7 {
		t.Fatalf("CANCEL invites = %d; want 7", n)
	}
	if n := countKind(t, s, KindSessionCancelled, "", 1); n != 2 {
		t.Fatalf("waitlist notices = %d; want 2", n)
	}
	again, err := s.CancelSession(ctx, sess.ID)
	if err != nil || again.Fanout != nil || again.Session.Sequence != 1 {
		t.Fatalf("second cancel = %+v, %v; want a harmless no-op", again, err)
	}
}

func TestEnqueueDueReminders_OncePerRuleAndNeverStale(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 0, false) // starts testNow + 7 days; reminders 24 h and 1 h before
	ctx := context.Background()
	early, _ := s.Register(ctx, p.ID, validInput(sess.ID, "early@example.com"))
	start := sess.StartsAt
	steps := []struct {
		at   time.Time
		want int
	}{
		{start.Add(-25 * time.Hour), 0},             // nothing due yet
		{start.Add(-24*time.Hour + time.Minute), 1}, // the day-before reminder
		{start.Add(-23 * time.Hour), 0},             // at most once
		{start.Add(-time.Hour + time.Minute), 2},    // the hour-before one, also to the late registrant
		{start.Add(-40 * time.Minute), 0},           // at most once
		{start.Add(time.Minute), 0},                 // never after the start
	}
	for i, step := range steps {
		if i == 3 {
			clock.Set(start.Add(-20 * time.Hour))
			if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "late@example.com")); err != nil {
				t.Fatal(err)
			}
		}
		clock.Set(step.at)
		n, err := s.EnqueueDueReminders(ctx)
		if err != nil || n != step.want {
			t.Fatalf("step %d at start%+v: queued %d, %v; want %d", i, step.at.Sub(start), n, err, step.want)
		}
	}
	var reminders []OutboxMessage
	s.read.Where("kind = ?", KindReminder).Order("id").Find(&reminders)
	if len(reminders) != 3 || reminders[0].RegistrationID != early.Registration.ID || reminders[0].ReminderMinutes != 1440 {
		t.Fatalf("reminders = %+v; want early's 24 h reminder then both 1 h reminders", reminders)
	}
}

func TestEnqueueDueReminders_DownServerSkipsStaleReminder(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 0, false)
	if _, err := s.Register(context.Background(), p.ID, validInput(sess.ID, "a@example.com")); err != nil {
		t.Fatal(err)
	}
	// The server was down from well before the day-before reminder until 3 hours before the start.
	clock.Set(sess.StartsAt.Add(-3 * time.Hour))
	if n, err := s.EnqueueDueReminders(context.Background()); err != nil || n != 0 {
		t.Fatalf("queued %d, %v; a day-before reminder 21 hours late must be skipped", n, err)
	}
}

func TestOutboxMessage_OvertakenByEvents(t *testing.T) {
	start := testNow.Add(time.Hour)
	sess := &Session{StartsAt: start, DurationMinutes: 60, Status: SessionScheduled}
	msg := func(kind OutboxKind, status RegistrationStatus) *OutboxMessage {
		return &OutboxMessage{Kind: kind, Registration: &Registration{Status: status, Session: sess}}
	}
	cases := []struct {
		msg  *OutboxMessage
		now  time.Time
		want bool
	}{
		{msg(KindReminder, RegistrationConfirmed), testNow, false},
		{msg(KindReminder, RegistrationConfirmed), start, true},
		{msg(KindReminder, RegistrationCancelled), testNow, true},
		{msg(KindConfirmation, RegistrationConfirmed), testNow, false},
		{msg(KindConfirmation, RegistrationCancelled), testNow, true},
		{msg(KindCancellation, RegistrationCancelled), testNow, false},
		{msg(KindCancellation, RegistrationCancelled), start.Add(2 * time.Hour), true},
		{&OutboxMessage{Kind: KindConfirmation}, testNow, true},
	}
	for i, tc := range cases {
		if got := tc.msg.Overtaken(tc.now); got != tc.want {
			t.Errorf("case %d (%s): Overtaken = %v; want %v", i, tc.msg.Kind, got, tc.want)
		}
	}
}

// A claim behind a large backlog (a 50,000-message fan-out) must read only
// the rows it takes, in the outbox_due index's order, not sort every due
// message: the claim holds the write lock that sign-ups wait for.
func TestOutbox_ClaimWalksTheDueIndexWithoutSorting(t *testing.T) {
	pgtest.SQLiteOnly(t, "SQLite's query plan")
	s, _ := newTestStore(t)
	query := s.write.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var ids []int64
		return dueRows(tx, mailQueue, testNow, 25, &ids)
	})
	var plan []struct {
		Detail string
	}
	if err := s.read.Raw("EXPLAIN QUERY PLAN " + query).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, p := range plan {
		steps = append(steps, p.Detail)
	}
	got := strings.Join(steps, "; ")
	if !strings.Contains(got, "INDEX outbox_due") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("plan of %s:\n%s\nwant a walk of outbox_due with no sort", query, got)
	}
}

// A sender slower than its lease loses the message to another claim; what
// it then reports changes nothing, and the new claim's outcome stands.
func TestOutbox_AnOutcomeCountsOnlyUnderItsOwnClaim(t *testing.T) {
	for _, late := range []DeliveryResult{{}, {Err: errors.New("421 try later")}, {Err: errors.New("550 no"), Permanent: true}} {
		s, clock := newTestStore(t)
		p, sess := newTestPanel(t, s, 10, false)
		ctx := context.Background()
		if _, err := s.Register(ctx, p.ID, validInput(sess.ID, "slow@example.com")); err != nil {
			t.Fatal(err)
		}
		first, err := s.ClaimOutbox(ctx, 1, time.Minute)
		if err != nil || len(first) != 1 {
			t.Fatalf("first claim: %d, %v", len(first), err)
		}
		clock.Set(testNow.Add(2 * time.Minute))
		second, err := s.ClaimOutbox(ctx, 1, time.Minute)
		if err != nil || len(second) != 1 || second[0].Attempts != 2 {
			t.Fatalf("claim after the lease ran out: %d, %v; want the message again, attempt 2", len(second), err)
		}
		late.ID, late.Attempts = first[0].ID, first[0].Attempts
		if err := s.RecordDeliveries(ctx, []DeliveryResult{late}); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.OutboxMessageByID(ctx, first[0].ID); m.Status != OutboxSending || m.Attempts != 2 {
			t.Fatalf("the first claim's late outcome (%v) was recorded: status %s, attempts %d", late.Err, m.Status, m.Attempts)
		}
		if err := s.RecordDeliveries(ctx, []DeliveryResult{{ID: second[0].ID, Attempts: second[0].Attempts}}); err != nil {
			t.Fatal(err)
		}
		if m, _ := s.OutboxMessageByID(ctx, first[0].ID); m.Status != OutboxSent {
			t.Fatalf("the second claim's delivery was not recorded: status %s", m.Status)
		}
	}
}

// BenchmarkRecordDeliveries_SentBatch times recording a delivered batch of
// 25, which holds the write lock that sign-ups wait for.
func BenchmarkRecordDeliveries_SentBatch(b *testing.B) {
	s, _ := newTestStore(b)
	p, sess := newTestPanel(b, s, 0, false)
	ctx := context.Background()
	b.ResetTimer()
	for n := range b.N {
		b.StopTimer()
		for i := range 25 {
			if _, err := s.Register(ctx, p.ID, validInput(sess.ID, fmt.Sprintf("r%d-%d@example.com", n, i))); err != nil {
				b.Fatal(err)
			}
		}
		claimed, err := s.ClaimOutbox(ctx, 25, time.Minute)
		if err != nil || len(claimed) != 25 {
			b.Fatalf("claimed %d: %v", len(claimed), err)
		}
		results := make([]DeliveryResult, len(claimed))
		for i, m := range claimed {
			results[i] = DeliveryResult{ID: m.ID, Attempts: m.Attempts}
		}
		b.StartTimer()
		if err := s.RecordDeliveries(ctx, results); err != nil {
			b.Fatal(err)
		}
	}
}
