-- Share links: a sponsor downloads its own leads without an account,
-- through a secret link that expires and can be revoked. Only the SHA-256
-- of each 256-bit token is stored.
CREATE TABLE sponsor_share_links (
    id           INTEGER PRIMARY KEY,
    sponsor_id   INTEGER NOT NULL REFERENCES sponsors(id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   TIMESTAMP NOT NULL,
    revoked_at   TIMESTAMP,
    account_id   INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    uses         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sponsor_share_links_sponsor ON sponsor_share_links (sponsor_id, id);

-- A sponsor's download through a share link is audited (channel 'share').
-- SQLite cannot change a CHECK constraint, so the log is copied into a
-- table that takes it; nothing refers to audit_log.
CREATE TABLE audit_log_new (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    actor      TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('admin', 'api', 'system', 'manage', 'share')),
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    row_count  INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO audit_log_new SELECT id, account_id, actor, channel, action, subject, row_count, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_created ON audit_log (created_at, id);
