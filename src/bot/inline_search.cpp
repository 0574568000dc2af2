#include "bot/inline_search.hpp"

#include <algorithm>
#include <cctype>

namespace igb::bot {

namespace {

constexpr std::size_t kMaxWords = 32;

// Appends the lower-case form of the UTF-8 character at s[i..i+len).
void append_lower(std::string& out, std::string_view ch) {
  if (ch.size() == 1) {
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch[0])));
    return;
  }
  if (ch.size() == 2) {
    auto b0 = static_cast<unsigned char>(ch[0]), b1 = static_cast<unsigned char>(ch[1]);
    unsigned cp = ((b0 & 0x1Fu) << 6) | (b1 & 0x3Fu);
    if (cp >= 0x0410 && cp <= 0x042F)
      cp += 0x20;  // А-Я → а-я
    else if (cp >= 0x0400 && cp <= 0x040F)
      cp += 0x50;  // Ѐ-Џ (Ё …) → ѐ-џ
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
    return;
  }
  out.append(ch);
}

}  // namespace

std::vector<std::string> search_words(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && words.size() < kMaxWords) words.push_back(word);
    word.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    len = std::min(len, text.size() - i);
    if (len == 1 && (!std::isalnum(c) || c >= 0x80)) {
      flush();  // a separator, a stray continuation byte or an invalid lead byte
    } else {
      append_lower(word, text.substr(i, len));
    }
    i += len;
  }
  flush();
  return words;
}

bool prompt_matches(std::string_view query, std::string_view prompt) {
  auto wanted = search_words(query);
  if (wanted.empty()) return true;
  auto words = search_words(prompt);
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) {
    return std::any_of(words.begin(), words.end(),
                       [&](const std::string& p) { return p.find(w) != std::string::npos; });
  });
}

bool valid_inline_message_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) || c == '_' || c == '-' || c == '=';
  });
}

}  // namespace igb::bot
