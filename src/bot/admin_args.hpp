#pragma once
// The arguments of the admins' commands (src/bot/handlers/admin_*.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bot/context.hpp"
#include "util/strings.hpp"

namespace igb::bot {

inline std::vector<std::string> admin_words(std::string_view args) {
  std::vector<std::string> out;
  for (auto w : words(args)) out.emplace_back(w);
  return out;
}

// A Telegram id or a count of days: a positive integer.
inline std::optional<std::int64_t> positive_id(std::string_view s) {
  auto v = util::parse_int(s);
  if (!v || *v <= 0) return std::nullopt;
  return *v;
}

}  // namespace igb::bot
