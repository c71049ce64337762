-- What happened to each video: its audit trail, and the transactional outbox of webhooks (a
-- change's events are written in the change's transaction). Kept when the video is deleted
-- (its `video.deleted` event is delivered after it is gone).
CREATE TABLE video_events (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       UUID NOT NULL UNIQUE,
    video_id UUID NOT NULL,
    owner_id UUID NOT NULL,
    kind     TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    detail   TEXT NOT NULL,
    data     TEXT NOT NULL,
    -- The W3C trace context of the change that made it: its deliveries continue that trace.
    trace_context TEXT
);
CREATE INDEX video_events_by_video ON video_events (video_id, seq);
CREATE INDEX video_events_by_kind_and_time ON video_events (kind, at);

-- Webhook subscriptions: a player's (for their videos) or the deployment's (`owner_id` NULL,
-- from settings: every video). `events` is a comma-separated list of event types.
CREATE TABLE webhooks (
    id         UUID PRIMARY KEY,
    owner_id   UUID REFERENCES users (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_by_owner ON webhooks (owner_id);

-- One delivery of one event to one webhook: `pending` until a 2xx (`delivered`) or until it
-- gives up (`dead`); every attempt of it sends the event's id as `webhook-id`.
CREATE TABLE webhook_deliveries (
    webhook_id       UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq        BIGINT NOT NULL REFERENCES video_events (seq),
    video_id         UUID NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    leased_until     TIMESTAMPTZ,
    last_attempt_at  TIMESTAMPTZ,
    last_status_code BIGINT,
    last_error       TEXT,
    claim_token      UUID,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (webhook_id, event_seq)
);
-- What the deliverer scans, and the per-video order it keeps.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (webhook_id, video_id, event_seq)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (status) WHERE status = 'dead';

-- What each worker process last reported of itself (the operator's summary shows those seen
-- in the last minute): `jobs` is one held job per line.
CREATE TABLE workers (
    name       TEXT PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL,
    seen_at    TIMESTAMPTZ NOT NULL,
    jobs       TEXT NOT NULL
);
CREATE INDEX workers_by_seen_at ON workers (seen_at);
