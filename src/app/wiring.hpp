#pragma once
// The composition root: the one place that builds concrete adapters and hands them to the core.
#include <memory>

#include "config/config.hpp"
#include "core/accounts.hpp"
#include "core/clock.hpp"
#include "core/jobs.hpp"
#include "core/admin.hpp"
#include "core/notices.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "core/store.hpp"
#include "runtime/change_feed.hpp"

namespace igb::app {

struct Services {
  config::Config config;
  core::SystemClock clock;
  core::PlanCatalog plans;
  // Committed job changes of this process (from the store) and, on PostgreSQL, of others (by NOTIFY,
  // when serve() listens): what status streams wait on.
  std::shared_ptr<runtime::ChangeFeed> changes = std::make_shared<runtime::ChangeFeed>();
  std::unique_ptr<core::Store> store;
  std::unique_ptr<core::AccountService> accounts;
  std::unique_ptr<core::QuotaService> quota;
  std::unique_ptr<core::JobService> jobs;
  std::unique_ptr<core::PaymentService> payments;
  std::unique_ptr<core::AdminService> admin;
  std::unique_ptr<core::NoticeService> notices;
};

// Opens (and migrates) the database and builds the services. Throws on a broken database.
std::unique_ptr<Services> wire(config::Config config, core::PlanCatalog plans);

}  // namespace igb::app
