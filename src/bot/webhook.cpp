#include "bot/webhook.hpp"

#include <boost/json/parse.hpp>
#include <spdlog/spdlog.h>

#include "bot/bot.hpp"
#include "telegram/codec.hpp"
#include "util/crypto.hpp"

namespace igb::bot {
namespace {

net::awaitable<server::Response> receive(WebhookContext* ctx, server::Request& req) {
  std::string secret;
  {
    std::lock_guard lock(ctx->secret->mutex);
    secret = ctx->secret->value;
  }
  if (secret.empty()) {
    // Not cached yet; empty also until the bot process has stored it (then every request is refused).
    secret = co_await ctx->state.webhook_secret();
    std::lock_guard lock(ctx->secret->mutex);
    ctx->secret->value = secret;
  }
  auto given = req.header("X-Telegram-Bot-Api-Secret-Token");
  if (secret.empty() || !util::constant_time_equal(given, secret)) {
    co_return server::Response::problem(401, "Unauthorized", "The secret token is missing or wrong.");
  }
  boost::system::error_code ec;
  auto json = boost::json::parse(req.body, ec);
  auto decoded =
      ec ? telegram::Decoded<telegram::Update>{.errors = {"update: not JSON"}} : telegram::decode_update(json);
  const auto* update = decoded.get();
  if (update == nullptr) {
    // Telegram would resend a refused update for a day: accept and drop what can never be handled.
    spdlog::error("bot: webhook update is not valid ({}); dropped", decoded.error_text());
    co_return server::Response::json(200, "{}");
  }
  std::vector<core::InboxUpdate> rows{
      {.update_id = update->update_id, .chat_id = chat_of(*update), .body = req.body, .received_at = ctx->clock.now()}};
  co_await ctx->state.store_updates(std::move(rows), std::nullopt);
  if (ctx->stored) ctx->stored();
  co_return server::Response::json(200, "{}");
}

}  // namespace

void add_webhook_route(server::RouteTable& routes, WebhookContext& ctx) {
  routes.add("POST", std::string(kWebhookPath), [c = &ctx](server::Request& r) { return receive(c, r); },
             {.summary = "Telegram webhook (Telegram calls it; needs X-Telegram-Bot-Api-Secret-Token)",
              .operation_id = "telegramWebhook",
              .tag = "telegram",
              .responses = {{200, "Stored"}, {401, "Wrong or missing secret token"}}});
}

std::string webhook_secret(core::Store& store) { return usecases::ensure_webhook_secret(store); }

}  // namespace igb::bot
