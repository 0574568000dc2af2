-- The operator's margins (issue 17). Each job keeps the plan it was submitted under, and, once it
-- succeeds with a new image, the provider that served it (after any failover), the model and the
-- cost at the configured price (PROVIDER_PRICES) in millionths of a USD (NULL: no price).
ALTER TABLE jobs ADD COLUMN plan TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN provider TEXT;
ALTER TABLE jobs ADD COLUMN served_model TEXT;
ALTER TABLE jobs ADD COLUMN cost_micros INTEGER;

-- Running totals per UTC day (Unix ms of 00:00) and plan, updated in the transaction that ends a job
-- with a new image: /stats reads a few rows per day, and a free submission reads today's rows to
-- hold to DAILY_SPEND_LIMIT_USD. unpriced: images whose provider had no price.
CREATE TABLE spend_daily (
  day          INTEGER NOT NULL,
  plan         TEXT NOT NULL,
  images       INTEGER NOT NULL DEFAULT 0,
  spend_micros INTEGER NOT NULL DEFAULT 0,
  unpriced     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, plan)
);

-- Stars per day for /stats: payments by time.
CREATE INDEX payments_created ON payments(created_at);
