// Users, API keys, subscriptions, payments, notifications, operators' figures and broadcasts, settings.
#include "storage/sql_tx.hpp"

namespace igb::storage {
namespace {

constexpr std::string_view kUserCols =
    "id, username, language, created_at, banned, blocked_bot, aspect_ratio, style";

core::User to_user(const Row& r) {
  return core::User{.id = r.i64(0), .username = r.text(1), .language = r.text(2), .created_at = ts(r, 3),
                    .banned = r.i64(4) != 0, .blocked_bot = r.i64(5) != 0, .aspect_ratio = r.text(6),
                    .style = r.text(7)};
}

constexpr std::string_view kKeyCols = "id, user_id, key_hash, prefix, name, created_at, revoked_at";

core::ApiKey to_key(const Row& r) {
  return core::ApiKey{.id = r.text(0), .user_id = r.i64(1), .key_hash = r.text(2), .prefix = r.text(3),
                      .name = r.text(4), .created_at = ts(r, 5), .revoked_at = opt_ts(r, 6)};
}

constexpr std::string_view kSubCols =
    "id, user_id, plan_id, status, period_start, period_end, auto_renew, source, charge_id, created_at";

core::Subscription to_sub(const Row& r) {
  auto status = core::subscription_status_from(r.text(3));
  auto source = core::subscription_source_from(r.text(7));
  if (!status || !source) throw DbError(DbError::Kind::other, "bad subscription row " + r.text(0));
  return core::Subscription{.id = r.i64(0), .user_id = r.i64(1), .plan_id = r.text(2), .status = *status,
                            .period_start = ts(r, 4), .period_end = ts(r, 5), .auto_renew = r.i64(6) != 0,
                            .source = *source, .charge_id = r.opt_text(8), .created_at = ts(r, 9)};
}

constexpr std::string_view kPaymentCols =
    "charge_id, user_id, plan_id, amount, currency, is_recurring, subscription_id, created_at, refunded_at";

core::Payment to_payment(const Row& r) {
  return core::Payment{.charge_id = r.text(0), .user_id = r.i64(1), .plan_id = r.text(2), .amount = r.i64(3),
                       .currency = r.text(4), .is_recurring = r.i64(5) != 0, .subscription_id = r.opt_i64(6),
                       .created_at = ts(r, 7), .refunded_at = opt_ts(r, 8)};
}

std::string cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s += p;
  return s;
}

}  // namespace

core::User SqlTx::upsert_user(core::UserId id, std::string_view username, std::string_view language,
                              core::Timestamp now) {
  // An empty username or language never overwrites a known one, and a language the user chose
  // (/lang) is kept over the one their client reports.
  static const std::string sql = cat(
      {"INSERT INTO users (id, username, language, created_at) VALUES ($1, $2, $3, $4) "
       "ON CONFLICT (id) DO UPDATE SET "
       "username = CASE WHEN excluded.username <> '' THEN excluded.username ELSE users.username END, "
       "language = CASE WHEN users.language = '' THEN excluded.language ELSE users.language END "
       "RETURNING ", kUserCols});
  auto r = q(sql, {num(id), text(username), text(language), ms(now)});
  return to_user(r.rows.at(0));
}

std::optional<core::User> SqlTx::find_user(core::UserId id) {
  static const std::string sql = cat({"SELECT ", kUserCols, " FROM users WHERE id = $1"});
  auto r = q(sql, {num(id)});
  if (r.rows.empty()) return std::nullopt;
  return to_user(r.rows[0]);
}

bool SqlTx::set_user_banned(core::UserId id, bool banned) {
  return q("UPDATE users SET banned = $2 WHERE id = $1", {num(id), num(banned)}).affected == 1;
}

bool SqlTx::set_user_blocked_bot(core::UserId id, bool blocked) {
  return q("UPDATE users SET blocked_bot = $2 WHERE id = $1", {num(id), num(blocked)}).affected == 1;
}

bool SqlTx::set_user_language(core::UserId id, std::string_view language) {
  return q("UPDATE users SET language = $2 WHERE id = $1", {num(id), text(language)}).affected == 1;
}

bool SqlTx::set_user_preferences(core::UserId id, std::string_view aspect_ratio, std::string_view style) {
  return q("UPDATE users SET aspect_ratio = $2, style = $3 WHERE id = $1",
           {num(id), text(aspect_ratio), text(style)})
             .affected == 1;
}

std::int64_t SqlTx::count_users() { return q("SELECT COUNT(*) FROM users").rows.at(0).i64(0); }

void SqlTx::insert_api_key(const core::ApiKey& k) {
  q("INSERT INTO api_keys (id, user_id, key_hash, prefix, name, created_at, revoked_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    {text(k.id), num(k.user_id), text(k.key_hash), text(k.prefix), text(k.name), ms(k.created_at),
     opt_ms(k.revoked_at)});
}

std::optional<core::ApiKey> SqlTx::find_api_key_by_hash(std::string_view key_hash) {
  static const std::string sql = cat({"SELECT ", kKeyCols, " FROM api_keys WHERE key_hash = $1"});
  auto r = q(sql, {text(key_hash)});
  if (r.rows.empty()) return std::nullopt;
  return to_key(r.rows[0]);
}

std::vector<core::ApiKey> SqlTx::api_keys_of(core::UserId user) {
  static const std::string sql = cat({"SELECT ", kKeyCols, " FROM api_keys WHERE user_id = $1 ORDER BY created_at, id"});
  std::vector<core::ApiKey> out;
  for (const auto& row : q(sql, {num(user)}).rows) out.push_back(to_key(row));
  return out;
}

bool SqlTx::revoke_api_key(std::string_view key_id, core::Timestamp at) {
  return q("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", {text(key_id), ms(at)})
             .affected == 1;
}

std::int64_t SqlTx::insert_subscription(const core::Subscription& s) {
  auto r = q("INSERT INTO subscriptions (user_id, plan_id, status, period_start, period_end, auto_renew, source, "
             "charge_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
             {num(s.user_id), text(s.plan_id), text(core::to_string(s.status)), ms(s.period_start),
              ms(s.period_end), num(s.auto_renew), text(core::to_string(s.source)), opt_text(s.charge_id),
              ms(s.created_at)});
  return r.rows.at(0).i64(0);
}

std::vector<core::Subscription> SqlTx::subscriptions_of(core::UserId user) {
  static const std::string sql =
      cat({"SELECT ", kSubCols, " FROM subscriptions WHERE user_id = $1 ORDER BY period_end DESC, id DESC"});
  std::vector<core::Subscription> out;
  for (const auto& row : q(sql, {num(user)}).rows) out.push_back(to_sub(row));
  return out;
}

std::optional<core::Subscription> SqlTx::find_subscription(std::int64_t id) {
  static const std::string sql = cat({"SELECT ", kSubCols, " FROM subscriptions WHERE id = $1"});
  auto r = q(sql, {num(id)});
  if (r.rows.empty()) return std::nullopt;
  return to_sub(r.rows[0]);
}

bool SqlTx::set_subscription_status(std::int64_t id, core::SubscriptionStatus status) {
  return q("UPDATE subscriptions SET status = $2 WHERE id = $1", {num(id), text(core::to_string(status))})
             .affected == 1;
}

bool SqlTx::set_subscription_auto_renew(std::int64_t id, bool auto_renew) {
  return q("UPDATE subscriptions SET auto_renew = $2 WHERE id = $1", {num(id), num(auto_renew)}).affected == 1;
}

bool SqlTx::insert_payment(const core::Payment& p) {
  return q("INSERT INTO payments (charge_id, user_id, plan_id, amount, currency, is_recurring, subscription_id, "
           "created_at, refunded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (charge_id) DO NOTHING",
           {text(p.charge_id), num(p.user_id), text(p.plan_id), num(p.amount), text(p.currency),
            num(p.is_recurring), p.subscription_id ? num(*p.subscription_id) : SqlParam(nullptr),
            ms(p.created_at), opt_ms(p.refunded_at)})
             .affected == 1;
}

std::optional<core::Payment> SqlTx::find_payment(std::string_view charge_id, bool for_update) {
  static const std::string sql = cat({"SELECT ", kPaymentCols, " FROM payments WHERE charge_id = $1"});
  auto r = q(sql + row_lock(for_update), {text(charge_id)});
  if (r.rows.empty()) return std::nullopt;
  return to_payment(r.rows[0]);
}

void SqlTx::set_payment_subscription(std::string_view charge_id, std::int64_t subscription_id) {
  q("UPDATE payments SET subscription_id = $2 WHERE charge_id = $1", {text(charge_id), num(subscription_id)});
}

bool SqlTx::mark_payment_refunded(std::string_view charge_id, core::Timestamp at) {
  return q("UPDATE payments SET refunded_at = $2 WHERE charge_id = $1 AND refunded_at IS NULL",
           {text(charge_id), ms(at)})
             .affected == 1;
}

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

std::vector<core::Subscription> SqlTx::subscriptions_ending(core::Timestamp from, core::Timestamp to) {
  static const std::string sql = cat({"SELECT ", kSubCols, " FROM subscriptions WHERE status = 'active' "
                                      "AND period_end >= $1 AND period_end < $2 ORDER BY period_end, id"});
  std::vector<core::Subscription> out;
  for (const auto& row : q(sql, {ms(from), ms(to)}).rows) out.push_back(to_sub(row));
  return out;
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
  return s;
}

namespace {
constexpr std::string_view kBroadcastCols = "id, text, created_by, created_at, cursor_user, sent, failed, finished_at";
core::Broadcast to_broadcast(const Row& r) {
  return core::Broadcast{.id = r.i64(0), .text = r.text(1), .created_by = r.i64(2), .created_at = ts(r, 3),
                         .cursor = r.i64(4), .sent = r.i64(5), .failed = r.i64(6), .finished_at = opt_ts(r, 7)};
}
}  // namespace

std::int64_t SqlTx::insert_broadcast(const core::Broadcast& b) {
  return q("INSERT INTO broadcasts (text, created_by, created_at, cursor_user, sent, failed) "
           "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
           {text(b.text), num(b.created_by), ms(b.created_at), num(b.cursor), num(b.sent), num(b.failed)})
      .rows.at(0)
      .i64(0);
}

std::optional<core::Broadcast> SqlTx::next_broadcast() {
  static const std::string sql =
      cat({"SELECT ", kBroadcastCols, " FROM broadcasts WHERE finished_at IS NULL ORDER BY id LIMIT 1"});
  auto r = q(sql);
  if (r.rows.empty()) return std::nullopt;
  return to_broadcast(r.rows[0]);
}

void SqlTx::update_broadcast(const core::Broadcast& b) {
  q("UPDATE broadcasts SET cursor_user = $2, sent = $3, failed = $4, finished_at = $5 WHERE id = $1",
    {num(b.id), num(b.cursor), num(b.sent), num(b.failed), opt_ms(b.finished_at)});
}

std::vector<core::User> SqlTx::reachable_users(core::UserId after, int limit) {
  static const std::string sql = cat({"SELECT ", kUserCols, " FROM users WHERE id > $1 AND banned = 0 "
                                      "AND blocked_bot = 0 ORDER BY id LIMIT $2"});
  std::vector<core::User> out;
  for (const auto& row : q(sql, {num(after), num(limit)}).rows) out.push_back(to_user(row));
  return out;
}

bool SqlTx::insert_inbox_update(const core::InboxUpdate& u) {
  return q("INSERT INTO telegram_updates (update_id, chat_id, body, received_at) VALUES ($1, $2, $3, $4) "
           "ON CONFLICT (update_id) DO NOTHING",
           {num(u.update_id), num(u.chat_id), text(u.body), ms(u.received_at)})
             .affected == 1;
}

std::vector<core::InboxUpdate> SqlTx::inbox_updates(std::int64_t after_update_id, int limit) {
  auto r = q("SELECT update_id, chat_id, body, received_at FROM telegram_updates WHERE update_id > $1 "
             "ORDER BY update_id LIMIT $2",
             {num(after_update_id), num(limit)});
  std::vector<core::InboxUpdate> out;
  for (const auto& row : r.rows) {
    out.push_back({.update_id = row.i64(0), .chat_id = row.i64(1), .body = row.text(2), .received_at = ts(row, 3)});
  }
  return out;
}

void SqlTx::delete_inbox_update(std::int64_t update_id) {
  q("DELETE FROM telegram_updates WHERE update_id = $1", {num(update_id)});
}

std::optional<std::string> SqlTx::get_setting(std::string_view key) {
  auto r = q("SELECT value FROM settings WHERE key = $1", {text(key)});
  if (r.rows.empty()) return std::nullopt;
  return r.rows[0].text(0);
}

void SqlTx::put_setting(std::string_view key, std::string_view value) {
  q("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    {text(key), text(value)});
}

}  // namespace igb::storage
