// Receiving: updates go into the database first (long polling stores the offset in the same
// transaction; the webhook answers Telegram only after storing), then the inbox loop hands each chat's
// updates, in order, to one coroutine per chat. Different chats run concurrently.
#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bot/context.hpp"
#include <boost/json/parse.hpp>

#include "telegram/codec.hpp"

namespace igb::bot {

using namespace std::chrono_literals;
using telegram::ApiError;

net::awaitable<void> Bot::run_receiving(std::string webhook_url, std::string secret) {
  auto backoff = 1s;
  for (;;) {
    auto me = co_await d_.api.get_me();
    if (me.ok()) {
      o_.bot_username = me->username;
      spdlog::info("bot: signed in as @{}", o_.bot_username);
      break;
    }
    spdlog::error("bot: getMe failed ({} {}); retrying in {} s", telegram::to_string(me.error().kind),
                  me.error().description, backoff.count());
    if (!co_await sleep_for(backoff)) co_return;
    backoff = std::min(backoff * 2, std::chrono::seconds(60));
  }
  co_await register_commands();
  if (webhook_url.empty()) {
    co_await run_polling();
    co_return;
  }
  backoff = 1s;
  for (;;) {
    telegram::SetWebhook hook{.url = webhook_url, .secret_token = secret, .allowed_updates = allowed_updates()};
    auto r = co_await d_.api.set_webhook(hook);
    if (r.ok()) {
      spdlog::info("bot: webhook set; Telegram delivers updates to the HTTP API's {}", "/telegram/webhook");
      co_return;
    }
    spdlog::error("bot: setWebhook failed ({}); retrying in {} s", r.error().description, backoff.count());
    if (!co_await sleep_for(backoff)) co_return;
    backoff = std::min(backoff * 2, std::chrono::seconds(300));
  }
}

net::awaitable<void> Bot::run_polling() {
  std::optional<std::int64_t> offset = co_await state_.polling_offset();
  // Long polling and a webhook exclude each other: make sure none is set.
  telegram::DeleteWebhook no_webhook{};
  auto deleted = co_await d_.api.delete_webhook(no_webhook);
  if (!deleted.ok()) spdlog::warn("bot: deleteWebhook failed: {}", deleted.error().description);
  auto backoff = 1s;
  for (;;) {
    telegram::GetUpdates request{.offset = offset, .allowed_updates = allowed_updates()};
    auto r = co_await d_.api.get_updates(request);
    if (!r.ok()) {
      const auto& e = r.error();
      if (e.kind == ApiError::Kind::conflict) {
        spdlog::error(
            "bot: getUpdates conflict: {} (another instance polls with this token, or a webhook is set); "
            "retrying in {} s",
            e.description, backoff.count());
      } else if (e.kind == ApiError::Kind::unauthorized || e.kind == ApiError::Kind::not_found) {
        spdlog::error("bot: Telegram refused the bot token ({}); check TELEGRAM_BOT_TOKEN", e.description);
      } else {
        spdlog::warn("bot: getUpdates failed: {} {}", telegram::to_string(e.kind), e.description);
      }
      auto wait = e.retry_after ? std::chrono::duration_cast<std::chrono::seconds>(*e.retry_after) : backoff;
      if (!co_await sleep_for(wait)) co_return;
      backoff = std::min(backoff * 2, std::chrono::seconds(60));
      continue;
    }
    backoff = 1s;
    auto& updates = r.value();
    if (updates.empty()) continue;
    auto next = updates.back().update_id + 1;
    std::vector<core::InboxUpdate> rows;
    rows.reserve(updates.size());
    for (const auto& u : updates) {
      rows.push_back(
          {.update_id = u.update_id, .chat_id = chat_of(u), .body = u.raw_json, .received_at = d_.clock.now()});
    }
    // The database out of reach: the updates stay unconfirmed (offset unchanged), so Telegram gives
    // them again on the next poll.
    bool stored = true;
    try {
      co_await state_.store_updates(std::move(rows), next);
    } catch (const core::InfrastructureError& e) {
      if (!e.temporary()) throw;
      spdlog::warn("bot: cannot store {} update(s), asking again in {} s: {}", updates.size(), backoff.count(),
                   e.what());
      stored = false;
    }
    if (!stored) {
      if (!co_await sleep_for(backoff)) co_return;
      backoff = std::min(backoff * 2, std::chrono::seconds(60));
      continue;
    }
    offset = next;
    wake_inbox();
  }
}

net::awaitable<void> Bot::run_inbox() {
  for (;;) {
    const auto after = inbox_watermark_;
    std::vector<core::InboxUpdate> rows;
    bool paused = false;
    try {
      rows = co_await state_.inbox(after, 500);
    } catch (const core::InfrastructureError& e) {
      if (!e.temporary()) throw;
      spdlog::warn("bot: inbox paused: {}", e.what());
      paused = true;
    }
    if (paused) {
      if (!co_await sleep_for(std::chrono::seconds(1))) co_return;
      continue;
    }
    for (auto& row : rows) {
      inbox_watermark_ = std::max(inbox_watermark_, row.update_id);
      if (answers_against_the_clock(row.body)) {
        // Not behind the chat's queue: a chat busy sending /history photos or sleeping out a 429 must
        // not make Telegram's 10 seconds for a pre-checkout answer run out.
        d_.supervisor.spawn("bot-checkout", handle_alone(std::move(row)), /*critical=*/false);
        continue;
      }
      auto& queue = chats_[row.chat_id];
      bool idle = queue.empty();
      queue.push_back(std::move(row));
      if (idle) d_.supervisor.spawn("bot-chat", drain_chat(queue.front().chat_id), /*critical=*/false);
    }
    if (rows.size() == 500) continue;
    bool go_on = co_await inbox_wake_.wait(o_.inbox_poll);
    if (!go_on) co_return;
  }
}

bool answers_against_the_clock(std::string_view body) {
  // Cheap first: most updates do not name it at all. The parse confirms it is the update's own field
  // (a message's text cannot hold the key followed by an unescaped quote, but the parse is the rule).
  if (body.find("\"pre_checkout_query\"") == std::string_view::npos) return false;
  boost::system::error_code ec;
  auto json = boost::json::parse(body, ec);
  return !ec && json.is_object() && json.as_object().contains("pre_checkout_query");
}

net::awaitable<void> Bot::drain_chat(std::int64_t chat) {
  for (;;) {
    auto it = chats_.find(chat);
    if (it == chats_.end() || it->second.empty()) {
      if (it != chats_.end()) chats_.erase(it);
      co_return;
    }
    const auto row = it->second.front();
    if (!co_await handle_stored(row)) co_return;
    // The map may have changed while this coroutine waited.
    it = chats_.find(chat);
    if (it != chats_.end() && !it->second.empty()) it->second.pop_front();
  }
}

net::awaitable<void> Bot::handle_alone(core::InboxUpdate row) {
  bool done = co_await handle_stored(std::move(row));
  (void)done;  // false: shutting down, and it is handled again after the restart
}

net::awaitable<bool> Bot::handle_stored(core::InboxUpdate row) {
  for (;;) {
    bool again = false;  // the database was out of reach: handle this update again shortly, not skip it
    try {
      boost::system::error_code ec;
      auto json = boost::json::parse(row.body, ec);
      auto decoded =
          ec ? telegram::Decoded<telegram::Update>{.errors = {"update: not JSON"}} : telegram::decode_update(json);
      if (auto* update = decoded.get()) {
        co_await handle(std::move(*update));
      } else {
        spdlog::error("bot: update {} is not valid: {}; skipped", row.update_id, decoded.error_text());
      }
    } catch (const boost::system::system_error& e) {
      if (e.code() == net::error::operation_aborted) throw;  // shutting down: handled again after the restart
      spdlog::error("bot: update {} failed: {}; skipped", row.update_id, e.what());
    } catch (const core::InfrastructureError& e) {
      if (e.temporary()) {
        spdlog::warn("bot: update {} waits for the database: {}", row.update_id, e.what());
        again = true;
      } else {
        spdlog::error("bot: update {} failed: {}; skipped", row.update_id, e.what());
      }
    } catch (const std::exception& e) {
      spdlog::error("bot: update {} failed: {}; skipped", row.update_id, e.what());
    }
    if (!again) break;
    if (!co_await sleep_for(std::chrono::seconds(1))) co_return false;
  }
  // Until it is deleted the update would be handled again after a restart: keep trying.
  auto forget = [this, id = row.update_id]() -> net::awaitable<void> { co_await state_.forget_update(id); };
  co_return co_await write_until_done(forget);
}

}  // namespace igb::bot
