package views

import (
	"strconv"

	"podium/models"
)

// PageAdminLinks is a panel's tracked-link builder, with the panel's
// registrations by source.
const PageAdminLinks = "admin/links"

// TrackedLinksURL is a panel's tracked-link builder.
func TrackedLinksURL(panelID int64) string { return AdminPanelURL(panelID) + "/links" }

// TrackedLinksPage builds a link to a panel, and the embed snippet of its
// promo card, whose sign-ups will say where they came from.
type TrackedLinksPage struct {
	AdminPage
	PanelTitle string
	Action     string
	Errors     []FieldError
	// Channels are the radio buttons of where the link will be shared.
	Channels     []Choice
	ChannelError string
	// Custom are the source and medium typed for the custom channel;
	// Fields the campaign and content tags.
	Custom, Fields []Field
	// Link and Snippet are what the form built, once sent and accepted.
	Link, Snippet string
	Sources       SourceTable
}

// Choice is one radio button of a group, with a hint of what it means.
type Choice struct {
	ID, Value, Label, Hint string
	Checked                bool
}

// NewTrackedLink is the builder's form before it is sent: the first
// channel, and the panel's slug as the campaign.
func NewTrackedLink(p *models.Panel) models.TrackedLink {
	return models.TrackedLink{Channel: models.LinkChannels()[0].Name, Campaign: p.Slug}
}

// NewTrackedLinksPage builds the builder with what was typed and its
// errors; built, when the form was accepted, is the link to show (its tags
// resolved by TrackedLink.Validate).
func NewTrackedLinksPage(frame AdminPage, site Site, p *models.Panel, typed models.TrackedLink, built *models.TrackedLink,
	errs map[string]string, sources []models.SourceCount) (TrackedLinksPage, error) {
	summary := ErrorSummary(errs, "channel", "source", "medium", "campaign", "content")
	page := TrackedLinksPage{
		AdminPage: frame.WithErrors(summary), PanelTitle: p.Title, Action: TrackedLinksURL(p.ID), Errors: summary,
		ChannelError: errs["channel"],
		Custom: []Field{
			tagField("source", "Source", typed.Source, "Where the link is shared, such as podcast or a partner's name.", errs),
			tagField("medium", "Medium", typed.Medium, "The kind of channel, such as email, social or referral.", errs),
		},
		Fields: []Field{
			tagField("campaign", "Campaign", typed.Campaign, "Which mailing or post this is, such as dec-issue.", errs),
			tagField("content", "Content", typed.Content, "Tells apart links in one place, such as header and footer.", errs),
		},
		Sources: NewSourceTable("Registrations for this panel by source", sources),
	}
	// A custom channel needs its source, so it is not "(optional)".
	page.Custom[0].Quiet = true
	for i, c := range models.LinkChannels() {
		hint := "Type the source and medium below."
		if c.Name != models.ChannelCustom {
			hint = "utm_source=" + c.Source + ", utm_medium=" + c.Medium
		}
		page.Channels = append(page.Channels, Choice{ID: FieldID("channel") + "-" + strconv.Itoa(i), Value: c.Name,
			Label: c.Label, Hint: hint, Checked: c.Name == typed.Channel})
	}
	if built == nil {
		return page, nil
	}
	tags := Tags{Source: built.Source, Medium: built.Medium, Campaign: built.Campaign, Content: built.Content}
	page.Link = tags.WithQuery(site.URL(PanelURL(p.Slug)))
	var err error
	page.Snippet, err = EmbedSnippet(site, p, EmbedWidth, EmbedHeight, tags)
	return page, err
}

// tagField is the text box of one utm_* tag.
func tagField(name, label, value, hint string, errs map[string]string) Field {
	f := newField(name, label+" (utm_"+name+")", "text", value, errs)
	f.Hint, f.MaxLength, f.Autocomplete = hint, models.MaxTagLength, "off"
	return f
}

// SourceTable is registrations by first touch, for the "admin_sources"
// template.
type SourceTable struct {
	Caption string
	Rows    []SourceRow
}

// SourceRow is one first touch's registrations, formatted.
type SourceRow struct {
	Source, Medium, Campaign                    string
	Registrations, Confirmed, Attended, Watched string
	// Rate is the share of the confirmed who attended ("50%"), or "–"
	// when none is confirmed.
	Rate string
}

// untagged names the row of registrations that came with no source.
const untagged = "(direct or untagged)"

// NewSourceTable formats registrations by source.
func NewSourceTable(caption string, counts []models.SourceCount) SourceTable {
	t := SourceTable{Caption: caption}
	for _, c := range counts {
		row := SourceRow{
			Source: firstNonEmpty(c.Source, untagged), Medium: firstNonEmpty(c.Medium, "–"),
			Campaign: firstNonEmpty(c.Campaign, "–"), Registrations: formatCount(c.Registrations),
			Confirmed: formatCount(c.Confirmed), Attended: formatCount(c.Attended), Watched: formatCount(c.Watched),
			Rate: "–",
		}
		if c.Confirmed > 0 {
			row.Rate = strconv.Itoa(c.Attended*100/c.Confirmed) + "%"
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
