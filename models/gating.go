package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Gating is who may register for a panel through its public form, and how:
// addresses of blocked domains are refused, and when allowed domains are
// listed only theirs are taken (a domain covers its subdomains); an address
// may have to be confirmed (double opt-in: its place is held for
// ConfirmHold, then freed); a registration may wait for the organizer's
// approval (pending, holding no seat). An organizer adding someone through
// the admin or the API vouches for them: none of this applies.
type Gating struct {
	BlockedEmailDomains      Lines
	AllowedEmailDomains      Lines
	RequireEmailConfirmation bool
	RequireApproval          bool
}

// Registration statuses of gating.
const (
	// RegistrationPending waits for the organizer's approval, with no seat.
	RegistrationPending RegistrationStatus = "pending"
	// RegistrationDeclined is a pending registration the organizer refused.
	RegistrationDeclined RegistrationStatus = "declined"
)

// ConfirmHold is how long an unconfirmed address holds its place.
const ConfirmHold = 48 * time.Hour

// maxDomains bounds each of a panel's domain lists.
const maxDomains = 500

var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$`)

// normalise lower-cases the lists and drops a leading "@", so
// "@Example.COM" is example.com.
func (g *Gating) normalise() {
	for _, list := range []*Lines{&g.BlockedEmailDomains, &g.AllowedEmailDomains} {
		out := (*list)[:0]
		seen := map[string]bool{}
		for _, d := range *list {
			d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
			if d != "" && !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
		*list = out
	}
}

func (g *Gating) check(v *validator) {
	g.normalise()
	for field, list := range map[string]Lines{"blocked_email_domains": g.BlockedEmailDomains,
		"allowed_email_domains": g.AllowedEmailDomains} {
		v.check(len(list) <= maxDomains, field, fmt.Sprintf("List at most %d domains.", maxDomains))
		for _, d := range list {
			if len(d) > 253 || !domainPattern.MatchString(d) {
				v.check(false, field, fmt.Sprintf("%q is not a domain: write one per line, like example.com.", clip(d, 60)))
				break
			}
		}
	}
}

// refuses says why the address is not taken, or "" when it is.
func (g Gating) refuses(emailKey string) string {
	_, domain, _ := strings.Cut(emailKey, "@")
	covered := func(list Lines) bool {
		for _, d := range list {
			if domain == d || strings.HasSuffix(domain, "."+d) {
				return true
			}
		}
		return false
	}
	if covered(g.BlockedEmailDomains) {
		return "This event does not take registrations from " + domain + " addresses: please use your work email address."
	}
	if len(g.AllowedEmailDomains) > 0 && !covered(g.AllowedEmailDomains) {
		return "This event is open to addresses at " + strings.Join(g.AllowedEmailDomains, ", ") + " only."
	}
	return ""
}

// Gated says whether a sign-up goes through email confirmation or approval.
func (g Gating) Gated() bool { return g.RequireEmailConfirmation || g.RequireApproval }

// writeGatedSignUp writes a sign-up that must be confirmed or approved, on
// either database: a pending registration holds no seat; an unconfirmed
// one holds its seat (or waitlist place) until its confirm_by. The notice
// asks to confirm the address, or says the request waits for approval.
func writeGatedSignUp(tx *gorm.DB, w signUpWrite, g Gating) (seat, inserted bool, err error) {
	r := w.reg
	r.Status = RegistrationPending
	if !g.RequireApproval {
		status, err := claimSeat(tx, w.sess)
		if err != nil {
			return false, false, err
		}
		seat, r.Status = status == RegistrationConfirmed, status
	}
	var confirmBy any
	if g.RequireEmailConfirmation {
		by := confirmDeadline(w.sess, w.now)
		r.ConfirmBy, confirmBy = &by, by
	}
	err = queryRowSQL(tx, `INSERT INTO registrations (`+registrationColumns+`, confirm_by)
		VALUES (`+registrationValues+`, ?)
		ON CONFLICT (session_id, email_key) WHERE status <> 'cancelled' DO NOTHING RETURNING id`,
		append(r.insertArgs(), confirmBy)...).Scan(&r.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return seat, false, nil
	}
	if err != nil {
		return seat, false, err
	}
	if err := insertConsents(tx, r.ID, w.consents, w.channel, w.now); err != nil {
		return seat, false, err
	}
	if err := insertManageToken(tx, w.tokenHash, r.ID, w.now); err != nil {
		return seat, false, err
	}
	kind := KindPending
	if r.ConfirmBy != nil {
		kind = KindConfirmEmail
	}
	return seat, true, enqueue(tx, w.now, OutboxMessage{RegistrationID: r.ID, ManageToken: w.token, Kind: kind})
}

// confirmDeadline is when an unconfirmed place made at now is freed:
// ConfirmHold later, but no later than the session's start, so a place
// given up by silence goes to the waitlist while it can still be used. A
// sign-up after the start (registration stays open during the session)
// has until the session ends.
func confirmDeadline(sess *Session, now time.Time) time.Time {
	by := now.Add(ConfirmHold)
	switch {
	case now.Before(sess.StartsAt) && by.After(sess.StartsAt):
		return sess.StartsAt
	case !now.Before(sess.StartsAt):
		return sess.EndsAt()
	}
	return by
}

// Unconfirmed says whether the registration's address still waits to be
// confirmed.
func (r *Registration) Unconfirmed() bool { return r.ConfirmBy != nil }

// ConfirmEmail confirms the address of the registration behind a manage
// token (the link in the confirmation email leads to the page that asks):
// its place stops expiring and the usual notice follows (the invite, the
// waitlist, or, awaiting approval, that the request waits). A waitlisted
// registration whose session has a free seat takes it. Confirming twice is
// harmless; a registration whose hold ran out is cancelled already.
func (s *Store) ConfirmEmail(ctx context.Context, token string) (*Registration, error) {
	reg, err := s.RegistrationByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	err = s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if err := s.dialect.lockRows(tx, "SELECT id FROM registrations WHERE id = ?", reg.ID); err != nil {
			return err
		}
		if err := tx.Preload("Session.Panel").Take(reg, reg.ID).Error; err != nil {
			return err
		}
		if reg.ConfirmBy == nil || reg.Status == RegistrationCancelled {
			return nil
		}
		now := s.Now()
		reg.ConfirmBy, reg.EmailConfirmedAt = nil, &now
		if err := tx.Model(&Registration{}).Where("id = ?", reg.ID).Updates(map[string]any{
			"confirm_by": nil, "email_confirmed_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if reg.Status == RegistrationPending {
			return enqueueWithToken(tx, now, reg, OutboxMessage{Kind: KindPending})
		}
		if reg.Status == RegistrationWaitlisted && now.Before(reg.Session.StartsAt) {
			promoted, err := promote(tx, reg, reg.Session.Sequence, now)
			if err != nil || promoted {
				return err
			}
		}
		return enqueueWithToken(tx, now, reg, registrationNotice(reg, reg.Session, "", reg.Session.Ended(now)))
	})
	if err != nil {
		return nil, err
	}
	return reg, nil
}

// ReleaseUnconfirmed cancels the registrations whose address was not
// confirmed in time, freeing their seats for the waitlist, erases what was
// typed into them, and reports how many. Nothing is sent to an address that
// never answered. The jobs pass runs it.
func (s *Store) ReleaseUnconfirmed(ctx context.Context) (int, error) {
	var ids []int64
	now := s.Now()
	if err := s.read.WithContext(ctx).Model(&Registration{}).
		Where("confirm_by IS NOT NULL AND confirm_by <= ? AND status <> ?", now, RegistrationCancelled).
		Order("id").Limit(500).Pluck("id", &ids).Error; err != nil {
		return 0, err
	}
	released := 0
	for _, id := range ids {
		err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
			if err := s.dialect.lockRows(tx, "SELECT id FROM registrations WHERE id = ?", id); err != nil {
				return err
			}
			var reg Registration
			if err := tx.Preload("Session").Take(&reg, id).Error; err != nil {
				return err
			}
			if reg.ConfirmBy == nil || reg.ConfirmBy.After(now) || reg.Status == RegistrationCancelled {
				return nil // confirmed meanwhile
			}
			if err := tx.Model(&Registration{}).Where("id = ?", id).Updates(map[string]any{
				"status": RegistrationCancelled, "cancelled_at": now, "updated_at": now}).Error; err != nil {
				return err
			}
			released++
			if err := registrationEvent(tx, now, EventRegistrationCancelled, id); err != nil {
				return err
			}
			// An address nobody confirmed may not be its owner's: what was
			// typed is not kept for the retention period, only counted.
			if _, err := eraseRegistration(tx, id, now); err != nil {
				return err
			}
			if reg.Status != RegistrationConfirmed {
				return nil
			}
			if err := releaseSeat(tx, reg.SessionID); err != nil || !now.Before(reg.Session.StartsAt) {
				return err // once the session has started, nobody is promoted into it
			}
			_, err := promoteNext(tx, reg.SessionID, now)
			return err
		})
		if err != nil {
			return released, err
		}
	}
	return released, nil
}

// The refusals of an organizer's decision.
var (
	// ErrNotPending is a decision on a registration that waits for none.
	ErrNotPending = &Error{Code: CodeConflict, Title: "Not awaiting approval",
		Message: "This registration is not waiting for approval: it was decided already, or never needed it."}
	// ErrUnconfirmedEmail is an approval of a registration whose address is
	// not confirmed yet.
	ErrUnconfirmedEmail = &Error{Code: CodeConflict, Title: "Address not confirmed",
		Message: "The person has not confirmed their email address yet: approve them once they have."}
)

// Approve gives a pending registration a seat (or a waitlist place) and
// emails the person the usual notice with the invite; a full session
// without a waitlist refuses (ErrSessionFull).
func (s *Store) Approve(ctx context.Context, registrationID int64) (*Registration, error) {
	return s.decide(ctx, registrationID, func(tx *gorm.DB, reg *Registration, now time.Time) error {
		if reg.ConfirmBy != nil {
			return ErrUnconfirmedEmail
		}
		if !now.Before(reg.Session.EndsAt()) || reg.Session.Status == SessionCancelled {
			return ErrRegistrationClosed
		}
		status, err := claimSeat(tx, reg.Session)
		if err != nil {
			return err
		}
		reg.Status = status
		if err := tx.Model(&Registration{}).Where("id = ?", reg.ID).Updates(map[string]any{
			"status": status, "decided_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		return enqueueWithToken(tx, now, reg, registrationNotice(reg, reg.Session, "", reg.Session.Ended(now)))
	})
}

// Decline refuses a pending registration and tells the person.
func (s *Store) Decline(ctx context.Context, registrationID int64) (*Registration, error) {
	return s.decide(ctx, registrationID, func(tx *gorm.DB, reg *Registration, now time.Time) error {
		reg.Status = RegistrationDeclined
		if err := tx.Model(&Registration{}).Where("id = ?", reg.ID).Updates(map[string]any{
			"status": RegistrationDeclined, "decided_at": now, "confirm_by": nil, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := enqueue(tx, now, OutboxMessage{RegistrationID: reg.ID, Kind: KindDeclined}); err != nil {
			return err
		}
		return registrationEvent(tx, now, EventRegistrationCancelled, reg.ID)
	})
}

// decide runs an organizer's decision on a pending registration.
func (s *Store) decide(ctx context.Context, id int64, fn func(tx *gorm.DB, reg *Registration, now time.Time) error) (*Registration, error) {
	var reg Registration
	err := s.inWriteTx(ctx, func(tx *gorm.DB) error {
		if err := s.dialect.lockRows(tx, "SELECT id FROM registrations WHERE id = ?", id); err != nil {
			return err
		}
		err := tx.Preload("Session.Panel").Take(&reg, id).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if reg.Status != RegistrationPending {
			return ErrNotPending
		}
		return fn(tx, &reg, s.Now())
	})
	if err != nil {
		return nil, err
	}
	return &reg, nil
}
