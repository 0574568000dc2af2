#pragma once
// "a fox in snow --ar 16:9 --seed 42 --steps 4 --style anime": the prompt and the options after it.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "bot/i18n.hpp"

namespace igb::bot {

struct PromptRequest {
  std::string prompt;  // trimmed, options removed
  std::optional<std::string> aspect_ratio;
  std::optional<std::int64_t> seed;
  std::optional<int> steps;
  std::optional<std::string> style;
};

// What is wrong, as a catalogue key and its values ("prompt.bad_seed", {value: "x"}).
struct PromptProblem {
  std::string key;
  Args args;
};

struct PromptLimits {
  int max_prompt_chars = 1000;  // code points
  int max_steps = 4;
};

// Options start at the first " --" word; each takes one value. Accepts "—" (what phones make of
// "--") as well.
std::variant<PromptRequest, PromptProblem> parse_prompt(std::string_view text, const PromptLimits& limits);

// "photo, cinematic, anime, …" for messages.
std::string style_names();

// The white-space separated words of `s` (views into it).
std::vector<std::string_view> words(std::string_view s);

}  // namespace igb::bot
