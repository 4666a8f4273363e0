package views

import (
	"strings"
	"testing"
)

func TestFillForm_EscapesVisitorValues(t *testing.T) {
	page := []byte(`<input name="_csrf" value="` + TokenPlaceholder + `"><input name="utm_source" value="` +
		SourcePlaceholder + `"><input name="referrer" value="` + ReferrerPlaceholder + `">`)
	got := string(FillForm(page, "tok-1", `"><script>x</script>`, "https://news.example/a?b=1&c=2"))
	want := `<input name="_csrf" value="tok-1"><input name="utm_source" value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;">` +
		`<input name="referrer" value="https://news.example/a?b=1&amp;c=2">`
	if got != want {
		t.Fatalf("FillForm =\n%s\nwant\n%s", got, want)
	}
	if long := string(FillForm([]byte(SourcePlaceholder), "", strings.Repeat("é", 300), "")); len([]rune(long)) != 100 {
		t.Fatalf("source not clipped to 100 characters: %d", len([]rune(long)))
	}
}
