package views

import (
	"html"
	"strings"
	"testing"
	"time"

	"podium/models"
)

// The emails after a session: the replay confirmation and both follow-ups
// carry the personal replay link only when there is a recording, never a
// join link or an invite, and use the organizer's wording when given.
func TestEmailRenderer_AfterTheSessionEmails(t *testing.T) {
	r, err := NewEmailRenderer()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		kind      models.OutboxKind
		recording string
		followUps models.FollowUpSettings
		subject   string
		wants     []string
		unwanted  []string
	}{
		{name: "replay confirmation", kind: models.KindOnDemand, recording: "https://video.example.com/r",
			subject: "Watch on demand: ", wants: []string{"Your replay is ready", "https://podium.example/w/watch-token"}},
		{name: "thanks with a recording", kind: models.KindFollowUpAttended, recording: "https://video.example.com/r",
			subject: "Thank you for attending: ", wants: []string{"Thank you for joining", "https://podium.example/w/watch-token", "use the recording's link below"}},
		{name: "sorry without a recording", kind: models.KindFollowUpAbsent,
			subject: "Sorry we missed you: ", wants: []string{"We're sorry you couldn't join"},
			unwanted: []string{"/w/", "recording"}},
		{name: "the organizer's own thanks", kind: models.KindFollowUpAttended, recording: "https://video.example.com/r",
			followUps: models.FollowUpSettings{ThanksSubject: "Slides inside", ThanksText: "First paragraph.\n\nSecond paragraph."},
			subject:   "Slides inside", wants: []string{"First paragraph.", "Second paragraph.", "https://podium.example/w/watch-token"},
			unwanted: []string{"Thank you for joining"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := benchConfirmation()
			msg.Kind, msg.CalendarMethod, msg.ManageToken = tc.kind, "", ""
			msg.JoinToken, msg.WatchToken = "join-token", "watch-token"
			sess := msg.Registration.Session
			sess.StartsAt, sess.RecordingURL = now.Add(-24*time.Hour), tc.recording
			sess.Panel.FollowUps = tc.followUps
			email, err := r.Render(benchSite, msg, now)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(email.Subject, tc.subject) {
				t.Errorf("subject = %q; want it to start %q", email.Subject, tc.subject)
			}
			if len(email.Calendar) != 0 {
				t.Error("carries an invite; want none")
			}
			for _, body := range []string{email.Text, html.UnescapeString(email.HTML)} {
				for _, w := range tc.wants {
					if !strings.Contains(body, w) {
						t.Errorf("body lacks %q:\n%s", w, body)
					}
				}
				for _, u := range append(tc.unwanted, "/j/join-token", "meet.example.com") {
					if strings.Contains(body, u) {
						t.Errorf("body has %q:\n%s", u, body)
					}
				}
			}
		})
	}
}
