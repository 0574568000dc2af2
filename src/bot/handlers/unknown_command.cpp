// A command no handler takes (or one the sender may not use, like an admin command): say so.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> unknown_command(Context& c) {
  auto text = c.t("input.unknown_command");
  std::optional<std::int64_t> reply_to;
  if (c.group()) reply_to = c.message_id();
  auto sent = co_await c.reply_text(std::move(text), reply_to);
  (void)sent;
}

}  // namespace

void register_unknown_command(Router& r) { r.unknown_command(unknown_command); }

}  // namespace igb::bot::handlers
