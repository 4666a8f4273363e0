-- Sponsors, named consent, the full first-touch source, and erasure.

-- A panel's sponsors. A sponsor is never deleted, only removed
-- (removed_at), so the consents given to it keep what they named.
CREATE TABLE sponsors (
    id              INTEGER PRIMARY KEY,
    panel_id        INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL DEFAULT 0,
    name            TEXT NOT NULL,
    website_url     TEXT NOT NULL DEFAULT '',
    privacy_url     TEXT NOT NULL,
    logo_url        TEXT NOT NULL DEFAULT '',
    -- The wording its checkbox shows now (consent_texts).
    consent_text_id INTEGER,
    removed_at      TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX sponsors_panel ON sponsors (panel_id, position, id);

-- Every wording a consent checkbox has shown, once: a consent names the
-- version its person saw. Rows are never changed.
CREATE TABLE consent_texts (
    id         INTEGER PRIMARY KEY,
    purpose    TEXT NOT NULL CHECK (purpose IN ('registration', 'marketing', 'sponsor')),
    sponsor_id INTEGER REFERENCES sponsors(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX consent_texts_once ON consent_texts (purpose, coalesce(sponsor_id, 0), text);

-- Every consent given or withdrawn, as a row of its own: the latest row of
-- a registration, purpose and sponsor says whether the consent stands.
CREATE TABLE consents (
    id              INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    purpose         TEXT NOT NULL CHECK (purpose IN ('registration', 'marketing', 'sponsor')),
    sponsor_id      INTEGER REFERENCES sponsors(id) ON DELETE CASCADE,
    consent_text_id INTEGER NOT NULL REFERENCES consent_texts(id),
    given           BOOLEAN NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('form', 'manage', 'admin', 'api')),
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX consents_registration ON consents (registration_id, purpose, sponsor_id, id);
CREATE INDEX consents_sponsor ON consents (sponsor_id, registration_id) WHERE sponsor_id IS NOT NULL;

-- The organizer's own news: the wording of the panel's checkbox now.
ALTER TABLE panels ADD COLUMN marketing_text_id INTEGER;
-- How long registrants are kept after the panel's last session ends; NULL
-- takes the site's default.
ALTER TABLE panels ADD COLUMN retention_days INTEGER;

-- The first touch: utm_source has been "source" since 0001.
ALTER TABLE registrations ADD COLUMN utm_medium TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN utm_campaign TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN utm_term TEXT NOT NULL DEFAULT '';
ALTER TABLE registrations ADD COLUMN utm_content TEXT NOT NULL DEFAULT '';
-- When the person's data was erased; the row stays, anonymous, for counts.
ALTER TABLE registrations ADD COLUMN erased_at TIMESTAMP;

-- A person erasing their own data from their page is audited too (channel
-- 'manage'). SQLite cannot change a CHECK constraint, so the log is copied
-- into a table that takes it; nothing refers to audit_log.
CREATE TABLE audit_log_new (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    actor      TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('admin', 'api', 'system', 'manage')),
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    row_count  INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO audit_log_new SELECT id, account_id, actor, channel, action, subject, row_count, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_created ON audit_log (created_at, id);
