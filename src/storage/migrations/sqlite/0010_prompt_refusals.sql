-- Prompts refused per user (issue 17, safe mode): `blocked` by our prompt policy (never sent to a
-- provider) and `refused` by a provider (jobs that failed as content_refused). Lifetime counts for the
-- admins (/stats, `imggenbot stats`); each refusal also counts in quota_usage.failed, the period's
-- budget of failed attempts. A row exists once a user has had a refusal.
CREATE TABLE prompt_refusals (
  user_id INTEGER PRIMARY KEY REFERENCES users(id),
  blocked INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0,
  last_at INTEGER NOT NULL
);
