// .env parsing: the file is edited by hand and may be copied from anywhere. An error names the
// source and the line, never the line's text.
#include <string>

#include "config/dotenv.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = igb::fuzz::as_view(data, size);
  auto parsed = igb::config::parse_dotenv(text, "fuzz.env");
  if (!parsed) {
    const auto& e = parsed.error();
    IGB_FUZZ_CHECK(e.public_message.find("fuzz.env") != std::string::npos);
    return 0;
  }
  for (const auto& [key, value] : *parsed) {
    IGB_FUZZ_CHECK(!key.empty());
    IGB_FUZZ_CHECK(key.find('\n') == std::string::npos && key.find('=') == std::string::npos);
  }
  return 0;
}
