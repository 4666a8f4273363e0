package mailer

import (
	"context"
	"fmt"
	"testing"
	"time"

	"podium/mailer/smtptest"
)

// testTimeout keeps every SMTP wait in these tests short.
const testTimeout = 2 * time.Second

// startServer starts an in-process SMTP server and a Sender pointed at it.
func startServer(t *testing.T, opts ...smtptest.Option) (*smtptest.Server, *Sender) {
	t.Helper()
	srv := smtptest.NewServer(t, opts...)
	return srv, senderFor(t, srv, srv.URL(), testTimeout)
}

// senderFor returns a Sender for rawURL that trusts srv's certificate and
// uses timeout for connecting and for every command.
func senderFor(t *testing.T, srv *smtptest.Server, rawURL string, timeout time.Duration) *Sender {
	t.Helper()
	cfg, err := ParseURL(rawURL)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", rawURL, err)
	}
	cfg.ConnectTimeout, cfg.CommandTimeout = timeout, timeout
	var opts []Option
	if tc := srv.ClientTLSConfig(); tc != nil {
		opts = append(opts, WithTLSConfig(tc))
	}
	return NewSender(cfg, opts...)
}

// sendOne sends m alone and returns its error.
func sendOne(t *testing.T, s *Sender, m Message) error {
	t.Helper()
	errs := s.Send(context.Background(), []Message{m})
	if len(errs) != 1 {
		t.Fatalf("Send returned %d errors for 1 message", len(errs))
	}
	return errs[0]
}

// testMessage returns a valid message without calendar, numbered n.
func testMessage(n int) Message {
	return Message{
		MessageID:   fmt.Sprintf("<outbox-%d@podium.example>", n),
		FromName:    "Podium",
		FromAddress: "events@podium.example",
		ToName:      fmt.Sprintf("Guest %d", n),
		ToAddress:   fmt.Sprintf("guest%d@example.com", n),
		Subject:     fmt.Sprintf("Message %d", n),
		Text:        fmt.Sprintf("Hello %d", n),
		HTML:        fmt.Sprintf("<p>Hello %d</p>", n),
	}
}

// testInvite returns a message with a calendar whose METHOD is method and
// with non-Latin names and subject.
func testInvite(method string) Message {
	m := testMessage(42)
	m.FromName = "Zoë's Pódium 🎤"
	m.ToName = "山田 太郎 (Ключ, \"QA\")"
	m.Subject = "Your seat 🎉: Ключевой доклад — 基調講演, confirmed"
	m.Text = "Bonjour Zoë, your seat is confirmed.\nJoin: https://meet.example/x"
	m.HTML = "<p>Bonjour Zoë, your seat is <b>confirmed</b>.</p>"
	m.Calendar = []byte("BEGIN:VCALENDAR\r\nPRODID:-//Podium//EN\r\nVERSION:2.0\r\nMETHOD:" + method +
		"\r\nBEGIN:VEVENT\r\nUID:reg-1-sess-2@podium.example\r\nSUMMARY:Ключевой доклад 🎉\r\n" +
		"DTSTART:20260301T090000Z\r\nDTEND:20260301T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	m.CalendarMethod = method
	return m
}
