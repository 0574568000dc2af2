// /settings: the user's defaults (aspect ratio, style, language) with buttons to change them.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> settings(Context& c) { co_await show_settings(c, std::nullopt); }

}  // namespace

void register_settings(Router& r) {
  r.command("settings", {.menu_key = "commands.settings", .menu_rank = 40}, settings);
}

}  // namespace igb::bot::handlers
