// The settings message ("set") and its submenus ("set:ar", "set:st", "set:lg"), edited in place.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> settings_button(Context& c, SettingsData data) {
  co_await c.answer_callback();
  const auto editable = c.editable_message();
  if (data.menu.empty()) {
    co_await show_settings(c, editable);
    co_return;
  }
  auto menu = settings_menu(c, data.menu);
  if (!menu) co_return;
  auto text = std::move(menu->first);
  auto kb = std::move(menu->second);
  if (editable) {
    co_await c.edit(*editable, std::move(text), std::move(kb));
  } else {
    auto sent = co_await c.reply_menu(std::move(text), std::move(kb));
    (void)sent;
  }
}

}  // namespace

void register_settings_button(Router& r) { r.callback<SettingsData>(settings_button); }

}  // namespace igb::bot::handlers
