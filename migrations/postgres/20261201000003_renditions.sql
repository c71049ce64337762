-- Conversions on demand: one row per rendition an owner asked for (an MP4 at a height, the
-- sound as MP3, an HLS ladder); they go with their video.
CREATE TABLE renditions (
    id                   UUID PRIMARY KEY,
    video_id             UUID NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    owner_id             UUID NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    format               TEXT NOT NULL CHECK (format IN ('mp4', 'mp3', 'hls')),
    height               BIGINT CHECK (height > 0),
    status               TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    failure_reason       TEXT,
    output_key           TEXT,
    progress_percent     DOUBLE PRECISION,
    progress_eta_seconds DOUBLE PRECISION,
    requested_at         TIMESTAMPTZ NOT NULL,
    finished_at          TIMESTAMPTZ,
    CHECK ((status = 'failed') = (failure_reason IS NOT NULL)),
    CHECK ((status = 'ready') = (output_key IS NOT NULL)),
    CHECK ((format = 'mp3') = (height IS NULL))
);
-- One of each kind per video.
CREATE UNIQUE INDEX renditions_one_of_each ON renditions (video_id, format, COALESCE(height, 0));
-- What the limit on pending conversions counts.
CREATE INDEX renditions_unfinished_by_owner ON renditions (owner_id)
    WHERE status IN ('pending', 'processing');
