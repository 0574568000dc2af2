-- Same schema as the SQLite one. Times are Unix milliseconds (BIGINT); flags are 0/1.
CREATE TABLE users (
  id            BIGINT PRIMARY KEY,              -- Telegram user id
  username      TEXT NOT NULL DEFAULT '',
  language      TEXT NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  banned        INTEGER NOT NULL DEFAULT 0,
  blocked_bot   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE api_keys (
  id            TEXT PRIMARY KEY,
  user_id       BIGINT NOT NULL REFERENCES users(id),
  key_hash      TEXT NOT NULL UNIQUE,
  prefix        TEXT NOT NULL,
  name          TEXT NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  revoked_at    BIGINT
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE subscriptions (
  id            BIGSERIAL PRIMARY KEY,
  user_id       BIGINT NOT NULL REFERENCES users(id),
  plan_id       TEXT NOT NULL,
  status        TEXT NOT NULL,
  period_start  BIGINT NOT NULL,
  period_end    BIGINT NOT NULL,
  auto_renew    INTEGER NOT NULL DEFAULT 0,
  source        TEXT NOT NULL,
  charge_id     TEXT,
  created_at    BIGINT NOT NULL
);
CREATE INDEX subscriptions_user ON subscriptions(user_id, period_end);

CREATE TABLE payments (
  charge_id       TEXT PRIMARY KEY,             -- telegram_payment_charge_id: a payment is applied once
  user_id         BIGINT NOT NULL REFERENCES users(id),
  plan_id         TEXT NOT NULL,
  amount          BIGINT NOT NULL,
  currency        TEXT NOT NULL,
  is_recurring    INTEGER NOT NULL DEFAULT 0,
  subscription_id BIGINT REFERENCES subscriptions(id),
  created_at      BIGINT NOT NULL,
  refunded_at     BIGINT
);
CREATE INDEX payments_user ON payments(user_id);

CREATE TABLE quota_usage (
  user_id       BIGINT NOT NULL REFERENCES users(id),
  period_start  BIGINT NOT NULL,
  used          BIGINT NOT NULL DEFAULT 0,
  reserved      BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, period_start)
);

CREATE TABLE images (
  id               TEXT PRIMARY KEY,            -- sha256 of the bytes
  mime             TEXT NOT NULL,
  size_bytes       BIGINT NOT NULL,
  width            INTEGER NOT NULL,
  height           INTEGER NOT NULL,
  telegram_file_id TEXT,
  created_at       BIGINT NOT NULL
);

CREATE TABLE jobs (
  id                 TEXT PRIMARY KEY,
  user_id            BIGINT NOT NULL REFERENCES users(id),
  status             TEXT NOT NULL,
  priority           INTEGER NOT NULL,
  attempts           INTEGER NOT NULL DEFAULT 0,
  max_attempts       INTEGER NOT NULL,
  lease_owner        TEXT,
  lease_expires_at   BIGINT,
  run_after          BIGINT NOT NULL,
  progress           INTEGER NOT NULL DEFAULT 0,
  public_error       TEXT NOT NULL DEFAULT '',
  prompt             TEXT NOT NULL,
  width              INTEGER NOT NULL,
  height             INTEGER NOT NULL,
  steps              INTEGER NOT NULL,
  seed               BIGINT,
  style              TEXT NOT NULL DEFAULT '',
  model              TEXT NOT NULL DEFAULT '',
  image_id           TEXT REFERENCES images(id),
  quota_period_start BIGINT NOT NULL,
  quota_state        TEXT NOT NULL,
  source             TEXT NOT NULL DEFAULT '',
  meta               TEXT NOT NULL DEFAULT '',
  idempotency_key    TEXT,
  created_at         BIGINT NOT NULL,
  started_at         BIGINT,
  finished_at        BIGINT,
  updated_at         BIGINT NOT NULL
);
CREATE INDEX jobs_queue ON jobs(priority DESC, created_at, id) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs(lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_user ON jobs(user_id, created_at);
CREATE INDEX jobs_idempotency ON jobs(user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE notifications (
  user_id   BIGINT NOT NULL,
  kind      TEXT NOT NULL,
  ref       TEXT NOT NULL,
  sent_at   BIGINT NOT NULL,
  PRIMARY KEY (user_id, kind, ref)
);

CREATE TABLE settings (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
);
