-- A job carries the trace context of whoever enqueued it (a W3C traceparent; NULL: none), so
-- one trace spans the upload request and the worker's job.
ALTER TABLE jobs ADD COLUMN trace_context TEXT;
