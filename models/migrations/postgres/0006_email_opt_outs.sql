-- People who asked, through a reminder's one-click unsubscribe link
-- (RFC 8058), for no more of a panel's non-essential emails (reminders and
-- follow-ups). Confirmations, updates and cancellations still go out. Keyed
-- by the address as compared (email_key), so it holds for every session of
-- the panel and for a registration made again later.
CREATE TABLE email_opt_outs (
    panel_id   BIGINT NOT NULL REFERENCES panels(id) ON DELETE CASCADE,
    email_key  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (panel_id, email_key)
);
