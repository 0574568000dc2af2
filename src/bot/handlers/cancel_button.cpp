// "Cancel" under a queued job's status message.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> cancel_job(Context& c, CancelJobData data) {
  const auto user = c.user().id;
  auto job = co_await c.generation().job(data.job_id, user);
  if (!job.ok()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  auto done = co_await c.generation().cancel(std::move(data.job_id), user);
  if (done.ok()) c.wake_delivery();
  co_await c.answer_callback(done.ok() ? (*done ? "status.canceled_counted" : "status.canceled") : "button.stale");
}

}  // namespace

void register_cancel_button(Router& r) { r.callback<CancelJobData>(cancel_job); }

}  // namespace igb::bot::handlers
