package views

import (
	"bytes"
	"html"
	"io"
	"net/url"
	"sort"
	"strings"

	"podium/models"
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
	MediumPlaceholder   = "podium-placeholder-medium\u2060"
	CampaignPlaceholder = "podium-placeholder-campaign\u2060"
	TermPlaceholder     = "podium-placeholder-term\u2060"
	ContentPlaceholder  = "podium-placeholder-content\u2060"
	ReferrerPlaceholder = "podium-placeholder-referrer\u2060"
)

// placeholders are in the order of Visit's values after the token.
var placeholders = [...]string{TokenPlaceholder, SourcePlaceholder, MediumPlaceholder, CampaignPlaceholder,
	TermPlaceholder, ContentPlaceholder, ReferrerPlaceholder}

// Visit is what a visitor brings to a cached page's form: the CSRF token,
// and the first touch (the landing URL's utm_* tags and the referrer).
type Visit struct {
	Token string
	Tags
	Referrer string
}

// Tags are a link's utm_* tags, which say where a visitor came from.
type Tags struct{ Source, Medium, Campaign, Term, Content string }

// tagNames are the query parameters of Tags, in its order.
var tagNames = [...]string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// TagsFrom reads the tags from a URL's query through get (Fiber's c.Query,
// or url.Values.Get).
func TagsFrom(get func(string) string) Tags {
	return Tags{Source: get(tagNames[0]), Medium: get(tagNames[1]), Campaign: get(tagNames[2]),
		Term: get(tagNames[3]), Content: get(tagNames[4])}
}

// Query is the tags as a URL query ("utm_source=x&utm_medium=y"), the empty
// ones left out, each clipped as the models keep it.
func (t Tags) Query() string {
	var b strings.Builder
	for i, v := range [...]string{t.Source, t.Medium, t.Campaign, t.Term, t.Content} {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(tagNames[i] + "=" + url.QueryEscape(clipRunes(v, models.MaxTagLength)))
	}
	return b.String()
}

// WithQuery is link with the tags' query added, if any.
func (t Tags) WithQuery(link string) string {
	if q := t.Query(); q != "" {
		return link + "?" + q
	}
	return link
}

// values are the visit's values in placeholder order, escaped for the
// attribute values they stand in and clipped as the models keep them.
func (v Visit) values() [len(placeholders)]string {
	tag := func(s string) string { return html.EscapeString(clipRunes(s, models.MaxTagLength)) }
	return [...]string{html.EscapeString(v.Token), tag(v.Source), tag(v.Medium), tag(v.Campaign), tag(v.Term),
		tag(v.Content), html.EscapeString(clipRunes(v.Referrer, 500))}
}

// PlaceholderForm is the sign-up form of a cached page.
func PlaceholderForm() RegistrationForm {
	return RegistrationForm{
		CSRFToken: TokenPlaceholder,
		Values: FormValues{Source: SourcePlaceholder, Medium: MediumPlaceholder, Campaign: CampaignPlaceholder,
			Term: TermPlaceholder, Content: ContentPlaceholder, Referrer: ReferrerPlaceholder},
	}
}

// Fillable is a rendered page cut at its placeholders once, so filling it
// per visitor is a copy, not a search of the page.
type Fillable struct {
	parts [][]byte // the page between placeholders
	slots []int    // which value follows parts[i], as an index of placeholders
}

// NewFillable cuts a rendered page at its placeholders.
func NewFillable(page []byte) Fillable {
	type cut struct{ at, slot, length int }
	var cuts []cut
	for slot, ph := range placeholders {
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

// Fill writes the page with the visit's values. Written into a response's
// pooled body buffer, it allocates nothing per page.
func (f Fillable) Fill(w io.Writer, v Visit) error {
	values := v.values()
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
