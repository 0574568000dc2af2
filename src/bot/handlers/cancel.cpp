// /cancel: cancels the user's queued bot jobs (not counted against the quota).
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> cancel(Context& c) {
  std::string source = "bot";  // the API's jobs are not this command's
  int n = co_await c.generation().cancel_queued(c.user().id, std::move(source));
  if (n > 0) c.wake_delivery();
  auto text = n > 0 ? c.t("cancel.done", {{"count", std::to_string(n)}}) : c.t("cancel.none");
  auto sent = co_await c.reply_text(std::move(text));
  (void)sent;
}

}  // namespace

void register_cancel(Router& r) { r.command("cancel", {.menu_key = "commands.cancel", .menu_rank = 60}, cancel); }

}  // namespace igb::bot::handlers
