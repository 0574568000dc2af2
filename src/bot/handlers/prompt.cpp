// A prompt (any text addressed to the bot, or /img …) becomes a job: options parsed, the user's
// defaults applied, the size fitted to the plan, then submitted with a status message.
#include "bot/keyboards.hpp"
#include "core/dimensions.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> prompt(Context& c) {
  const auto& limits = c.options().prompt_limits;
  auto reply_to = c.message_id();
  auto parsed = parse_prompt(c.text(), limits);
  if (auto* p = std::get_if<PromptProblem>(&parsed)) {
    auto text = c.t(p->key, p->args);
    auto sent = co_await c.reply_text(std::move(text), reply_to);
    (void)sent;
    co_return;
  }
  auto& req = std::get<PromptRequest>(parsed);
  const auto& user = c.user();
  core::JobParams params{.prompt = req.prompt,
                         .steps = req.steps.value_or(limits.max_steps),
                         .seed = req.seed,
                         .style = req.style.value_or(user.style)};
  if (params.style == "-") params.style.clear();
  // The size: the option, else the user's default, else square, fitted to the plan.
  std::string ar = req.aspect_ratio.value_or(user.aspect_ratio.empty() ? "1:1" : user.aspect_ratio);
  auto ratio = core::parse_aspect_ratio(ar).value_or(std::pair{1, 1});
  auto dims = co_await c.generation().fit(user.id, ratio);
  params.width = dims.width;
  params.height = dims.height;
  co_await submit(c, std::move(params), 1, reply_to);
}

}  // namespace

void register_prompt(Router& r) {
  r.on(UpdateKind::text, prompt, "prompt");
  r.command("img", {}, prompt);  // groups: "/img a cat"
}

}  // namespace igb::bot::handlers
