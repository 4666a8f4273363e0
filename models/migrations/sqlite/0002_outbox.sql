-- The transactional email outbox, session fan-outs and per-panel reminder rules.

-- Minutes before a session's start at which confirmed registrants are reminded.
ALTER TABLE panels ADD COLUMN reminder_minutes TEXT NOT NULL DEFAULT '1440,60';

-- One row per email, written in the transaction of the change that causes it
-- and delivered by a background worker. The body is rendered at delivery from
-- the registration; what must not change between retries (the kind, the
-- calendar method and SEQUENCE) is fixed here, and the row id gives the
-- stable Message-ID.
CREATE TABLE outbox_messages (
    id               INTEGER PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('confirmation', 'waitlisted', 'promoted', 'cancellation',
                                                   'session_updated', 'session_cancelled', 'reminder')),
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
CREATE INDEX outbox_due ON outbox_messages (status, next_attempt_at, id);
CREATE INDEX outbox_registration ON outbox_messages (registration_id, id);
-- Each reminder rule reaches a registrant at most once.
CREATE UNIQUE INDEX outbox_reminder_once ON outbox_messages (registration_id, reminder_minutes)
    WHERE kind = 'reminder';

-- A session update or cancellation being written to the outbox in batches, so
-- the organizer's request returns at once and the write lock is never held long.
CREATE TABLE fanouts (
    id                   INTEGER PRIMARY KEY,
    session_id           INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL CHECK (kind IN ('session_updated', 'session_cancelled')),
    sequence             INTEGER NOT NULL,
    -- Registrations up to this id are covered; later ones get the new details anyway.
    last_registration_id INTEGER NOT NULL,
    next_registration_id INTEGER NOT NULL DEFAULT 0,
    total                INTEGER NOT NULL,
    enqueued             INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done')),
    created_at           TIMESTAMP NOT NULL,
    finished_at          TIMESTAMP
);
CREATE INDEX fanouts_running ON fanouts (status, id);
