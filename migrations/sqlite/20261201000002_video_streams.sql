-- Where a processed video's streaming outputs are: the HLS master playlist and the
-- storyboard's cues (NULL for videos processed before the ladder, or by a profile without one).
ALTER TABLE videos ADD COLUMN stream_key TEXT;
ALTER TABLE videos ADD COLUMN storyboard_key TEXT;
-- How far processing has got, while a video is `processing` (NULL otherwise).
ALTER TABLE videos ADD COLUMN progress_percent REAL;
ALTER TABLE videos ADD COLUMN progress_eta_seconds REAL;
