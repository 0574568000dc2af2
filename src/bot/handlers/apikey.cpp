// /apikey: how many API keys the user has, with buttons to create one or revoke them all. Keys are
// secrets: in a group the command only says to ask in the private chat.
#include "bot/context.hpp"
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

telegram::InlineKeyboardMarkup key_buttons(const Context& c, int keys) {
  auto kb = single_button(c.t("apikey.create"), callback_data(ApiKeyData{.action = "new"}));
  if (keys > 0) {
    kb.inline_keyboard.push_back(
        single_button(c.t("apikey.revoke"), callback_data(ApiKeyData{.action = "del"})).inline_keyboard.front());
  }
  return kb;
}

net::awaitable<void> apikey(Context& c) {
  int n = co_await c.accounts().active_api_keys(c.user().id);
  auto kb = key_buttons(c, n);
  auto text = c.t("apikey.text", {{"count", std::to_string(n)}});
  auto sent = co_await c.reply_menu(std::move(text), std::move(kb));
  (void)sent;
}

net::awaitable<void> apikey_in_group(Context& c) {
  auto sent = co_await c.reply("apikey.private_only");
  (void)sent;
}

}  // namespace

void register_apikey(Router& r) {
  r.command("apikey", {.filter = {.chat = ChatScope::private_only}, .menu_key = "commands.apikey", .menu_rank = 80},
            apikey);
  r.command("apikey", {.filter = {.chat = ChatScope::group_only}}, apikey_in_group);
}

}  // namespace igb::bot::handlers
