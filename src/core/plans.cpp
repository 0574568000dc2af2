#include "core/plans.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "util/strings.hpp"

namespace igb::core {

std::vector<Plan> default_plans() {
  return {
      Plan{.id = "free",
           .title = "Free",
           .images_per_period = 10,
           .period = PeriodKind::daily,
           .max_pixels = 1024 * 1024,
           .max_side = 1024,
           .max_concurrent_jobs = 1,
           .priority = 0,
           .images_per_request = 1,
           .price_stars = 0},
      Plan{.id = "basic",
           .title = "Basic",
           .images_per_period = 300,
           .period = PeriodKind::days30,
           .max_pixels = 1440 * 1440,
           .max_side = 1440,
           .max_concurrent_jobs = 2,
           .priority = 5,
           .images_per_request = 2,
           .price_stars = 150},
      Plan{.id = "pro",
           .title = "Pro",
           .images_per_period = 1500,
           .period = PeriodKind::days30,
           .max_pixels = 2048 * 1024,
           .max_side = 2048,
           .max_concurrent_jobs = 4,
           .priority = 10,
           .images_per_request = 4,
           .price_stars = 500},
  };
}

Result<PlanCatalog> PlanCatalog::create(std::vector<Plan> plans) {
  std::set<std::string> ids;
  for (const auto& p : plans) {
    auto bad = [&](const std::string& what) {
      return make_error(ErrorCode::invalid_argument, "plan '" + p.id + "': " + what);
    };
    if (p.id.empty()) return make_error(ErrorCode::invalid_argument, "a plan has an empty id");
    if (!ids.insert(p.id).second) return bad("defined twice");
    if (p.images_per_period <= 0) return bad("images_per_period must be positive");
    if (p.max_pixels <= 0 || p.max_side <= 0) return bad("max_pixels and max_side must be positive");
    if (p.max_concurrent_jobs <= 0) return bad("max_concurrent_jobs must be positive");
    if (p.images_per_request <= 0) return bad("images_per_request must be positive");
    if (p.price_stars < 0) return bad("price_stars must not be negative");
    if (p.failed_attempts_per_period.value_or(0) < 0) return bad("failed_attempts_per_period must not be negative");
    if (p.id != "free" && p.price_stars == 0) return bad("a paid plan needs price_stars");
    if (p.id != "free" && p.period != PeriodKind::days30) return bad("paid plans run for 30-day periods");
    // Telegram's limits for a Stars subscription invoice (createInvoiceLink in ../shared/telegram/botapi.json:
    // "Product name, 1-32 characters"; "Subscription price must no exceed 10000 Telegram Stars"): caught here,
    // at start-up, rather than as a refused invoice when a user tries to pay.
    if (p.id != "free" && p.price_stars > kMaxSubscriptionStars) {
      return bad("price_stars is at most " + std::to_string(kMaxSubscriptionStars) +
                 " (Telegram's limit for a Stars subscription)");
    }
    if (p.id != "free" && (util::utf8_length(p.title) < 1 || util::utf8_length(p.title) > kMaxInvoiceTitle)) {
      return bad("title must be 1 to " + std::to_string(kMaxInvoiceTitle) +
                 " characters (Telegram's limit for an invoice title)");
    }
  }
  auto free_it = std::find_if(plans.begin(), plans.end(), [](const Plan& p) { return p.id == "free"; });
  if (free_it == plans.end()) return make_error(ErrorCode::invalid_argument, "no 'free' plan defined");
  if (free_it->price_stars != 0) return make_error(ErrorCode::invalid_argument, "plan 'free': price_stars must be 0");
  std::rotate(plans.begin(), free_it, free_it + 1);
  return PlanCatalog(std::move(plans));
}

const Plan* PlanCatalog::find(std::string_view id) const {
  for (const auto& p : plans_) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Plan* PlanCatalog::find_on_sale(std::string_view id) const {
  const Plan* plan = find(id);
  return plan != nullptr && on_sale(*plan) ? plan : nullptr;
}

std::vector<Plan> PlanCatalog::paid() const { return {plans_.begin() + 1, plans_.end()}; }

}  // namespace igb::core
