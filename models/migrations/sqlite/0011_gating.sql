-- podium: foreign_keys off
-- Who may register: blocked and allowed email domains, email confirmation
-- (double opt-in) and the organizer's approval.
--
-- SQLite cannot change a CHECK constraint, so registrations are copied into
-- a table that takes the new statuses, with foreign keys off for the copy
-- (the runner turns them off around this migration and checks them after):
-- dropping the old table would otherwise delete every row that refers to it.

ALTER TABLE panels ADD COLUMN blocked_email_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN allowed_email_domains TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN require_email_confirmation BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE panels ADD COLUMN require_approval BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE registrations_new (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    email             TEXT NOT NULL,
    email_key         TEXT NOT NULL,
    organisation      TEXT NOT NULL DEFAULT '',
    job_title         TEXT NOT NULL DEFAULT '',
    consent_at        TIMESTAMP NOT NULL,
    -- pending: waits for the organizer's approval, holding no seat;
    -- declined: the organizer said no.
    status            TEXT NOT NULL
                      CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'pending', 'declined')),
    source            TEXT NOT NULL DEFAULT '',
    referrer          TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    cancelled_at      TIMESTAMP,
    attended_at       TIMESTAMP,
    on_demand         BOOLEAN NOT NULL DEFAULT FALSE,
    attendance        TEXT NOT NULL DEFAULT 'unknown'
                      CHECK (attendance IN ('unknown', 'attended', 'absent', 'on_demand')),
    attendance_source TEXT NOT NULL DEFAULT '',
    attended_minutes  INTEGER CHECK (attended_minutes >= 0),
    joined_at         TIMESTAMP,
    last_joined_at    TIMESTAMP,
    watched_at        TIMESTAMP,
    last_watched_at   TIMESTAMP,
    utm_medium        TEXT NOT NULL DEFAULT '',
    utm_campaign      TEXT NOT NULL DEFAULT '',
    utm_term          TEXT NOT NULL DEFAULT '',
    utm_content       TEXT NOT NULL DEFAULT '',
    erased_at         TIMESTAMP,
    -- An unconfirmed address holds its place until then, when it is freed.
    confirm_by        TIMESTAMP,
    email_confirmed_at TIMESTAMP,
    -- When the organizer approved or declined it.
    decided_at        TIMESTAMP
);
INSERT INTO registrations_new (id, session_id, name, email, email_key, organisation, job_title, consent_at, status,
    source, referrer, created_at, updated_at, cancelled_at, attended_at, on_demand, attendance, attendance_source,
    attended_minutes, joined_at, last_joined_at, watched_at, last_watched_at, utm_medium, utm_campaign, utm_term,
    utm_content, erased_at)
SELECT id, session_id, name, email, email_key, organisation, job_title, consent_at, status,
    source, referrer, created_at, updated_at, cancelled_at, attended_at, on_demand, attendance, attendance_source,
    attended_minutes, joined_at, last_joined_at, watched_at, last_watched_at, utm_medium, utm_campaign, utm_term,
    utm_content, erased_at
FROM registrations;
DROP TABLE registrations;
ALTER TABLE registrations_new RENAME TO registrations;
CREATE UNIQUE INDEX registrations_active_email
    ON registrations (session_id, email_key) WHERE status <> 'cancelled';
CREATE INDEX registrations_session_status ON registrations (session_id, status, created_at, id);
CREATE INDEX registrations_session_id ON registrations (session_id, id);
CREATE INDEX registrations_created ON registrations (created_at);
-- The jobs pass frees the places of addresses not confirmed in time.
CREATE INDEX registrations_confirm_by ON registrations (confirm_by) WHERE confirm_by IS NOT NULL;

-- The emails of gating: confirm your address, your request is waiting, and
-- the organizer declined it. Nothing refers to outbox_messages.
CREATE TABLE outbox_messages_new (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('confirmation', 'waitlisted', 'promoted', 'cancellation',
                                                   'session_updated', 'session_cancelled', 'reminder',
                                                   'on_demand', 'follow_up_attended', 'follow_up_absent',
                                                   'confirm_email', 'pending', 'declined')),
    registration_id  INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    -- The manage link's token until the message is delivered, then cleared.
    manage_token     TEXT NOT NULL DEFAULT '',
    calendar_method  TEXT NOT NULL DEFAULT '' CHECK (calendar_method IN ('', 'REQUEST', 'CANCEL')),
    sequence         INTEGER NOT NULL DEFAULT 0,
    reminder_minutes INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    lease_until      TIMESTAMP,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
INSERT INTO outbox_messages_new SELECT id, kind, registration_id, manage_token, calendar_method, sequence,
    reminder_minutes, status, attempts, next_attempt_at, lease_until, last_error, created_at, sent_at
    FROM outbox_messages;
DROP TABLE outbox_messages;
ALTER TABLE outbox_messages_new RENAME TO outbox_messages;
CREATE INDEX outbox_due ON outbox_messages (status, next_attempt_at, id);
CREATE INDEX outbox_registration ON outbox_messages (registration_id, id);
CREATE UNIQUE INDEX outbox_reminder_once ON outbox_messages (registration_id, reminder_minutes)
    WHERE kind = 'reminder';
CREATE UNIQUE INDEX outbox_follow_up_once ON outbox_messages (registration_id)
    WHERE kind IN ('follow_up_attended', 'follow_up_absent');
