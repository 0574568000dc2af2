// Operator commands in the bot, for ADMIN_TELEGRAM_IDS in their private chat: /stats, /grant, /ban,
// /unban, /refund, /broadcast. The same operations are `imggenbot` subcommands (src/app/admin.cpp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "bot/context.hpp"
#include "util/strings.hpp"

namespace igb::bot {
namespace {

std::optional<std::int64_t> positive(std::string_view s) {
  auto v = util::parse_int(s);
  if (!v || *v <= 0) return std::nullopt;
  return *v;
}

}  // namespace

bool Bot::is_admin(const Ctx& c) const {
  return !c.group && std::find(o_.admin_ids.begin(), o_.admin_ids.end(), c.user.id) != o_.admin_ids.end();
}

bool Bot::is_admin_command(const std::string& command) {
  static const std::set<std::string> kCommands{"stats", "grant", "ban", "unban", "refund", "broadcast"};
  return kCommands.contains(command);
}

net::awaitable<void> Bot::on_admin_command(Ctx& c, const std::string& command, std::string args) {
  std::vector<std::string> w;
  for (auto word : words(args)) w.emplace_back(word);
  std::string reply;
  if (command == "stats") {
    auto read = [&] { return d_.admin.stats(); };
    auto stats = co_await d_.pool.run(read);
    reply = t(c, "admin.stats_title") + "\n" + core::describe(stats);
  } else if (command == "grant") {
    auto user = w.size() == 3 ? positive(w[0]) : std::nullopt;
    auto days = w.size() == 3 ? positive(w[2]) : std::nullopt;
    if (!user || !days) {
      reply = t(c, "admin.usage_grant");
    } else {
      auto grant = [&] { return d_.payments.grant(*user, w[1], static_cast<int>(std::min<std::int64_t>(*days, 100000))); };
      auto granted = co_await d_.pool.run(grant);
      if (!granted.ok()) {
        reply = t(c, "admin.failed", {{"reason", granted.error().public_message}});
      } else {
        spdlog::info("bot: admin {} granted {} to user {} until {}", c.user.id, w[1], *user, format_time(granted->period_end));
        reply = t(c, "admin.granted", {{"user", w[0]}, {"plan", w[1]}, {"until", format_time(granted->period_end)}});
        // The user hears of it in their language (if they ever started the bot).
        auto load = [&] { return d_.accounts.get_user(*user); };
        auto target = co_await d_.pool.run(load);
        if (target.ok() && !target->blocked_bot) {
          const auto* plan = d_.plans.find(w[1]);
          const auto lang = d_.texts.resolve(target->language);
          auto text = d_.texts.text(lang, "payments.granted", {{"plan", plan ? plan->title : w[1]},
                                                               {"until", format_time(granted->period_end)}});
          telegram::SendMessage m{.text = std::move(text)};
          auto sent = co_await send(*user, false, std::move(m));
          (void)sent;
        }
      }
    }
  } else if (command == "ban" || command == "unban") {
    auto user = w.size() == 1 ? positive(w[0]) : std::nullopt;
    if (!user) {
      reply = t(c, "admin.usage_" + command);
    } else {
      const bool ban = command == "ban";
      auto set = [&] { return d_.accounts.set_banned(*user, ban); };
      auto done = co_await d_.pool.run(set);
      reply = done.ok() ? t(c, ban ? "admin.banned" : "admin.unbanned", {{"user", w[0]}})
                        : t(c, "admin.failed", {{"reason", done.error().public_message}});
      if (done.ok()) spdlog::info("bot: admin {} {} user {}", c.user.id, command, *user);
    }
  } else if (command == "refund") {
    if (w.size() != 1) {
      reply = t(c, "admin.usage_refund");
    } else {
      auto refunded = co_await d_.billing.refund(w[0]);
      if (!refunded.ok()) {
        reply = t(c, "admin.failed", {{"reason", refunded.error().public_message}});
      } else if (refunded->duplicate) {
        reply = t(c, "admin.refund_duplicate", {{"charge", w[0]}});
      } else {
        spdlog::info("bot: admin {} refunded payment {}", c.user.id, w[0]);
        reply = t(c, "admin.refunded", {{"charge", w[0]}});
      }
    }
  } else if (command == "broadcast") {
    if (args.empty()) {
      reply = t(c, "admin.usage_broadcast");
    } else {
      auto queue = [&] { return d_.admin.queue_broadcast(args, c.user.id); };
      auto queued = co_await d_.pool.run(queue);
      if (!queued.ok()) {
        reply = t(c, "admin.failed", {{"reason", queued.error().public_message}});
      } else {
        spdlog::info("bot: admin {} queued broadcast #{}", c.user.id, queued->id);
        reply = t(c, "admin.broadcast_queued", {{"id", std::to_string(queued->id)}});
      }
    }
  }
  auto sent = co_await send_text(c, std::move(reply));
  (void)sent;
  if (command == "broadcast") wake_broadcasts();  // after the "queued" answer, which comes first
}

}  // namespace igb::bot
