-- When each video's status last changed, so the sweeper can find videos left 'uploaded' or
-- 'processing' past a deadline. Existing rows take their last known change. The default serves
-- bulk loads that do not name the column; the adapters always write it.
ALTER TABLE videos ADD COLUMN status_changed_at TIMESTAMPTZ;
UPDATE videos SET status_changed_at = coalesce(processed_at, uploaded_at);
ALTER TABLE videos
    ALTER COLUMN status_changed_at SET NOT NULL,
    ALTER COLUMN status_changed_at SET DEFAULT now();
-- When the sweeper last claimed the video to re-enqueue it (VideoRepository::claim_stuck).
ALTER TABLE videos ADD COLUMN claimed_at TIMESTAMPTZ;
CREATE INDEX videos_unfinished ON videos (status_changed_at, id)
    WHERE status IN ('uploaded', 'processing');
