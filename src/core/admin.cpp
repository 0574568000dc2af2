#include "core/admin.hpp"

#include <chrono>

#include "util/strings.hpp"

namespace igb::core {
namespace {

// 00:00 UTC of the day, and of the first of the month, that `now` falls in.
std::pair<Timestamp, Timestamp> day_and_month_start(Timestamp now) {
  const auto day = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::sys_days first{ymd.year() / ymd.month() / 1};
  return {Timestamp(day), Timestamp(first)};
}

}  // namespace

Stats AdminService::stats() {
  const auto now = clock_.now();
  const auto [day, month] = day_and_month_start(now);
  auto tx = store_.begin(TxMode::read);
  return tx->stats(day, month, now);
}

Result<Broadcast> AdminService::queue_broadcast(std::string text, UserId by) {
  if (!util::is_valid_utf8(text)) return make_error(ErrorCode::invalid_argument, "the text is not valid UTF-8");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return make_error(ErrorCode::invalid_argument, "the text is empty");
  }
  const auto chars = util::utf8_length(text);
  if (chars > kMaxBroadcastChars) {
    return make_error(ErrorCode::invalid_argument,
                      "the text is " + std::to_string(chars) + " characters; Telegram allows 4096");
  }
  Broadcast b{.text = std::move(text), .created_by = by, .created_at = clock_.now()};
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<Broadcast> {
    b.id = tx.insert_broadcast(b);
    return b;
  });
}

std::string describe(const Stats& s) {
  std::string out = "users " + std::to_string(s.users) + " (" + std::to_string(s.reachable_users) + " reachable)\n";
  out += "subscribers";
  if (s.subscribers_by_plan.empty()) out += " 0";
  for (const auto& [plan, n] : s.subscribers_by_plan) out += " " + plan + "=" + std::to_string(n);
  out += "\nimages today " + std::to_string(s.images_today) + ", failed today " + std::to_string(s.failed_today);
  out += "\nrevenue this month " + std::to_string(s.stars_this_month) + " Stars";
  out += "\nqueue " + std::to_string(s.queued) + " queued, " + std::to_string(s.running) + " running";
  out += "\nreferrals " + std::to_string(s.referrals_invited) + " invited, " + std::to_string(s.referrals_converted) +
         " converted\n";
  out += "prompts blocked " + std::to_string(s.prompts_blocked) + ", refused by providers " +
         std::to_string(s.prompts_refused) + " (all time)\n";
  for (const auto& r : s.refusers) {
    out += "  user " + std::to_string(r.user) + ": " + std::to_string(r.blocked) + " blocked, " +
           std::to_string(r.refused) + " refused\n";
  }
  return out;
}

}  // namespace igb::core
