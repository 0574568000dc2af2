// "✨ Enhance" under a result (shown while the prompt assistant is on): the assistant enriches the
// user's prompt (detail, style, composition, lighting; in English) and the picture is made again from
// it, at the cost of one image like "Again". The caption keeps the user's own words.
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> enhance(Context& c, EnhanceData data) {
  const auto user = c.user().id;
  // The job is read as the presser's: another user's job id is a stale button.
  auto job = co_await c.generation().job(std::move(data.job_id), user);
  if (!job.ok()) {
    co_await c.answer_callback("button.stale");
    co_return;
  }
  auto* assistant = c.deps().assistant;
  auto meta = decode_meta(job->meta);
  // From the user's words, not from an earlier enrichment: pressing it again does not pile up.
  std::string original = meta && !meta->original.empty() ? meta->original : job->params.prompt;
  std::optional<std::string> enriched;
  if (assistant != nullptr) enriched = co_await assistant->enhance(original);
  if (!enriched) {
    // Slow, down or unusable: nothing is queued and nothing charged; the user may press it again.
    co_await c.answer_callback("result.enhance_unavailable");
    co_return;
  }
  co_await c.answer_callback();
  auto params = job->params;
  // The seed stays: the picture changes by its prompt only, so the two can be compared. (A provider
  // that takes no seed recorded none; the worker then picks one.)
  params.prompt = std::move(*enriched);
  SubmitPrompt how{.original = std::move(original)};
  co_await submit(c, std::move(params), 1, c.message_id(), std::move(how));
}

}  // namespace

void register_enhance_button(Router& r) { r.callback<EnhanceData>(enhance); }

}  // namespace igb::bot::handlers
