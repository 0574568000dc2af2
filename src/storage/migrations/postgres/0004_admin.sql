-- Messages from the operators to every reachable user (/broadcast), sent by the bot in user id order.
-- cursor_user is the last user handled, so a restart goes on from there.
CREATE TABLE broadcasts (
  id          BIGSERIAL PRIMARY KEY,
  text        TEXT NOT NULL,
  created_by  BIGINT NOT NULL,
  created_at  BIGINT NOT NULL,
  cursor_user BIGINT NOT NULL DEFAULT 0,
  sent        BIGINT NOT NULL DEFAULT 0,
  failed      BIGINT NOT NULL DEFAULT 0,
  finished_at BIGINT
);
-- Jobs by when they ended: images today (/stats), users whose quota may have crossed 80% (notices).
CREATE INDEX jobs_finished ON jobs(finished_at) WHERE finished_at IS NOT NULL;
-- Subscription periods by end, for the "ends in 3 days / 1 day / has ended" notices.
CREATE INDEX subscriptions_ending ON subscriptions(period_end) WHERE status = 'active';
