// /help: how to write prompts and their options.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> help(Context& c) {
  Args args{{"styles", style_names()}};
  auto sent = co_await c.reply("help.text", args);
  (void)sent;
}

}  // namespace

void register_help(Router& r) { r.command("help", {.menu_key = "commands.help", .menu_rank = 20}, help); }

}  // namespace igb::bot::handlers
