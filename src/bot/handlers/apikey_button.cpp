// The /apikey buttons: create a key (its secret is shown once) or revoke them all. Private chats
// only: in a group the button is stale.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> apikey_button(Context& c, ApiKeyData data) {
  const auto user = c.user().id;
  if (data.action == "new") {
    std::string name = "telegram";
    auto key = co_await c.accounts().create_api_key(user, std::move(name));
    co_await c.answer_callback();
    if (key.ok()) {
      auto text = c.t("apikey.created", {{"key", key->secret}});
      auto sent = co_await c.reply_text(std::move(text));
      (void)sent;
    }
  } else if (data.action == "del") {
    int n = co_await c.accounts().revoke_api_keys(user);
    Args args{{"count", std::to_string(n)}};
    co_await c.answer_callback("apikey.revoked", args, true);
  }
}

}  // namespace

void register_apikey_button(Router& r) { r.callback<ApiKeyData>({.chat = ChatScope::private_only}, apikey_button); }

}  // namespace igb::bot::handlers
