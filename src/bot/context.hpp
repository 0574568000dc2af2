#pragma once
// Private to the bot's sources: the update being handled.
#include "bot/bot.hpp"

namespace igb::bot {

// "2026-11-26 14:00 UTC"
std::string format_time(core::Timestamp t);

struct Bot::Ctx {
  core::User user;
  std::int64_t chat_id = 0;
  bool group = false;
  std::string lang = "en";
  std::string first_name;

  // Records the user (and what their client says about them); nullopt for a banned user.
  static net::awaitable<std::optional<Ctx>> load(Bot& bot, telegram::User from, telegram::Chat chat);
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
