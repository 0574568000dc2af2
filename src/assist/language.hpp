#pragma once
// Which prompts the assistant translates, and how its answers are read back. Pure functions.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace igb::assist {

struct LetterCount {
  int english = 0;  // A-Z, a-z
  int other = 0;    // letters of any other alphabet or with diacritics (é, ж, 字…)
};
// Counts letters only: digits, punctuation, symbols, emoji, combining marks and white space are
// neither. Invalid UTF-8 bytes are skipped.
LetterCount count_letters(std::string_view text);

// The detection rule: a prompt is translated when letters outside A-Z make at least half of its
// letters ("кот в шляпе", "猫", "a cat in Москва"). A prompt without letters (emoji, digits) is not.
// Latin-script languages without diacritics ("un renard dans la neige") pass as they are: telling
// them from English needs a language model, and FLUX reads many of them well enough.
bool needs_translation(std::string_view prompt);

// The assistant's answer as a prompt, or nullopt if it is not usable: a reasoning model's leading
// <think>…</think> dropped, white space (line breaks included) collapsed, control characters removed,
// one pair of wrapping quotes and one leading label ("Translation:", "Prompt:", "English:") taken off.
// Refused: empty, invalid UTF-8, an unclosed <think>, longer than max_chars code points, and for a
// translation (`english_only`) a result that still needs translating.
std::optional<std::string> clean_answer(std::string_view answer, std::size_t max_chars, bool english_only);

}  // namespace igb::assist
