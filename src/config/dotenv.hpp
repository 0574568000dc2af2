#pragma once
#include <map>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace igb::config {

// Parses the text of a .env file: KEY=value lines, '#' comments, blank lines, an optional "export "
// prefix, values optionally in single quotes (literal) or double quotes (\n, \", \\ escapes). An
// unquoted value ends at " #". The last assignment of a key wins. An error names `source` and the
// line number, never the line's text (it may hold a secret).
[[nodiscard]] core::Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text,
                                                                            std::string_view source);

}  // namespace igb::config
