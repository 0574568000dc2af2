// /refund <telegram payment charge id> (admins): the Stars go back, the plan bought ends.
#include <spdlog/spdlog.h>

#include "bot/admin_args.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> refund(Context& c) {
  auto w = admin_words(c.text());
  std::string reply;
  if (w.size() != 1) {
    reply = c.t("admin.usage_refund");
  } else {
    auto charge = w[0];
    auto refunded = co_await c.billing().refund(std::move(charge));
    if (!refunded.ok()) {
      reply = c.t("admin.failed", {{"reason", refunded.error().public_message}});
    } else if (refunded->duplicate) {
      reply = c.t("admin.refund_duplicate", {{"charge", w[0]}});
    } else {
      spdlog::info("bot: admin {} refunded payment {}", c.user().id, w[0]);
      reply = c.t("admin.refunded", {{"charge", w[0]}});
    }
  }
  auto sent = co_await c.reply_text(std::move(reply));
  (void)sent;
}

}  // namespace

void register_admin_refund(Router& r) {
  r.command("refund", {.filter = {.admin = true}, .menu_key = "commands.refund", .menu_rank = 50}, refund);
}

}  // namespace igb::bot::handlers
