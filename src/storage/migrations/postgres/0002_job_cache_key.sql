-- Exact repeats (same model, prompt, size, steps, explicit seed, style) are served from the image store.
ALTER TABLE jobs ADD COLUMN cache_key TEXT;
CREATE INDEX jobs_cache ON jobs(cache_key) WHERE cache_key IS NOT NULL AND status = 'succeeded';
-- Counting a user's queued and running jobs must not read their whole history.
CREATE INDEX jobs_active_user ON jobs(user_id) WHERE status IN ('queued', 'running');
-- Who may fetch an image: the users whose jobs made it.
CREATE INDEX jobs_image ON jobs(image_id) WHERE image_id IS NOT NULL;
