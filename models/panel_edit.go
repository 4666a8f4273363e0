package models

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// PanelSummary is a panel in the organizer's list, with its numbers.
type PanelSummary struct {
	Panel      Panel
	Sessions   int
	Confirmed  int
	Waitlisted int
	// NextSession is the soonest scheduled session that has not ended, if any.
	NextSession *Session
}

// sessionWithCounts is a session with its registrations counted by status.
type sessionWithCounts struct {
	Session
	Confirmed  int
	Waitlisted int
}

// withRegistrationCounts selects sessions with their confirmed and
// waitlisted registrations counted by correlated subqueries, which walk the
// (session_id, status) index instead of the registrations table.
func withRegistrationCounts(db *gorm.DB) *gorm.DB {
	return db.Model(&Session{}).Select(`sessions.*,
		(SELECT COUNT(*) FROM registrations r WHERE r.session_id = sessions.id AND r.status = ?) AS confirmed,
		(SELECT COUNT(*) FROM registrations r WHERE r.session_id = sessions.id AND r.status = ?) AS waitlisted`,
		RegistrationConfirmed, RegistrationWaitlisted)
}

func byPosition(db *gorm.DB) *gorm.DB { return db.Order("position, id") }

// PanelByID returns a panel whatever its status, with its learning points,
// speakers and questions in order and every session, soonest first.
func (s *Store) PanelByID(ctx context.Context, id int64) (*Panel, error) {
	return panelByID(s.read.WithContext(ctx), id)
}

func panelByID(db *gorm.DB, id int64) (*Panel, error) {
	var p Panel
	err := db.Preload("LearningPoints", byPosition).Preload("Speakers", byPosition).
		Preload("Questions", byPosition).Preload("Sponsors", panelSponsors).
		Preload("Sessions", func(db *gorm.DB) *gorm.DB { return db.Order("starts_at, id") }).
		Take(&p, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// AdminPanels lists every panel, newest first, with its number of sessions,
// confirmed and waitlisted registrations and next session, in two queries.
func (s *Store) AdminPanels(ctx context.Context) ([]PanelSummary, error) {
	db := s.read.WithContext(ctx)
	var panels []Panel
	if err := db.Order("created_at DESC, id DESC").Find(&panels).Error; err != nil {
		return nil, err
	}
	var sessions []sessionWithCounts
	if err := withRegistrationCounts(db).Order("sessions.starts_at, sessions.id").Find(&sessions).Error; err != nil {
		return nil, err
	}
	now := s.Now()
	byPanel := make(map[int64]*PanelSummary, len(panels))
	out := make([]PanelSummary, len(panels))
	for i, p := range panels {
		out[i].Panel = p
		byPanel[p.ID] = &out[i]
	}
	for _, sc := range sessions {
		sum := byPanel[sc.PanelID]
		if sum == nil {
			continue // a panel created between the two queries
		}
		sum.Sessions++
		sum.Confirmed += sc.Confirmed
		sum.Waitlisted += sc.Waitlisted
		if sum.NextSession == nil && sc.Status == SessionScheduled && sc.EndsAt().After(now) {
			next := sc.Session
			sum.NextSession = &next
		}
	}
	return out, nil
}

// UpdatePanel replaces a panel's own fields, learning points, speakers and
// questions with p's, in one write transaction; its sessions are not
// touched. A question keeps its id (and its answers) when p gives the id of
// one of the panel's questions; a question left out is deleted with its
// answers. Publishing needs a session, as in SetPanelStatus.
func (s *Store) UpdatePanel(ctx context.Context, p *Panel) error {
	return s.inWriteTx(ctx, func(tx *gorm.DB) error { return s.updatePanel(tx, p) })
}

// EditPanel applies edit to the panel as stored and saves the result, as
// UpdatePanel does, in one write transaction: two partial edits at once (the
// API's PATCH) cannot lose each other's fields.
func (s *Store) EditPanel(ctx context.Context, id int64, edit func(*Panel)) (*Panel, error) {
	var p *Panel
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if err := s.dialect.lockRows(tx, "SELECT id FROM panels WHERE id = ?", id); err != nil {
			return err
		}
		var err error
		if p, err = panelByID(tx, id); err != nil {
			return err
		}
		edit(p)
		return s.updatePanel(tx, p)
	})
	return p, err
}

func (s *Store) updatePanel(tx *gorm.DB, p *Panel) error {
	sessions := p.Sessions
	p.Sessions = nil // validated and changed on their own
	err := p.validate()
	p.Sessions = sessions
	if err != nil {
		return err
	}
	if err := s.dialect.lockRows(tx, "SELECT id FROM panels WHERE id = ?", p.ID); err != nil {
		return err
	}
	var current Panel
	if err := tx.Take(&current, p.ID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if err := checkSlugFree(tx, p.Slug, p.ID); err != nil {
		return err
	}
	if p.Status == PanelPublished {
		if err := requireSession(tx, p.ID); err != nil {
			return err
		}
	}
	now := s.Now()
	if err := tx.Model(&current).Updates(map[string]any{
		"slug": p.Slug, "title": p.Title, "format": p.Format, "summary": p.Summary,
		"description": p.Description, "organizer_name": p.OrganizerName,
		"organizer_email": p.OrganizerEmail, "status": p.Status,
		"reminder_minutes": p.ReminderMinutes, "follow_ups": p.FollowUps.Enabled,
		"follow_up_delay_minutes": p.FollowUps.DelayMinutes, "thanks_subject": p.FollowUps.ThanksSubject,
		"thanks_text": p.FollowUps.ThanksText, "missed_subject": p.FollowUps.MissedSubject,
		"missed_text": p.FollowUps.MissedText, "retention_days": p.RetentionDays,
		"blocked_email_domains": p.BlockedEmailDomains, "allowed_email_domains": p.AllowedEmailDomains,
		"require_email_confirmation": p.RequireEmailConfirmation, "require_approval": p.RequireApproval,
		"updated_at": now,
	}).Error; err != nil {
		return err
	}
	p.CreatedAt, p.UpdatedAt = current.CreatedAt, now
	if err := replacePointsAndSpeakers(tx, p); err != nil {
		return err
	}
	if err := replaceQuestions(tx, p.ID, p.Questions); err != nil {
		return err
	}
	if _, err := saveMarketingText(tx, p, now); err != nil {
		return err
	}
	return replaceSponsors(tx, p, now)
}

// checkSlugFree refuses a slug another panel uses.
func checkSlugFree(tx *gorm.DB, slug string, panelID int64) error {
	var taken int64
	if err := tx.Model(&Panel{}).Where("slug = ? AND id <> ?", slug, panelID).Count(&taken).Error; err != nil {
		return err
	}
	if taken > 0 {
		return &ValidationError{Fields: map[string]string{"slug": "Another panel already uses this address."}}
	}
	return nil
}

// requireSession refuses to publish a panel that has no session.
func requireSession(tx *gorm.DB, panelID int64) error {
	var n int64
	if err := tx.Model(&Session{}).Where("panel_id = ?", panelID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return &ValidationError{Fields: map[string]string{"status": "Add a session before publishing the panel."}}
	}
	return nil
}

// replacePointsAndSpeakers stores p's learning points and speakers in place
// of the old ones, numbered in slice order; nothing refers to their ids.
func replacePointsAndSpeakers(tx *gorm.DB, p *Panel) error {
	for _, model := range []any{&LearningPoint{}, &Speaker{}} {
		if err := tx.Where("panel_id = ?", p.ID).Delete(model).Error; err != nil {
			return err
		}
	}
	for i := range p.LearningPoints {
		lp := &p.LearningPoints[i]
		lp.ID, lp.PanelID, lp.Position = 0, p.ID, i+1
	}
	for i := range p.Speakers {
		sp := &p.Speakers[i]
		sp.ID, sp.PanelID, sp.Position = 0, p.ID, i+1
	}
	if len(p.LearningPoints) > 0 {
		if err := tx.Create(&p.LearningPoints).Error; err != nil {
			return err
		}
	}
	if len(p.Speakers) > 0 {
		return tx.Create(&p.Speakers).Error
	}
	return nil
}

// replaceQuestions updates the questions whose ids belong to the panel,
// inserts the others and deletes the panel's questions left out, with their
// answers.
func replaceQuestions(tx *gorm.DB, panelID int64, questions []Question) error {
	var existing []int64
	if err := tx.Model(&Question{}).Where("panel_id = ?", panelID).Pluck("id", &existing).Error; err != nil {
		return err
	}
	owned := make(map[int64]bool, len(existing))
	for _, id := range existing {
		owned[id] = true
	}
	for i := range questions {
		q := &questions[i]
		q.PanelID, q.Position = panelID, i+1
		if !owned[q.ID] {
			q.ID = 0 // new, or another panel's id: never take it over
		}
		delete(owned, q.ID) // an id given twice is kept once
	}
	if len(owned) > 0 {
		removed := make([]int64, 0, len(owned))
		for id := range owned {
			removed = append(removed, id)
		}
		if err := tx.Where("question_id IN ?", removed).Delete(&Answer{}).Error; err != nil {
			return err
		}
		if err := tx.Where("id IN ?", removed).Delete(&Question{}).Error; err != nil {
			return err
		}
	}
	return saveQuestions(tx, questions)
}

func saveQuestions(tx *gorm.DB, questions []Question) error {
	for i := range questions {
		q := &questions[i]
		if q.ID == 0 {
			if err := tx.Create(q).Error; err != nil {
				return err
			}
			continue
		}
		if err := tx.Model(&Question{}).Where("id = ?", q.ID).Updates(map[string]any{
			"position": q.Position, "kind": q.Kind, "label": q.Label, "required": q.Required, "options": q.Options,
		}).Error; err != nil {
			return err
		}
	}
	return nil
}

// SetPanelStatus publishes, unpublishes (draft) or archives a panel.
// Publishing needs at least one session.
func (s *Store) SetPanelStatus(ctx context.Context, id int64, status PanelStatus) error {
	if status != PanelDraft && status != PanelPublished && status != PanelArchived {
		return &ValidationError{Fields: map[string]string{"status": "Choose draft, published or archived."}}
	}
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		r := tx.Model(&Panel{}).Where("id = ?", id).Updates(map[string]any{"status": status, "updated_at": s.Now()})
		if r.Error != nil {
			return r.Error
		}
		if r.RowsAffected == 0 {
			return ErrNotFound
		}
		if status == PanelPublished {
			return requireSession(tx, id) // rolls the update back when it fails
		}
		return nil
	})
}

// DuplicatePanel copies a panel into a new draft: its fields, learning
// points, speakers, questions and reminders, but no sessions or
// registrations. The copy's slug is "<slug>-copy" (or -copy-2, ...) and its
// title "Copy of <title>".
func (s *Store) DuplicatePanel(ctx context.Context, id int64) (*Panel, error) {
	var dup *Panel
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		src, err := panelByID(tx, id)
		if err != nil {
			return err
		}
		slug, err := freeCopySlug(tx, src.Slug)
		if err != nil {
			return err
		}
		dup = panelCopy(src, slug)
		if err := dup.validate(); err != nil {
			return err
		}
		now := s.Now()
		dup.CreatedAt, dup.UpdatedAt = now, now
		return createPanel(tx, dup, now)
	})
	if err != nil {
		return nil, err
	}
	return dup, nil
}

// panelCopy is a draft copy of src with new ids and no sessions.
func panelCopy(src *Panel, slug string) *Panel {
	dup := *src
	dup.ID, dup.Slug, dup.Status, dup.Sessions = 0, slug, PanelDraft, nil
	dup.Title = clipBytes("Copy of "+src.Title, 200)
	dup.LearningPoints = append([]LearningPoint(nil), src.LearningPoints...)
	for i := range dup.LearningPoints {
		dup.LearningPoints[i].ID, dup.LearningPoints[i].PanelID, dup.LearningPoints[i].Position = 0, 0, i+1
	}
	dup.Speakers = append([]Speaker(nil), src.Speakers...)
	for i := range dup.Speakers {
		dup.Speakers[i].ID, dup.Speakers[i].PanelID, dup.Speakers[i].Position = 0, 0, i+1
	}
	dup.Questions = append([]Question(nil), src.Questions...)
	for i := range dup.Questions {
		q := &dup.Questions[i]
		q.ID, q.PanelID, q.Position, q.Options = 0, 0, i+1, append(Lines(nil), q.Options...)
	}
	dup.Sponsors = append([]Sponsor(nil), src.Sponsors...)
	for i := range dup.Sponsors {
		sp := &dup.Sponsors[i]
		sp.ID, sp.PanelID, sp.ConsentTextID = 0, 0, nil
	}
	dup.MarketingTextID = nil
	dup.ReminderMinutes = append(Minutes{}, src.ReminderMinutes...)
	return &dup
}

// maxCopies bounds the search for a free copy slug.
const maxCopies = 999

// freeCopySlug finds the first free slug of "<slug>-copy", "<slug>-copy-2",
// ..., shortening the stem so every candidate fits the 80-character limit.
func freeCopySlug(tx *gorm.DB, slug string) (string, error) {
	stem := strings.TrimRight(clipBytes(slug, 80-len("-copy-999")), "-") + "-copy"
	var taken []string
	// Slugs hold only a-z, 0-9 and dashes, so the stem has no LIKE metacharacters.
	if err := tx.Model(&Panel{}).Where("slug LIKE ?", stem+"%").Pluck("slug", &taken).Error; err != nil {
		return "", err
	}
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	for n := 1; n <= maxCopies; n++ {
		candidate := stem
		if n > 1 {
			candidate += "-" + strconv.Itoa(n)
		}
		if !used[candidate] {
			return candidate, nil
		}
	}
	return "", &ValidationError{Fields: map[string]string{"slug": "This panel has too many copies already."}}
}

// clipBytes cuts s to at most n bytes without splitting a character.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// AddSession validates a new session and stores it on the panel, scheduled,
// with no seats taken and calendar sequence 0.
func (s *Store) AddSession(ctx context.Context, panelID int64, sess *Session) error {
	sess.normalise()
	sess.ID, sess.PanelID, sess.Panel = 0, panelID, nil
	sess.Status, sess.SeatsTaken, sess.Sequence = SessionScheduled, 0, 0
	if msgs := sess.validationMessages(); len(msgs) > 0 {
		return &ValidationError{Fields: msgs}
	}
	return s.inWriteTx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Panel{}).Where("id = ?", panelID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		now := s.Now()
		sess.CreatedAt, sess.UpdatedAt = now, now
		return tx.Create(sess).Error
	})
}
