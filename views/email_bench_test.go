package views

import (
	"bytes"
	"testing"
	"time"

	"podium/models"
)

// benchConfirmation is a confirmation with an invite, as the outbox worker
// claims it, without a database.
func benchConfirmation() *models.OutboxMessage {
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	panel := &models.Panel{ID: 3, Slug: "cities-heat", Title: "Cities, heat; and \"us\" — 城市与气候",
		Summary:       "Hot summers, cool heads: how three cities plan for the heat, and what residents can do.",
		OrganizerName: "Podium Events", OrganizerEmail: "organiser@podium.example",
		Speakers: []models.Speaker{{Name: "Zoë Al-Hakim"}, {Name: "Ada Lovelace"}}}
	sess := &models.Session{ID: 5, PanelID: 3, Panel: panel, StartsAt: now.Add(7 * 24 * time.Hour), DurationMinutes: 60,
		TimeZone: "Europe/London", JoinURL: "https://meet.example.com/heat", Status: models.SessionScheduled}
	reg := &models.Registration{ID: 12, SessionID: 5, Session: sess, Name: "Guest Nº 12", Email: "guest12@example.com",
		Status: models.RegistrationConfirmed}
	return &models.OutboxMessage{ID: 40, Kind: models.KindConfirmation, RegistrationID: 12, Registration: reg,
		ManageToken: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0", CalendarMethod: string(MethodRequest)}
}

var benchSite = Site{BaseURL: "https://podium.example", MailFrom: "events@podium.example", MailName: "Podium Events"}

func BenchmarkEmailRenderer_Confirmation(b *testing.B) {
	r, err := NewEmailRenderer()
	if err != nil {
		b.Fatal(err)
	}
	msg, now := benchConfirmation(), time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(benchSite, msg, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteCalendar_Request(b *testing.B) {
	msg, now := benchConfirmation(), time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	ev := RegistrationEvent(benchSite, msg.Registration, benchSite.URL(RegistrationURL(msg.ManageToken)), "", 0, now)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteCalendar(&buf, MethodRequest, "", []CalendarEvent{ev}); err != nil {
			b.Fatal(err)
		}
	}
}
