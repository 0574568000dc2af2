// GET /v1/subscription, GET /v1/plans
#include <boost/json.hpp>

#include "api/auth.hpp"
#include "api/errors.hpp"
#include "api/routes/routes.hpp"
#include "api/views.hpp"

namespace igb::api {
namespace {

namespace json = boost::json;
namespace net = boost::asio;

net::awaitable<server::Response> subscription(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  auto read_quota = [ctx, id = user->id] { return ctx->quota.status(id); };
  auto q = co_await ctx->pool.run(read_quota);
  json::object body{{"plan", plan_json(q.plan)},
                    {"status", q.subscription ? "active" : "free"},
                    {"period_end", q.subscription ? json::value(iso8601(q.subscription->period_end)) : json::value(nullptr)},
                    {"auto_renew", q.subscription ? q.subscription->auto_renew : false},
                    {"quota", quota_json(q)}};
  co_return server::Response::json(200, json::serialize(body));
}

net::awaitable<server::Response> plans(ApiContext* ctx, server::Request&) {
  json::array list;
  for (const auto& p : ctx->plans.all()) list.push_back(plan_json(p));
  co_return server::Response::json(200, json::serialize(json::object{{"plans", std::move(list)}}));
}

}  // namespace

void add_account_routes(server::RouteTable& routes, ApiContext& ctx) {
  routes.add("GET", "/v1/subscription", [&ctx](server::Request& r) { return subscription(&ctx, r); },
             {.summary = "The caller's plan, period, auto-renewal and quota",
              .operation_id = "getSubscription",
              .tag = "account",
              .auth = true,
              .responses = {{200, "The subscription"}, {401, "Missing or wrong API key"}}});
  routes.add("GET", "/v1/plans", [&ctx](server::Request& r) { return plans(&ctx, r); },
             {.summary = "The tiers on offer",
              .operation_id = "listPlans",
              .tag = "account",
              .responses = {{200, "The plans"}}});
}

}  // namespace igb::api
