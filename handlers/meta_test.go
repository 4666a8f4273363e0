package handlers

import (
	"net/http"
	"regexp"
	"testing"

	"podium/models"
)

var metaDescription = regexp.MustCompile(`<meta name="description" content="[^"]{20,}">`)

// Every public page describes itself to search engines and link previews:
// the home page, a panel, a registration's manage page and a message page.
func TestPublicPages_HaveAMetaDescription(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "described", models.Session{Capacity: 5})
	b := env.browser(t)
	signedUp := b.signUp("described", person("meta@example.com"))
	assertStatus(t, signedUp, http.StatusSeeOther)
	pages := map[string]int{
		"/":                             http.StatusOK,
		"/panels/described":             http.StatusOK,
		signedUp.header.Get("Location"): http.StatusOK,
		"/no-such-page":                 http.StatusNotFound,
	}
	for path, status := range pages {
		r := b.get(path)
		assertStatus(t, r, status)
		if !metaDescription.MatchString(r.body) {
			t.Errorf("GET %s has no meta description", path)
		}
	}
}
