// Choices in the settings submenus: the default aspect ratio ("ar:16:9") and style ("st:anime", "st:-").
#include <algorithm>

#include "bot/keyboards.hpp"
#include "core/styles.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> save_preferences(Context& c) {
  const auto& u = c.user();
  auto ratio = u.aspect_ratio;
  auto style = u.style;
  co_await c.accounts().set_preferences(u.id, std::move(ratio), std::move(style));
  co_await c.answer_callback("settings.saved");
  co_await show_settings(c, c.editable_message());
}

net::awaitable<void> aspect_ratio(Context& c, AspectRatioData data) {
  if (std::find(kRatios.begin(), kRatios.end(), data.ratio) == kRatios.end()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  c.user().aspect_ratio = data.ratio == "1:1" ? std::string() : data.ratio;
  co_await save_preferences(c);
}

net::awaitable<void> style(Context& c, StyleData data) {
  if (data.style != "-" && core::find_style(data.style) == nullptr) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  c.user().style = data.style == "-" ? std::string() : data.style;
  co_await save_preferences(c);
}

}  // namespace

void register_preference_buttons(Router& r) {
  r.callback<AspectRatioData>(aspect_ratio);
  r.callback<StyleData>(style);
}

}  // namespace igb::bot::handlers
