#pragma once
// The Telegram side of a process. `wire_telegram`: the Bot API client and the Stars seller, which the
// API needs too (POST/DELETE /v1/subscription) when the process has a bot token. `wire_bot`: the bot
// itself over them (send scheduler, handlers, inbox, delivery, notices, broadcasts).
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "app/roles.hpp"
#include "assist/prompt_assistant.hpp"
#include "bot/billing.hpp"
#include "bot/bot.hpp"
#include "bot/i18n.hpp"
#include "http/client.hpp"
#include "imaging/image_store.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/scheduler.hpp"

namespace igb::app {

struct TelegramWiring {
  std::string api_base;  // TELEGRAM_API_BASE
  std::string token;     // TELEGRAM_BOT_TOKEN (only ever in the URL path)
  std::string payload_secret;  // PAYMENT_PAYLOAD_SECRET; empty: the one kept in the database
  http::ProxyOptions proxy;  // the executable's: http::proxy_from_env()
};

struct TelegramSide {
  std::unique_ptr<http::Client> http;
  std::unique_ptr<telegram::BotApi> api;
  bot::Catalogs texts = bot::Catalogs::embedded();
  std::optional<bot::StarsBilling> billing;  // the seller: the bot's buttons and the API's routes
};

// Its Bot API calls run on rt.control (the client is not thread-safe).
std::unique_ptr<TelegramSide> wire_telegram(const Core& core, const Runtime& rt, TelegramWiring options);

struct BotWiring {
  imaging::ImageStore* images = nullptr;  // the workers' when the process runs them; null: its own in data_dir
  std::string data_dir;
  std::function<void()> job_queued;  // wakes this process's workers, if any (called on rt.control)
  bot::BotOptions options;
  telegram::SchedulerOptions scheduler;
  // The prompt assistant (PROMPT_ASSISTANT_*); nullopt: off.
  std::optional<assist::AssistantOptions> assistant;
  http::ProxyOptions proxy;  // for the assistant's client: the executable's http::proxy_from_env()
};

struct BotRole {
  std::optional<telegram::SendScheduler> scheduler;
  std::unique_ptr<imaging::ImageStore> own_images;
  std::unique_ptr<http::Client> assistant_http;  // before the assistant, which uses it
  std::unique_ptr<assist::PromptAssistant> assistant;
  std::unique_ptr<bot::Bot> bot;

  // Spawns the bot's loops: receiving (long polling, or setting the webhook when `webhook_url` is not
  // empty), the inbox, delivery, notices and broadcasts.
  void start(runtime::Supervisor& supervisor, std::string webhook_url, std::string secret);
};

std::unique_ptr<BotRole> wire_bot(const Core& core, const Runtime& rt, TelegramSide& telegram, BotWiring options);

}  // namespace igb::app
