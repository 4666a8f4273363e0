package views

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"podium/models"
)

// Site is what links, invites and emails need to know about this Podium.
type Site struct {
	BaseURL  string // e.g. https://events.example.org
	MailFrom string // the platform mailbox, e.g. podium@events.example.org
	MailName string // its display name, e.g. "Podium Events"
}

// Host is the base URL's host, used in calendar UIDs and Message-IDs.
func (s Site) Host() string {
	if u, err := url.Parse(s.BaseURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "localhost"
}

// URL makes a path absolute.
func (s Site) URL(path string) string { return strings.TrimRight(s.BaseURL, "/") + path }

// InviteAlarm is how long before the start calendar clients are asked to remind.
const InviteAlarm = 15 * time.Minute

// RegistrationUID is the calendar UID of a registration's invite: stable for
// ever, ASCII, with no personal data.
func RegistrationUID(site Site, reg *models.Registration) string {
	return fmt.Sprintf("reg-%d-sess-%d@%s", reg.ID, reg.SessionID, site.Host())
}

// SessionUID is the calendar UID of a session in downloads and feeds.
func SessionUID(site Site, sess *models.Session) string {
	return fmt.Sprintf("sess-%d@%s", sess.ID, site.Host())
}

// RegistrationEvent is a registrant's own calendar entry. manageURL may be
// empty (a cancellation has nothing to manage); joinURL is the registrant's
// personal join link, empty when they have none.
func RegistrationEvent(site Site, reg *models.Registration, manageURL, joinURL string, sequence int, stamp time.Time) CalendarEvent {
	sess := reg.Session
	if reg.Status != models.RegistrationConfirmed {
		joinURL = ""
	}
	ev := sessionEvent(site, sess, manageURL, joinURL)
	ev.UID, ev.Sequence, ev.Stamp = RegistrationUID(site, reg), sequence, stamp
	ev.AttendeeName, ev.AttendeeEmail = reg.Name, reg.Email
	ev.OrganizerName, ev.OrganizerEmail = organizer(site, sess.Panel, reg.Email)
	ev.Cancelled = ev.Cancelled || reg.Status == models.RegistrationCancelled
	return ev
}

// PublicEvent is a session as the public downloads and feeds show it: no
// attendee and no join link. Its ORGANIZER is the panel's organizer, or the
// platform mailbox: RFC 5546 (3.2.1) requires one in a PUBLISH.
func PublicEvent(site Site, sess *models.Session, stamp time.Time) CalendarEvent {
	ev := sessionEvent(site, sess, "", "")
	ev.UID, ev.Sequence, ev.Stamp, ev.LastModified = SessionUID(site, sess), sess.Sequence, stamp, sess.UpdatedAt
	ev.OrganizerName, ev.OrganizerEmail = organizer(site, sess.Panel, "")
	ev.URL = site.URL(PanelURL(sess.Panel.Slug))
	ev.AlarmBefore = 0
	return ev
}

func sessionEvent(site Site, sess *models.Session, manageURL, joinURL string) CalendarEvent {
	panel := sess.Panel
	ev := CalendarEvent{
		Start: sess.StartsAt, End: sess.EndsAt(), Summary: panel.Title,
		Location: sess.Venue, Cancelled: sess.Status == models.SessionCancelled, AlarmBefore: InviteAlarm,
	}
	var desc []string
	if panel.Summary != "" {
		desc = append(desc, panel.Summary)
	}
	if names := speakerNames(panel); names != "" {
		desc = append(desc, "Speakers: "+names)
	}
	if joinURL != "" && sess.Online() {
		desc = append(desc, "Join online: "+joinURL)
		ev.URL = joinURL
	}
	if sess.Online() && ev.Location == "" {
		ev.Location = "Online"
	}
	if manageURL != "" {
		desc = append(desc, "View or cancel your place: "+manageURL)
	}
	desc = append(desc, "Event page: "+site.URL(PanelURL(panel.Slug)))
	ev.Description = strings.Join(desc, "\n\n")
	return ev
}

func speakerNames(p *models.Panel) string {
	names := make([]string, len(p.Speakers))
	for i, s := range p.Speakers {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// organizer is the panel's organizer, or the platform mailbox when the panel
// has none or the attendee is the organizer (clients then refuse the invite).
func organizer(site Site, p *models.Panel, attendee string) (name, email string) {
	if p.OrganizerEmail != "" && !strings.EqualFold(p.OrganizerEmail, attendee) {
		return p.OrganizerName, p.OrganizerEmail
	}
	return site.MailName, site.MailFrom
}

// CalendarLinks are "add to calendar" links for people whose calendar does
// not read the invite.
type CalendarLinks struct {
	Google  string
	Outlook string
	ICS     string
}

// NewCalendarLinks builds Google Calendar and Outlook.com links from the same
// event as the invite, and points to the .ics for everything else.
func NewCalendarLinks(ev CalendarEvent, icsURL string) CalendarLinks {
	const compact = "20060102T150405Z"
	g := url.Values{}
	g.Set("action", "TEMPLATE")
	g.Set("text", ev.Summary)
	g.Set("dates", ev.Start.UTC().Format(compact)+"/"+ev.End.UTC().Format(compact))
	g.Set("details", ev.Description)
	g.Set("location", ev.Location)
	o := url.Values{}
	o.Set("path", "/calendar/action/compose")
	o.Set("rru", "addevent")
	o.Set("subject", ev.Summary)
	o.Set("startdt", ev.Start.UTC().Format(time.RFC3339))
	o.Set("enddt", ev.End.UTC().Format(time.RFC3339))
	o.Set("body", ev.Description)
	o.Set("location", ev.Location)
	return CalendarLinks{
		Google:  "https://calendar.google.com/calendar/render?" + g.Encode(),
		Outlook: "https://outlook.live.com/calendar/0/deeplink/compose?" + o.Encode(),
		ICS:     icsURL,
	}
}
