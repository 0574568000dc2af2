#pragma once
// What operators see and do beyond single users: the figures of /stats and broadcasts. Used by the
// bot's admin commands and by `imggenbot stats` / `imggenbot broadcast`.
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "core/store.hpp"

namespace igb::core {

inline constexpr std::size_t kMaxBroadcastChars = 4096;  // Telegram's limit for one message

class AdminService {
 public:
  AdminService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  Stats stats();
  // Queues a broadcast for the bot to send; the text must be 1–4096 characters.
  Result<Broadcast> queue_broadcast(std::string text, UserId by);

 private:
  Store& store_;
  const Clock& clock_;
};

// The figures as plain lines ("users 12 (10 reachable)"), for the bot and the command line.
std::string describe(const Stats& stats);

}  // namespace igb::core
