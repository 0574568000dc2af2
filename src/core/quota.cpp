#include "core/quota.hpp"

#include <chrono>

namespace igb::core {

QuotaStatus resolve_quota(Tx& tx, const PlanCatalog& plans, UserId user, Timestamp now, bool lock) {
  QuotaStatus st;
  st.plan = plans.free();
  for (auto& sub : tx.subscriptions_of(user)) {
    if (sub.status != SubscriptionStatus::active || sub.period_start > now || sub.period_end <= now) continue;
    const Plan* plan = plans.find(sub.plan_id);
    if (plan == nullptr) continue;  // a plan removed from configuration no longer grants anything
    if (!st.subscription || plan->priority > st.plan.priority) {
      st.plan = *plan;
      st.subscription = std::move(sub);
    }
  }
  if (st.subscription) {
    st.period_start = st.subscription->period_start;
    st.resets_at = st.subscription->period_end;
  } else {
    auto day = std::chrono::floor<std::chrono::days>(now);
    st.period_start = Timestamp(day);
    st.resets_at = Timestamp(day + std::chrono::days(1));
  }
  st.limit = st.plan.images_per_period;
  st.failed_limit = failed_attempts_limit(st.plan);
  std::optional<QuotaCounter> counter;
  if (lock) {
    counter = tx.lock_quota(user, st.period_start);
  } else {
    counter = tx.find_quota(user, st.period_start);
  }
  if (counter) {
    st.used = counter->used;
    st.reserved = counter->reserved;
    st.failed = counter->failed;
  }
  return st;
}

QuotaStatus QuotaService::status(UserId user) {
  auto tx = store_.begin(TxMode::read);
  return resolve_quota(*tx, plans_, user, clock_.now(), false);
}

}  // namespace igb::core
