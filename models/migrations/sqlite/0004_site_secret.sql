-- Secrets the site signs with, such as the key of the sign-up forms' CSRF
-- tokens. Kept in the database so that they survive restarts (a form opened
-- before a deploy can still be sent after it) and are shared by every
-- process that serves the same database.
CREATE TABLE site_secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at TIMESTAMP NOT NULL
);
