#include "app/wire_bot.hpp"

#include <spdlog/spdlog.h>

#include "usecases/billing.hpp"

namespace igb::app {

std::unique_ptr<TelegramSide> wire_telegram(const Core& core, const Runtime& rt, TelegramWiring options) {
  auto t = std::make_unique<TelegramSide>();
  t->http = http::make_client(rt.control, {.proxy = std::move(options.proxy)});
  t->api = telegram::make_http_bot_api(*t->http, {.base_url = options.api_base, .token = std::move(options.token)});
  // Start-up, before the loop runs: one transaction (like the webhook secret). Never logged, only
  // where it came from.
  auto secrets = usecases::payload_secrets(core.store, options.payload_secret);
  spdlog::info("payments: invoice payloads signed with {}", usecases::describe(secrets));
  t->billing.emplace(rt.control, *t->api, core.store, core.payments, core.plans, rt.pool, t->texts, std::move(secrets));
  return t;
}

std::unique_ptr<BotRole> wire_bot(const Core& core, const Runtime& rt, TelegramSide& telegram, BotWiring options) {
  auto b = std::make_unique<BotRole>();
  b->scheduler.emplace(rt.control, options.scheduler);
  if (options.images == nullptr) {
    b->own_images = imaging::make_file_image_store(options.data_dir);
    options.images = b->own_images.get();
  }
  if (options.assistant) {
    // Its own client (and connection pool) on the bot's executor, where the bot calls it.
    b->assistant_http = http::make_client(rt.control, {.proxy = options.proxy});
    b->assistant = std::make_unique<assist::PromptAssistant>(*b->assistant_http, core.clock, *options.assistant);
    spdlog::info("prompt assistant: {} at {} (time box {} ms)", options.assistant->chat.model,
                 options.assistant->chat.base_url, options.assistant->chat.timeout.count());
  }
  b->bot = std::make_unique<bot::Bot>(bot::BotDeps{.executor = rt.control,
                                                   .api = *telegram.api,
                                                   .scheduler = *b->scheduler,
                                                   .store = core.store,
                                                   .accounts = core.accounts,
                                                   .quota = core.quota,
                                                   .jobs = core.jobs,
                                                   .plans = core.plans,
                                                   .images = *options.images,
                                                   .pool = rt.pool,
                                                   .supervisor = rt.supervisor,
                                                   .clock = core.clock,
                                                   .texts = telegram.texts,
                                                   .payments = core.payments,
                                                   .billing = *telegram.billing,
                                                   .admin = core.admin,
                                                   .notices = core.notices,
                                                   .job_queued = std::move(options.job_queued),
                                                   .submits = rt.submits,
                                                   .assistant = b->assistant.get()},
                                      std::move(options.options));
  return b;
}

void BotRole::start(runtime::Supervisor& supervisor, std::string webhook_url, std::string secret) {
  supervisor.spawn("bot-receive", bot->run_receiving(std::move(webhook_url), std::move(secret)));
  supervisor.spawn("bot-inbox", bot->run_inbox());
  supervisor.spawn("bot-delivery", bot->run_delivery());
  supervisor.spawn("bot-notices", bot->run_notices());
  supervisor.spawn("bot-broadcasts", bot->run_broadcasts());
}

}  // namespace igb::app
