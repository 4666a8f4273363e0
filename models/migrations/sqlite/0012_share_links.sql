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
