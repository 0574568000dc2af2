#pragma once
// Private to the bot's sources: the update being handled.
#include "bot/bot.hpp"

namespace igb::bot {

// "2026-11-26 14:00 UTC"
std::string format_time(core::Timestamp t);

// Waits `d` on a timer of its own; false if canceled.
net::awaitable<bool> sleep_for(std::chrono::steady_clock::duration d);

// Calls a Bot API method that the scheduler does not meter (edits, deletions), waiting out up to
// five 429s.
template <class F>
auto with_429_retries(F make_call) -> std::invoke_result_t<F> {
  auto r = co_await make_call();
  for (int i = 0; i < 5 && !r.ok() && r.error().kind == telegram::ApiError::Kind::rate_limited; ++i) {
    bool waited = co_await sleep_for(r.error().retry_after.value_or(std::chrono::seconds(1)));
    if (!waited) break;
    r = co_await make_call();
  }
  co_return r;
}

struct Bot::Ctx {
  core::User user;
  std::int64_t chat_id = 0;
  bool group = false;
  std::string lang = "en";
  std::string first_name;

  // Records the user (and what their client says about them); nullopt for a banned user.
  // Empty for a banned user, unless `even_banned` (their payments must still reach the ledger).
  static net::awaitable<std::optional<Ctx>> load(Bot& bot, telegram::User from, telegram::Chat chat,
                                                 bool even_banned = false);
};

struct Bot::Shown {
  std::int64_t chat = 0;
  std::int64_t status_message = 0;  // message ids are per chat
  core::JobStatus status = core::JobStatus::queued;
  int position = -1;
  bool retry = false;  // the outcome could not be shown; try again
  int failed_sends = 0;
  std::chrono::steady_clock::time_point last_edit{};
  std::chrono::steady_clock::time_point last_action{};
};

}  // namespace igb::bot
