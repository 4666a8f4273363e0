package views

import (
	"io"
	"strings"
	"testing"
)

// fill fills a page into a string.
func fill(page []byte, token, source, referrer string) string {
	var b strings.Builder
	_ = NewFillable(page).Fill(&b, Visit{Token: token, Tags: Tags{Source: source}, Referrer: referrer})
	return b.String()
}

func TestFillable_FillsAndEscapesVisitorValues(t *testing.T) {
	page := []byte(`<input name="_csrf" value="` + TokenPlaceholder + `"><input name="utm_source" value="` +
		SourcePlaceholder + `"><input name="referrer" value="` + ReferrerPlaceholder + `"><p>` + TokenPlaceholder + `</p>`)
	got := fill(page, "tok-1", `"><script>x</script>`, "https://news.example/a?b=1&c=2")
	want := `<input name="_csrf" value="tok-1"><input name="utm_source" value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;">` +
		`<input name="referrer" value="https://news.example/a?b=1&amp;c=2"><p>tok-1</p>`
	if got != want {
		t.Fatalf("Fill =\n%s\nwant\n%s", got, want)
	}
	if long := fill([]byte(SourcePlaceholder), "", strings.Repeat("é", 300), ""); len([]rune(long)) != 100 {
		t.Fatalf("source not clipped to 100 characters: %d", len([]rune(long)))
	}
	tags := []byte(MediumPlaceholder + "|" + CampaignPlaceholder + "|" + TermPlaceholder + "|" + ContentPlaceholder)
	var b strings.Builder
	_ = NewFillable(tags).Fill(&b, Visit{Tags: Tags{Medium: "email", Campaign: "<dec>", Term: "ai jobs", Content: "&top"}})
	if got := b.String(); got != "email|&lt;dec&gt;|ai jobs|&amp;top" {
		t.Fatalf("tags filled as %q", got)
	}
	if plain := fill([]byte("<p>no form</p>"), "t", "s", "r"); plain != "<p>no form</p>" {
		t.Fatalf("a page without placeholders changed: %q", plain)
	}
}

func BenchmarkFillable_Fill(b *testing.B) {
	page := []byte(strings.Repeat("<p>some panel text</p>", 1000) + `<input value="` + TokenPlaceholder + `">` +
		SourcePlaceholder + MediumPlaceholder + CampaignPlaceholder + ReferrerPlaceholder)
	f := NewFillable(page)
	v := Visit{Token: "6f1c2a9e-1b2c-4d5e-8f90-123456789abc",
		Tags: Tags{Source: "newsletter", Medium: "email", Campaign: "dec-issue"}, Referrer: "https://news.example/"}
	b.ReportAllocs()
	for b.Loop() {
		_ = f.Fill(io.Discard, v)
	}
}
