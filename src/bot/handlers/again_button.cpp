// "Again" (the same prompt, a new seed) and "Variations" (up to three at once) under a result.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

// The job is read as the presser's: another user's job id is a stale button.
net::awaitable<void> again_job(Context& c, std::string job_id, bool variations) {
  const auto user = c.user().id;
  auto job = co_await c.generation().job(std::move(job_id), user);
  if (!job.ok()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  co_await c.answer_callback();
  auto params = job->params;
  params.seed.reset();  // a new seed: the worker picks one
  int count = 1;
  if (variations) {
    auto q = co_await c.generation().quota(user);
    count = std::min(q.plan.images_per_request, 3);
  }
  // A translated prompt goes again as translated, and its caption still shows the user's words.
  auto meta = decode_meta(job->meta);
  SubmitPrompt how{.original = meta ? meta->original : std::string()};
  co_await submit(c, std::move(params), count, c.message_id(), std::move(how));
}

net::awaitable<void> again(Context& c, AgainData data) { co_await again_job(c, std::move(data.job_id), false); }
net::awaitable<void> variations(Context& c, VariationsData data) {
  co_await again_job(c, std::move(data.job_id), true);
}

}  // namespace

void register_again_button(Router& r) {
  r.callback<AgainData>(again);
  r.callback<VariationsData>(variations);
}

}  // namespace igb::bot::handlers
