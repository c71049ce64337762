-- Players. The vote counter and the time of the last vote feed the rankings through an index.
CREATE TABLE users (
    id             UUID PRIMARY KEY,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    city           TEXT NOT NULL,
    city_key       TEXT NOT NULL,
    country        TEXT NOT NULL,
    country_key    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    votes_received BIGINT NOT NULL DEFAULT 0 CHECK (votes_received >= 0),
    last_vote_at   TIMESTAMPTZ
);
-- Emails are unique ignoring case.
CREATE UNIQUE INDEX users_email_ci ON users (lower(email));
-- Rankings: all players, by city, by country; only players with votes are ranked.
CREATE INDEX users_ranking ON users (votes_received DESC, last_vote_at, id) WHERE votes_received > 0;
CREATE INDEX users_ranking_city ON users (city_key, votes_received DESC, last_vote_at, id) WHERE votes_received > 0;
CREATE INDEX users_ranking_country ON users (country_key, votes_received DESC, last_vote_at, id) WHERE votes_received > 0;

CREATE TABLE videos (
    id               UUID PRIMARY KEY,
    owner_id         UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    title            TEXT NOT NULL,
    description      TEXT,
    tags             TEXT NOT NULL,            -- JSON array of strings
    search_text      TEXT NOT NULL,            -- lower-cased title and tags, one per line
    status           TEXT NOT NULL CHECK (status IN ('uploaded', 'processing', 'processed', 'failed')),
    failure_reason   TEXT,
    is_public        BOOLEAN NOT NULL,
    size_bytes       BIGINT NOT NULL CHECK (size_bytes >= 0),
    original_key     TEXT NOT NULL,
    processed_key    TEXT,
    thumbnail_key    TEXT,
    duration_seconds DOUBLE PRECISION,
    uploaded_at      TIMESTAMPTZ NOT NULL,
    processed_at     TIMESTAMPTZ,
    published_at     TIMESTAMPTZ,
    votes            BIGINT NOT NULL DEFAULT 0 CHECK (votes >= 0),
    CHECK ((status = 'failed') = (failure_reason IS NOT NULL))
);
CREATE INDEX videos_owner_recent ON videos (owner_id, uploaded_at DESC, id DESC);
CREATE INDEX videos_public_votes ON videos (votes DESC, published_at DESC, id DESC)
    WHERE status = 'processed' AND is_public;
CREATE INDEX videos_public_recent ON videos (published_at DESC, id DESC)
    WHERE status = 'processed' AND is_public;

-- One vote per user per video: the primary key is the rule.
CREATE TABLE votes (
    user_id  UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    video_id UUID NOT NULL REFERENCES videos (id) ON DELETE RESTRICT,
    cast_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX votes_video ON votes (video_id);

-- The durable job queue (`db://`). A job is deliverable when its state is waiting or leased
-- and `due_at` (run-after time, or lease expiry) has passed. Acked jobs are deleted.
CREATE TABLE jobs (
    id          UUID PRIMARY KEY,
    queue       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('waiting', 'leased', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      TIMESTAMPTZ NOT NULL,
    lease_token UUID,
    last_error  TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_deliverable ON jobs (queue, due_at, id) WHERE state IN ('waiting', 'leased');
