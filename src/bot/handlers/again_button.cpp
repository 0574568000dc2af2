// "Again" (the same prompt, a new seed) and "Variations" (up to three at once) under a result.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

// The job is read as the presser's: another user's job id is a stale button.
net::awaitable<void> again_job(Context& c, std::string job_id, bool variations) {
  const auto& d = c.deps();
  const auto user = c.user().id;
  auto read = [&] { return d.jobs.get(job_id, user); };
  auto job = co_await d.pool.run(read);
  if (!job.ok()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  co_await c.answer_callback();
  auto params = job->params;
  params.seed.reset();  // a new seed: the worker picks one
  int count = 1;
  if (variations) {
    auto plan_of = [&] { return d.quota.status(user).plan; };
    auto plan = co_await d.pool.run(plan_of);
    count = std::min(plan.images_per_request, 3);
  }
  co_await submit(c, std::move(params), count, c.message_id());
}

net::awaitable<void> again(Context& c, AgainData data) { co_await again_job(c, std::move(data.job_id), false); }
net::awaitable<void> variations(Context& c, VariationsData data) { co_await again_job(c, std::move(data.job_id), true); }

}  // namespace

void register_again_button(Router& r) {
  r.callback<AgainData>(again);
  r.callback<VariationsData>(variations);
}

}  // namespace igb::bot::handlers
