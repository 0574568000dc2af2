#pragma once
// What the roles of one process (API, bot, workers) are wired over: the core services and the
// process's runtime. `serve` builds them from app::Services; tests build them over their own services
// (a manual clock, a throwaway database) and call the same wire_* functions.
#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "app/wiring.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/supervisor.hpp"
#include "usecases/submit_batcher.hpp"

namespace igb::app {

// References to the core services (app::Services owns them in the executable).
struct Core {
  core::Store& store;
  const core::Clock& clock;
  const core::PlanCatalog& plans;
  core::AccountService& accounts;
  core::QuotaService& quota;
  core::JobService& jobs;
  core::PaymentService& payments;
  core::AdminService& admin;
  core::NoticeService& notices;
};

inline Core core_of(Services& s) {
  return {.store = *s.store,
          .clock = s.clock,
          .plans = s.plans,
          .accounts = *s.accounts,
          .quota = *s.quota,
          .jobs = *s.jobs,
          .payments = *s.payments,
          .admin = *s.admin,
          .notices = *s.notices};
}

// The process's plumbing the roles share.
struct Runtime {
  // The control strand: supervision, the workers, the bot, the provider router and the Bot API
  // client run on it (they are single-threaded).
  boost::asio::any_io_executor control;
  runtime::BlockingPool& pool;
  runtime::Supervisor& supervisor;
  // One group commit for the API's and the bot's submissions.
  std::shared_ptr<usecases::SubmitBatcher> submits;
};

}  // namespace igb::app
