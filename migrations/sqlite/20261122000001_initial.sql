-- Timestamps are INTEGER microseconds since the Unix epoch (they sort and compare exactly);
-- ids are 16-byte UUID blobs.
CREATE TABLE users (
    id             BLOB PRIMARY KEY,
    first_name     TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    email          TEXT NOT NULL COLLATE NOCASE UNIQUE,
    password_hash  TEXT NOT NULL,
    city           TEXT NOT NULL,
    city_key       TEXT NOT NULL,
    country        TEXT NOT NULL,
    country_key    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    votes_received INTEGER NOT NULL DEFAULT 0 CHECK (votes_received >= 0),
    last_vote_at   INTEGER
) STRICT;
CREATE INDEX users_ranking ON users (votes_received DESC, last_vote_at, id) WHERE votes_received > 0;
CREATE INDEX users_ranking_city ON users (city_key, votes_received DESC, last_vote_at, id) WHERE votes_received > 0;
CREATE INDEX users_ranking_country ON users (country_key, votes_received DESC, last_vote_at, id) WHERE votes_received > 0;

CREATE TABLE videos (
    id               BLOB PRIMARY KEY,
    owner_id         BLOB NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    title            TEXT NOT NULL,
    description      TEXT,
    tags             TEXT NOT NULL,
    search_text      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('uploaded', 'processing', 'processed', 'failed')),
    failure_reason   TEXT,
    is_public        INTEGER NOT NULL CHECK (is_public IN (0, 1)),
    size_bytes       INTEGER NOT NULL CHECK (size_bytes >= 0),
    original_key     TEXT NOT NULL,
    processed_key    TEXT,
    thumbnail_key    TEXT,
    duration_seconds REAL,
    uploaded_at      INTEGER NOT NULL,
    processed_at     INTEGER,
    published_at     INTEGER,
    votes            INTEGER NOT NULL DEFAULT 0 CHECK (votes >= 0),
    CHECK ((status = 'failed') = (failure_reason IS NOT NULL))
) STRICT;
CREATE INDEX videos_owner_recent ON videos (owner_id, uploaded_at DESC, id DESC);
CREATE INDEX videos_public_votes ON videos (votes DESC, published_at DESC, id DESC)
    WHERE status = 'processed' AND is_public;
CREATE INDEX videos_public_recent ON videos (published_at DESC, id DESC)
    WHERE status = 'processed' AND is_public;

CREATE TABLE votes (
    user_id  BLOB NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    video_id BLOB NOT NULL REFERENCES videos (id) ON DELETE RESTRICT,
    cast_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, video_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX votes_video ON votes (video_id);

CREATE TABLE jobs (
    id          BLOB PRIMARY KEY,
    queue       TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('waiting', 'leased', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    due_at      INTEGER NOT NULL,
    lease_token BLOB,
    last_error  TEXT,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX jobs_deliverable ON jobs (queue, due_at, id) WHERE state IN ('waiting', 'leased');
