#include "config/dotenv.hpp"

#include <cctype>
#include <optional>

#include "util/strings.hpp"

namespace igb::config {
namespace {

bool is_key(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front())) != 0) return false;
  for (char c : key) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return true;
}

// After a closing quote only blanks or a comment may follow.
bool only_comment_left(std::string_view rest) {
  rest = util::trim(rest);
  return rest.empty() || rest.front() == '#';
}

// nullopt: malformed; `why` says how.
std::optional<std::string> parse_value(std::string_view raw, std::string& why) {
  if (raw.empty()) return std::string{};
  if (raw.front() == '\'') {
    auto end = raw.find('\'', 1);
    if (end == std::string_view::npos) {
      why = "unterminated single-quoted value";
      return std::nullopt;
    }
    if (!only_comment_left(raw.substr(end + 1))) {
      why = "unexpected text after the closing quote";
      return std::nullopt;
    }
    return std::string(raw.substr(1, end - 1));
  }
  if (raw.front() == '"') {
    std::string out;
    for (std::size_t i = 1; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '"') {
        if (!only_comment_left(raw.substr(i + 1))) {
          why = "unexpected text after the closing quote";
          return std::nullopt;
        }
        return out;
      }
      if (c == '\\' && i + 1 < raw.size()) {
        char next = raw[i + 1];
        if (next == 'n') {
          out += '\n';
          ++i;
          continue;
        }
        if (next == '"' || next == '\\') {
          out += next;
          ++i;
          continue;
        }
      }
      out += c;
    }
    why = "unterminated double-quoted value";
    return std::nullopt;
  }
  // Unquoted: a '#' starts a comment only after whitespace, so "a#b" stays whole.
  for (std::size_t i = 1; i < raw.size(); ++i) {
    if (raw[i] == '#' && std::isspace(static_cast<unsigned char>(raw[i - 1])) != 0) {
      raw = raw.substr(0, i);
      break;
    }
  }
  return std::string(util::trim(raw));
}

}  // namespace

core::Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text, std::string_view source) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;

    auto bad = [&](std::string_view what) {
      return core::make_error(core::ErrorCode::invalid_argument,
                              std::string(source) + ":" + std::to_string(line_no) + ": " + std::string(what));
    };

    line = util::trim(line);  // also drops a '\r' of CRLF files
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export") && line.size() > 6 && std::isspace(static_cast<unsigned char>(line[6])) != 0) {
      line = util::trim(line.substr(6));
    }
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return bad("expected KEY=value");
    auto key = util::trim(line.substr(0, eq));
    if (!is_key(key)) return bad("expected KEY=value with KEY made of letters, digits and '_'");
    std::string why;
    auto value = parse_value(util::trim(line.substr(eq + 1)), why);
    if (!value) return bad(why);
    out[std::string(key)] = std::move(*value);
  }
  return out;
}

}  // namespace igb::config
