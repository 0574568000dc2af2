// /plans (and /subscribe): the paid plans with a buy button each.
#include "bot/inline_mode.hpp"
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> plans(Context& c) {
  auto text = plans_text(c);
  auto kb = c.plan_buttons();
  auto sent = co_await c.reply_menu(std::move(text), std::move(kb));
  (void)sent;
}

}  // namespace

void register_plans(Router& r) {
  r.command("plans", {.menu_key = "commands.plans", .menu_rank = 90}, plans, {"subscribe"});
}

}  // namespace igb::bot::handlers
