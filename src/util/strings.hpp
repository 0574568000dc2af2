#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace igb::util {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string to_lower(std::string_view s);
// Whole-string integer parse; nullopt on any junk or overflow.
std::optional<long long> parse_int(std::string_view s);
// True if `s` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);
// Code points of valid UTF-8.
std::size_t utf8_length(std::string_view s);
// At most max_chars code points; a cut text ends with "…" (counted in max_chars).
std::string utf8_shorten(std::string_view s, std::size_t max_chars);

}  // namespace igb::util
