package views

import (
	"strconv"
	"time"

	"podium/models"
)

// PageAdminShareLink shows a new share link, the only time it is shown.
const PageAdminShareLink = "admin/share_link"

// ShareLinkURL is a sponsor's share link: its leads as CSV.
func ShareLinkURL(token string) string { return "/leads/" + token }

// ShareLinkRow is a share link on its panel's admin page.
type ShareLinkRow struct {
	Sponsor, Expires, Uses, LastUsed, State string
	Revoke                                  *ActionForm
}

// ShareLinkCreatedPage shows a new share link once.
type ShareLinkCreatedPage struct {
	AdminPage
	Sponsor, URL, Expires, BackURL string
}

// NewShareLinkCreatedPage builds the page that shows a new link once.
func NewShareLinkCreatedPage(frame AdminPage, site Site, panelID int64, sponsor, token string, expires time.Time) ShareLinkCreatedPage {
	return ShareLinkCreatedPage{AdminPage: frame, Sponsor: sponsor, URL: site.URL(ShareLinkURL(token)),
		Expires: formatStamp(expires), BackURL: AdminPanelURL(panelID)}
}

// WithShareLinks adds the panel's share links to its admin page.
func (p AdminPanelPage) WithShareLinks(panel *models.Panel, links []models.ShareLink, now time.Time) AdminPanelPage {
	names := map[int64]string{}
	base := AdminPanelURL(panel.ID)
	for _, sp := range panel.Sponsors {
		names[sp.ID] = sp.Name
	}
	for _, l := range links {
		name, current := names[l.SponsorID]
		if !current {
			name = "a removed sponsor"
		}
		row := ShareLinkRow{Sponsor: name, Expires: formatStamp(l.ExpiresAt), Uses: formatCount(l.Uses),
			LastUsed: "never", State: "Active"}
		if l.LastUsedAt != nil {
			row.LastUsed = formatStamp(*l.LastUsedAt)
		}
		switch {
		case l.RevokedAt != nil:
			row.State = "Revoked " + formatStamp(*l.RevokedAt)
		case !l.Active(now):
			row.State = "Expired"
		case !current:
			row.State = "Closed: the sponsor was removed"
		default:
			row.Revoke = &ActionForm{Action: base + "/share-links/" + strconv.FormatInt(l.ID, 10) + "/revoke",
				CSRFToken: p.CSRFToken, Label: "Revoke", Describe: "Revoke the share link of " + name, Danger: true,
				Confirm: "Revoke this link? " + name + " can no longer download its leads with it."}
		}
		p.ShareLinks = append(p.ShareLinks, row)
	}
	return p
}
