package models

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RegistrationInput is what a sign-up form or API call submits.
type RegistrationInput struct {
	SessionID    int64
	Name         string
	Email        string
	Organisation string
	JobTitle     string
	Consent      bool
	// Marketing is the organizer's-news box, ticked: the consent names the
	// panel's wording as it is.
	Marketing bool
	// Sponsors are the sponsors whose box was ticked, each with the version
	// of its wording the page showed (0: the current one).
	Sponsors map[int64]int64
	// Source is the first touch: the landing page's utm_* tags (Source is
	// utm_source) and the referrer.
	Source   string
	Medium   string
	Campaign string
	Term     string
	Content  string
	Referrer string
	// Answers are the custom questions' answers by question id; a multiple
	// choice question has one value per chosen option.
	Answers map[int64][]string
}

// Field limits, shared with the form's maxlength attributes.
const (
	MaxNameLength  = 200
	MaxEmailLength = 254
	MaxOrgLength   = 200
	// MaxTagLength bounds each utm_* tag kept; a longer one is cut.
	MaxTagLength = 100
)

// Validate normalises the input in place and reports a message per bad field.
func (in *RegistrationInput) Validate() error {
	v := &validator{}
	in.Name = strings.TrimSpace(in.Name)
	in.Email = strings.TrimSpace(in.Email)
	in.Organisation = strings.TrimSpace(in.Organisation)
	in.JobTitle = strings.TrimSpace(in.JobTitle)
	for _, tag := range []*string{&in.Source, &in.Medium, &in.Campaign, &in.Term, &in.Content} {
		*tag = clip(cleanLine(*tag), MaxTagLength)
	}
	in.Referrer = clip(cleanLine(in.Referrer), 500)

	v.check(in.SessionID > 0, "session", "Choose a session.")
	v.check(in.Name != "", "name", "Enter your name.")
	v.check(utf8.RuneCountInString(in.Name) <= MaxNameLength, "name", "Keep your name under 200 characters.")
	v.check(isPlainLine(in.Name), "name", "Your name contains characters we cannot accept.")
	v.check(in.Email != "", "email", "Enter your email address.")
	_, err := normaliseEmail(in.Email)
	v.check(err == nil, "email", "Enter a valid email address, like name@example.com.")
	v.check(utf8.RuneCountInString(in.Organisation) <= MaxOrgLength, "organisation", "Keep this under 200 characters.")
	v.check(isPlainLine(in.Organisation), "organisation", "This contains characters we cannot accept.")
	v.check(utf8.RuneCountInString(in.JobTitle) <= MaxOrgLength, "job_title", "Keep this under 200 characters.")
	v.check(isPlainLine(in.JobTitle), "job_title", "This contains characters we cannot accept.")
	v.check(in.Consent, "consent", "Tick the box to agree, so we can send you the joining details.")
	return v.err()
}

// normaliseEmail checks a bare address and returns its comparison key.
func normaliseEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if len(email) > MaxEmailLength || !isPlainLine(email) {
		return "", errBadEmail
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" {
		return "", errBadEmail
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || !strings.Contains(domain, ".") || strings.HasSuffix(domain, ".") ||
		strings.ContainsAny(email, " \"\\()<>[],;:") {
		return "", errBadEmail
	}
	return strings.ToLower(email), nil
}

var errBadEmail = errors.New("invalid email address")

// isPlainLine refuses control characters, line breaks and invisible format
// characters (bidi overrides, zero-width), which have no place in a name.
func isPlainLine(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// isPlainText is isPlainLine for paragraphs: line breaks and tabs allowed.
func isPlainText(s string) bool {
	return isPlainLine(strings.NewReplacer("\n", "", "\r", "", "\t", "").Replace(s))
}

// cleanLine drops what isPlainLine refuses, for optional tracking fields.
func cleanLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// newManageToken returns a 256-bit random token and the hash that is stored.
func newManageToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
