-- When each video's status last changed (microseconds), so the sweeper can find videos left
-- 'uploaded' or 'processing' past a deadline. Existing rows take their last known change.
-- SQLite cannot add a column whose default is the current time: a bulk load that does not name
-- the column gets 0 (the epoch); the adapters always write it.
ALTER TABLE videos ADD COLUMN status_changed_at INTEGER NOT NULL DEFAULT 0;
UPDATE videos SET status_changed_at = coalesce(processed_at, uploaded_at);
-- When the sweeper last claimed the video to re-enqueue it (VideoRepository::claim_stuck).
ALTER TABLE videos ADD COLUMN claimed_at INTEGER;
CREATE INDEX videos_unfinished ON videos (status_changed_at, id)
    WHERE status IN ('uploaded', 'processing');
