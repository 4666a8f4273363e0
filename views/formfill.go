package views

import (
	"bytes"
	"html"
	"sort"
)

// Placeholders let a rendered panel page be cached and shared: the page is
// rendered once with these in place of the per-visitor form values, and
// Fill puts each visitor's values in. They are plain ASCII that
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

// Fillable is a rendered page cut at its placeholders once, so filling it
// per visitor is one allocation and copy, not a search of the page.
type Fillable struct {
	parts [][]byte // the page between placeholders
	slots []int    // which value follows parts[i]: 0 token, 1 source, 2 referrer
	size  int
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
	f := Fillable{size: len(page)}
	prev := 0
	for _, c := range cuts {
		f.parts = append(f.parts, page[prev:c.at])
		f.slots = append(f.slots, c.slot)
		prev = c.at + c.length
	}
	f.parts = append(f.parts, page[prev:])
	return f
}

// Fill returns the page with the visitor's CSRF token, utm_source and
// referrer, escaped for the attribute values they stand in.
func (f Fillable) Fill(token, source, referrer string) []byte {
	values := [3]string{html.EscapeString(token), html.EscapeString(clipRunes(source, 100)),
		html.EscapeString(clipRunes(referrer, 500))}
	out := make([]byte, 0, f.size+len(values[0])+len(values[1])+len(values[2]))
	for i, part := range f.parts {
		out = append(out, part...)
		if i < len(f.slots) {
			out = append(out, values[f.slots[i]]...)
		}
	}
	return out
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
