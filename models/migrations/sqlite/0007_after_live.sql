-- After the live session: recordings and on-demand registrations, attendance,
-- personal join and replay links, and follow-up emails.

ALTER TABLE sessions ADD COLUMN recording_url TEXT NOT NULL DEFAULT '';
-- The replay is offered until then; NULL means for as long as it exists.
ALTER TABLE sessions ADD COLUMN on_demand_until TIMESTAMP;
-- When the last attendance report was applied (follow-ups go sooner).
ALTER TABLE sessions ADD COLUMN attendance_imported_at TIMESTAMP;
-- When the session's follow-ups were queued; NULL until then.
ALTER TABLE sessions ADD COLUMN follow_ups_queued_at TIMESTAMP;
-- Sessions already over get no follow-ups from the upgrade.
UPDATE sessions SET follow_ups_queued_at = CURRENT_TIMESTAMP WHERE starts_at < CURRENT_TIMESTAMP;
CREATE INDEX sessions_follow_ups_due ON sessions (starts_at) WHERE follow_ups_queued_at IS NULL;

ALTER TABLE panels ADD COLUMN follow_ups BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE panels ADD COLUMN follow_up_delay_minutes INTEGER NOT NULL DEFAULT 120
    CHECK (follow_up_delay_minutes BETWEEN 0 AND 20160);
-- Empty means Podium's default wording.
ALTER TABLE panels ADD COLUMN thanks_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN thanks_text TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN missed_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE panels ADD COLUMN missed_text TEXT NOT NULL DEFAULT '';

-- Registered for the replay after the live session ended: no seat.
ALTER TABLE registrations ADD COLUMN on_demand BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE registrations ADD COLUMN attendance TEXT NOT NULL DEFAULT 'unknown'
    CHECK (attendance IN ('unknown', 'attended', 'absent', 'on_demand'));
-- Where the live attendance came from: '', 'manual', 'link', 'report', 'zoom'.
ALTER TABLE registrations ADD COLUMN attendance_source TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN attended_minutes INTEGER CHECK (attended_minutes >= 0);
ALTER TABLE registrations ADD COLUMN joined_at TIMESTAMP;
ALTER TABLE registrations ADD COLUMN last_joined_at TIMESTAMP;
ALTER TABLE registrations ADD COLUMN watched_at TIMESTAMP;
ALTER TABLE registrations ADD COLUMN last_watched_at TIMESTAMP;
UPDATE registrations SET attendance = 'attended', attendance_source = 'manual' WHERE attended_at IS NOT NULL;

-- Personal join (/j/) and replay (/w/) links. Each token is derived from the
-- registration's id under a site key, so every email carries the same link
-- without the token being kept; only its SHA-256 is stored, to find it again
-- and so that deleting the row kills the link.
CREATE TABLE registration_links (
    token_hash      TEXT PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('join', 'watch')),
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (registration_id, purpose)
);

-- SQLite cannot change a CHECK constraint, so the outbox is copied into a
-- table that takes the new kinds. Nothing refers to outbox_messages.
CREATE TABLE outbox_messages_new (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('confirmation', 'waitlisted', 'promoted', 'cancellation',
                                                   'session_updated', 'session_cancelled', 'reminder',
                                                   'on_demand', 'follow_up_attended', 'follow_up_absent')),
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
-- Each reminder rule reaches a registrant at most once.
CREATE UNIQUE INDEX outbox_reminder_once ON outbox_messages (registration_id, reminder_minutes)
    WHERE kind = 'reminder';
-- Each registrant gets at most one follow-up, however often it is asked for.
CREATE UNIQUE INDEX outbox_follow_up_once ON outbox_messages (registration_id)
    WHERE kind IN ('follow_up_attended', 'follow_up_absent');
