// The operator's margins (issue 17): spend_daily, the running totals per UTC day and plan, and the
// Stars of payments per day; the settings row that remembers the last spend alert.
#include "storage/sql_tx.hpp"

namespace igb::storage {

// One upsert per succeeded image. Every success of one plan on one day updates the same row, so on
// PostgreSQL those transactions take turns on it for the rest of their (short) life; it is the last
// row they lock, after the job and the quota counter, so the order stays free of cycles.
void SqlTx::add_spend(core::Timestamp day, std::string_view plan, std::optional<std::int64_t> cost_micros) {
  q("INSERT INTO spend_daily (day, plan, images, spend_micros, unpriced) VALUES ($1, $2, 1, $3, $4) "
    "ON CONFLICT (day, plan) DO UPDATE SET images = spend_daily.images + 1, "
    "spend_micros = spend_daily.spend_micros + excluded.spend_micros, "
    "unpriced = spend_daily.unpriced + excluded.unpriced",
    {ms(day), text(plan), num(cost_micros.value_or(0)), num(cost_micros ? 0 : 1)});
}

std::int64_t SqlTx::spend_on(core::Timestamp day) {
  return q("SELECT COALESCE(SUM(spend_micros), 0) FROM spend_daily WHERE day = $1", {ms(day)}).rows.at(0).i64(0);
}

std::vector<core::MarginRow> SqlTx::spend_since(core::Timestamp from_day) {
  std::vector<core::MarginRow> out;
  for (const auto& row : q("SELECT day, plan, images, spend_micros, unpriced FROM spend_daily WHERE day >= $1 "
                           "ORDER BY day, plan",
                           {ms(from_day)})
                             .rows) {
    out.push_back({.day = ts(row, 0),
                   .plan = row.text(1),
                   .images = row.i64(2),
                   .spend_micros = row.i64(3),
                   .unpriced = row.i64(4)});
  }
  return out;
}

std::vector<core::StarsDay> SqlTx::stars_since(core::Timestamp from_day) {
  std::vector<core::StarsDay> out;
  // Whole UTC days of Unix milliseconds: integer division on both dialects (created_at is positive).
  for (const auto& row : q("SELECT (created_at / 86400000) * 86400000 AS day, plan_id, SUM(amount) FROM payments "
                           "WHERE created_at >= $1 AND currency = 'XTR' AND refunded_at IS NULL "
                           "GROUP BY (created_at / 86400000) * 86400000, plan_id ORDER BY 1, 2",
                           {ms(from_day)})
                             .rows) {
    out.push_back({.day = ts(row, 0), .plan = row.text(1), .stars = row.i64(2)});
  }
  return out;
}

// PostgreSQL: ON CONFLICT … DO UPDATE … WHERE locks the conflicting row and checks the condition on
// its latest committed version, so of two transactions racing to store the same day one updates and
// the other finds the condition false (no row returned). SQLite has one writer at a time.
bool SqlTx::advance_setting(std::string_view key, std::string_view value) {
  return !q("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
            "excluded.value WHERE settings.value < excluded.value RETURNING key",
            {text(key), text(value)})
              .rows.empty();
}

}  // namespace igb::storage
