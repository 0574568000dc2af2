#include "bot/prompt_options.hpp"

#include <charconv>
#include <vector>

#include "core/dimensions.hpp"
#include "core/styles.hpp"
#include "util/strings.hpp"

namespace igb::bot {
namespace {

// "—" (U+2014) and "–" (U+2013) are what phone keyboards turn "--" into.
std::optional<std::string_view> option_name(std::string_view word) {
  for (std::string_view dash : {"--", "\xE2\x80\x94", "\xE2\x80\x93"}) {
    if (word.starts_with(dash) && word.size() > dash.size()) return word.substr(dash.size());
  }
  return std::nullopt;
}

PromptProblem problem(std::string key, Args args = {}) { return PromptProblem{std::move(key), std::move(args)}; }

}  // namespace

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = s.find_first_not_of(" \t\r\n", i);
    if (b == std::string_view::npos) break;
    auto e = s.find_first_of(" \t\r\n", b);
    if (e == std::string_view::npos) e = s.size();
    out.push_back(s.substr(b, e - b));
    i = e;
  }
  return out;
}

std::string style_names() {
  std::string out;
  for (const auto& s : core::kStyles) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

std::variant<PromptRequest, PromptProblem> parse_prompt(std::string_view text, const PromptLimits& limits) {
  PromptRequest req;
  // The prompt ends at the first word that is an option.
  auto all = words(text);
  std::size_t first_option = all.size();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (option_name(all[i])) {
      first_option = i;
      break;
    }
  }
  std::string_view prompt =
      first_option == all.size()
          ? util::trim(text)
          : util::trim(text.substr(0, static_cast<std::size_t>(all[first_option].data() - text.data())));
  for (std::size_t i = first_option; i < all.size(); ++i) {
    auto name = option_name(all[i]);
    if (!name) return problem("prompt.unknown_option", {{"option", std::string(all[i])}});
    std::string option = "--" + std::string(*name);
    static const std::vector<std::pair<std::string_view, std::string_view>> kExamples{
        {"ar", "--ar 16:9"}, {"seed", "--seed 42"}, {"steps", "--steps 4"}, {"style", "--style anime"}};
    bool known = false;
    for (const auto& [n, example] : kExamples) {
      if (n != *name) continue;
      known = true;
      if (i + 1 >= all.size() || option_name(all[i + 1])) {
        return problem("prompt.missing_value", {{"option", option}, {"example", std::string(example)}});
      }
    }
    if (!known) return problem("prompt.unknown_option", {{"option", option}});
    auto value = all[++i];
    auto v = std::string(value);
    if (*name == "ar") {
      if (!core::parse_aspect_ratio(value)) return problem("prompt.bad_ar", {{"value", v}});
      req.aspect_ratio = v;
    } else if (*name == "seed") {
      std::int64_t seed = -1;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seed);
      if (ec != std::errc() || p != value.data() + value.size() || seed < 0 || seed > 4294967295LL) {
        return problem("prompt.bad_seed", {{"value", v}});
      }
      req.seed = seed;
    } else if (*name == "steps") {
      int steps = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), steps);
      if (ec != std::errc() || p != value.data() + value.size() || steps < 1 || steps > limits.max_steps) {
        return problem("prompt.bad_steps", {{"value", v}, {"max", std::to_string(limits.max_steps)}});
      }
      req.steps = steps;
    } else {
      if (core::find_style(value) == nullptr)
        return problem("prompt.bad_style", {{"value", v}, {"styles", style_names()}});
      req.style = v;
    }
  }
  if (prompt.empty()) return problem("prompt.empty");
  auto length = util::utf8_length(prompt);
  if (length > static_cast<std::size_t>(limits.max_prompt_chars)) {
    return problem("prompt.too_long",
                   {{"length", std::to_string(length)}, {"max", std::to_string(limits.max_prompt_chars)}});
  }
  req.prompt = std::string(prompt);
  return req;
}

}  // namespace igb::bot
