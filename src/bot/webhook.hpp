#pragma once
// Webhook mode: Telegram POSTs each update to /telegram/webhook. The route checks the secret header
// (set with setWebhook; every instance reads it from the database), stores the update in the bot's
// inbox, and only then answers 200, so an update Telegram considers delivered is never lost. Any
// number of `api` instances behind a load balancer can take it; the bot process handles the inbox.
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.hpp"
#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"
#include "server/server.hpp"
#include "usecases/bot_state.hpp"

namespace igb::bot {

using usecases::kWebhookSecretKey;
inline constexpr std::string_view kWebhookPath = "/telegram/webhook";

struct WebhookContext {
  core::Store& store;
  runtime::BlockingPool& pool;
  const core::Clock& clock;
  std::function<void()> stored;  // an update was stored (wakes this process's bot, if any)
  // The secret once read (it is written once, by the bot process, and never changes).
  struct Secret {
    std::mutex mutex;
    std::string value;
  };
  std::shared_ptr<Secret> secret = std::make_shared<Secret>();
  // The inbox the route stores into (its reads and writes run on `pool`).
  usecases::BotState state{{.store = store, .pool = pool, .clock = clock}};
};

void add_webhook_route(server::RouteTable& routes, WebhookContext& ctx);

// The secret for setWebhook: the stored one, or a new random one stored for every instance.
std::string webhook_secret(core::Store& store);

}  // namespace igb::bot
