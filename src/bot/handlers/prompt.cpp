// A prompt (any text addressed to the bot, or /img …) becomes a job: options parsed, the user's
// defaults applied, the size fitted to the plan, then submitted with a status message.
#include "assist/language.hpp"
#include "bot/inline_mode.hpp"
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> prompt(Context& c) {
  auto reply_to = c.message_id();
  auto parsed = parse_prompt(c.text(), c.options().prompt_limits);
  if (auto* p = std::get_if<PromptProblem>(&parsed)) {
    auto text = c.t(p->key, p->args);
    auto sent = co_await c.reply_text(std::move(text), reply_to);
    (void)sent;
    co_return;
  }
  auto params = co_await prompt_params(c, std::get<PromptRequest>(parsed));
  // Non-English prompts go to the provider in English when the assistant is on (assist/language.hpp).
  SubmitPrompt how{.translate = assist::needs_translation(params.prompt)};
  co_await submit(c, std::move(params), 1, reply_to, std::move(how));
}

}  // namespace

void register_prompt(Router& r) {
  r.on(UpdateKind::text, prompt, "prompt");
  r.command("img", {}, prompt);  // groups: "/img a cat"
}

}  // namespace igb::bot::handlers
