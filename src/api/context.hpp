#pragma once
// What the HTTP API's handlers work with: the core services, the blocking pool that runs them, and
// the process's metrics. Built by the app; tests build it with fakes.
#include <chrono>
#include <functional>
#include <memory>

#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::gen {
class Router;
}

namespace igb::api {

class Metrics;
class KeyCache;
class RateLimiter;

struct ApiOptions {
  int rate_per_minute = 120;  // per API key, token bucket
  int burst = 20;
  std::chrono::milliseconds key_cache_ttl{10'000};  // a revoked key stops working within this
  std::chrono::milliseconds events_poll{250};       // how often an SSE stream looks for changes
  std::chrono::milliseconds events_ping{15'000};
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
  ApiOptions options;
  std::shared_ptr<KeyCache> keys;
  std::shared_ptr<RateLimiter> limiter;
};

}  // namespace igb::api
