-- Defaults a user chose in the bot's /settings (empty: the product's default).
ALTER TABLE users ADD COLUMN aspect_ratio TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN style TEXT NOT NULL DEFAULT '';
-- When the bot showed a job's outcome in its chat; NULL while it still has to.
ALTER TABLE jobs ADD COLUMN delivered_at INTEGER;
CREATE INDEX jobs_bot_undelivered ON jobs(updated_at) WHERE source = 'bot' AND delivered_at IS NULL;
-- The bot's durable inbox: Telegram updates received (long polling or webhook) and not yet handled.
CREATE TABLE telegram_updates (
  update_id   INTEGER PRIMARY KEY,
  chat_id     INTEGER NOT NULL,
  body        TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
