// GET/POST/DELETE /v1/subscription, GET /v1/plans
#include <boost/json.hpp>

#include "api/auth.hpp"
#include "api/errors.hpp"
#include "api/requests.hpp"
#include "api/routes/routes.hpp"
#include "api/views.hpp"

namespace igb::api {
namespace {

namespace json = boost::json;
namespace net = boost::asio;

json::object subscription_json(const core::QuotaStatus& q) {
  return json::object{
      {"plan", plan_json(q.plan)},
      {"status", q.subscription ? "active" : "free"},
      {"period_end", q.subscription ? json::value(iso8601(q.subscription->period_end)) : json::value(nullptr)},
      {"auto_renew", q.subscription ? q.subscription->auto_renew : false},
      {"quota", quota_json(q)}};
}

net::awaitable<server::Response> subscription(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  auto q = co_await ctx->account.quota(user->id);
  co_return server::Response::json(200, json::serialize(subscription_json(q)));
}

server::Response payments_unavailable() {
  return server::Response::problem(503, "Service Unavailable", "Payments are not set up on this server.");
}

// An invoice link for the caller's Telegram account: paying it in Telegram starts the subscription,
// which GET /v1/subscription shows the moment the payment lands.
net::awaitable<server::Response> subscribe(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  auto parsed = read_body(req, subscribe_request());
  if (!parsed) co_return std::move(parsed).error();
  auto plan = parsed->string("plan");
  if (auto errors = parsed->errors(); !errors.empty()) co_return validation_error(errors);
  std::string plan_id = std::move(plan).value();
  const auto* p = ctx->plans.find_on_sale(plan_id);
  if (p == nullptr) {
    co_return validation_error({{"plan", "not a plan on sale (see GET /v1/plans)", "value_error.plan"}});
  }
  if (ctx->gateway == nullptr) co_return payments_unavailable();
  auto link = co_await ctx->billing.invoice_link(user->id, plan_id);
  if (!link) co_return error_response(link.error());
  json::object body{{"payment_url", link.value()},
                    {"plan", plan_json(*p)},
                    {"price_stars", p->price_stars},
                    {"currency", "XTR"},
                    {"period_days", 30}};
  co_return server::Response::json(201, json::serialize(body));
}

// Stops Telegram's monthly renewal; the plan stays to the end of the period paid for.
net::awaitable<server::Response> unsubscribe(ApiContext* ctx, server::Request& req) {
  auto user = co_await authenticate(*ctx, req);
  if (!user) co_return error_response(user.error());
  if (ctx->gateway == nullptr) co_return payments_unavailable();
  auto changed = co_await ctx->billing.set_auto_renew(user->id, false);
  if (!changed) co_return error_response(changed.error());
  auto q = co_await ctx->account.quota(user->id);
  co_return server::Response::json(200, json::serialize(subscription_json(q)));
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
  routes.add("POST", "/v1/subscription", [&ctx](server::Request& r) { return subscribe(&ctx, r); },
             {.summary = "A Telegram Stars invoice link for a 30-day, monthly renewed plan",
              .operation_id = "createSubscription",
              .tag = "account",
              .auth = true,
              .request_schema = request_schema(subscribe_request()),
              .responses = {{201, "payment_url: open it in Telegram to pay"},
                            {401, "Missing or wrong API key"},
                            {422, "Not a plan on sale"},
                            {503, "Payments are not set up, or Telegram did not answer"}}});
  routes.add("DELETE", "/v1/subscription", [&ctx](server::Request& r) { return unsubscribe(&ctx, r); },
             {.summary = "Stop auto-renewal; the plan stays to the end of the period",
              .operation_id = "cancelSubscriptionRenewal",
              .tag = "account",
              .auth = true,
              .responses = {{200, "The subscription, auto_renew false"},
                            {401, "Missing or wrong API key"},
                            {404, "No Stars subscription to change"},
                            {503, "Payments are not set up, or Telegram did not answer"}}});
  routes.add("GET", "/v1/plans", [&ctx](server::Request& r) { return plans(&ctx, r); },
             {.summary = "The tiers on offer",
              .operation_id = "listPlans",
              .tag = "account",
              .responses = {{200, "The plans"}}});
}

}  // namespace igb::api
