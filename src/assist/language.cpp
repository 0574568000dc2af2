#include "assist/language.hpp"

#include <array>
#include <cctype>
#include <cstdint>

#include "util/strings.hpp"

namespace igb::assist {
namespace {

// The next code point of `s` from `i` (advancing i); nullopt for an invalid sequence (i skips a byte).
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) {
    ++i;
    return std::nullopt;
  }
  char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return std::nullopt;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

// Code points at or above U+00C0 that are not letters of some alphabet: the multiplication and
// division signs, combining marks, general punctuation to miscellaneous symbols and arrows (quotes,
// dashes, currency, arrows, maths, box drawing, dingbats), CJK punctuation, private use, variation
// selectors, half- and full-width punctuation, specials, and the emoji and symbol planes.
bool is_other_letter(char32_t cp) {
  struct Range {
    char32_t from, to;
  };
  static constexpr std::array<Range, 12> kNotLetters{{{0x00D7, 0x00D7},
                                                      {0x00F7, 0x00F7},
                                                      {0x0300, 0x036F},
                                                      {0x2000, 0x2BFF},
                                                      {0x3000, 0x303F},
                                                      {0xD800, 0xF8FF},
                                                      {0xFE00, 0xFE0F},
                                                      {0xFE30, 0xFE6F},
                                                      {0xFF00, 0xFF20},
                                                      {0xFFF0, 0xFFFF},
                                                      {0x1F000, 0x1FAFF},
                                                      {0xE0000, 0x10FFFF}}};
  if (cp < 0xC0) return false;
  for (const auto& r : kNotLetters) {
    if (cp >= r.from && cp <= r.to) return false;
  }
  return true;
}

bool is_space_or_control(char32_t cp) { return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == ' '; }

std::string_view strip_label(std::string_view s) {
  for (std::string_view label : {"translation:", "english translation:", "english:", "prompt:", "enhanced prompt:"}) {
    if (s.size() > label.size() && util::to_lower(s.substr(0, label.size())) == label) {
      return util::trim(s.substr(label.size()));
    }
  }
  return s;
}

std::string_view strip_quotes(std::string_view s) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> kPairs{
      {{"\"", "\""},
       {"'", "'"},
       {"`", "`"},
       {"\xE2\x80\x9C", "\xE2\x80\x9D"},
       {"\xC2\xAB", "\xC2\xBB"},
       {"\xE2\x80\x9E", "\xE2\x80\x9C"}}};
  for (const auto& [open, close] : kPairs) {
    if (s.size() >= open.size() + close.size() + 1 && s.starts_with(open) && s.ends_with(close)) {
      return util::trim(s.substr(open.size(), s.size() - open.size() - close.size()));
    }
  }
  return s;
}

}  // namespace

LetterCount count_letters(std::string_view text) {
  LetterCount n;
  for (std::size_t i = 0; i < text.size();) {
    auto cp = next_code_point(text, i);
    if (!cp) continue;
    if ((*cp >= 'A' && *cp <= 'Z') || (*cp >= 'a' && *cp <= 'z')) {
      ++n.english;
    } else if (is_other_letter(*cp)) {
      ++n.other;
    }
  }
  return n;
}

bool needs_translation(std::string_view prompt) {
  auto n = count_letters(prompt);
  return n.other > 0 && n.other >= n.english;
}

std::optional<std::string> clean_answer(std::string_view answer, std::size_t max_chars, bool english_only) {
  if (!util::is_valid_utf8(answer)) return std::nullopt;
  std::string_view s = util::trim(answer);
  // Reasoning models on the router (DeepSeek-R1, Qwen3…) put their reasoning first in the content.
  if (s.starts_with("<think>")) {
    auto end = s.find("</think>");
    if (end == std::string_view::npos) return std::nullopt;
    s = util::trim(s.substr(end + 8));
  }
  // White space and control characters collapsed to single spaces.
  std::string flat;
  flat.reserve(s.size());
  bool space = false;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    auto cp = next_code_point(s, i);
    if (!cp) return std::nullopt;
    if (is_space_or_control(*cp)) {
      space = !flat.empty();
      continue;
    }
    if (space) flat += ' ';
    space = false;
    flat.append(s.substr(start, i - start));
  }
  std::string_view v = strip_quotes(strip_label(flat));
  if (v.empty() || util::utf8_length(v) > max_chars) return std::nullopt;
  if (english_only && needs_translation(v)) return std::nullopt;
  return std::string(v);
}

}  // namespace igb::assist
