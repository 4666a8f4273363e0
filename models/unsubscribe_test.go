package models

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// One click on a reminder's unsubscribe link stops the panel's reminders
// for that address: those queued are skipped, later rules queue none for
// it, others still get theirs, and nothing else changes for the registrant.
func TestStopReminders_StopsThatAddressesRemindersOnly(t *testing.T) {
	s, clock := newTestStore(t)
	p, sess := newTestPanel(t, s, 0, false) // reminders 24 h and 1 h before
	ctx := context.Background()
	stopper, _ := s.Register(ctx, p.ID, validInput(sess.ID, "Stop@Example.com"))
	other, _ := s.Register(ctx, p.ID, validInput(sess.ID, "other@example.com"))
	clock.Set(sess.StartsAt.Add(-24*time.Hour + time.Minute))
	if n, err := s.EnqueueDueReminders(ctx); err != nil || n != 2 {
		t.Fatalf("day-before reminders: %d, %v; want 2", n, err)
	}
	token, err := s.UnsubscribeToken(stopper.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reg, stopped, err := s.RegistrationByUnsubscribeToken(ctx, token); err != nil || stopped || reg.ID != stopper.Registration.ID {
		t.Fatalf("before: %v, stopped %v, %v", reg, stopped, err)
	}
	for range 2 { // twice is harmless
		if _, err := s.StopReminders(ctx, token); err != nil {
			t.Fatal(err)
		}
	}
	if _, stopped, err := s.RegistrationByUnsubscribeToken(ctx, token); err != nil || !stopped {
		t.Fatalf("after: stopped %v, %v; want true", stopped, err)
	}
	statusOf := func(regID int64, minutes int) OutboxStatus {
		var m OutboxMessage
		if err := s.read.Where("registration_id = ? AND kind = ? AND reminder_minutes = ?", regID, KindReminder, minutes).Take(&m).Error; err != nil {
			return ""
		}
		return m.Status
	}
	if got := statusOf(stopper.Registration.ID, 1440); got != OutboxSkipped {
		t.Fatalf("the stopper's queued reminder is %q; want skipped", got)
	}
	if got := statusOf(other.Registration.ID, 1440); got != OutboxQueued {
		t.Fatalf("the other's queued reminder is %q; want queued", got)
	}
	clock.Set(sess.StartsAt.Add(-time.Hour + time.Minute))
	if n, err := s.EnqueueDueReminders(ctx); err != nil || n != 1 {
		t.Fatalf("hour-before reminders: %d, %v; want 1, the other's", n, err)
	}
	if statusOf(stopper.Registration.ID, 60) != "" || statusOf(other.Registration.ID, 60) != OutboxQueued {
		t.Fatal("the hour-before reminder went to the stopper, or not to the other")
	}
	if msgs := outboxFor(t, s, stopper.Registration.ID); msgs[0].Kind != KindConfirmation || msgs[0].Status != OutboxQueued {
		t.Fatalf("the stopper's confirmation is %s %s; want it untouched", msgs[0].Kind, msgs[0].Status)
	}
}

// Only Podium's own links work: a changed, cut or foreign token names no
// registration.
func TestRegistrationByUnsubscribeToken_RefusesForgedTokens(t *testing.T) {
	s, _ := newTestStore(t)
	p, sess := newTestPanel(t, s, 0, false)
	ctx := context.Background()
	res, _ := s.Register(ctx, p.ID, validInput(sess.ID, "a@example.com"))
	token, err := s.UnsubscribeToken(res.Registration.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newTestStore(t) // another site, another key
	foreign, _ := other.UnsubscribeToken(res.Registration.ID)
	flipped := []byte(token)
	flipped[len(flipped)-1] ^= 1
	for name, bad := range map[string]string{
		"a flipped MAC": string(flipped), "cut": token[:20], "lengthened": token + "A",
		"another site's": foreign, "not base64": strings.Repeat("*", len(token)), "empty": "",
	} {
		if _, _, err := s.RegistrationByUnsubscribeToken(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s token: %v; want ErrNotFound", name, err)
		}
		if _, err := s.StopReminders(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s token stopped reminders: %v", name, err)
		}
	}
}
