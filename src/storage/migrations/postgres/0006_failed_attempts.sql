-- Jobs of the period that ended failed (the provider refused the prompt or failed after every retry):
-- the per-user budget of failed attempts (plan field failed_attempts_per_period). A counter beside
-- used and reserved, because submit already holds this row locked: the check reads no more rows.
ALTER TABLE quota_usage ADD COLUMN failed BIGINT NOT NULL DEFAULT 0;
