package mailer

import (
	"bytes"
	netmail "net/mail"
	"testing"
)

// Whatever names and subject a message carries, the built email has exactly
// the headers Podium sets: a name or subject can never add one.
func FuzzWriteTo_HeadersCannotBeInjected(f *testing.F) {
	f.Add("Ada", "Podium", "You're registered")
	f.Add("Eve\r\nBcc: victim@example.com", "X\nCc: a@b.c", "Hi\r\n\r\nbody")
	f.Add("山田 \"QA\" <x@y>", "=?utf-8?q?Bcc:_x@y?=", "🎉 Ключ")
	f.Fuzz(func(t *testing.T, toName, fromName, subject string) {
		m := testMessage(1)
		m.ToName, m.FromName, m.Subject = toName, fromName, subject
		var buf bytes.Buffer
		if err := WriteTo(&buf, m); err != nil {
			return // refused outright is fine; a wrong email is not
		}
		msg, err := netmail.ReadMessage(&buf)
		if err != nil {
			t.Fatalf("built a message net/mail cannot read: %v", err)
		}
		for _, h := range []string{"Bcc", "Cc", "Reply-To", "Sender"} {
			if msg.Header.Get(h) != "" {
				t.Fatalf("a name or subject added a %s header", h)
			}
		}
		to, err := msg.Header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != m.ToAddress {
			t.Fatalf("To = %v, %v; want only %s", to, err, m.ToAddress)
		}
	})
}
