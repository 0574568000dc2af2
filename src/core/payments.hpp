#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"

namespace igb::core {

inline constexpr auto kSubscriptionPeriod = std::chrono::days(30);

struct CreditOutcome {
  bool duplicate = false;  // this charge id was applied before; nothing changed
  std::optional<Subscription> subscription;  // the period the payment bought
  // Set when the money arrived but buys nothing (unknown plan, wrong amount or currency): the
  // payment is in the ledger for an operator to refund.
  std::string problem;
};

struct RefundOutcome {
  bool duplicate = false;  // refunded before; nothing changed
  std::optional<Subscription> revoked;
};

// What Telegram's pre-checkout query and the successful payment must agree on: a plan on sale,
// paid in Stars ("XTR") at exactly its price.
enum class PriceCheck { ok, not_on_sale, wrong_price };
PriceCheck check_price(const PlanCatalog& plans, std::string_view plan_id, std::string_view currency,
                       std::int64_t amount);

// What a successful payment must agree with to buy its plan: the plan its signed invoice names, paid
// at the price that invoice was made for (`invoiced_price`). Telegram renews a subscription at the
// price it was bought at, so a change of the plan's price never swallows a renewal. A payload from
// before prices were signed is held to today's price or, for a renewal, to the amount of an earlier
// payment of the same plan that bought a period. PaymentService::apply_payment applies it; the
// pre-checkout (a first purchase) uses check_price.

// The payments ledger and the subscriptions it buys. Each charge id is applied once.
class PaymentService {
 public:
  PaymentService(Store& store, const Clock& clock, const PlanCatalog& plans)
      : store_(store), clock_(clock), plans_(plans) {}

  // Records the payment under its charge id and activates or extends the plan it paid for.
  Result<CreditOutcome> apply_payment(const PaymentEvent& event);
  // Records the refund of a payment and revokes the period it bought.
  Result<RefundOutcome> refund(std::string_view charge_id);
  // An operator's gift: `days` of `plan_id` from now, or from the end of the same plan's current period.
  Result<Subscription> grant(UserId user, std::string_view plan_id, int days);
  // The user's latest Stars period that has not ended (the one Telegram would renew), if any.
  std::optional<Subscription> current_stars_subscription(UserId user);
  // Turns auto-renewal of the user's current Stars period on or off, recording who stopped it;
  // returns that period.
  Result<Subscription> set_auto_renew(UserId user, bool auto_renew, RenewalStop stopped_by);

 private:
  Store& store_;
  const Clock& clock_;
  const PlanCatalog& plans_;
};

}  // namespace igb::core
