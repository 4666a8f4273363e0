-- After the live session: recordings and on-demand registrations, attendance,
-- personal join and replay links, and follow-up emails.

ALTER TABLE sessions
    ADD COLUMN recording_url          TEXT NOT NULL DEFAULT '',
    -- The replay is offered until then; NULL means for as long as it exists.
    ADD COLUMN on_demand_until        TIMESTAMPTZ,
    -- When the last attendance report was applied (follow-ups go sooner).
    ADD COLUMN attendance_imported_at TIMESTAMPTZ,
    -- When the session's follow-ups were queued; NULL until then.
    ADD COLUMN follow_ups_queued_at   TIMESTAMPTZ;
-- Sessions already over get no follow-ups from the upgrade.
UPDATE sessions SET follow_ups_queued_at = now() WHERE starts_at < now();
CREATE INDEX sessions_follow_ups_due ON sessions (starts_at) WHERE follow_ups_queued_at IS NULL;

ALTER TABLE panels
    ADD COLUMN follow_ups              BOOLEAN NOT NULL DEFAULT TRUE,
    ADD COLUMN follow_up_delay_minutes INTEGER NOT NULL DEFAULT 120
        CHECK (follow_up_delay_minutes BETWEEN 0 AND 20160),
    -- Empty means Podium's default wording.
    ADD COLUMN thanks_subject          TEXT NOT NULL DEFAULT '',
    ADD COLUMN thanks_text             TEXT NOT NULL DEFAULT '',
    ADD COLUMN missed_subject          TEXT NOT NULL DEFAULT '',
    ADD COLUMN missed_text             TEXT NOT NULL DEFAULT '';

ALTER TABLE registrations
    -- Registered for the replay after the live session ended: no seat.
    ADD COLUMN on_demand         BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN attendance        TEXT NOT NULL DEFAULT 'unknown'
        CHECK (attendance IN ('unknown', 'attended', 'absent', 'on_demand')),
    -- Where the live attendance came from: '', 'manual', 'link', 'report', 'zoom'.
    ADD COLUMN attendance_source TEXT NOT NULL DEFAULT '',
    ADD COLUMN attended_minutes  INTEGER CHECK (attended_minutes >= 0),
    ADD COLUMN joined_at         TIMESTAMPTZ,
    ADD COLUMN last_joined_at    TIMESTAMPTZ,
    ADD COLUMN watched_at        TIMESTAMPTZ,
    ADD COLUMN last_watched_at   TIMESTAMPTZ;
UPDATE registrations SET attendance = 'attended', attendance_source = 'manual' WHERE attended_at IS NOT NULL;

-- Personal join (/j/) and replay (/w/) links. Each token is derived from the
-- registration's id under a site key, so every email carries the same link
-- without the token being kept; only its SHA-256 is stored, to find it again
-- and so that deleting the row kills the link.
CREATE TABLE registration_links (
    token_hash      TEXT PRIMARY KEY,
    registration_id BIGINT NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('join', 'watch')),
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (registration_id, purpose)
);

ALTER TABLE outbox_messages DROP CONSTRAINT outbox_messages_kind_check;
ALTER TABLE outbox_messages ADD CONSTRAINT outbox_messages_kind_check
    CHECK (kind IN ('confirmation', 'waitlisted', 'promoted', 'cancellation', 'session_updated',
                    'session_cancelled', 'reminder', 'on_demand', 'follow_up_attended', 'follow_up_absent'));
-- Each registrant gets at most one follow-up, however often it is asked for.
CREATE UNIQUE INDEX outbox_follow_up_once ON outbox_messages (registration_id)
    WHERE kind IN ('follow_up_attended', 'follow_up_absent');
