-- Who took people's data out of Podium, or changed where it flows: every
-- registrant export and every webhook endpoint change, for owners to read.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    -- Who, as they were at the time: an account's address and role.
    actor      TEXT NOT NULL,
    channel    TEXT NOT NULL CHECK (channel IN ('admin', 'api', 'system')),
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    row_count  INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at, id);
