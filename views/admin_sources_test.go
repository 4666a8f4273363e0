package views

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"podium/models"
)

func TestTrackedLinksPage_RendersEmptyRefusedAndBuilt(t *testing.T) {
	engine, err := NewEngine(func(name string) string { return "/public/" + name })
	if err != nil {
		t.Fatal(err)
	}
	frame := NewAdminPage("Tracked links", &models.Account{ID: 1, Email: "o@example.com", Role: models.RoleOwner},
		"tok", SectionPanels, Flash{})
	site := Site{BaseURL: "https://events.example.org/"}
	p := &models.Panel{ID: 7, Title: "AI and jobs", Slug: "ai-jobs"}
	counts := []models.SourceCount{{Source: "newsletter", Medium: "email", Registrations: 2, Confirmed: 2, Attended: 1}}
	link := models.TrackedLink{Channel: "newsletter", Campaign: "dec-issue"}
	if err := link.Validate(); err != nil {
		t.Fatal(err)
	}
	page := func(typed models.TrackedLink, built *models.TrackedLink, errs map[string]string) TrackedLinksPage {
		t.Helper()
		pg, err := NewTrackedLinksPage(frame, site, p, typed, built, errs, counts)
		if err != nil {
			t.Fatal(err)
		}
		return pg
	}
	cases := []struct {
		name  string
		data  TrackedLinksPage
		wants []string
	}{
		{"zero value", TrackedLinksPage{}, []string{"No registrations yet."}},
		{"first visit", page(NewTrackedLink(p), nil, nil),
			[]string{`value="newsletter" checked`, `name="campaign" id="field-campaign" value="ai-jobs"`, "<td>email</td>"}},
		{"refused", page(models.TrackedLink{Channel: "social", Campaign: "a\tb"}, nil, map[string]string{"campaign": "Bad campaign."}),
			[]string{"<title>Error: Tracked links", `href="#field-campaign">Bad campaign.`, `value="social" checked`}},
		{"built", page(models.TrackedLink{Channel: "newsletter", Campaign: "dec-issue"}, &link, nil),
			[]string{`value="https://events.example.org/panels/ai-jobs?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=dec-issue" readonly`,
				`&lt;iframe src=&#34;https://events.example.org/panels/ai-jobs/embed?utm_source=newsletter&amp;amp;utm_medium=email&amp;amp;utm_campaign=dec-issue&#34;`}},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		if err := engine.Render(&buf, PageAdminLinks, tc.data); err != nil {
			t.Errorf("%s: render: %v", tc.name, err)
			continue
		}
		html := buf.String()
		if !strings.Contains(html, "</html>") || strings.Count(html, "<h1") != 1 || strings.Contains(html, ` style="`) {
			t.Errorf("%s: want a whole page with one h1 and no style attribute", tc.name)
		}
		for _, w := range tc.wants {
			if !strings.Contains(html, w) {
				t.Errorf("%s: page lacks %q:\n%s", tc.name, w, html)
			}
		}
	}
}

func TestNewSourceTable_NamesUntaggedAndRatesAttendanceOfTheConfirmed(t *testing.T) {
	got := NewSourceTable("c", []models.SourceCount{
		{Source: "newsletter", Medium: "email", Campaign: "dec", Registrations: 1200, Confirmed: 3, Attended: 2, Watched: 1},
		{Registrations: 2},
	}).Rows
	want := []SourceRow{
		{Source: "newsletter", Medium: "email", Campaign: "dec", Registrations: "1,200", Confirmed: "3", Attended: "2", Watched: "1", Rate: "66%"},
		{Source: "(direct or untagged)", Medium: "–", Campaign: "–", Registrations: "2", Confirmed: "0", Attended: "0", Watched: "0", Rate: "–"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows:\n got %+v\nwant %+v", got, want)
	}
}

// The panel page links the builder.
func TestAdminPanelPage_LinksTheTrackedLinkBuilder(t *testing.T) {
	p := &models.Panel{ID: 42, Title: "AI and jobs", Slug: "ai-jobs"}
	page := NewAdminPanelPage(AdminPage{}, Site{}, p, nil, time.Time{})
	if got, want := page.LinksURL, TrackedLinksURL(p.ID); got != want || want != "/admin/panels/42/links" {
		t.Errorf("LinksURL() = %q; want %q", got, want)
	}
}
