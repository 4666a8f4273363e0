-- Organizer accounts, their sign-in sessions and API tokens; custom questions
-- and answers; attendance.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'organizer')),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);

-- Signed-in admin browsers. Only the SHA-256 of the cookie's token is stored.
CREATE TABLE admin_sessions (
    token_hash   TEXT PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at   TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL
);
CREATE INDEX admin_sessions_account ON admin_sessions (account_id);

-- API tokens for integrations. Only the SHA-256 of each token is stored.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);

-- Custom questions on a panel's sign-up form, in order.
CREATE TABLE questions (
    id       INTEGER PRIMARY KEY,
    panel_id INTEGER NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('short_text', 'long_text', 'single_choice', 'multiple_choice', 'checkbox')),
    label    TEXT NOT NULL,
    required BOOLEAN NOT NULL DEFAULT FALSE,
    -- Choices, one per line, for single and multiple choice.
    options  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX questions_panel ON questions (panel_id, position);

CREATE TABLE answers (
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    question_id     INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    -- Several choices are stored one per line.
    value           TEXT NOT NULL,
    PRIMARY KEY (registration_id, question_id)
);
CREATE INDEX answers_question ON answers (question_id);

ALTER TABLE registrations ADD COLUMN attended_at TIMESTAMP;

-- Admin lists: newest first per session, per status, and per panel by day.
CREATE INDEX registrations_session_id ON registrations (session_id, id);
CREATE INDEX registrations_created ON registrations (created_at);
