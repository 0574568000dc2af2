// "Original" under a result: the image as a file, uncompressed.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> original(Context& c, OriginalData data) {
  auto job = co_await c.generation().job(std::move(data.job_id), c.user().id);
  if (!job.ok()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  co_await c.answer_callback();
  co_await c.deliver_original(*job);
}

}  // namespace

void register_original_button(Router& r) { r.callback<OriginalData>(original); }

}  // namespace igb::bot::handlers
