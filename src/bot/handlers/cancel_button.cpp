// "Cancel" under a queued job's status message.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> cancel_job(Context& c, CancelJobData data) {
  const auto& d = c.deps();
  const auto user = c.user().id;
  auto read = [&] { return d.jobs.get(data.job_id, user); };
  auto job = co_await d.pool.run(read);
  if (!job.ok()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  auto cancel = [&] { return d.jobs.cancel(data.job_id, user); };
  auto done = co_await d.pool.run(cancel);
  if (done.ok()) c.wake_delivery();
  co_await c.answer_callback(done.ok() ? (*done ? "status.canceled_counted" : "status.canceled") : "button.stale");
}

}  // namespace

void register_cancel_button(Router& r) { r.callback<CancelJobData>(cancel_job); }

}  // namespace igb::bot::handlers
