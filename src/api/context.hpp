#pragma once
// What the HTTP API's handlers work with: the core services, the blocking pool that runs them, and
// the process's metrics. Built by the app; tests build it with fakes.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "api/status_cache.hpp"
#include "api/stream_slots.hpp"
#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/change_feed.hpp"
#include "usecases/accounts.hpp"
#include "usecases/billing.hpp"
#include "usecases/generation.hpp"

namespace igb::gen {
class Router;
}

namespace igb::api {

class Metrics;
class KeyCache;
class RateLimiter;
using SubmitBatcher = usecases::SubmitBatcher;

struct ApiOptions {
  int rate_per_minute = 120;  // per API key, token bucket
  int burst = 20;
  std::chrono::milliseconds key_cache_ttl{10'000};  // a revoked key stops working within this
  // A status stream reads its job when the job changes (or, while queued, when any job does, as
  // its place in the queue may move): at most once per `events_poll`, and at least once per
  // `events_fallback` (changes of processes it cannot hear: other processes on SQLite).
  std::chrono::milliseconds events_poll{250};
  std::chrono::milliseconds events_fallback{5'000};
  // GET /v1/status answers from memory for this long after a read (a job that has ended: for an hour,
  // its answer no longer changes), so a client polling hard costs one database read per interval.
  std::chrono::milliseconds status_cache_ttl{250};
  std::chrono::milliseconds events_ping{15'000};
  // Open status streams: each holds a connection and reads the database while it lives.
  int events_per_user = 4;     // past it: 429
  int events_per_process = 500;  // past it: 503 (keep it under HTTP_MAX_CONNECTIONS)
  std::string public_base_url;  // prefix for image_url/status_url; empty: relative URLs
};

struct ApiContext {
  core::AccountService& accounts;
  core::JobService& jobs;
  core::QuotaService& quota;
  core::PaymentService& payments;
  const core::PlanCatalog& plans;
  core::Store& store;
  const core::Clock& clock;
  runtime::BlockingPool& pool;
  imaging::ImageStore& images;
  Metrics& metrics;
  gen::Router* router = nullptr;       // null when this process runs no workers
  std::function<void()> job_queued;    // wakes this process's workers, if any
  // Selling plans through Telegram Stars (billing::StarsBilling, wired by the app). Null: this process
  // cannot sell (no TELEGRAM_BOT_TOKEN), and the subscription routes answer 503.
  usecases::PaymentGateway* gateway = nullptr;
  ApiOptions options;
  std::shared_ptr<KeyCache> keys;
  std::shared_ptr<RateLimiter> limiter;
  // Keys looked up in the database (not found in `keys`), per client address; null: no limit.
  std::shared_ptr<RateLimiter> lookup_limiter;
  std::shared_ptr<StatusCache> statuses = std::make_shared<StatusCache>();
  std::shared_ptr<StreamSlots> streams = std::make_shared<StreamSlots>();
  std::shared_ptr<SubmitBatcher> submits;  // group commit of POST /v1/generate
  // Where job changes are published (the app connects it to the store and to NOTIFY).
  std::shared_ptr<runtime::ChangeFeed> changes = std::make_shared<runtime::ChangeFeed>();

  // The use cases the routes call: built from the members above (declared after them, so initialized
  // after them), they own each transaction and each hop to `pool`.
  usecases::Generation generation{
      {.jobs = jobs, .quota = quota, .store = store, .pool = pool, .images = images, .submits = submits}};
  usecases::Accounts account{{.accounts = accounts, .quota = quota, .store = store, .pool = pool}};
  usecases::Billing billing{{.payments = payments, .plans = plans, .store = store, .pool = pool, .gateway = gateway}};
};

}  // namespace igb::api
