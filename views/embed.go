package views

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"podium/models"
)

// This file is how a panel shows itself outside Podium: the promo card
// publishers frame in their articles, the oEmbed answer that lets a CMS embed
// it from the link alone, and the link-preview (Open Graph, Twitter card) and
// search-engine (schema.org Event) data of the panel page.

// PageEmbed is the promo card served for an iframe.
const PageEmbed = "pages/embed"

// The embed card's default size, used in the iframe snippet and oEmbed.
const (
	EmbedWidth  = 560
	EmbedHeight = 440
)

// The picture link previews show, served from public/img.
const (
	SocialImagePath   = "/public/img/social.png"
	SocialImageWidth  = 1200
	SocialImageHeight = 630
	SocialImageAlt    = "Podium: free panel discussions and webinars"
)

// maxEmbedPoints is how many learning points the card shows.
const maxEmbedPoints = 3

// EmbedPage is the compact promo card for an iframe on a publisher's page.
type EmbedPage struct {
	Page
	Title  string
	Format string
	// Session is the next session that takes registrations, else the next
	// one; HasSession is false when none is scheduled.
	Session    SessionView
	HasSession bool
	Points     []string
	// RegisterURL opens the panel page (absolute), with the card's own
	// tags, or utm_source=embed.
	RegisterURL string
	Open        bool
	// Partners are the panel's sponsors, named "In partnership with".
	Partners []Partner
}

// NewEmbedPage builds the promo card of a published panel; tags are the
// card's own (its src's), which its link passes on to the panel page.
func NewEmbedPage(site Site, p *models.Panel, now time.Time, tags Tags) EmbedPage {
	if strings.TrimSpace(tags.Source) == "" {
		tags.Source = "embed"
	}
	page := EmbedPage{
		Page:        Page{Title: p.Title, Description: p.Summary, NoIndex: true},
		Title:       p.Title,
		Format:      p.Format,
		RegisterURL: tags.WithQuery(site.URL(PanelURL(p.Slug))),
		Partners:    NewPartners(p.Sponsors),
	}
	if sess, ok := featuredSession(p, now); ok {
		page.Session, page.HasSession = NewSessionView(sess, now), true
		page.Open = page.Session.Open
	}
	for i := 0; i < len(p.LearningPoints) && i < maxEmbedPoints; i++ {
		page.Points = append(page.Points, p.LearningPoints[i].Text)
	}
	return page
}

// featuredSession is the session a card or preview talks about: the first
// that takes registrations, else the first scheduled one.
func featuredSession(p *models.Panel, now time.Time) (models.Session, bool) {
	open := p.OpenSessions(now)
	for _, s := range open { // a live session before a replay
		if !s.OnDemand(now) {
			return s, true
		}
	}
	if len(open) > 0 {
		return open[0], true
	}
	for _, s := range p.Sessions {
		if s.Status != models.SessionCancelled {
			return s, true
		}
	}
	return models.Session{}, false
}

// EmbedURL is the path of a panel's promo card.
func EmbedURL(slug string) string { return PanelURL(slug) + "/embed" }

// embedSnippet is the iframe publishers paste; html/template escapes every
// attribute.
var embedSnippet = template.Must(template.New("snippet").Parse(
	`<iframe src="{{.Src}}" width="{{.Width}}" height="{{.Height}}" title="{{.Title}}" ` +
		`style="border:0;max-width:100%" loading="lazy"></iframe>`))

// EmbedSnippet is the HTML that frames a panel's promo card at the given size.
func EmbedSnippet(site Site, p *models.Panel, width, height int, tags Tags) (string, error) {
	var buf bytes.Buffer
	err := embedSnippet.Execute(&buf, struct {
		Src, Title    string
		Width, Height int
	}{tags.WithQuery(site.URL(EmbedURL(p.Slug))), p.Title + " – reserve your free place", width, height})
	return buf.String(), err
}

// OEmbed is an oEmbed 1.0 "rich" answer for a panel's page
// (https://oembed.com/#section2.3).
type OEmbed struct {
	Version         string `json:"version"`
	Type            string `json:"type"`
	Title           string `json:"title"`
	ProviderName    string `json:"provider_name"`
	ProviderURL     string `json:"provider_url"`
	HTML            string `json:"html"`
	Width           int    `json:"width"`
	Height          int    `json:"height"`
	CacheAge        int    `json:"cache_age"`
	ThumbnailURL    string `json:"thumbnail_url"`
	ThumbnailWidth  int    `json:"thumbnail_width"`
	ThumbnailHeight int    `json:"thumbnail_height"`
}

// OEmbedCacheAge is how long consumers may keep an oEmbed answer, in seconds.
const OEmbedCacheAge = 3600

// NewOEmbed answers an oEmbed request for a panel, fitting the card within
// maxWidth and maxHeight when they are above zero.
func NewOEmbed(site Site, p *models.Panel, maxWidth, maxHeight int, tags Tags) (OEmbed, error) {
	width, height := EmbedWidth, EmbedHeight
	if maxWidth > 0 {
		width = min(width, maxWidth)
	}
	if maxHeight > 0 {
		height = min(height, maxHeight)
	}
	snippet, err := EmbedSnippet(site, p, width, height, tags)
	if err != nil {
		return OEmbed{}, err
	}
	thumbW, thumbH := SocialImageWidth, SocialImageHeight
	if maxWidth > 0 && maxWidth < thumbW {
		// The thumbnail must fit too; scale it down keeping its shape.
		thumbW, thumbH = maxWidth, maxWidth*SocialImageHeight/SocialImageWidth
	}
	return OEmbed{
		Version: "1.0", Type: "rich", Title: p.Title,
		ProviderName: "Podium", ProviderURL: site.URL("/"),
		HTML: snippet, Width: width, Height: height, CacheAge: OEmbedCacheAge,
		ThumbnailURL: site.URL(SocialImagePath), ThumbnailWidth: thumbW, ThumbnailHeight: thumbH,
	}, nil
}

// ShareMeta is what link previews (Open Graph, Twitter cards), oEmbed
// consumers and search engines (schema.org JSON-LD) read in a panel page's
// head. Every URL in it is absolute.
type ShareMeta struct {
	URL         string
	Title       string
	Description string
	// When is the featured session's date, time and zone, for previews.
	When        string
	Image       string
	ImageAlt    string
	ImageWidth  int
	ImageHeight int
	OEmbedURL   string
	events      []SchemaEvent
}

// JSONLD is the panel's schema.org Event data, one event per session,
// encoded by encoding/json (which escapes <, > and &, so it cannot end the
// script element early); empty when no session is scheduled.
func (m *ShareMeta) JSONLD() (template.JS, error) {
	if len(m.events) == 0 {
		return "", nil
	}
	var v any = m.events
	if len(m.events) == 1 {
		v = m.events[0]
	}
	b, err := json.Marshal(v)
	return template.JS(b), err
}

// WithShareMeta returns the page with its link-preview, oEmbed and
// schema.org data, made absolute with the site's base URL.
func (p PanelPage) WithShareMeta(site Site, now time.Time) PanelPage {
	panelURL := site.URL(PanelURL(p.Panel.Slug))
	meta := &ShareMeta{
		URL:   panelURL,
		Title: p.Panel.Title,
		Image: site.URL(SocialImagePath), ImageAlt: SocialImageAlt,
		ImageWidth: SocialImageWidth, ImageHeight: SocialImageHeight,
		OEmbedURL: site.URL("/oembed?" + url.Values{"url": {panelURL}, "format": {"json"}}.Encode()),
	}
	description := firstNonEmpty(p.Panel.Summary, p.Panel.Description)
	if sess, ok := featuredSession(p.Panel, now); ok {
		v := NewSessionView(sess, now)
		meta.When = v.Date + ", " + v.Time + " " + v.Zone
		if sess.OnDemand(now) {
			meta.When = "Watch on demand, recorded " + v.ShortDate
		}
		description = meta.When + " · " + description
	}
	meta.Description = truncateWords(description, 200)
	for _, s := range p.Panel.Sessions {
		meta.events = append(meta.events, newSchemaEvent(site, p.Panel, s, panelURL, now))
	}
	p.Share = meta
	return p
}

// HeadPage is the page's head data: its title says "Error:" first when the
// form came back with errors, so screen readers announce it on load.
func (p PanelPage) HeadPage() Page {
	page := p.Page
	if len(p.Form.Errors) > 0 {
		page.Title = "Error: " + page.Title
	}
	return page
}

// SchemaEvent is a schema.org Event, as search engines read it.
type SchemaEvent struct {
	Context             string         `json:"@context"`
	Type                string         `json:"@type"`
	Name                string         `json:"name"`
	Description         string         `json:"description,omitempty"`
	URL                 string         `json:"url"`
	Image               []string       `json:"image"`
	StartDate           string         `json:"startDate"`
	EndDate             string         `json:"endDate"`
	EventStatus         string         `json:"eventStatus"`
	EventAttendanceMode string         `json:"eventAttendanceMode"`
	Location            []any          `json:"location"`
	Organizer           SchemaOrg      `json:"organizer"`
	Performer           []SchemaPerson `json:"performer,omitempty"`
	Offers              SchemaOffer    `json:"offers"`
	IsAccessibleForFree bool           `json:"isAccessibleForFree"`
	InLanguage          string         `json:"inLanguage"`
}

// SchemaOrg is a schema.org Organization.
type SchemaOrg struct {
	Type string `json:"@type"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// SchemaPerson is a schema.org Person, a panel's speaker.
type SchemaPerson struct {
	Type        string     `json:"@type"`
	Name        string     `json:"name"`
	JobTitle    string     `json:"jobTitle,omitempty"`
	Affiliation *SchemaOrg `json:"affiliation,omitempty"`
}

// SchemaOffer is a schema.org Offer: a free place.
type SchemaOffer struct {
	Type         string `json:"@type"`
	Price        int    `json:"price"`
	Availability string `json:"availability"`
	URL          string `json:"url"`
	ValidThrough string `json:"validThrough"`
}

// SchemaVirtualLocation is where an online session happens: the panel page,
// never the join link, which only registrants get.
type SchemaVirtualLocation struct {
	Type string `json:"@type"`
	URL  string `json:"url"`
}

// SchemaPlace is a venue.
type SchemaPlace struct {
	Type    string `json:"@type"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

// schemaTime is ISO 8601 with the session zone's offset ("+01:00", never "Z").
const schemaTime = "2006-01-02T15:04:05-07:00"

const schemaOrg = "https://schema.org/"

func newSchemaEvent(site Site, p *models.Panel, s models.Session, panelURL string, now time.Time) SchemaEvent {
	loc := s.Location()
	ev := SchemaEvent{
		Context: "https://schema.org", Type: "Event",
		Name: p.Title, Description: firstNonEmpty(p.Summary, p.Description), URL: panelURL,
		Image:               []string{site.URL(SocialImagePath)},
		StartDate:           s.StartsAt.In(loc).Format(schemaTime),
		EndDate:             s.EndsAt().In(loc).Format(schemaTime),
		EventStatus:         schemaOrg + "EventScheduled",
		Organizer:           SchemaOrg{Type: "Organization", Name: firstNonEmpty(p.OrganizerName, site.MailName, "Podium"), URL: site.URL("/")},
		IsAccessibleForFree: true,
		InLanguage:          "en",
		Offers: SchemaOffer{
			Type: "Offer", Price: 0, URL: panelURL,
			Availability: schemaAvailability(s.Availability(now)),
			ValidThrough: s.ClosesAt().In(loc).Format(schemaTime),
		},
	}
	if s.OnDemand(now) {
		// The recording is what is offered now, until its offer ends.
		ev.Offers.ValidThrough = ""
		if s.OnDemandUntil != nil {
			ev.Offers.ValidThrough = s.OnDemandUntil.In(loc).Format(schemaTime)
		}
	}
	if s.Status == models.SessionCancelled {
		ev.EventStatus = schemaOrg + "EventCancelled"
	}
	virtual := SchemaVirtualLocation{Type: "VirtualLocation", URL: panelURL}
	place := SchemaPlace{Type: "Place", Name: s.Venue, Address: s.Venue}
	switch {
	case s.Online() && s.Venue != "":
		ev.EventAttendanceMode = schemaOrg + "MixedEventAttendanceMode"
		ev.Location = []any{virtual, place}
	case s.Online():
		ev.EventAttendanceMode = schemaOrg + "OnlineEventAttendanceMode"
		ev.Location = []any{virtual}
	default:
		ev.EventAttendanceMode = schemaOrg + "OfflineEventAttendanceMode"
		ev.Location = []any{place}
	}
	for _, sp := range p.Speakers {
		person := SchemaPerson{Type: "Person", Name: sp.Name, JobTitle: sp.Role}
		if sp.Organisation != "" {
			person.Affiliation = &SchemaOrg{Type: "Organization", Name: sp.Organisation}
		}
		ev.Performer = append(ev.Performer, person)
	}
	return ev
}

func schemaAvailability(a models.Availability) string {
	switch a {
	case models.AvailableSeats, models.AvailableOnDemand:
		return schemaOrg + "InStock"
	case models.AvailableWaitlist, models.AvailableNone:
		return schemaOrg + "SoldOut"
	default:
		return schemaOrg + "Discontinued"
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// truncateWords shortens s to at most n bytes at a word boundary, with an
// ellipsis, for previews that cut long descriptions badly.
func truncateWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := s[:n-len("…")]
	for !utf8.ValidString(cut) {
		cut = cut[:len(cut)-1]
	}
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:·–-") + "…"
}
