package views

import (
	"bytes"
	"html"
	"io"
	"sort"
)

// Placeholders let a rendered panel page be cached and shared: the page is
// rendered once with these in place of the per-visitor form values, and
// Fill puts each visitor's values in. html/template leaves them as they are
// in an attribute value. Each ends with a word joiner (U+2060), a format
// character the models refuse in every text of a panel, so an organizer
// cannot write a placeholder into the page and have every visitor's
// referrer shown in its place.
const (
	TokenPlaceholder    = "podium-placeholder-csrf\u2060"
	SourcePlaceholder   = "podium-placeholder-source\u2060"
	ReferrerPlaceholder = "podium-placeholder-referrer\u2060"
)

// PlaceholderForm is the sign-up form of a cached page.
func PlaceholderForm() RegistrationForm {
	return RegistrationForm{
		CSRFToken: TokenPlaceholder,
		Values:    FormValues{Source: SourcePlaceholder, Referrer: ReferrerPlaceholder},
	}
}

// Fillable is a rendered page cut at its placeholders once, so filling it
// per visitor is a copy, not a search of the page.
type Fillable struct {
	parts [][]byte // the page between placeholders
	slots []int    // which value follows parts[i]: 0 token, 1 source, 2 referrer
}

// NewFillable cuts a rendered page at its placeholders.
func NewFillable(page []byte) Fillable {
	type cut struct{ at, slot, length int }
	var cuts []cut
	for slot, ph := range []string{TokenPlaceholder, SourcePlaceholder, ReferrerPlaceholder} {
		for from := 0; ; {
			i := bytes.Index(page[from:], []byte(ph))
			if i < 0 {
				break
			}
			cuts = append(cuts, cut{from + i, slot, len(ph)})
			from += i + len(ph)
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].at < cuts[j].at })
	var f Fillable
	prev := 0
	for _, c := range cuts {
		f.parts = append(f.parts, page[prev:c.at])
		f.slots = append(f.slots, c.slot)
		prev = c.at + c.length
	}
	f.parts = append(f.parts, page[prev:])
	return f
}

// Fill writes the page with the visitor's CSRF token, utm_source and
// referrer, escaped for the attribute values they stand in. Written into a
// response's pooled body buffer, it allocates nothing per page.
func (f Fillable) Fill(w io.Writer, token, source, referrer string) error {
	values := [3]string{html.EscapeString(token), html.EscapeString(clipRunes(source, 100)),
		html.EscapeString(clipRunes(referrer, 500))}
	for i, part := range f.parts {
		if _, err := w.Write(part); err != nil {
			return err
		}
		if i < len(f.slots) {
			if _, err := io.WriteString(w, values[f.slots[i]]); err != nil {
				return err
			}
		}
	}
	return nil
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
