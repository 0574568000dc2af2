// GET /healthz, GET /readyz, GET /metrics
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "api/metrics.hpp"
#include "api/routes/routes.hpp"
#include "gen/router.hpp"
#include "usecases/operations.hpp"

namespace igb::api {
namespace {

namespace json = boost::json;
namespace net = boost::asio;

net::awaitable<server::Response> healthz(server::Request&) {
  co_return server::Response::json(200, R"({"status":"ok"})");
}

// /readyz needs no key (load balancers and container health checks call it), so it must cost
// little and tell nothing: the answer is computed at most once a second and shared by every caller
// meanwhile (a flood costs one database read a second), and a failing check says "unavailable" while
// the reason (which may name hosts) goes to the log only.
struct ReadyCache {
  std::mutex mutex;
  std::chrono::steady_clock::time_point computed_at{};
  bool computing = false;
  std::optional<server::Response> answer;
};

constexpr std::chrono::seconds kReadyTtl{1};

net::awaitable<server::Response> readyz(ApiContext* ctx, std::function<std::string()> check_database,
                                        std::shared_ptr<ReadyCache> cache, server::Request&) {
  const auto now = std::chrono::steady_clock::now();
  {
    ReadyCache& c = *cache;  // one object for the check and the read (not two calls of operator->)
    std::lock_guard lock(c.mutex);
    if (c.answer && (now - c.computed_at < kReadyTtl || c.computing)) co_return *c.answer;
    c.computing = true;
  }
  struct Done {  // however this ends, the next caller may compute again
    ReadyCache& cache;
    ~Done() {
      std::lock_guard lock(cache.mutex);
      cache.computing = false;
    }
  } done{*cache};
  auto db_problem = co_await usecases::database_problem(ctx->pool, check_database);
  if (!db_problem.empty()) spdlog::warn("readyz: {}", db_problem);
  json::object checks{{"database", db_problem.empty() ? "ok" : "unavailable"}};
  bool ready = db_problem.empty();
  if (ctx->router != nullptr) {
    json::array backends;
    for (const auto& h : ctx->router->health()) {
      backends.push_back(json::object{{"name", h.name}, {"state", gen::to_string(h.state)}});
    }
    checks["backends"] = std::move(backends);
    if (!ctx->router->any_usable()) ready = false;
  }
  auto answer = server::Response::json(
      ready ? 200 : 503,
      json::serialize(json::object{{"status", ready ? "ready" : "not ready"}, {"checks", std::move(checks)}}));
  answer.headers.emplace_back("Cache-Control", "no-store");
  {
    std::lock_guard lock(cache->mutex);
    cache->answer = answer;
    cache->computed_at = std::chrono::steady_clock::now();
  }
  co_return answer;
}

net::awaitable<server::Response> metrics(ApiContext* ctx, server::Request&) {
  auto counts = co_await ctx->generation.counts();
  for (const auto& [state, n] : counts) ctx->metrics.set_jobs(core::to_string(state), static_cast<double>(n));
  server::Response res;
  res.headers = {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  res.body = ctx->metrics.render();
  co_return res;
}

}  // namespace

void add_ops_routes(server::RouteTable& routes, ApiContext& ctx, std::function<std::string()> check_database) {
  routes.add("GET", "/healthz", [](server::Request& r) { return healthz(r); },
             {.summary = "Alive", .operation_id = "healthz", .tag = "operations", .responses = {{200, "Alive"}}});
  routes.add("GET", "/readyz",
             [&ctx, check_database = std::move(check_database), cache = std::make_shared<ReadyCache>()](
                 server::Request& r) { return readyz(&ctx, check_database, cache, r); },
             {.summary = "Ready: database reachable and migrated, at least one provider backend usable",
              .operation_id = "readyz",
              .tag = "operations",
              .responses = {{200, "Ready"}, {503, "Not ready, with the failing checks"}}});
  routes.add("GET", "/metrics", [&ctx](server::Request& r) { return metrics(&ctx, r); },
             {.summary = "Prometheus metrics",
              .operation_id = "metrics",
              .tag = "operations",
              .responses = {{200, "Text exposition format"}},
              .response_content_type = "text/plain"});
}

}  // namespace igb::api
