package handlers

import (
	"bytes"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"podium/models"
	"podium/views"
)

// frameAncestors returns the frame-ancestors sources of a response's CSP.
func frameAncestors(t *testing.T, r response) string {
	t.Helper()
	for d := range strings.SplitSeq(r.header.Get("Content-Security-Policy"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(d), "frame-ancestors "); ok {
			return v
		}
	}
	t.Fatalf("no frame-ancestors in %q", r.header.Get("Content-Security-Policy"))
	return ""
}

func TestEmbed_OnlyTheCardMayBeFramedAndOnlyByListedOrigins(t *testing.T) {
	env := newTestEnv(t, func(c *Config) {
		c.EmbedOrigins = []string{"https://news.example.com", "http://localhost:8080"}
	})
	env.addPanel(t, "framed", models.Session{})
	b := env.browser(t)

	card := b.get("/panels/framed/embed")
	assertStatus(t, card, http.StatusOK)
	if got := frameAncestors(t, card); got != "https://news.example.com http://localhost:8080" {
		t.Errorf("card frame-ancestors = %q", got)
	}
	if xfo := card.header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("card sends X-Frame-Options %q, which would block every publisher", xfo)
	}
	if csp := card.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
		strings.Count(csp, "frame-ancestors") != 1 {
		t.Errorf("card CSP lost the rest of the policy: %q", csp)
	}

	for _, path := range []string{"/", "/panels/framed", "/panels/framed/sessions/1.ics", "/nowhere", "/panels/gone/embed"} {
		r := b.get(path)
		if got := frameAncestors(t, r); got != "'none'" || r.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: frame-ancestors %q, X-Frame-Options %q; want 'none' and DENY",
				path, got, r.header.Get("X-Frame-Options"))
		}
	}
}

func TestEmbed_SameOriginOnlyWhenNoOriginIsListed(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "framed", models.Session{})
	if got := frameAncestors(t, env.browser(t).get("/panels/framed/embed")); got != "'self'" {
		t.Fatalf("frame-ancestors = %q; want 'self'", got)
	}
}

func TestEmbed_CardPromotesTheNextSessionAndOpensTheRegistrationInANewTab(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "promo", models.Session{Capacity: 40})
	body := env.browser(t).get("/panels/promo/embed").body
	assertContains(t, body, "<h1", p.Title, "Free virtual panel discussion", "First point", "Second point",
		"Friday 27 November 2026", "9:00 AM – 10:00 AM GMT", "40 places left",
		`href="http://localhost:3000/panels/promo?utm_source=embed" target="_blank" rel="noopener"`,
		"Reserve your FREE place", "(opens in a new tab)", `<html lang="en">`, `<meta name="robots" content="noindex">`)
	if strings.Contains(body, "meet.example.com") {
		t.Error("the card shows the join link, which only registrants may see")
	}
	if strings.Contains(body, "<form") || strings.Contains(body, "site-header") {
		t.Error("the card carries the full page's form or header")
	}
}

func TestEmbed_ClosedPanelInvitesToSeeIt(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "closed", models.Session{Capacity: 1, SeatsTaken: 1})
	body := env.browser(t).get("/panels/closed/embed").body
	assertContains(t, body, "Fully booked", "See the panel")
	if strings.Contains(body, "Reserve your FREE place") {
		t.Error("a full panel still offers a place")
	}
}

func TestOEmbed_AnswersForThisSitesPanelLinks(t *testing.T) {
	env := newTestEnv(t)
	p := env.addPanel(t, "talk", models.Session{})
	for _, link := range []string{
		"http://localhost:3000/panels/talk",
		"http://localhost:3000/panels/talk/",
		"https://localhost:3000/panels/talk?utm_source=newsletter",
		"http://localhost:3000/panels/talk/embed",
	} {
		r := env.browser(t).get("/oembed?" + url.Values{"url": {link}, "format": {"json"}}.Encode())
		assertStatus(t, r, http.StatusOK)
		var got views.OEmbed
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatalf("%s: %v\n%s", link, err, r.body)
		}
		if got.Version != "1.0" || got.Type != "rich" || got.Title != p.Title || got.ProviderName != "Podium" ||
			got.ProviderURL != "http://localhost:3000/" || got.Width != views.EmbedWidth || got.Height != views.EmbedHeight ||
			got.ThumbnailURL != "http://localhost:3000/public/img/social.png" {
			t.Errorf("%s: %+v", link, got)
		}
		// The link's own tags ride along, so the card's sign-ups count for
		// the newsletter that carried it.
		src := "http://localhost:3000/panels/talk/embed"
		if strings.Contains(link, "utm_source=newsletter") {
			src += "?utm_source=newsletter"
		}
		if !strings.HasPrefix(got.HTML, `<iframe src="`+src+`" width="560" height="440" title="Panel talk`) {
			t.Errorf("%s: html = %s", link, got.HTML)
		}
		if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", link, r.header.Get("Content-Type"))
		}
	}
}

func TestOEmbed_FitsTheAskedSize(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "talk", models.Session{})
	r := env.browser(t).get("/oembed?url=" + url.QueryEscape("http://localhost:3000/panels/talk") + "&maxwidth=320&maxheight=300")
	var got views.OEmbed
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Width != 320 || got.Height != 300 || !strings.Contains(got.HTML, `width="320" height="300"`) ||
		got.ThumbnailWidth > 320 {
		t.Fatalf("%+v", got)
	}
}

func TestOEmbed_RefusesWhatItCannotAnswer(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "talk", models.Session{})
	cases := map[string]struct {
		query string
		want  int
	}{
		"xml":           {"format=xml&url=" + url.QueryEscape("http://localhost:3000/panels/talk"), http.StatusNotImplemented},
		"unknown panel": {"url=" + url.QueryEscape("http://localhost:3000/panels/nope"), http.StatusNotFound},
		"other site":    {"url=" + url.QueryEscape("https://evil.example/panels/talk"), http.StatusNotFound},
		"not a panel":   {"url=" + url.QueryEscape("http://localhost:3000/calendar.ics"), http.StatusNotFound},
		"deeper path":   {"url=" + url.QueryEscape("http://localhost:3000/panels/talk/sessions/1.ics"), http.StatusNotFound},
		"no url":        {"format=json", http.StatusNotFound},
		"not a url":     {"url=%25zz", http.StatusNotFound},
	}
	for name, tc := range cases {
		if r := env.browser(t).get("/oembed?" + tc.query); r.status != tc.want {
			t.Errorf("%s: status %d; want %d", name, r.status, tc.want)
		}
	}
}

var (
	metaTag   = regexp.MustCompile(`<meta (?:property|name)="([^"]+)" content="([^"]*)">`)
	linkTag   = regexp.MustCompile(`<link rel="([^"]+)"(?: type="([^"]+)")? href="([^"]*)"`)
	jsonLDTag = regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`)
)

// schemaEvent is the part of schema.org Event the tests read back.
type schemaEvent struct {
	Type, Name, URL, StartDate, EndDate, EventStatus, EventAttendanceMode string
	Image                                                                 []string
	Location                                                              []struct{ Type, URL, Name, Address string }
	Organizer                                                             struct{ Type, Name string }
	Performer                                                             []struct{ Type, Name, JobTitle string }
	Offers                                                                struct {
		Type         string
		Price        *float64
		Availability string
	}
}

// UnmarshalJSON maps "@type" onto Type at every level.
func (e *schemaEvent) UnmarshalJSON(b []byte) error {
	type plain schemaEvent
	return json.Unmarshal(bytes.ReplaceAll(b, []byte(`"@type"`), []byte(`"Type"`)), (*plain)(e))
}

func TestPanelPage_SharesPreviewTagsAndEventData(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "shared", models.Session{Capacity: 10})
	body := env.browser(t).get("/panels/shared").body

	meta := map[string]string{}
	for _, m := range metaTag.FindAllStringSubmatch(body, -1) {
		meta[m[1]] = html.UnescapeString(m[2])
	}
	want := map[string]string{
		"og:title": "Panel shared", "og:url": "http://localhost:3000/panels/shared",
		"og:image": "http://localhost:3000/public/img/social.png", "og:image:width": "1200",
		"twitter:card": "summary_large_image", "twitter:image": "http://localhost:3000/public/img/social.png",
		"twitter:data1":  "Friday 27 November 2026, 9:00 AM GMT",
		"og:description": "Friday 27 November 2026, 9:00 AM GMT · A summary of shared",
	}
	for k, v := range want {
		if meta[k] != v {
			t.Errorf("%s = %q; want %q", k, meta[k], v)
		}
	}
	links := map[string]string{}
	for _, m := range linkTag.FindAllStringSubmatch(body, -1) {
		links[m[1]+" "+m[2]] = html.UnescapeString(m[3])
	}
	if links["canonical "] != "http://localhost:3000/panels/shared" {
		t.Errorf("canonical = %q", links["canonical "])
	}
	oembed, err := url.Parse(links["alternate application/json+oembed"])
	if err != nil || oembed.Path != "/oembed" || oembed.Query().Get("url") != "http://localhost:3000/panels/shared" {
		t.Errorf("oEmbed discovery link = %q", links["alternate application/json+oembed"])
	}

	ev := onlyEvent(t, body)
	if ev.Type != "Event" || ev.Name != "Panel shared" || ev.URL != "http://localhost:3000/panels/shared" ||
		ev.StartDate != "2026-11-27T09:00:00+00:00" || ev.EndDate != "2026-11-27T10:00:00+00:00" ||
		ev.EventStatus != "https://schema.org/EventScheduled" ||
		ev.EventAttendanceMode != "https://schema.org/OnlineEventAttendanceMode" ||
		len(ev.Image) != 1 || !strings.HasPrefix(ev.Image[0], "http://localhost:3000/") {
		t.Errorf("event = %+v", ev)
	}
	if len(ev.Location) != 1 || ev.Location[0].Type != "VirtualLocation" || ev.Location[0].URL != ev.URL {
		t.Errorf("location = %+v; want the panel page as a VirtualLocation", ev.Location)
	}
	if ev.Offers.Type != "Offer" || ev.Offers.Price == nil || *ev.Offers.Price != 0 ||
		ev.Offers.Availability != "https://schema.org/InStock" {
		t.Errorf("offers = %+v", ev.Offers)
	}
	if len(ev.Performer) != 1 || ev.Performer[0].Type != "Person" || ev.Performer[0].Name != "Grace Hopper" {
		t.Errorf("performer = %+v", ev.Performer)
	}
	if strings.Contains(jsonLDTag.FindString(body), "meet.example.com") {
		t.Error("the JSON-LD gives away the join link")
	}
}

func TestPanelPage_EventDataForVenuesAndCancelledSessionsInTheirOwnZone(t *testing.T) {
	env := newTestEnv(t)
	env.addPanel(t, "venue", models.Session{Venue: "Town Hall, Leeds", TimeZone: "America/New_York", Status: models.SessionCancelled})
	ev := onlyEvent(t, env.browser(t).get("/panels/venue").body)
	if ev.StartDate != "2026-11-27T04:00:00-05:00" || ev.EventStatus != "https://schema.org/EventCancelled" ||
		ev.EventAttendanceMode != "https://schema.org/OfflineEventAttendanceMode" ||
		len(ev.Location) != 1 || ev.Location[0].Type != "Place" || ev.Location[0].Address != "Town Hall, Leeds" ||
		ev.Offers.Availability != "https://schema.org/Discontinued" {
		t.Fatalf("event = %+v", ev)
	}
}

func TestPanelPage_EventDataCannotBreakOutOfItsScript(t *testing.T) {
	env := newTestEnv(t)
	p := &models.Panel{Slug: "sneaky", Title: `</script><script>alert(1)</script>`, Status: models.PanelPublished,
		Sessions: []models.Session{{StartsAt: testNow.Add(time.Hour), DurationMinutes: 30, TimeZone: "UTC", JoinURL: "https://meet.example.com/x"}}}
	if err := env.store.CreatePanel(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	body := env.browser(t).get("/panels/sneaky").body
	if strings.Contains(body, "<script>alert(1)") {
		t.Fatal("the panel title reached the page unescaped")
	}
	if ev := onlyEvent(t, body); ev.Name != p.Title {
		t.Fatalf("name = %q; want the title as typed", ev.Name)
	}
}

// onlyEvent parses the page's one JSON-LD script as a single Event.
func onlyEvent(t *testing.T, body string) schemaEvent {
	t.Helper()
	scripts := jsonLDTag.FindAllStringSubmatch(body, -1)
	if len(scripts) != 1 {
		t.Fatalf("found %d JSON-LD scripts; want 1", len(scripts))
	}
	var ev schemaEvent
	if err := json.Unmarshal([]byte(scripts[0][1]), &ev); err != nil {
		t.Fatalf("JSON-LD does not parse: %v\n%s", err, scripts[0][1])
	}
	return ev
}

func TestParseEmbedOrigins(t *testing.T) {
	good := map[string][]string{
		"":    nil,
		" , ": nil,
		"https://News.Example.com, http://localhost:8080/": {"https://news.example.com", "http://localhost:8080"},
		"http://127.0.0.1:5000,https://[::1]:8443":         {"http://127.0.0.1:5000", "https://[::1]:8443"},
	}
	for in, want := range good {
		got, err := ParseEmbedOrigins(in)
		if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("ParseEmbedOrigins(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"news.example.com", "ftp://news.example.com", "https://news.example.com/articles",
		"https://news.example.com?x=1", "https://user@news.example.com", "https://*.example.com",
		"https://news.example.com;script-src", "'self'", "*", "https://news.example.com:99999", "https://",
	} {
		if got, err := ParseEmbedOrigins(in); err == nil {
			t.Errorf("ParseEmbedOrigins(%q) = %q; want an error", in, got)
		}
	}
}

func TestEmbedPages_RenderFromZeroValues(t *testing.T) {
	engine, err := views.NewEngine(func(name string) string { return "/public/" + name })
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]any{
		views.PageEmbed: views.EmbedPage{},
		views.PagePanel: views.PanelPage{Panel: &models.Panel{}}.WithShareMeta(views.Site{}, time.Time{}),
	}
	for name, data := range pages {
		var buf bytes.Buffer
		if err := engine.Render(&buf, name, data); err != nil || !strings.Contains(buf.String(), "</html>") {
			t.Errorf("render %s: %v", name, err)
		}
	}
}
