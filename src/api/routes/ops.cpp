// GET /healthz, GET /readyz, GET /metrics
#include <boost/json.hpp>

#include "api/metrics.hpp"
#include "api/routes/routes.hpp"
#include "gen/router.hpp"

namespace igb::api {
namespace {

namespace json = boost::json;
namespace net = boost::asio;

net::awaitable<server::Response> healthz(server::Request&) {
  co_return server::Response::json(200, R"({"status":"ok"})");
}

net::awaitable<server::Response> readyz(ApiContext* ctx, std::function<std::string()> check_database,
                                        server::Request&) {
  auto check = [check_database] {
    try {
      return check_database();
    } catch (const std::exception& e) {
      return std::string("database unreachable: ") + e.what();
    }
  };
  auto db_problem = co_await ctx->pool.run(check);
  json::object checks{{"database", db_problem.empty() ? "ok" : db_problem}};
  bool ready = db_problem.empty();
  if (ctx->router != nullptr) {
    json::array backends;
    for (const auto& h : ctx->router->health()) {
      backends.push_back(json::object{{"name", h.name}, {"state", gen::to_string(h.state)}});
    }
    checks["backends"] = std::move(backends);
    if (!ctx->router->any_usable()) ready = false;
  }
  co_return server::Response::json(ready ? 200 : 503, json::serialize(json::object{
                                                          {"status", ready ? "ready" : "not ready"},
                                                          {"checks", std::move(checks)}}));
}

net::awaitable<server::Response> metrics(ApiContext* ctx, server::Request&) {
  auto count_jobs = [ctx] {
    std::vector<std::pair<std::string, std::int64_t>> out;
    auto tx = ctx->store.begin(core::TxMode::read);
    for (auto st : {core::JobStatus::queued, core::JobStatus::running, core::JobStatus::succeeded,
                    core::JobStatus::failed, core::JobStatus::canceled}) {
      out.emplace_back(core::to_string(st), tx->count_jobs(st));
    }
    return out;
  };
  auto counts = co_await ctx->pool.run(count_jobs);
  for (const auto& [state, n] : counts) ctx->metrics.set_jobs(state, static_cast<double>(n));
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
             [&ctx, check_database](server::Request& r) { return readyz(&ctx, check_database, r); },
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
