#pragma once
// What operators see and do beyond single users: the figures of /stats and broadcasts. Used by the
// bot's admin commands and by `imggenbot stats` / `imggenbot broadcast`.
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/margins.hpp"
#include "core/model.hpp"
#include "core/store.hpp"

namespace igb::core {

inline constexpr std::size_t kMaxBroadcastChars = 4096;  // Telegram's limit for one message
// The margins' window: /stats shows this many UTC days (today included); `imggenbot stats --days`
// up to kMaxStatsDays.
inline constexpr int kStatsDays = 7;
inline constexpr int kMaxStatsDays = 90;

struct AdminOptions {
  std::int64_t usd_micros_per_star = kDefaultUsdMicrosPerStar;  // STARS_USD_RATE
  std::int64_t spend_limit_micros = 0;                          // DAILY_SPEND_LIMIT_USD (shown with today's spend)
};

class AdminService {
 public:
  AdminService(Store& store, const Clock& clock, AdminOptions options = {})
      : store_(store), clock_(clock), options_(options) {}

  // The figures, with the margins of the last `days` UTC days (clamped to 1..kMaxStatsDays).
  Stats stats(int days = kStatsDays);
  // Queues a broadcast for the bot to send; the text must be 1–4096 characters.
  Result<Broadcast> queue_broadcast(std::string text, UserId by);

 private:
  Store& store_;
  const Clock& clock_;
  AdminOptions options_;
};

// The figures as plain lines ("users 12 (10 reachable)"), for the bot and the command line; the
// margins last (core/margins.hpp).
std::string describe(const Stats& stats);

}  // namespace igb::core
