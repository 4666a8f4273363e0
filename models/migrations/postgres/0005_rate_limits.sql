-- Rate limits (sign-ups and sign-ins per client address) shared by every
-- instance serving the database, so N instances allow what one allows. A
-- row is one key's fixed window: hits counted since the window opened. The
-- key is an HMAC of the client's address, never the address itself.
CREATE TABLE rate_limits (
    key            TEXT PRIMARY KEY,
    hits           INTEGER NOT NULL,
    window_ends_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rate_limits_window_ends_at ON rate_limits (window_ends_at);
