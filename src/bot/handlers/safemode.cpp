// /safemode [on|off] (groups): safe mode adds the group blocklists to the base ones (docs/security.md,
// "Prompt policy"). On by default; the group's admins switch it. Admin status is asked of Telegram
// (getChatMember) each time: the bot keeps no member list that could go stale, and the command is
// rare. Without an argument it tells the current state, to anyone.
#include "bot/context.hpp"
#include "util/strings.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> safemode(Context& c) {
  if (!c.group()) {
    auto sent = co_await c.reply_text(c.t("safemode.groups_only"), c.message_id());
    (void)sent;
    co_return;
  }
  const auto arg = util::to_lower(util::trim(c.text()));
  if (arg.empty()) {
    const bool on = co_await c.generation().safe_mode(c.chat_id());
    auto sent = co_await c.reply_text(c.t(on ? "safemode.is_on" : "safemode.is_off"), c.message_id());
    (void)sent;
    co_return;
  }
  if (arg != "on" && arg != "off") {
    auto sent = co_await c.reply_text(c.t("safemode.usage"), c.message_id());
    (void)sent;
    co_return;
  }
  auto member = co_await c.deps().api.get_chat_member({.chat_id = c.chat_id(), .user_id = c.user().id});
  if (!member || !member->is_admin()) {
    // Telegram's refusal (the bot cannot see members, say) is not a yes either.
    auto sent = co_await c.reply_text(c.t("safemode.admins_only"), c.message_id());
    (void)sent;
    co_return;
  }
  const bool on = arg == "on";
  co_await c.generation().set_safe_mode(c.chat_id(), on);
  auto sent = co_await c.reply_text(c.t(on ? "safemode.turned_on" : "safemode.turned_off"), c.message_id());
  (void)sent;
}

}  // namespace

void register_safemode(Router& r) { r.command("safemode", {}, safemode); }

}  // namespace igb::bot::handlers
