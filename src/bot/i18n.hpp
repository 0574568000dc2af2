#pragma once
// The bot's texts in several languages: catalogues in src/bot/locales/<lang>.toml, embedded in the
// binary. A text is found by a dotted key ("start.text") and filled with named values ("{name}").
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace igb::bot {

using Args = std::vector<std::pair<std::string_view, std::string>>;

class Catalogs {
 public:
  // Parses the embedded catalogues; throws std::runtime_error naming the file on a parse error.
  static Catalogs embedded();
  // From {file name ("en.toml"), TOML text} pairs (tests).
  static Catalogs from(const std::vector<std::pair<std::string_view, std::string_view>>& files);

  // The language to speak: the IETF tag's primary subtag if a catalogue has it ("ru-RU" → "ru"),
  // else English.
  std::string resolve(std::string_view language_tag) const;
  // The text in `lang`, falling back to English, then to the key itself (a bug, logged).
  std::string text(std::string_view lang, std::string_view key, const Args& args = {}) const;
  std::vector<std::string> languages() const;  // "en" first
  // Keys English has and `lang` lacks (a test keeps this empty for every catalogue).
  std::vector<std::string> missing_keys(std::string_view lang) const;

 private:
  std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>> by_lang_;
};

// Replaces each {name} in `pattern` with its value; unknown names stay as written.
std::string format(std::string_view pattern, const Args& args);

}  // namespace igb::bot
