package views

import (
	"bytes"
	"html"
)

// Placeholders let a rendered panel page be cached and shared: the page is
// rendered once with these in place of the per-visitor form values, and
// FillForm puts each visitor's values in. They are plain ASCII that
// html/template leaves as they are in an attribute value.
const (
	TokenPlaceholder    = "podium-placeholder-csrf"
	SourcePlaceholder   = "podium-placeholder-source"
	ReferrerPlaceholder = "podium-placeholder-referrer"
)

// PlaceholderForm is the sign-up form of a cached page.
func PlaceholderForm() RegistrationForm {
	return RegistrationForm{
		CSRFToken: TokenPlaceholder,
		Values:    FormValues{Source: SourcePlaceholder, Referrer: ReferrerPlaceholder},
	}
}

// FillForm returns a copy of a cached page with the visitor's CSRF token,
// utm_source and referrer in place of the placeholders, escaped for the
// attribute values they stand in.
func FillForm(page []byte, token, source, referrer string) []byte {
	out := bytes.Replace(page, []byte(TokenPlaceholder), []byte(html.EscapeString(token)), 1)
	out = bytes.Replace(out, []byte(SourcePlaceholder), []byte(html.EscapeString(clipRunes(source, 100))), 1)
	return bytes.Replace(out, []byte(ReferrerPlaceholder), []byte(html.EscapeString(clipRunes(referrer, 500))), 1)
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
