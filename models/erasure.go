package models

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// ErasureResult is what an erasure did.
type ErasureResult struct {
	// Registrations counts the registrations made anonymous.
	Registrations int
	// Promoted are the waitlisted registrations that took a freed seat.
	Promoted []Registration
	// OptOuts counts the address's opt-outs deleted (ErasePerson).
	OptOuts int
}

// ErasePerson erases everything Podium holds about an address, across
// panels: each registration becomes an anonymous row that keeps counts and
// dashboards right (its status, times and attendance), with its name,
// address, organisation, job title, answers and source gone; a seat it held
// in a session to come is freed and given to the waitlist; its tokens and
// links die; the emails still queued to it are dropped and what the outbox
// kept of those sent (the manage link, the server's last answer) is
// cleared; the webhook events about it lose its details; its opt-outs go.
// Its consents stay as anonymous rows, so they count but name no one. An
// address Podium does not hold erases nothing (Registrations 0).
func (s *Store) ErasePerson(ctx context.Context, email string) (*ErasureResult, error) {
	key, err := normaliseEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.erase(ctx, key, "email_key = ?", key)
}

// EraseByToken is ErasePerson for the person a manage token belongs to:
// "Delete my data" on their own page erases everything held about their
// address, not only the one registration.
func (s *Store) EraseByToken(ctx context.Context, token string) (*ErasureResult, error) {
	reg, err := s.RegistrationByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.erase(ctx, reg.EmailKey, "email_key = ?", reg.EmailKey)
}

// erase anonymises the registrations that where selects, and for a person
// (personKey, their address as compared) every opt-out of theirs, which can
// outlive the registrations it came from (a panel's retention erased
// those), in one write transaction; then it has SQLite empty its
// write-ahead log so no copy of what was overwritten stays there (see
// README: Erasure).
func (s *Store) erase(ctx context.Context, personKey, where string, args ...any) (*ErasureResult, error) {
	res := &ErasureResult{}
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		*res = ErasureResult{}
		// Two erasures of one person at once (two instances): the second
		// waits here and finds nothing left to erase.
		if err := s.dialect.lockRows(tx, "SELECT id FROM registrations WHERE "+where, args...); err != nil {
			return err
		}
		var ids []int64
		if err := tx.Model(&Registration{}).Where(where, args...).Where("erased_at IS NULL").
			Order("id").Pluck("id", &ids).Error; err != nil {
			return err
		}
		now := s.Now()
		for _, id := range ids {
			promoted, err := eraseRegistration(tx, id, now)
			if err != nil {
				return err
			}
			if promoted != nil {
				res.Promoted = append(res.Promoted, *promoted)
			}
		}
		res.Registrations = len(ids)
		if personKey == "" {
			return nil
		}
		r, err := execSQL(tx, "DELETE FROM email_opt_outs WHERE email_key = ?", personKey)
		if err != nil {
			return err
		}
		n, err := r.RowsAffected()
		res.OptOuts = int(n)
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.Registrations > 0 || res.OptOuts > 0 {
		s.dialect.afterErasure(ctx, s)
	}
	return res, nil
}

// eraseRegistration anonymises one registration and everything that copies
// its person's details, and frees a seat it held in a session to come.
func eraseRegistration(tx *gorm.DB, id int64, now time.Time) (*Registration, error) {
	var reg Registration
	if err := tx.Preload("Session").Take(&reg, id).Error; err != nil {
		return nil, err
	}
	upcoming := reg.Session != nil && now.Before(reg.Session.StartsAt)
	values := map[string]any{
		"name": "", "email": "", "email_key": "erased-" + strconv.FormatInt(id, 10), "organisation": "",
		"job_title": "", "source": "", "utm_medium": "", "utm_campaign": "", "utm_term": "", "utm_content": "",
		"referrer": "", "erased_at": now, "updated_at": now,
	}
	// A place in a session to come is given up; one in a session that has
	// started keeps its status, so attendance still adds up.
	cancel := upcoming && reg.Status != RegistrationCancelled
	if cancel {
		values["status"], values["cancelled_at"] = RegistrationCancelled, now
	}
	if err := tx.Model(&Registration{}).Where("id = ?", id).Updates(values).Error; err != nil {
		return nil, err
	}
	for _, table := range []string{"answers", "manage_tokens", "registration_links", "zoom_intervals"} {
		if _, err := execSQL(tx, "DELETE FROM "+table+" WHERE registration_id = ?", id); err != nil {
			return nil, err
		}
	}
	if _, err := execSQL(tx, `UPDATE outbox_messages SET status = CASE WHEN status IN (?, ?) THEN ? ELSE status END,
		manage_token = '', last_error = '' WHERE registration_id = ?`,
		OutboxQueued, OutboxSending, OutboxSkipped, id); err != nil {
		return nil, err
	}
	if _, err := execSQL(tx, `DELETE FROM email_opt_outs WHERE email_key = ? AND panel_id = ?`,
		reg.EmailKey, reg.Session.PanelID); err != nil {
		return nil, err
	}
	if err := redactWebhookEvents(tx, id); err != nil {
		return nil, err
	}
	if err := registrationEvent(tx, now, EventRegistrationErased, id); err != nil {
		return nil, err
	}
	if !cancel || reg.Status != RegistrationConfirmed || reg.OnDemand {
		return nil, nil
	}
	if err := releaseSeat(tx, reg.SessionID); err != nil {
		return nil, err
	}
	return promoteNext(tx, reg.SessionID, now)
}

// redactWebhookEvents clears a registration's details from the bodies of
// the webhook events about it, delivered or not: a delivery still to come
// carries the event without them.
func redactWebhookEvents(tx *gorm.DB, registrationID int64) error {
	var events []webhookEventRow
	if err := tx.Table("webhook_events").Where("registration_id = ?", registrationID).Find(&events).Error; err != nil {
		return err
	}
	for _, e := range events {
		var body struct {
			webhookBody
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(e.Body), &body); err != nil {
			return err
		}
		for _, field := range personalEventFields {
			if _, ok := body.Data[field]; ok {
				body.Data[field] = ""
			}
		}
		redacted, err := json.Marshal(webhookBody{Type: body.Type, Timestamp: body.Timestamp, Data: body.Data})
		if err != nil {
			return err
		}
		if err := tx.Table("webhook_events").Where("id = ?", e.ID).Update("body", string(redacted)).Error; err != nil {
			return err
		}
	}
	return nil
}

// personalEventFields are the fields of RegistrationEventData that name or
// trace a person.
var personalEventFields = []string{"name", "email", "organisation", "job_title", "source", "referrer",
	"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// PersonData is everything Podium holds about an address (a subject
// access request): each registration with its session and panel, answers,
// consents and the emails sent or queued to it, and the panels whose
// reminders the address stopped.
type PersonData struct {
	Email         string
	Registrations []PersonRegistration
	// OptOuts are the panels whose reminders and follow-ups it stopped.
	OptOuts []OptOut
}

// PersonRegistration is one registration in PersonData.
type PersonRegistration struct {
	Registration
	Consents []ConsentState
	Emails   []OutboxMessage
}

// OptOut is a panel whose non-essential emails an address stopped.
type OptOut struct {
	PanelID   int64
	CreatedAt time.Time
}

// PersonData gathers what Podium holds about the address; an address it
// holds nothing about has no registrations (a malformed one: ErrNotFound).
func (s *Store) PersonData(ctx context.Context, email string) (*PersonData, error) {
	key, err := normaliseEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	db := s.read.WithContext(ctx)
	out := &PersonData{Email: key}
	var regs []Registration
	if err := preloadRegistrant(db).Preload("Session.Panel.Questions").Where("email_key = ?", key).
		Order("id").Find(&regs).Error; err != nil {
		return nil, err
	}
	for _, r := range regs {
		pr := PersonRegistration{Registration: r}
		if pr.Consents, err = consentStates(db, r.ID); err != nil {
			return nil, err
		}
		if err := db.Select("id", "kind", "registration_id", "status", "attempts", "created_at", "sent_at").
			Where("registration_id = ?", r.ID).Order("id").Find(&pr.Emails).Error; err != nil {
			return nil, err
		}
		out.Registrations = append(out.Registrations, pr)
	}
	err = db.Table("email_opt_outs").Select("panel_id, created_at").Where("email_key = ?", key).
		Order("panel_id").Scan(&out.OptOuts).Error
	return out, err
}
