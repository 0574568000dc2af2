// A choice in the language menu: saved, and the answer already in the new language.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> language(Context& c, LanguageData data) {
  const auto& d = c.deps();
  if (d.texts.resolve(data.lang) != data.lang) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  auto lang = data.lang;
  auto saved = co_await c.accounts().set_language(c.user().id, std::move(lang));
  (void)saved;
  c.set_lang(data.lang);
  c.user().language = data.lang;
  co_await c.answer_callback("lang.set");
  co_await show_settings(c, c.editable_message());
}

}  // namespace

void register_language_button(Router& r) { r.callback<LanguageData>(language); }

}  // namespace igb::bot::handlers
