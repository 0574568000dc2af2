// /start (with or without a deep-link payload): a greeting with the user's plan.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

std::string period_key(const core::Plan& p) {
  return p.period == core::PeriodKind::daily ? "period.daily" : "period.days30";
}

net::awaitable<void> start(Context& c) {
  auto q = co_await c.accounts().quota(c.user().id);
  Args args{{"name", c.first_name()},
            {"plan", q.plan.title},
            {"limit", std::to_string(q.limit)},
            {"period", c.t(period_key(q.plan))}};
  auto sent = co_await c.reply("start.text", args);
  (void)sent;
}

}  // namespace

void register_start(Router& r) { r.command("start", {.menu_key = "commands.start", .menu_rank = 10}, start); }

}  // namespace igb::bot::handlers
