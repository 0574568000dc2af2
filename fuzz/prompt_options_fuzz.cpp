// Prompt options: every text message a user sends to the bot goes through parse_prompt.
#include <variant>

#include "bot/prompt_options.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const igb::bot::PromptLimits limits{.max_prompt_chars = 1000, .max_steps = 4};
  auto parsed = igb::bot::parse_prompt(igb::fuzz::as_view(data, size), limits);
  if (const auto* r = std::get_if<igb::bot::PromptRequest>(&parsed)) {
    IGB_FUZZ_CHECK(!r->prompt.empty());
    IGB_FUZZ_CHECK(r->prompt.size() <= size);
    if (r->steps) IGB_FUZZ_CHECK(*r->steps >= 1 && *r->steps <= limits.max_steps);
  } else {
    IGB_FUZZ_CHECK(!std::get<igb::bot::PromptProblem>(parsed).key.empty());
  }
  (void)igb::bot::words(igb::fuzz::as_view(data, size));
  return 0;
}
