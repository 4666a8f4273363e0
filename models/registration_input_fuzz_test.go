package models

import (
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"
)

// Whatever a form sends, validation never panics, and what it accepts is
// safe to put in an email header, a calendar and a page: one line, no
// control or invisible formatting characters, within the limits.
func FuzzRegistrationInput_Validate(f *testing.F) {
	f.Add("Ada Lovelace", "ada@example.com", "Analytical Engines", "Countess", true)
	f.Add("Eve\r\nBcc: x@example.com", "eve@example.com\nBcc: y@example.com", "", "", true)
	f.Add("\u202egnp.exe", "a@b", "=HYPERLINK()", "<script>", false)
	f.Add("王小明 🚀", " Ada@Example.COM ", "محمد", "José", true)
	f.Fuzz(func(t *testing.T, name, email, org, job string, consent bool) {
		in := RegistrationInput{SessionID: 1, Name: name, Email: email, Organisation: org, JobTitle: job, Consent: consent}
		if err := in.Validate(); err != nil {
			return
		}
		for _, v := range []string{in.Name, in.Email, in.Organisation, in.JobTitle} {
			if !utf8.ValidString(v) || strings.ContainsAny(v, "\r\n\x00") || !isPlainLine(v) {
				t.Fatalf("accepted %q", v)
			}
		}
		if utf8.RuneCountInString(in.Name) > MaxNameLength || in.Name == "" {
			t.Fatalf("accepted a name of %d characters", utf8.RuneCountInString(in.Name))
		}
		if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
			t.Fatalf("accepted an email address net/mail cannot read back: %q", in.Email)
		}
	})
}
