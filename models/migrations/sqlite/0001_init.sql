-- Panels, their speakers and learning points, scheduled sessions and registrations.
-- Plain SQL that SQLite and PostgreSQL both run, except the INTEGER PRIMARY KEY
-- auto-increment, which a PostgreSQL migration set will spell as an identity column.

CREATE TABLE panels (
    id              INTEGER PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    format          TEXT NOT NULL DEFAULT '',
    summary         TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    organizer_name  TEXT NOT NULL DEFAULT '',
    organizer_email TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'published', 'archived')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE learning_points (
    id       INTEGER PRIMARY KEY,
    panel_id INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    text     TEXT NOT NULL,
    UNIQUE (panel_id, position)
);

CREATE TABLE speakers (
    id           INTEGER PRIMARY KEY,
    panel_id     INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT '',
    organisation TEXT NOT NULL DEFAULT '',
    bio          TEXT NOT NULL DEFAULT '',
    UNIQUE (panel_id, position)
);

CREATE TABLE sessions (
    id                     INTEGER PRIMARY KEY,
    panel_id               INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    starts_at              TIMESTAMP NOT NULL,
    duration_minutes       INTEGER NOT NULL CHECK (duration_minutes > 0),
    time_zone              TEXT NOT NULL,
    capacity               INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    seats_taken            INTEGER NOT NULL DEFAULT 0,
    waitlist               BOOLEAN NOT NULL DEFAULT FALSE,
    join_url               TEXT NOT NULL DEFAULT '',
    venue                  TEXT NOT NULL DEFAULT '',
    registration_closes_at TIMESTAMP,
    status                 TEXT NOT NULL DEFAULT 'scheduled'
                           CHECK (status IN ('scheduled', 'cancelled')),
    sequence               INTEGER NOT NULL DEFAULT 0,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL,
    -- The seat counter is the capacity rule's last line of defence.
    CHECK (seats_taken >= 0 AND (capacity = 0 OR seats_taken <= capacity))
);
CREATE INDEX sessions_panel_starts ON sessions (panel_id, starts_at);
CREATE INDEX sessions_starts ON sessions (starts_at);

CREATE TABLE registrations (
    id                INTEGER PRIMARY KEY,
    session_id        INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    email             TEXT NOT NULL,
    email_key         TEXT NOT NULL,
    organisation      TEXT NOT NULL DEFAULT '',
    job_title         TEXT NOT NULL DEFAULT '',
    consent_at        TIMESTAMP NOT NULL,
    status            TEXT NOT NULL
                      CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    source            TEXT NOT NULL DEFAULT '',
    referrer          TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    cancelled_at      TIMESTAMP
);
-- One active registration per address and session.
CREATE UNIQUE INDEX registrations_active_email
    ON registrations (session_id, email_key) WHERE status <> 'cancelled';
-- Waitlist promotion takes the oldest waitlisted registration first.
CREATE INDEX registrations_session_status ON registrations (session_id, status, created_at, id);

-- Manage links. Only the SHA-256 of each 256-bit token is stored. A registration
-- has one link per successful submission (see README: duplicate submissions).
CREATE TABLE manage_tokens (
    token_hash      TEXT PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX manage_tokens_registration ON manage_tokens (registration_id);
