// The prompt policy: every prompt (bot, inline, API) is normalised and matched against the
// blocklists before anything is queued.
#include "core/prompt_policy.hpp"
#include "fuzz_input.hpp"
#include "util/strings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto policy = igb::core::PromptPolicy::builtin();
  const auto text = igb::fuzz::as_view(data, size);
  const auto once = igb::core::normalise(text);
  IGB_FUZZ_CHECK(igb::util::is_valid_utf8(once));
  IGB_FUZZ_CHECK(igb::core::normalise(once) == once);  // a skeleton is its own skeleton
  for (const auto& w : igb::core::normalised_words(text))
    IGB_FUZZ_CHECK(!w.empty() && w.find(' ') == std::string::npos);
  const auto base = policy->check(text, igb::core::PolicyLevel::base);
  const auto strict = policy->check(text, igb::core::PolicyLevel::strict);
  IGB_FUZZ_CHECK(!base || strict);  // what the base lists block, safe mode blocks too
  if (base) IGB_FUZZ_CHECK(base->level == igb::core::PolicyLevel::base);
  return 0;
}
