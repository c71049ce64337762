-- Restoring lost jobs (JobQueue::enqueue_missing) asks whether a payload has a live job.
CREATE INDEX jobs_live_payload ON jobs (queue, payload) WHERE state IN ('waiting', 'leased');
