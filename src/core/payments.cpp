#include "core/payments.hpp"

#include <algorithm>

namespace igb::core {
namespace {

// A new period of `plan_id` starts when the user's current period of that plan ends, or now.
Timestamp next_period_start(Tx& tx, UserId user, std::string_view plan_id, Timestamp now) {
  Timestamp start = now;
  for (const auto& s : tx.subscriptions_of(user)) {
    if (s.status == SubscriptionStatus::active && s.plan_id == plan_id && s.period_end > start) {
      start = s.period_end;
    }
  }
  return start;
}

void ensure_user_row(Tx& tx, UserId user, Timestamp now) {
  if (!tx.find_user(user)) tx.upsert_user(user, "", "", now);
}

// The latest Stars period that has not ended: the one Telegram renews next.
std::optional<Subscription> current_stars(Tx& tx, UserId user, Timestamp now) {
  std::optional<Subscription> current;
  for (auto& s : tx.subscriptions_of(user)) {
    if (s.status == SubscriptionStatus::active && s.source == SubscriptionSource::stars && s.period_end > now &&
        (!current || s.period_end > current->period_end)) {
      current = std::move(s);
    }
  }
  return current;
}

// Whether `user` paid `amount` `currency` for `plan_id` before, in a payment that bought a period.
bool paid_before_at(Tx& tx, UserId user, std::string_view plan_id, std::int64_t amount, std::string_view currency) {
  for (const auto& s : tx.subscriptions_of(user)) {
    if (s.source != SubscriptionSource::stars || s.plan_id != plan_id || !s.charge_id) continue;
    auto p = tx.find_payment(*s.charge_id, /*for_update=*/false);
    if (p && p->amount == amount && p->currency == currency) return true;
  }
  return false;
}

// See "What a successful payment must agree with" in payments.hpp. Empty when it buys its plan.
std::string payment_problem(Tx& tx, const PlanCatalog& plans, const PaymentEvent& e) {
  const Plan* plan = e.plan_id.empty() ? nullptr : plans.find(e.plan_id);
  if (plan == nullptr) return "payment for unknown plan '" + e.plan_id + "'";
  auto mismatch = [&](std::int64_t price, const char* whose) {
    return "payment of " + std::to_string(e.amount) + " " + e.currency + " does not match " + whose + " of " +
           std::to_string(price) + " XTR";
  };
  if (e.invoiced_price) {
    if (e.currency == "XTR" && e.amount == *e.invoiced_price && *e.invoiced_price > 0) return {};
    return mismatch(*e.invoiced_price, "the invoice's price");
  }
  if (check_price(plans, e.plan_id, e.currency, e.amount) == PriceCheck::ok) return {};
  if (e.is_recurring && e.currency == "XTR" && e.amount > 0 &&
      paid_before_at(tx, e.user_id, e.plan_id, e.amount, e.currency)) {
    return {};
  }
  return mismatch(plan->price_stars, "the plan's price");
}

}  // namespace

PriceCheck check_price(const PlanCatalog& plans, std::string_view plan_id, std::string_view currency,
                       std::int64_t amount) {
  const Plan* plan = plans.find_on_sale(plan_id);
  if (plan == nullptr) return PriceCheck::not_on_sale;
  if (currency != "XTR" || amount != plan->price_stars) return PriceCheck::wrong_price;
  return PriceCheck::ok;
}

Result<CreditOutcome> PaymentService::apply_payment(const PaymentEvent& e) {
  if (e.charge_id.empty() || e.charge_id.size() > 255) {
    return make_error(ErrorCode::invalid_argument, "payment without a valid charge id");
  }
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<CreditOutcome> {
    ensure_user_row(tx, e.user_id, now);
    Payment p{.charge_id = e.charge_id,
              .user_id = e.user_id,
              .plan_id = e.plan_id,
              .amount = e.amount,
              .currency = e.currency,
              .is_recurring = e.is_recurring,
              .created_at = e.at};
    CreditOutcome out;
    if (!tx.insert_payment(p)) {
      out.duplicate = true;
      return out;
    }
    out.problem = payment_problem(tx, plans_, e);
    if (!out.problem.empty()) return out;

    Subscription s{.user_id = e.user_id,
                   .plan_id = e.plan_id,
                   .status = SubscriptionStatus::active,
                   .auto_renew = e.is_recurring,
                   .source = SubscriptionSource::stars,
                   .charge_id = e.charge_id,
                   .created_at = now};
    s.period_start = next_period_start(tx, e.user_id, e.plan_id, now);
    s.period_end = s.period_start + kSubscriptionPeriod;
    if (e.subscription_expiration && *e.subscription_expiration > s.period_start) {
      s.period_end = *e.subscription_expiration;
    }
    s.id = tx.insert_subscription(s);
    tx.set_payment_subscription(e.charge_id, s.id);
    out.subscription = std::move(s);
    return out;
  });
}

Result<RefundOutcome> PaymentService::refund(std::string_view charge_id) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<RefundOutcome> {
    auto payment = tx.find_payment(charge_id, /*for_update=*/true);
    if (!payment) return make_error(ErrorCode::not_found, "no payment with this charge id");
    RefundOutcome out;
    if (!tx.mark_payment_refunded(charge_id, now)) {
      out.duplicate = true;
      return out;
    }
    if (payment->subscription_id) {
      tx.set_subscription_status(*payment->subscription_id, SubscriptionStatus::refunded);
      out.revoked = tx.find_subscription(*payment->subscription_id);
    }
    return out;
  });
}

Result<Subscription> PaymentService::grant(UserId user, std::string_view plan_id, int days) {
  if (plans_.find_on_sale(plan_id) == nullptr) {
    return make_error(ErrorCode::invalid_argument, "unknown paid plan '" + std::string(plan_id) + "'");
  }
  if (days < 1 || days > 3660) return make_error(ErrorCode::invalid_argument, "days must be between 1 and 3660");
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<Subscription> {
    ensure_user_row(tx, user, now);
    Subscription s{.user_id = user,
                   .plan_id = std::string(plan_id),
                   .status = SubscriptionStatus::active,
                   .auto_renew = false,
                   .source = SubscriptionSource::admin,
                   .created_at = now};
    s.period_start = next_period_start(tx, user, plan_id, now);
    s.period_end = s.period_start + std::chrono::days(days);
    s.id = tx.insert_subscription(s);
    return s;
  });
}

std::optional<Subscription> PaymentService::current_stars_subscription(UserId user) {
  auto tx = store_.begin(TxMode::read);
  return current_stars(*tx, user, clock_.now());
}

Result<Subscription> PaymentService::set_auto_renew(UserId user, bool auto_renew, RenewalStop stopped_by) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<Subscription> {
    auto current = current_stars(tx, user, now);
    if (!current) return make_error(ErrorCode::not_found, "no paid subscription to change");
    const auto by = auto_renew ? RenewalStop::none : stopped_by;
    tx.set_subscription_auto_renew(current->id, auto_renew, by);
    current->auto_renew = auto_renew;
    current->renewal_stopped_by = by;
    return std::move(*current);
  });
}

}  // namespace igb::core
