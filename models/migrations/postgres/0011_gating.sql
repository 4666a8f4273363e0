-- Who may register: blocked and allowed email domains, email confirmation
-- (double opt-in) and the organizer's approval.

ALTER TABLE panels ADD COLUMN blocked_email_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN allowed_email_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN require_email_confirmation BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE panels ADD COLUMN require_approval BOOLEAN NOT NULL DEFAULT FALSE;

-- pending: waits for the organizer's approval, holding no seat; declined:
-- the organizer said no.
ALTER TABLE registrations DROP CONSTRAINT registrations_status_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_status_check
    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'pending', 'declined'));
-- An unconfirmed address holds its place until confirm_by, when it is freed.
ALTER TABLE registrations ADD COLUMN confirm_by TIMESTAMPTZ;
ALTER TABLE registrations ADD COLUMN email_confirmed_at TIMESTAMPTZ;
-- When the organizer approved or declined it.
ALTER TABLE registrations ADD COLUMN decided_at TIMESTAMPTZ;
CREATE INDEX registrations_confirm_by ON registrations (confirm_by) WHERE confirm_by IS NOT NULL;

-- The emails of gating: confirm your address, your request is waiting, and
-- the organizer declined it.
ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_kind_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_kind_check
    CHECK (kind IN ('confirmation', 'waitlisted', 'promoted', 'cancellation', 'session_updated',
                    'session_cancelled', 'reminder', 'on_demand', 'follow_up_attended', 'follow_up_absent',
                    'confirm_email', 'pending', 'declined'));
