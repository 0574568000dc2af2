// /plans (and /subscribe): the paid plans with a buy button each.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

std::string plans_text(const Context& c) {
  std::string text = c.t("payments.plans_title");
  for (const auto& p : c.deps().plans.paid()) {
    text += "\n" + c.t("payments.plan_line", {{"title", p.title},
                                              {"images", std::to_string(p.images_per_period)},
                                              {"stars", std::to_string(p.price_stars)}});
  }
  return text;
}

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
