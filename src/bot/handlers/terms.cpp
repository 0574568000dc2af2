// /terms: the terms of the paid plans.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> terms(Context& c) {
  auto sent = co_await c.reply("payments.terms");
  (void)sent;
}

}  // namespace

void register_terms(Router& r) { r.command("terms", {.menu_key = "commands.terms", .menu_rank = 110}, terms); }

}  // namespace igb::bot::handlers
