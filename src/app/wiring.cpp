#include "app/wiring.hpp"

#include "storage/store.hpp"

namespace igb::app {

std::unique_ptr<Services> wire(config::Config config, core::PlanCatalog plans) {
  auto s = std::unique_ptr<Services>(new Services{.config = std::move(config), .plans = std::move(plans)});
  s->store = storage::open_store({.database_url = s->config.database_url,
                                  .pool_size = s->config.db_pool_size,
                                  .on_jobs_changed = [changes = s->changes](const std::vector<std::string>& ids) {
                                    for (const auto& id : ids) changes->publish(id);
                                    changes->publish(runtime::ChangeFeed::kQueue);
                                  }});
  s->accounts = std::make_unique<core::AccountService>(*s->store, s->clock);
  s->quota = std::make_unique<core::QuotaService>(*s->store, s->clock, s->plans);
  s->jobs = std::make_unique<core::JobService>(*s->store, s->clock, s->plans, s->config.jobs);
  s->payments = std::make_unique<core::PaymentService>(*s->store, s->clock, s->plans);
  s->admin = std::make_unique<core::AdminService>(
      *s->store, s->clock,
      core::AdminOptions{.usd_micros_per_star = s->config.stars_usd_micros,
                         .spend_limit_micros = s->config.jobs.daily_spend_limit_micros});
  s->notices = std::make_unique<core::NoticeService>(*s->store, s->clock, s->plans);
  return s;
}

}  // namespace igb::app
