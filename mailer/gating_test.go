package mailer

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// With email confirmation, the first email asks the person to confirm and
// carries no invite; confirming brings the confirmation with the invite.
// Left unconfirmed, the jobs pass frees the place and sends nothing more.
func TestJobs_EmailConfirmationAsksFirstAndFreesUnansweredPlaces(t *testing.T) {
	env := newOutboxEnv(t, 1)
	if _, err := env.store.EditPanel(context.Background(), env.panel.ID, func(p *models.Panel) {
		p.RequireEmailConfirmation = true
	}); err != nil {
		t.Fatal(err)
	}
	env.register(t, "Ada", "ada@example.com")
	env.drain(t)
	ask := lastMessage(t, env.srv, 1)
	link := regexp.MustCompile(`Confirm your email address: (https://podium\.example/registrations/[A-Za-z0-9_-]{43})`).
		FindStringSubmatch(ask.text)
	if !strings.HasPrefix(ask.subject, "Confirm your email address: ") || ask.calendar != nil || link == nil {
		t.Fatalf("first email %q, invite %v, text:\n%s", ask.subject, ask.calendar != nil, ask.text)
	}
	if !strings.Contains(ask.html, ">Confirm your email address</a>") {
		t.Fatalf("the HTML part lacks the confirm link:\n%s", ask.html)
	}
	if _, err := env.store.ConfirmEmail(context.Background(), strings.TrimPrefix(link[1], "https://podium.example/registrations/")); err != nil {
		t.Fatal(err)
	}
	env.drain(t)
	if got := lastMessage(t, env.srv, 2); !strings.HasPrefix(got.subject, "You're registered: ") || got.method(t) != "REQUEST" {
		t.Fatalf("after confirming: %q", got.subject)
	}

	// Bob takes the waitlist place and never answers: 48 hours on, his place
	// is gone and he hears nothing more.
	bob := env.register(t, "Bob", "bob@example.com")
	env.drain(t)
	lastMessage(t, env.srv, 3)
	env.clock.Add(models.ConfirmHold + time.Minute)
	NewJobs(env.store, func() {}, slog.New(slog.DiscardHandler)).RunOnce(context.Background())
	env.drain(t)
	lastMessage(t, env.srv, 3)
	reg, err := env.store.RegistrationByID(context.Background(), bob.Registration.ID)
	if err != nil || reg.Status != models.RegistrationCancelled {
		t.Fatalf("Bob after the hold: %+v, %v", reg, err)
	}
}

// The jobs pass erases a panel's registrants once its retention has run out,
// and applies retention at most once an hour.
func TestJobs_ErasesRegistrantsPastRetention(t *testing.T) {
	env := newOutboxEnv(t, 10)
	days := 30
	if _, err := env.store.EditPanel(context.Background(), env.panel.ID, func(p *models.Panel) {
		p.RetentionDays = &days
	}); err != nil {
		t.Fatal(err)
	}
	ada := env.register(t, "Ada", "ada@example.com")
	jobs := NewJobs(env.store, func() {}, slog.New(slog.DiscardHandler))
	ends := env.sess.StartsAt.Add(time.Duration(env.sess.DurationMinutes) * time.Minute)
	env.clock.Add(ends.AddDate(0, 0, days).Add(-time.Minute).Sub(env.clock.Now()))
	jobs.RunOnce(context.Background())
	if reg, err := env.store.RegistrationByID(context.Background(), ada.Registration.ID); err != nil || reg.Email == "" {
		t.Fatalf("erased a minute early: %+v, %v", reg, err)
	}
	env.clock.Add(2 * time.Minute)
	jobs.RunOnce(context.Background())
	// Due now, but the last look was two minutes ago.
	if reg, err := env.store.RegistrationByID(context.Background(), ada.Registration.ID); err != nil || reg.Email == "" {
		t.Fatalf("retention ran again within the hour: %+v, %v", reg, err)
	}
	env.clock.Add(time.Hour)
	jobs.RunOnce(context.Background())
	reg, err := env.store.RegistrationByID(context.Background(), ada.Registration.ID)
	if err != nil || reg.Email != "" || reg.Name != "" || reg.ErasedAt == nil {
		t.Fatalf("past retention: %+v, %v", reg, err)
	}
}
