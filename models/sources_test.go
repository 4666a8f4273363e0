package models

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sourcePanel stores a published panel titled title with one session of
// unlimited places a week after testNow.
func sourcePanel(t *testing.T, s *Store, title string) *Panel {
	t.Helper()
	p := &Panel{Title: title, Status: PanelPublished, Sessions: []Session{{StartsAt: testNow.AddDate(0, 0, 7),
		DurationMinutes: 60, TimeZone: "UTC", JoinURL: "https://meet.example.com/x"}}}
	if err := s.CreatePanel(context.Background(), p); err != nil {
		t.Fatalf("create panel %q: %v", title, err)
	}
	return p
}

// registerFrom signs email up for a panel's session with the given first
// touch.
func registerFrom(t *testing.T, s *Store, p *Panel, email, source, medium, campaign string) *RegisterResult {
	t.Helper()
	in := validInput(p.Sessions[0].ID, email)
	in.Source, in.Medium, in.Campaign, in.Term, in.Content = source, medium, campaign, "term-"+email, "content-"+email
	res, err := s.Register(context.Background(), p.ID, in)
	if err != nil {
		t.Fatalf("register %s: %v", email, err)
	}
	return res
}

func assertSources(t *testing.T, s *Store, panelID int64, want []SourceCount) {
	t.Helper()
	got, err := s.RegistrationsBySource(context.Background(), panelID)
	if err != nil {
		t.Fatalf("registrations by source of panel %d: %v", panelID, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("registrations by source of panel %d:\n got %+v\nwant %+v", panelID, got, want)
	}
}

func TestRegistrationsBySource_CountsEachFirstTouchPerPanelAndOverall(t *testing.T) {
	s, clock := newTestStore(t)
	ctx := context.Background()
	a, b := sourcePanel(t, s, "Panel A"), sourcePanel(t, s, "Panel B")
	sessA := a.Sessions[0]

	attended := registerFrom(t, s, a, "ada@example.com", "newsletter", "email", "dec-issue")
	watcher := registerFrom(t, s, a, "bob@example.com", "newsletter", "email", "dec-issue")
	cancelled := registerFrom(t, s, a, "cat@example.com", "newsletter", "email", "dec-issue")
	registerFrom(t, s, a, "dan@example.com", "", "", "")
	registerFrom(t, s, a, "eve@example.com", "social", "social", "")
	registerFrom(t, s, b, "fay@example.com", "newsletter", "email", "dec-issue")
	registerFrom(t, s, b, "gus@example.com", "partner", "referral", "spring")
	registerFrom(t, s, b, "hal@example.com", "partner", "referral", "spring")

	if _, err := s.CancelRegistration(ctx, cancelled.Registration.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if err := s.SetAttended(ctx, attended.Registration.ID, true); err != nil {
		t.Fatalf("mark attended: %v", err)
	}
	clock.Set(sessA.StartsAt.Add(2 * time.Hour))
	offerReplay(t, s, sessA.ID, "https://video.example.com/replay", nil)
	if _, err := s.OpenWatchLink(ctx, personalLink(t, s, watcher.Registration.ID, LinkWatch), true); err != nil {
		t.Fatalf("watch the replay: %v", err)
	}

	assertSources(t, s, a.ID, []SourceCount{
		{Source: "newsletter", Medium: "email", Campaign: "dec-issue", Registrations: 3, Confirmed: 2, Attended: 1, Watched: 1},
		{Registrations: 1, Confirmed: 1},
		{Source: "social", Medium: "social", Registrations: 1, Confirmed: 1},
	})
	assertSources(t, s, b.ID, []SourceCount{
		{Source: "partner", Medium: "referral", Campaign: "spring", Registrations: 2, Confirmed: 2},
		{Source: "newsletter", Medium: "email", Campaign: "dec-issue", Registrations: 1, Confirmed: 1},
	})
	assertSources(t, s, 0, []SourceCount{
		{Source: "newsletter", Medium: "email", Campaign: "dec-issue", Registrations: 4, Confirmed: 3, Attended: 1, Watched: 1},
		{Source: "partner", Medium: "referral", Campaign: "spring", Registrations: 2, Confirmed: 2},
		{Registrations: 1, Confirmed: 1},
		{Source: "social", Medium: "social", Registrations: 1, Confirmed: 1},
	})
}

func TestRegistrationsBySource_LeavesErasedRegistrationsOut(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	a, b := sourcePanel(t, s, "Panel A"), sourcePanel(t, s, "Panel B")
	registerFrom(t, s, a, "eve@example.com", "social", "social", "")
	registerFrom(t, s, b, "eve@example.com", "newsletter", "email", "dec-issue")
	registerFrom(t, s, b, "fay@example.com", "newsletter", "email", "dec-issue")

	if res, err := s.ErasePerson(ctx, "eve@example.com"); err != nil || res.Registrations != 2 {
		t.Fatalf("erase = %+v, %v; want 2 registrations erased", res, err)
	}
	// Erased rows have lost their tags: counted, they would swell the
	// untagged row.
	assertSources(t, s, a.ID, nil)
	assertSources(t, s, 0, []SourceCount{
		{Source: "newsletter", Medium: "email", Campaign: "dec-issue", Registrations: 1, Confirmed: 1},
	})
}

func TestRegistrationsBySource_UnknownPanelCountsNothing(t *testing.T) {
	s, _ := newTestStore(t)
	p := sourcePanel(t, s, "Panel A")
	registerFrom(t, s, p, "ada@example.com", "newsletter", "email", "")
	assertSources(t, s, p.ID+1, nil)
}

func TestTrackedLink_ValidateResolvesTheSourceAndRefusesWhatALinkCannotCarry(t *testing.T) {
	long := strings.Repeat("é", MaxTagLength)
	cases := []struct {
		name  string
		in    TrackedLink
		want  TrackedLink // when field is ""
		field string
	}{
		{"preset replaces what was typed",
			TrackedLink{Channel: "newsletter", Source: "typed", Medium: "typed", Campaign: " dec-issue ", Content: "top"},
			TrackedLink{Channel: "newsletter", Source: "newsletter", Medium: "email", Campaign: "dec-issue", Content: "top"}, ""},
		{"partner preset", TrackedLink{Channel: "partner"},
			TrackedLink{Channel: "partner", Source: "partner", Medium: "referral"}, ""},
		{"custom keeps the typed tags, trimmed", TrackedLink{Channel: ChannelCustom, Source: " podcast ", Medium: "audio"},
			TrackedLink{Channel: ChannelCustom, Source: "podcast", Medium: "audio"}, ""},
		{"a tag of the longest length", TrackedLink{Channel: "social", Campaign: long},
			TrackedLink{Channel: "social", Source: "social", Medium: "social", Campaign: long}, ""},
		{"a tag one character too long", TrackedLink{Channel: "social", Campaign: long + "x"}, TrackedLink{}, "campaign"},
		{"a tag with a control character", TrackedLink{Channel: "social", Content: "a\x07b"}, TrackedLink{}, "content"},
		{"a tag with a line break", TrackedLink{Channel: ChannelCustom, Source: "a", Medium: "b\nc"}, TrackedLink{}, "medium"},
		{"a tag that is not UTF-8", TrackedLink{Channel: "social", Campaign: "\xff"}, TrackedLink{}, "campaign"},
		{"custom without a source", TrackedLink{Channel: ChannelCustom, Medium: "email"}, TrackedLink{}, "source"},
		{"no channel", TrackedLink{Source: "newsletter"}, TrackedLink{}, "channel"},
		{"unknown channel", TrackedLink{Channel: "carrier-pigeon"}, TrackedLink{}, "channel"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			err := got.Validate()
			if tc.field == "" {
				if err != nil || got != tc.want {
					t.Fatalf("Validate() = %v, link %+v; want nil, %+v", err, got, tc.want)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) || verr.Fields[tc.field] == "" {
				t.Fatalf("Validate() = %v; want a message for %q", err, tc.field)
			}
		})
	}
}
