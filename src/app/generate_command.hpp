#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "app/wiring.hpp"

namespace igb::app {

struct GenerateCommand {
  std::string prompt;
  std::string output = "image.png";
  int width = 1024;
  int height = 1024;
  int steps = 4;
  std::optional<std::int64_t> seed;
  std::string style;
};

// `imggenbot generate`: one generation through the configured backends, straight to a file, without
// the queue: the operator's first check that a token works. Returns the exit code.
int run_generate(Services& services, const GenerateCommand& command);

}  // namespace igb::app
