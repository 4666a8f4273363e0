package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Hostile unsubscribe links, shown and one-click posted: a clear 404 that
// says nothing of why, and nothing stored or changed.
func TestHostileInput_UnsubscribeLinks(t *testing.T) {
	fx := newFixture(t)
	good, err := fx.env.store.UnsubscribeToken(fx.ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(good)
	flipped[10] ^= 2
	tokens := map[string]string{
		"a flipped MAC byte":      string(flipped),
		"cut":                     good[:31],
		"lengthened":              good + "A",
		"empty-looking":           strings.Repeat("A", 32),
		"SQL":                     url.PathEscape(sqlOr) + strings.Repeat("a", 20),
		"script":                  url.PathEscape(scriptTag),
		"NUL":                     strings.Repeat("a", 31) + "%00",
		"2000 characters":         strings.Repeat("t", 2000),
		"LIKE wildcards":          strings.Repeat("%25", 32),
		"the manage token":        fx.manageToken,
		"invalid UTF-8 (escaped)": "%ff%fe" + strings.Repeat("a", 30),
	}
	ran := 0
	for name, token := range tokens {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			r := fx.unchangedBy(t, func() response {
				b := fx.env.browser(t)
				if method == http.MethodGet {
					return b.get("/unsubscribe/" + token)
				}
				return b.post("/unsubscribe/"+token, url.Values{"List-Unsubscribe": {"One-Click"}})
			})
			if r.status != http.StatusNotFound {
				t.Errorf("%s %s token: %d; want 404", method, name, r.status)
			}
			assertNoGoErrors(t, r.body)
			ran++
		}
	}
	// A body over 4 KiB is refused before anything is read.
	r := fx.unchangedBy(t, func() response {
		return fx.env.browser(t).post("/unsubscribe/"+good, url.Values{"padding": {strings.Repeat("p", 5000)}})
	})
	assertAnswer(t, r, http.StatusRequestEntityTooLarge, "")
	t.Logf("ran %d hostile unsubscribe cases", ran+1)
}
