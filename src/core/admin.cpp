#include "core/admin.hpp"

#include <algorithm>
#include <chrono>
#include <map>

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

Stats AdminService::stats(int days) {
  days = std::clamp(days, 1, kMaxStatsDays);
  const auto now = clock_.now();
  const auto [day, month] = day_and_month_start(now);
  const Timestamp from = day - std::chrono::days(days - 1);
  auto tx = store_.begin(TxMode::read);
  Stats s = tx->stats(day, month, now);
  // One row per (day, plan) that made images or took Stars: the spend side from the running totals,
  // the Stars side from the payments, merged here.
  std::map<std::pair<std::int64_t, std::string>, MarginRow> rows;
  auto row = [&](Timestamp d, const std::string& plan) -> MarginRow& {
    auto& r = rows[{-to_unix_ms(d), plan}];  // newest day first
    r.day = d;
    r.plan = plan;
    return r;
  };
  for (auto& spent : tx->spend_since(from)) row(spent.day, spent.plan) = std::move(spent);
  for (const auto& st : tx->stars_since(from)) row(st.day, st.plan).stars = st.stars;
  s.margins = Margins{.days = days,
                      .usd_micros_per_star = options_.usd_micros_per_star,
                      .spend_limit_micros = options_.spend_limit_micros,
                      .spend_today_micros = tx->spend_on(day)};
  for (auto& [key, r] : rows) s.margins.rows.push_back(std::move(r));
  return s;
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
  out += describe(s.margins);
  return out;
}

}  // namespace igb::core
