package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// PanelStatus says whether a panel is visible to the public.
type PanelStatus string

// Panel statuses.
const (
	PanelDraft     PanelStatus = "draft"
	PanelPublished PanelStatus = "published"
	PanelArchived  PanelStatus = "archived"
)

// Panel is a panel discussion, webinar or talk with one or more sessions.
type Panel struct {
	ID             int64
	Slug           string
	Title          string
	Format         string // e.g. "Free virtual panel discussion"
	Summary        string
	Description    string
	OrganizerName  string
	OrganizerEmail string
	Status         PanelStatus
	// ReminderMinutes are the reminder lead times before each session.
	ReminderMinutes Minutes
	// Ended counts sessions that are over and offer no replay, where a
	// public page leaves them out (PublishedPanel).
	Ended int `gorm:"-"`
	// FollowUps say whether and how the emails after each session go out.
	FollowUps FollowUpSettings `gorm:"embedded"`
	CreatedAt time.Time
	UpdatedAt time.Time

	LearningPoints []LearningPoint `gorm:"constraint:OnDelete:CASCADE"`
	Speakers       []Speaker       `gorm:"constraint:OnDelete:CASCADE"`
	Sessions       []Session       `gorm:"constraint:OnDelete:CASCADE"`
	// Questions are the custom questions of the sign-up form, in order.
	Questions []Question `gorm:"constraint:OnDelete:CASCADE"`
	// Sponsors are the panel's current sponsors, in order.
	Sponsors []Sponsor `gorm:"constraint:OnDelete:CASCADE"`
	// MarketingTextID is the version of the organizer's-news checkbox's
	// wording (MarketingConsentText).
	MarketingTextID *int64
	// RetentionDays is how long registrants are kept after the last session
	// ends; nil takes the site's default.
	RetentionDays *int
	// Gating is who may register through the public form, and how.
	Gating `gorm:"embedded"`
}

// LearningPoint is one of a panel's ordered key learning points.
type LearningPoint struct {
	ID       int64
	PanelID  int64
	Position int
	Text     string
}

// Speaker is one of a panel's ordered speakers.
type Speaker struct {
	ID           int64
	PanelID      int64
	Position     int
	Name         string
	Role         string
	Organisation string
	Bio          string
}

// PanelListing is a published panel with its next upcoming session.
type PanelListing struct {
	Panel       Panel
	NextSession Session
}

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Slugify turns a title into a URL-safe slug ("AI & Jobs!" -> "ai-jobs").
func Slugify(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 80 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

func (p *Panel) validate() error {
	v := &validator{}
	p.Title = strings.TrimSpace(p.Title)
	if p.Slug == "" {
		p.Slug = Slugify(p.Title)
	}
	v.check(p.Title != "" && len(p.Title) <= 200, "title", "Enter a title of at most 200 characters.")
	v.check(slugPattern.MatchString(p.Slug) && len(p.Slug) <= 80, "slug",
		"Use lower-case letters, digits and single dashes, at most 80 characters.")
	v.check(p.Status == PanelDraft || p.Status == PanelPublished || p.Status == PanelArchived,
		"status", "Choose draft, published or archived.")
	if p.OrganizerEmail != "" {
		_, err := normaliseEmail(p.OrganizerEmail)
		v.check(err == nil, "organizer_email", "Enter the organizer's email address, like name@example.com.")
	}
	p.checkTexts(v)
	p.checkSponsors(v)
	p.Gating.check(v)
	v.check(p.RetentionDays == nil || (*p.RetentionDays >= 1 && *p.RetentionDays <= maxRetentionDays), "retention_days",
		"Keep registrants between 1 and 3,650 days after the last session, or leave it to the site's default.")
	v.check(validReminders(p.ReminderMinutes), "reminder_minutes",
		"Use up to five reminders, each between 1 minute and 14 days before the start.")
	p.FollowUps.check(v)
	for i := range p.Sessions {
		p.Sessions[i].normalise()
		for field, msg := range p.Sessions[i].validationMessages() {
			v.check(false, fmt.Sprintf("sessions[%d].%s", i, field), msg)
		}
	}
	v.check(len(p.Questions) <= MaxQuestions, "questions", "Use at most 50 questions.")
	for i := range p.Questions {
		p.Questions[i].normalise()
		for field, msg := range p.Questions[i].validationMessages() {
			v.check(false, fmt.Sprintf("questions[%d].%s", i, field), msg)
		}
	}
	return v.err()
}

// Limits on a panel's texts.
const (
	maxShortText   = 200
	maxSummary     = 1000
	maxDescription = 20000
	maxBio         = 2000
	maxListItems   = 20
	// maxRetentionDays bounds how long a panel keeps its registrants.
	maxRetentionDays = 3650
)

// checkTexts bounds every text of a panel and refuses control characters
// (line breaks only where a paragraph may have them).
func (p *Panel) checkTexts(v *validator) {
	line := func(field, text string, limit int) {
		v.check(utf8.RuneCountInString(text) <= limit && isPlainLine(text), field,
			fmt.Sprintf("Keep this to one line of at most %d characters.", limit))
	}
	para := func(field, text string, limit int) {
		v.check(utf8.RuneCountInString(text) <= limit && isPlainText(text), field,
			fmt.Sprintf("Keep this under %d characters, without control characters.", limit))
	}
	line("title", p.Title, maxShortText)
	line("format", p.Format, maxShortText)
	line("organizer_name", p.OrganizerName, maxShortText)
	para("summary", p.Summary, maxSummary)
	para("description", p.Description, maxDescription)
	v.check(len(p.LearningPoints) <= maxListItems, "learning_points", "Use at most 20 learning points.")
	for i, lp := range p.LearningPoints {
		field := fmt.Sprintf("learning_points[%d]", i)
		v.check(strings.TrimSpace(lp.Text) != "", field, "Write the learning point or remove it.")
		line(field, lp.Text, 300)
	}
	v.check(len(p.Speakers) <= maxListItems, "speakers", "Use at most 20 speakers.")
	for i, sp := range p.Speakers {
		prefix := fmt.Sprintf("speakers[%d].", i)
		v.check(strings.TrimSpace(sp.Name) != "", prefix+"name", "Give the speaker's name or remove the speaker.")
		line(prefix+"name", sp.Name, maxShortText)
		line(prefix+"role", sp.Role, maxShortText)
		line(prefix+"organisation", sp.Organisation, maxShortText)
		para(prefix+"bio", sp.Bio, maxBio)
	}
}

// CreatePanel validates p and stores it with its learning points, speakers,
// questions and sessions, numbering their positions in slice order.
func (s *Store) CreatePanel(ctx context.Context, p *Panel) error {
	if p.Status == "" {
		p.Status = PanelDraft
	}
	if p.ReminderMinutes == nil {
		p.ReminderMinutes = DefaultReminders
	}
	if err := p.validate(); err != nil {
		return err
	}
	if p.Status == PanelPublished && len(p.Sessions) == 0 {
		return &ValidationError{Fields: map[string]string{"status": "Add a session before publishing the panel."}}
	}
	for i := range p.LearningPoints {
		p.LearningPoints[i].Position = i + 1
	}
	for i := range p.Speakers {
		p.Speakers[i].Position = i + 1
	}
	for i := range p.Questions {
		p.Questions[i].Position = i + 1
	}
	for i := range p.Sessions {
		p.Sessions[i].normalise()
	}
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var taken int64
		if err := tx.Model(&Panel{}).Where("slug = ?", p.Slug).Count(&taken).Error; err != nil {
			return err
		}
		if taken > 0 {
			return &ValidationError{Fields: map[string]string{"slug": "Another panel already uses this address."}}
		}
		return createPanel(tx, p, s.Now())
	})
}

// createPanel inserts a validated panel with everything it holds, and the
// versions of its checkboxes' wordings.
func createPanel(tx *gorm.DB, p *Panel, now time.Time) error {
	sponsors := p.Sponsors
	p.Sponsors = nil
	if err := tx.Omit("MarketingTextID").Create(p).Error; err != nil {
		return err
	}
	p.Sponsors = sponsors
	if _, err := saveMarketingText(tx, p, now); err != nil {
		return err
	}
	return replaceSponsors(tx, p, now)
}

// CountPanels counts every panel, whatever its status.
func (s *Store) CountPanels(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.WithContext(ctx).Model(&Panel{}).Count(&n).Error
	return n, err
}

// UpcomingPanels lists published panels that have a scheduled session still
// to end, each with its next such session, soonest first; then the panels
// with nothing to come whose replay is offered, each with its latest
// session on demand, newest first.
func (s *Store) UpcomingPanels(ctx context.Context) ([]PanelListing, error) {
	now := s.Now()
	var sessions []Session
	err := s.read.WithContext(ctx).
		Joins("Panel").
		Where(`"Panel".status = ? AND sessions.status = ?`, PanelPublished, SessionScheduled).
		Where(`sessions.starts_at > ? OR (sessions.recording_url <> '' AND
			(sessions.on_demand_until IS NULL OR sessions.on_demand_until > ?))`, now.Add(-maxSessionDuration), now).
		Order("sessions.starts_at, sessions.id").
		Find(&sessions).Error
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	var out, replays []PanelListing
	for _, sess := range sessions {
		if seen[sess.PanelID] || sess.Ended(now) || sess.Panel == nil {
			continue
		}
		seen[sess.PanelID] = true
		out = append(out, PanelListing{Panel: *sess.Panel, NextSession: sess})
	}
	for i := len(sessions) - 1; i >= 0; i-- {
		sess := sessions[i]
		if seen[sess.PanelID] || !sess.OnDemand(now) || sess.Panel == nil {
			continue
		}
		seen[sess.PanelID] = true
		replays = append(replays, PanelListing{Panel: *sess.Panel, NextSession: sess})
	}
	return append(out, replays...), nil
}

// PublishedPanel returns the published panel with this slug, with its
// learning points, speakers, questions and the sessions that have not yet
// ended or whose replay is offered; Ended counts the sessions left out.
func (s *Store) PublishedPanel(ctx context.Context, slug string) (*Panel, error) {
	if !slugPattern.MatchString(slug) {
		return nil, ErrNotFound
	}
	var p Panel
	err := s.read.WithContext(ctx).
		Preload("LearningPoints", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Preload("Speakers", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Preload("Questions", func(db *gorm.DB) *gorm.DB { return db.Order("position, id") }).
		Preload("Sponsors", panelSponsors).
		Preload("Sessions", func(db *gorm.DB) *gorm.DB { return db.Order("starts_at, id") }).
		Where("slug = ? AND status = ?", slug, PanelPublished).
		First(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	now := s.Now()
	shown := p.Sessions[:0]
	for _, sess := range p.Sessions {
		if !sess.Ended(now) || sess.OnDemand(now) {
			shown = append(shown, sess)
		} else {
			p.Ended++
		}
	}
	p.Sessions = shown
	return &p, nil
}

// PublishedPanelID finds a published panel's id by slug with one small query,
// for the sign-up POST, which needs nothing else before Register.
func (s *Store) PublishedPanelID(ctx context.Context, slug string) (int64, error) {
	if !slugPattern.MatchString(slug) {
		return 0, ErrNotFound
	}
	// Every sign-up asks, so the row is scanned directly (see readSignUpTarget).
	var id int64
	err := s.read.WithContext(ctx).Raw("SELECT id FROM panels WHERE slug = ? AND status = ?", slug, PanelPublished).
		Row().Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// OpenSessions are the panel's sessions that take registrations at now.
func (p *Panel) OpenSessions(now time.Time) []Session {
	var open []Session
	for _, s := range p.Sessions {
		if s.Availability(now).TakesRegistrations() {
			open = append(open, s)
		}
	}
	return open
}

// UpcomingSessions lists the scheduled and cancelled sessions of published
// panels that have not ended, soonest first, with their panel and speakers,
// for calendar feeds. panelID 0 means every panel.
func (s *Store) UpcomingSessions(ctx context.Context, panelID int64) ([]Session, error) {
	now := s.Now()
	q := s.read.WithContext(ctx).Joins("Panel").Preload("Panel.Speakers", func(db *gorm.DB) *gorm.DB {
		return db.Order("position")
	}).
		Where(`"Panel".status = ?`, PanelPublished).
		Where("sessions.starts_at > ?", now.Add(-maxSessionDuration)).
		Order("sessions.starts_at, sessions.id")
	if panelID != 0 {
		q = q.Where("sessions.panel_id = ?", panelID)
	}
	var sessions []Session
	if err := q.Find(&sessions).Error; err != nil {
		return nil, err
	}
	upcoming := sessions[:0]
	for _, sess := range sessions {
		if sess.EndsAt().After(now) {
			upcoming = append(upcoming, sess)
		}
	}
	return upcoming, nil
}
