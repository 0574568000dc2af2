#include "app/wire_api.hpp"

#include <spdlog/spdlog.h>

#include "api/api.hpp"
#include "api/auth.hpp"
#include "api/errors.hpp"

namespace igb::app {

std::unique_ptr<ApiRole> wire_api(const Core& core, const Runtime& rt, boost::asio::any_io_executor executor,
                                  ApiWiring options) {
  auto a = std::make_unique<ApiRole>();
  a->metrics = std::make_unique<api::Metrics>();
  if (options.images == nullptr) {
    a->own_images = imaging::make_file_image_store(options.data_dir);
    options.images = a->own_images.get();
  }
  if (options.router != nullptr) {
    options.router->observe(
        [m = a->metrics.get()](const std::string& backend, const std::string& outcome, std::chrono::nanoseconds took) {
          m->record_provider_call(backend, outcome, took);
        });
  }
  a->context.emplace(api::ApiContext{
      .accounts = core.accounts,
      .jobs = core.jobs,
      .quota = core.quota,
      .payments = core.payments,
      .plans = core.plans,
      .store = core.store,
      .clock = core.clock,
      .pool = rt.pool,
      .images = *options.images,
      .metrics = *a->metrics,
      .router = options.router,
      .job_queued = std::move(options.job_queued),
      .gateway = options.gateway,
      .keys = std::make_shared<api::KeyCache>(),
      .limiter = std::make_shared<api::RateLimiter>(options.rate_per_minute, options.rate_burst),
      .lookup_limiter = std::make_shared<api::RateLimiter>(api::kKeyLookupsPerMinute, api::kKeyLookupsBurst),
      .submits = rt.submits,
      .changes = options.changes ? options.changes : std::make_shared<runtime::ChangeFeed>()});
  auto routes = api::build_routes(*a->context, std::move(options.check_database));
  if (!options.telegram_webhook_url.empty()) {
    a->webhook.emplace(bot::WebhookContext{
        .store = core.store, .pool = rt.pool, .clock = core.clock, .stored = std::move(options.update_stored)});
    bot::add_webhook_route(*routes, *a->webhook);
  }
  a->server = std::make_unique<server::Server>(
      std::move(executor),
      server::ServerOptions{
          .host = options.host,
          .port = options.port,
          .max_connections = static_cast<std::size_t>(options.max_connections),
          .on_request = [m = a->metrics.get()](const server::RequestRecord& r) { m->record_request(r); },
          .on_exception = api::answer_exception},
      routes, std::move(options.connection_executors));
  return a;
}

void ApiRole::start() { server->start(); }

}  // namespace igb::app
