// /stats (admins): users, jobs, payments at a glance.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> stats(Context& c) {
  auto s = co_await c.admin().stats();
  auto text = c.t("admin.stats_title") + "\n" + core::describe(s);
  auto sent = co_await c.reply_text(std::move(text));
  (void)sent;
}

}  // namespace

void register_admin_stats(Router& r) {
  r.command("stats", {.filter = {.admin = true}, .menu_key = "commands.stats", .menu_rank = 10}, stats);
}

}  // namespace igb::bot::handlers
