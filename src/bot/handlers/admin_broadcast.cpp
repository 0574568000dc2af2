// /broadcast <text> (admins): queued, then sent to every user by the broadcast loop (notices.cpp).
#include <spdlog/spdlog.h>

#include "bot/admin_args.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> broadcast(Context& c) {
  std::string reply;
  if (c.text().empty()) {
    reply = c.t("admin.usage_broadcast");
  } else {
    const auto admin = c.user().id;
    auto text = c.text();
    auto queued = co_await c.admin().queue_broadcast(std::move(text), admin);
    if (!queued.ok()) {
      reply = c.t("admin.failed", {{"reason", queued.error().public_message}});
    } else {
      spdlog::info("bot: admin {} queued broadcast #{}", admin, queued->id);
      reply = c.t("admin.broadcast_queued", {{"id", std::to_string(queued->id)}});
    }
  }
  auto sent = co_await c.reply_text(std::move(reply));
  (void)sent;
  c.wake_broadcasts();  // after the "queued" answer, which comes first
}

}  // namespace

void register_admin_broadcast(Router& r) {
  r.command("broadcast", {.filter = {.admin = true}, .menu_key = "commands.broadcast", .menu_rank = 60}, broadcast);
}

}  // namespace igb::bot::handlers
