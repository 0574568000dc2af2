#pragma once
#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"

namespace igb::core {

// The plan in force for a user at `now` and the usage of its current period: the active paid period
// with the highest priority plan, else the free plan's UTC day. With lock=true the period's counter is
// row-locked until the transaction ends, so a check-then-reserve is atomic even across processes.
QuotaStatus resolve_quota(Tx& tx, const PlanCatalog& plans, UserId user, Timestamp now, bool lock);

class QuotaService {
 public:
  QuotaService(Store& store, const Clock& clock, const PlanCatalog& plans)
      : store_(store), clock_(clock), plans_(plans) {}
  QuotaStatus status(UserId user);

 private:
  Store& store_;
  const Clock& clock_;
  const PlanCatalog& plans_;
};

}  // namespace igb::core
