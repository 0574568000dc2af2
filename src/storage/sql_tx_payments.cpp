// Subscriptions (with those about to end, for the notices) and Telegram Stars payments.
#include "storage/sql_tx.hpp"

namespace igb::storage {
namespace {

constexpr std::string_view kSubCols =
    "id, user_id, plan_id, status, period_start, period_end, auto_renew, source, charge_id, created_at, "
    "renewal_stopped_by";

// subscriptions.renewal_stopped_by (migration 0008): NULL is none; an unknown word reads as none.
core::RenewalStop renewal_stop_from(const std::optional<std::string>& s) {
  if (s == "bot") return core::RenewalStop::bot;
  if (s == "user") return core::RenewalStop::user;
  if (s == "failed") return core::RenewalStop::failed;
  return core::RenewalStop::none;
}

SqlParam renewal_stop_param(core::RenewalStop r) {
  switch (r) {
    case core::RenewalStop::bot: return std::string("bot");
    case core::RenewalStop::user: return std::string("user");
    case core::RenewalStop::failed: return std::string("failed");
    case core::RenewalStop::none: break;
  }
  return nullptr;
}

core::Subscription to_sub(const Row& r) {
  auto status = core::subscription_status_from(r.text(3));
  auto source = core::subscription_source_from(r.text(7));
  if (!status || !source) throw DbError(DbError::Kind::other, "bad subscription row " + r.text(0));
  return core::Subscription{.id = r.i64(0),
                            .user_id = r.i64(1),
                            .plan_id = r.text(2),
                            .status = *status,
                            .period_start = ts(r, 4),
                            .period_end = ts(r, 5),
                            .auto_renew = r.i64(6) != 0,
                            .renewal_stopped_by = renewal_stop_from(r.opt_text(10)),
                            .source = *source,
                            .charge_id = r.opt_text(8),
                            .created_at = ts(r, 9)};
}

constexpr std::string_view kPaymentCols =
    "charge_id, user_id, plan_id, amount, currency, is_recurring, subscription_id, created_at, refunded_at";

core::Payment to_payment(const Row& r) {
  return core::Payment{.charge_id = r.text(0),
                       .user_id = r.i64(1),
                       .plan_id = r.text(2),
                       .amount = r.i64(3),
                       .currency = r.text(4),
                       .is_recurring = r.i64(5) != 0,
                       .subscription_id = r.opt_i64(6),
                       .created_at = ts(r, 7),
                       .refunded_at = opt_ts(r, 8)};
}

}  // namespace

std::int64_t SqlTx::insert_subscription(const core::Subscription& s) {
  auto r =
      q("INSERT INTO subscriptions (user_id, plan_id, status, period_start, period_end, auto_renew, source, "
        "charge_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        {num(s.user_id), text(s.plan_id), text(core::to_string(s.status)), ms(s.period_start), ms(s.period_end),
         num(s.auto_renew), text(core::to_string(s.source)), opt_text(s.charge_id), ms(s.created_at)});
  return r.rows.at(0).i64(0);
}

std::vector<core::Subscription> SqlTx::subscriptions_of(core::UserId user) {
  static const std::string sql =
      join_sql({"SELECT ", kSubCols, " FROM subscriptions WHERE user_id = $1 ORDER BY period_end DESC, id DESC"});
  std::vector<core::Subscription> out;
  for (const auto& row : q(sql, {num(user)}).rows) out.push_back(to_sub(row));
  return out;
}

std::optional<core::Subscription> SqlTx::find_subscription(std::int64_t id) {
  static const std::string sql = join_sql({"SELECT ", kSubCols, " FROM subscriptions WHERE id = $1"});
  auto r = q(sql, {num(id)});
  if (r.rows.empty()) return std::nullopt;
  return to_sub(r.rows[0]);
}

bool SqlTx::set_subscription_status(std::int64_t id, core::SubscriptionStatus status) {
  return q("UPDATE subscriptions SET status = $2 WHERE id = $1", {num(id), text(core::to_string(status))}).affected ==
         1;
}

bool SqlTx::set_subscription_auto_renew(std::int64_t id, bool auto_renew, core::RenewalStop stopped_by) {
  return q("UPDATE subscriptions SET auto_renew = $2, renewal_stopped_by = $3 WHERE id = $1",
           {num(id), num(auto_renew), auto_renew ? SqlParam(nullptr) : renewal_stop_param(stopped_by)})
             .affected == 1;
}

bool SqlTx::insert_payment(const core::Payment& p) {
  return q("INSERT INTO payments (charge_id, user_id, plan_id, amount, currency, is_recurring, subscription_id, "
           "created_at, refunded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (charge_id) DO NOTHING",
           {text(p.charge_id), num(p.user_id), text(p.plan_id), num(p.amount), text(p.currency), num(p.is_recurring),
            p.subscription_id ? num(*p.subscription_id) : SqlParam(nullptr), ms(p.created_at), opt_ms(p.refunded_at)})
             .affected == 1;
}

std::optional<core::Payment> SqlTx::find_payment(std::string_view charge_id, bool for_update) {
  static const std::string sql = join_sql({"SELECT ", kPaymentCols, " FROM payments WHERE charge_id = $1"});
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

std::vector<core::Subscription> SqlTx::subscriptions_ending(core::Timestamp from, core::Timestamp to) {
  static const std::string sql = join_sql({"SELECT ", kSubCols,
                                           " FROM subscriptions WHERE status = 'active' "
                                           "AND period_end >= $1 AND period_end < $2 ORDER BY period_end, id"});
  std::vector<core::Subscription> out;
  for (const auto& row : q(sql, {ms(from), ms(to)}).rows) out.push_back(to_sub(row));
  return out;
}

}  // namespace igb::storage
