#pragma once
// The HTTP API of a process: its context over the core services, the routes (and the Telegram webhook
// route when the bot takes updates by webhook) and the server, with `api::answer_exception` as the
// server's exception hook (a temporary infrastructure error is a 503 with Retry-After).
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/context.hpp"
#include "api/metrics.hpp"
#include "app/roles.hpp"
#include "bot/webhook.hpp"
#include "gen/router.hpp"
#include "imaging/image_store.hpp"
#include "server/server.hpp"
#include "usecases/payment_gateway.hpp"

namespace igb::app {

struct ApiWiring {
  std::string host = "127.0.0.1";  // HTTP_LISTEN
  std::uint16_t port = 0;
  int max_connections = 0;
  int rate_per_minute = 120;  // API_RATE_PER_MINUTE, API_RATE_BURST
  int rate_burst = 20;
  std::shared_ptr<runtime::ChangeFeed> changes;  // what status streams wait on (the store publishes to it)
  // Null: this process runs no workers; the API keeps its own image store in `data_dir` then.
  gen::Router* router = nullptr;
  imaging::ImageStore* images = nullptr;
  std::string data_dir;
  std::function<void()> job_queued;          // called on a connection's thread
  usecases::PaymentGateway* gateway = nullptr;  // null: the subscription routes answer 503
  std::function<std::string()> check_database;  // for /readyz: "" or what is wrong
  // Not empty: the webhook route is added; `update_stored` is called (on a connection's thread) after
  // an update was stored.
  std::string telegram_webhook_url;
  std::function<void()> update_stored;
  // The connections' executors (one thread each; see server::Server); empty: strands on the executor.
  std::vector<boost::asio::any_io_executor> connection_executors;
};

struct ApiRole {
  std::unique_ptr<api::Metrics> metrics;
  std::unique_ptr<imaging::ImageStore> own_images;
  std::optional<api::ApiContext> context;
  std::optional<bot::WebhookContext> webhook;
  std::unique_ptr<server::Server> server;

  // Binds and listens (throws if it cannot), then accepts in the background.
  void start();
};

// The server's listener and registry run on `executor` (the control io_context's).
std::unique_ptr<ApiRole> wire_api(const Core& core, const Runtime& rt, boost::asio::any_io_executor executor,
                                  ApiWiring options);

}  // namespace igb::app
