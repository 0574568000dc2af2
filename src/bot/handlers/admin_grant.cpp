// /grant <telegram id> <plan> <days> (admins): a plan given, not bought; the user hears of it.
#include <spdlog/spdlog.h>

#include "bot/admin_args.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> grant(Context& c) {
  const auto& d = c.deps();
  auto w = admin_words(c.text());
  auto user = w.size() == 3 ? positive_id(w[0]) : std::nullopt;
  auto days = w.size() == 3 ? positive_id(w[2]) : std::nullopt;
  std::string reply;
  if (!user || !days) {
    reply = c.t("admin.usage_grant");
  } else {
    auto plan_id = w[1];
    auto granted =
        co_await c.billing().grant(*user, std::move(plan_id), static_cast<int>(std::min<std::int64_t>(*days, 100000)));
    if (!granted.ok()) {
      reply = c.t("admin.failed", {{"reason", granted.error().public_message}});
    } else {
      spdlog::info("bot: admin {} granted {} to user {} until {}", c.user().id, w[1], *user,
                   format_time(granted->period_end));
      reply = c.t("admin.granted", {{"user", w[0]}, {"plan", w[1]}, {"until", format_time(granted->period_end)}});
      // The user hears of it in their language (if they ever started the bot).
      auto target = co_await c.accounts().user(*user);
      if (target.ok() && !target->blocked_bot) {
        const auto* plan = d.plans.find(w[1]);
        const auto lang = d.texts.resolve(target->language);
        auto text = d.texts.text(lang, "payments.granted",
                                 {{"plan", plan ? plan->title : w[1]}, {"until", format_time(granted->period_end)}});
        auto sent = co_await c.send_to_user(*user, std::move(text));
        (void)sent;
      }
    }
  }
  auto sent = co_await c.reply_text(std::move(reply));
  (void)sent;
}

}  // namespace

void register_admin_grant(Router& r) {
  r.command("grant", {.filter = {.admin = true}, .menu_key = "commands.grant", .menu_rank = 20}, grant);
}

}  // namespace igb::bot::handlers
