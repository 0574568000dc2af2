// /cancel: cancels the user's queued bot jobs (not counted against the quota).
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> cancel(Context& c) {
  const auto& d = c.deps();
  const auto user = c.user().id;
  auto cancel_queued = [&] {
    std::vector<core::Job> mine;
    {
      auto tx = d.store.begin(core::TxMode::read);
      mine = tx->jobs_of(user, 50);
    }
    int n = 0;
    for (const auto& j : mine) {
      if (j.status == core::JobStatus::queued && j.source == "bot" && d.jobs.cancel(j.id, user).ok()) ++n;
    }
    return n;
  };
  int n = co_await d.pool.run(cancel_queued);
  if (n > 0) c.wake_delivery();
  auto text = n > 0 ? c.t("cancel.done", {{"count", std::to_string(n)}}) : c.t("cancel.none");
  auto sent = co_await c.reply_text(std::move(text));
  (void)sent;
}

}  // namespace

void register_cancel(Router& r) { r.command("cancel", {.menu_key = "commands.cancel", .menu_rank = 60}, cancel); }

}  // namespace igb::bot::handlers
