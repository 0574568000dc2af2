// What the service sends and counts unasked: notices already sent (notifications), who made images in
// a period, the operators' figures (stats) and broadcasts.
#include "storage/sql_tx.hpp"

namespace igb::storage {
namespace {

constexpr std::string_view kBroadcastCols = "id, text, created_by, created_at, cursor_user, sent, failed, finished_at";
core::Broadcast to_broadcast(const Row& r) {
  return core::Broadcast{.id = r.i64(0),
                         .text = r.text(1),
                         .created_by = r.i64(2),
                         .created_at = ts(r, 3),
                         .cursor = r.i64(4),
                         .sent = r.i64(5),
                         .failed = r.i64(6),
                         .finished_at = opt_ts(r, 7)};
}

}  // namespace

bool SqlTx::record_notification(core::UserId user, std::string_view kind, std::string_view ref, core::Timestamp at) {
  return q("INSERT INTO notifications (user_id, kind, ref, sent_at) VALUES ($1, $2, $3, $4) "
           "ON CONFLICT (user_id, kind, ref) DO NOTHING",
           {num(user), text(kind), text(ref), ms(at)})
             .affected == 1;
}

bool SqlTx::has_notification(core::UserId user, std::string_view kind, std::string_view ref) {
  return !q("SELECT 1 FROM notifications WHERE user_id = $1 AND kind = $2 AND ref = $3",
            {num(user), text(kind), text(ref)})
              .rows.empty();
}

std::vector<core::UserId> SqlTx::users_with_images(core::Timestamp from, core::Timestamp to) {
  std::vector<core::UserId> out;
  for (const auto& row : q("SELECT DISTINCT user_id FROM jobs WHERE finished_at >= $1 AND finished_at < $2 "
                           "AND status = 'succeeded' ORDER BY user_id",
                           {ms(from), ms(to)})
                             .rows) {
    out.push_back(row.i64(0));
  }
  return out;
}

core::Stats SqlTx::stats(core::Timestamp day_start, core::Timestamp month_start, core::Timestamp now) {
  core::Stats s;
  s.users = count_users();
  s.reachable_users = q("SELECT COUNT(*) FROM users WHERE banned = 0 AND blocked_bot = 0").rows.at(0).i64(0);
  for (const auto& row : q("SELECT plan_id, COUNT(DISTINCT user_id) FROM subscriptions WHERE status = 'active' "
                           "AND period_start <= $1 AND period_end > $1 GROUP BY plan_id ORDER BY plan_id",
                           {ms(now)})
                             .rows) {
    s.subscribers_by_plan.emplace_back(row.text(0), row.i64(1));
  }
  auto finished = [&](const char* status) {
    return q("SELECT COUNT(*) FROM jobs WHERE finished_at >= $1 AND status = $2", {ms(day_start), text(status)})
        .rows.at(0)
        .i64(0);
  };
  s.images_today = finished("succeeded");
  s.failed_today = finished("failed");
  s.stars_this_month = q("SELECT COALESCE(SUM(amount), 0) FROM payments WHERE created_at >= $1 "
                         "AND currency = 'XTR' AND refunded_at IS NULL",
                         {ms(month_start)})
                           .rows.at(0)
                           .i64(0);
  s.queued = count_jobs(core::JobStatus::queued);
  s.running = count_jobs(core::JobStatus::running);
  auto referrals = q("SELECT COUNT(*), COUNT(converted_at) FROM referrals");
  s.referrals_invited = referrals.rows.at(0).i64(0);
  s.referrals_converted = referrals.rows.at(0).i64(1);
  auto totals = q("SELECT COALESCE(SUM(blocked), 0), COALESCE(SUM(refused), 0) FROM prompt_refusals");
  s.prompts_blocked = totals.rows.at(0).i64(0);
  s.prompts_refused = totals.rows.at(0).i64(1);
  for (const auto& row : q("SELECT user_id, blocked, refused, last_at FROM prompt_refusals "
                           "ORDER BY blocked + refused DESC, last_at DESC, user_id LIMIT 5")
                             .rows) {
    s.refusers.push_back({.user = row.i64(0), .blocked = row.i64(1), .refused = row.i64(2), .last_at = ts(row, 3)});
  }
  return s;
}

std::int64_t SqlTx::insert_broadcast(const core::Broadcast& b) {
  return q("INSERT INTO broadcasts (text, created_by, created_at, cursor_user, sent, failed) "
           "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
           {text(b.text), num(b.created_by), ms(b.created_at), num(b.cursor), num(b.sent), num(b.failed)})
      .rows.at(0)
      .i64(0);
}

std::optional<core::Broadcast> SqlTx::next_broadcast() {
  static const std::string sql =
      join_sql({"SELECT ", kBroadcastCols, " FROM broadcasts WHERE finished_at IS NULL ORDER BY id LIMIT 1"});
  auto r = q(sql);
  if (r.rows.empty()) return std::nullopt;
  return to_broadcast(r.rows[0]);
}

void SqlTx::update_broadcast(const core::Broadcast& b) {
  q("UPDATE broadcasts SET cursor_user = $2, sent = $3, failed = $4, finished_at = $5 WHERE id = $1",
    {num(b.id), num(b.cursor), num(b.sent), num(b.failed), opt_ms(b.finished_at)});
}

}  // namespace igb::storage
