package handlers

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"podium/models"
)

var (
	builtLink   = regexp.MustCompile(`<input type="text" id="tracked-link" class="secret" value="([^"]*)" readonly`)
	builtEmbed  = regexp.MustCompile(`(?s)<textarea id="tracked-embed"[^>]*>(.*?)</textarea>`)
	snippetSrc  = regexp.MustCompile(`<iframe src="([^"]*)"`)
	checkedPick = regexp.MustCompile(`name="channel" id="[^"]*" value="([^"]*)" checked`)
)

func linksPath(p *models.Panel, query url.Values) string {
	path := panelPath(p) + "/links"
	if query != nil {
		path += "?" + query.Encode()
	}
	return path
}

// builtURLs are the link and the embed snippet's src a builder page shows.
func builtURLs(t *testing.T, page string) (link, embedSrc string) {
	t.Helper()
	l, e := builtLink.FindStringSubmatch(page), builtEmbed.FindStringSubmatch(page)
	if l == nil || e == nil {
		t.Fatalf("no built link or embed snippet in page:\n%s", page)
	}
	src := snippetSrc.FindStringSubmatch(html.UnescapeString(e[1]))
	if src == nil {
		t.Fatalf("embed snippet without an iframe src: %s", e[1])
	}
	return html.UnescapeString(l[1]), html.UnescapeString(src[1])
}

func TestTrackedLinks_FirstVisitOffersTheNewsletterAndThePanelsSlug(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "ai-jobs", models.Session{})
	r := env.adminBrowser(t, models.RoleOrganizer).get(linksPath(p, nil))
	assertStatus(t, r, http.StatusOK)
	assertContains(t, r.body, "Tracked links for "+p.Title, `name="campaign" id="field-campaign" value="ai-jobs"`,
		"No registrations yet.")
	if m := checkedPick.FindStringSubmatch(r.body); m == nil || m[1] != "newsletter" {
		t.Errorf("checked channel = %v; want newsletter", m)
	}
	if strings.Contains(r.body, `id="tracked-link"`) {
		t.Error("a link is shown before the form was sent")
	}
}

func TestTrackedLinks_BuildsTheExactLinkAndEmbedWithTheSameTags(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "ai-jobs", models.Session{})
	b := env.adminBrowser(t, models.RoleOrganizer)
	cases := []struct {
		name  string
		query url.Values
		tags  string
	}{
		{"newsletter preset with a campaign",
			url.Values{"channel": {"newsletter"}, "campaign": {"dec-issue"}, "source": {"ignored"}},
			"utm_source=newsletter&utm_medium=email&utm_campaign=dec-issue"},
		{"partner preset with content", url.Values{"channel": {"partner"}, "campaign": {""}, "content": {" footer "}},
			"utm_source=partner&utm_medium=referral&utm_content=footer"},
		{"custom source and medium, escaped",
			url.Values{"channel": {"custom"}, "source": {"Podcast & Co"}, "medium": {"audio"}, "campaign": {"épisode 12"}},
			"utm_source=Podcast+%26+Co&utm_medium=audio&utm_campaign=%C3%A9pisode+12"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get(linksPath(p, tc.query))
			assertStatus(t, r, http.StatusOK)
			link, src := builtURLs(t, r.body)
			if want := "http://localhost:3000/panels/ai-jobs?" + tc.tags; link != want {
				t.Errorf("link = %q; want %q", link, want)
			}
			if want := "http://localhost:3000/panels/ai-jobs/embed?" + tc.tags; src != want {
				t.Errorf("embed src = %q; want %q", src, want)
			}
		})
	}
}

func TestTrackedLinks_RefusesWhatALinkCannotCarryWith422(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "ai-jobs", models.Session{})
	b := env.adminBrowser(t, models.RoleOrganizer)
	cases := []struct {
		name    string
		query   url.Values
		message string
	}{
		{"control character in the campaign", url.Values{"channel": {"newsletter"}, "campaign": {"dec\x07issue"}},
			"The campaign contains characters a link cannot carry"},
		{"101-character campaign", url.Values{"channel": {"newsletter"}, "campaign": {strings.Repeat("é", 101)}},
			"Keep the campaign to 100 characters or fewer."},
		{"line break in a custom medium", url.Values{"channel": {"custom"}, "source": {"a"}, "medium": {"b\r\nc"}},
			"The medium contains characters a link cannot carry"},
		{"custom without a source", url.Values{"channel": {"custom"}, "medium": {"email"}}, "Enter a source"},
		{"unknown channel", url.Values{"channel": {"pigeon"}}, "Choose where the link will be shared."},
		{"invalid UTF-8 in the content", url.Values{"channel": {"social"}, "content": {"\xff\xfe"}},
			"The content contains characters a link cannot carry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := b.get(linksPath(p, tc.query))
			assertStatus(t, r, http.StatusUnprocessableEntity)
			assertContains(t, r.body, "<title>Error: ", `class="error-summary"`, html.EscapeString(tc.message))
			if strings.Contains(r.body, `id="tracked-link"`) {
				t.Error("a link is shown for refused input")
			}
		})
	}
}

func TestTrackedLinks_UnknownPanelNotFound(t *testing.T) {
	env := newTestEnv(t)
	b := env.adminBrowser(t, models.RoleOrganizer)
	for _, path := range []string{"/admin/panels/999/links", "/admin/panels/999/links?channel=newsletter", "/admin/panels/x/links"} {
		assertStatus(t, b.get(path), http.StatusNotFound)
	}
}

// A link built on the builder, followed by visitors who sign up through
// the real form, is counted under its tags on the builder and the dashboard.
func TestDashboardSources_CountSignUpsThroughABuiltLink(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "ai-jobs", models.Session{Capacity: 10})
	other := env.addPanel(t, "other", models.Session{})
	admin := env.adminBrowser(t, models.RoleOrganizer)
	link, _ := builtURLs(t, admin.get(linksPath(p, url.Values{"channel": {"newsletter"}, "campaign": {"dec-issue"}})).body)
	landing := strings.TrimPrefix(link, "http://localhost:3000")

	var first *models.Registration
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		visitor := env.browser(t)
		page := visitor.get(landing)
		assertStatus(t, page, http.StatusOK)
		form := formFields(t, page.body)
		for k, v := range person(email) {
			form.Set(k, v)
		}
		r := visitor.post("/panels/ai-jobs/register", form)
		assertStatus(t, r, http.StatusSeeOther)
		if first == nil {
			reg, err := env.store.RegistrationByToken(context.Background(), manageToken(t, r))
			if err != nil {
				t.Fatal(err)
			}
			first = reg
		}
	}
	if err := env.store.SetAttended(context.Background(), first.ID, true); err != nil {
		t.Fatal(err)
	}
	env.register(t, other, mustSession(t, other, 0), "cat@example.com") // no tags

	row := "<th scope=\"row\">newsletter</th><td>email</td><td>dec-issue</td>\n    " +
		`<td class="num">2</td><td class="num">2</td><td class="num">1</td><td class="num">0</td><td class="num">50%</td>`
	untagged := "<th scope=\"row\">(direct or untagged)</th><td>–</td><td>–</td>\n    " +
		`<td class="num">1</td><td class="num">1</td><td class="num">0</td><td class="num">0</td><td class="num">0%</td>`
	dashboard := admin.get("/admin")
	assertStatus(t, dashboard, http.StatusOK)
	assertContains(t, dashboard.body, "Registrations by source", row, untagged)
	if strings.Index(dashboard.body, row) > strings.Index(dashboard.body, untagged) {
		t.Error("dashboard lists the smaller source first")
	}
	builder := admin.get(linksPath(p, nil))
	assertContains(t, builder.body, row)
	if strings.Contains(builder.body, "(direct or untagged)") {
		t.Error("the builder counts another panel's registrations")
	}
}
