package models

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SourceCount is how the registrations that came by one first touch (its
// utm_source, utm_medium and utm_campaign) went on. Empty tags are a visit
// that carried none: typed in, bookmarked, or a link without tags.
type SourceCount struct {
	Source, Medium, Campaign string
	// Registrations counts every sign-up; Confirmed those holding a place
	// (live or for the replay) now, Attended those who attended live and
	// Watched those who opened the replay.
	Registrations, Confirmed, Attended, Watched int
}

// RegistrationsBySource counts a panel's registrations by first touch, or
// every panel's when panelID is 0, the largest source first, then by tags.
// An erased registration has lost its tags, so it is left out rather than
// counted as untagged. Tags sort as the database compares text, which for
// mixed case may differ between SQLite and PostgreSQL.
func (s *Store) RegistrationsBySource(ctx context.Context, panelID int64) ([]SourceCount, error) {
	db := s.read.WithContext(ctx).Table("registrations").Where("registrations.erased_at IS NULL")
	if panelID != 0 {
		db = db.Joins("JOIN sessions ON sessions.id = registrations.session_id").
			Where("sessions.panel_id = ?", panelID)
	}
	var out []SourceCount
	err := db.Select(`registrations.source AS source, registrations.utm_medium AS medium,
		registrations.utm_campaign AS campaign, COUNT(*) AS registrations,
		SUM(CASE WHEN registrations.status = ? THEN 1 ELSE 0 END) AS confirmed,
		SUM(CASE WHEN registrations.attendance = ? THEN 1 ELSE 0 END) AS attended,
		SUM(CASE WHEN registrations.watched_at IS NOT NULL THEN 1 ELSE 0 END) AS watched`,
		RegistrationConfirmed, AttendanceAttended).
		Group("registrations.source, registrations.utm_medium, registrations.utm_campaign").
		Order("registrations DESC, source, medium, campaign").
		Scan(&out).Error
	return out, err
}

// LinkChannel is where an organizer shares a tracked link, with the source
// and medium tags its sign-ups will carry.
type LinkChannel struct {
	Name, Label    string
	Source, Medium string
}

// ChannelCustom is the channel whose source and medium the organizer types.
const ChannelCustom = "custom"

// LinkChannels are the channels a tracked link can be built for, the
// presets first and ChannelCustom last.
func LinkChannels() []LinkChannel {
	return []LinkChannel{
		{Name: "newsletter", Label: "Newsletter", Source: "newsletter", Medium: "email"},
		{Name: "sponsor", Label: "Sponsor's mailing", Source: "sponsor", Medium: "email"},
		{Name: "social", Label: "Social media post", Source: "social", Medium: "social"},
		{Name: "partner", Label: "Partner's website", Source: "partner", Medium: "referral"},
		{Name: ChannelCustom, Label: "Something else"},
	}
}

// TrackedLink is the request for a link to a panel whose sign-ups say where
// they came from: a channel, with the source and medium typed for
// ChannelCustom, and the campaign and content tags.
type TrackedLink struct {
	Channel                           string
	Source, Medium, Campaign, Content string
}

// Validate trims the tags, puts a preset channel's source and medium in
// place of any typed, and reports a message per field a link cannot carry
// as asked. A sign-up cleans and cuts its tags without a word; the builder
// says instead, so the link handed out is recorded exactly as built.
func (l *TrackedLink) Validate() error {
	v := &validator{}
	channel, known := LinkChannel{}, false
	for _, c := range LinkChannels() {
		if c.Name == l.Channel {
			channel, known = c, true
		}
	}
	v.check(known, "channel", "Choose where the link will be shared.")
	if known && channel.Name != ChannelCustom {
		l.Source, l.Medium = channel.Source, channel.Medium
	}
	tags := []struct {
		field string // also the tag's name in a message
		value *string
	}{{"source", &l.Source}, {"medium", &l.Medium}, {"campaign", &l.Campaign}, {"content", &l.Content}}
	for _, t := range tags {
		*t.value = strings.TrimSpace(*t.value)
		v.check(utf8.RuneCountInString(*t.value) <= MaxTagLength, t.field,
			"Keep the "+t.field+" to "+strconv.Itoa(MaxTagLength)+" characters or fewer.")
		v.check(isPlainLine(*t.value), t.field,
			"The "+t.field+" contains characters a link cannot carry, such as a tab or a line break.")
	}
	v.check(!known || l.Source != "", "source", "Enter a source: where the link will be shared, such as a newsletter's name.")
	return v.err()
}
