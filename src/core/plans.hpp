#pragma once
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/model.hpp"

namespace igb::core {

// The tiers on sale. Built from configuration; the defaults are default_plans().
class PlanCatalog {
 public:
  // Checks the plans (a "free" plan exists, ids unique, limits positive); an error names the plan.
  static Result<PlanCatalog> create(std::vector<Plan> plans);

  const Plan& free() const { return plans_.front(); }
  const Plan* find(std::string_view id) const;
  // The plan if it is on sale (see on_sale), else null: what an invoice, a pre-checkout and a
  // payment may name.
  const Plan* find_on_sale(std::string_view id) const;
  const std::vector<Plan>& all() const { return plans_; }
  std::vector<Plan> paid() const;

 private:
  explicit PlanCatalog(std::vector<Plan> plans) : plans_(std::move(plans)) {}
  std::vector<Plan> plans_;  // free first
};

std::vector<Plan> default_plans();

// Telegram's limits for what a paid plan becomes: a Stars subscription invoice (createInvoiceLink).
inline constexpr int kMaxSubscriptionStars = 10000;
inline constexpr std::size_t kMaxInvoiceTitle = 32;  // characters

// Whether a plan can be bought: a price in Stars above zero (0 is the free plan; PlanCatalog::create
// refuses negative prices). The one rule the bot, the API, billing and the ledger share.
inline bool on_sale(const Plan& plan) { return plan.price_stars > 0; }

// The failed jobs a plan allows per period (0: no limit): failed_attempts_per_period, or, unset, as
// many as the plan's images.
inline int failed_attempts_limit(const Plan& plan) {
  return plan.failed_attempts_per_period.value_or(plan.images_per_period);
}

}  // namespace igb::core
