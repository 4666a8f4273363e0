-- Outgoing webhooks (Standard Webhooks) and Zoom's incoming attendance.

-- Organizers' receiving endpoints. The signing secret has to be kept to
-- sign with (a hash cannot sign): it is stored encrypted under a key of the
-- site's (sealSecret in models/webhook.go), as is the previous one for 24 hours
-- after a rotation.
CREATE TABLE webhook_endpoints (
    id                     INTEGER PRIMARY KEY,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    -- ",registration.created,session.updated," or "*" for every type.
    event_types            TEXT NOT NULL,
    secret                 TEXT NOT NULL,
    previous_secret        TEXT NOT NULL DEFAULT '',
    previous_secret_until  TIMESTAMP,
    active                 BOOLEAN NOT NULL DEFAULT TRUE,
    disabled_reason        TEXT NOT NULL DEFAULT '',
    -- The first failure since the last success; NULL while it works.
    failing_since          TIMESTAMP,
    account_id             INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    created_at             TIMESTAMP NOT NULL,
    updated_at             TIMESTAMP NOT NULL
);

-- One row per event, written in the transaction of the change that causes
-- it, only when an active endpoint wants its type. The body is fixed here:
-- every endpoint and every retry gets the same bytes.
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY,
    type            TEXT NOT NULL,
    body            TEXT NOT NULL,
    registration_id INTEGER REFERENCES registrations(id) ON DELETE SET NULL,
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX webhook_events_registration ON webhook_events (registration_id);

-- One event to one endpoint, delivered by the background worker.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_id        INTEGER NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    delivered_at    TIMESTAMP,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at, id);

-- Every attempt, for the organizer's delivery log.
CREATE TABLE webhook_attempts (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    endpoint_id  INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status_code  INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    duration_ms  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (endpoint_id, id);

-- Zoom's webinar (or meeting) id, to map its live participant events.
ALTER TABLE sessions ADD COLUMN zoom_webinar_id TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_zoom_webinar ON sessions (zoom_webinar_id) WHERE zoom_webinar_id <> '';

-- Zoom's live stays of each registrant, so its join and leave events (which
-- Zoom retries) add up to attended minutes however often they arrive.
CREATE TABLE zoom_intervals (
    registration_id INTEGER NOT NULL REFERENCES registrations(id) ON DELETE CASCADE,
    joined_at       TIMESTAMP NOT NULL,
    left_at         TIMESTAMP,
    PRIMARY KEY (registration_id, joined_at)
);
