// The bot was blocked or unblocked in a private chat: sends stop or may go on.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> my_chat_member(Context& c) {
  const auto& u = *c.update().my_chat_member;
  if (!u.chat.is_private()) co_return;
  bool blocked = u.new_status == "kicked";
  auto status = co_await c.accounts().set_blocked_bot(u.from.id, blocked);
  (void)status;
}

}  // namespace

void register_my_chat_member(Router& r) { r.on(UpdateKind::my_chat_member, my_chat_member, "my_chat_member"); }

}  // namespace igb::bot::handlers
