-- Free-plan images started per UTC day across all users (FREE_DAILY_IMAGES): the brake on provider
-- credit that many free accounts could otherwise spend together. One row per day.
CREATE TABLE free_budget (
  day    INTEGER PRIMARY KEY,
  images INTEGER NOT NULL DEFAULT 0
);
