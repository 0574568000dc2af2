// /invite: the user's referral link, https://t.me/<bot>?start=ref_<code>, with what it earns and how
// many joined through it. Off (REFERRAL_BONUS_IMAGES=0): says so.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

// Telegram's deep links: the start parameter is at most 64 characters of A-Z, a-z, 0-9, _ and -
// (core.telegram.org/bots/features#deep-linking; python-telegram-bot/python-telegram-bot,
// telegram/helpers.py create_deep_linked_url, which checks ^[A-Za-z0-9_-]+$ and 64 characters).
static_assert(std::string_view("ref_").size() + core::kReferralCodeLength <= 64);

net::awaitable<void> invite(Context& c) {
  const int bonus = c.accounts().referral_bonus_images();
  const auto& bot_username = c.options().bot_username;
  if (bonus <= 0 || bot_username.empty()) {
    auto sent = co_await c.reply("invite.off");
    (void)sent;
    co_return;
  }
  auto code = co_await c.accounts().referral_code(c.user().id);
  auto summary = co_await c.accounts().referral_summary(c.user().id);
  Args args{{"link", "https://t.me/" + bot_username + "?start=" + std::string(kReferralStartPrefix) + code},
            {"bonus", std::to_string(bonus)},
            {"joined", std::to_string(summary.joined)},
            {"converted", std::to_string(summary.converted)},
            {"balance", std::to_string(summary.bonus_images)}};
  auto sent = co_await c.reply("invite.text", args);
  (void)sent;
}

}  // namespace

void register_invite(Router& r) { r.command("invite", {.menu_key = "commands.invite", .menu_rank = 35}, invite); }

}  // namespace igb::bot::handlers
