// /paysupport: where to get help with a payment (Telegram requires bots that sell to answer it).
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> paysupport(Context& c) {
  auto sent = co_await c.reply("payments.paysupport");
  (void)sent;
}

}  // namespace

void register_paysupport(Router& r) {
  r.command("paysupport", {.menu_key = "commands.paysupport", .menu_rank = 100}, paysupport);
}

}  // namespace igb::bot::handlers
