// /lang: the language menu.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> lang(Context& c) {
  auto text = c.t("lang.choose");
  auto kb = language_keyboard(c.deps().texts);
  auto sent = co_await c.reply_menu(std::move(text), std::move(kb));
  (void)sent;
}

}  // namespace

void register_lang(Router& r) { r.command("lang", {.menu_key = "commands.lang", .menu_rank = 50}, lang); }

}  // namespace igb::bot::handlers
