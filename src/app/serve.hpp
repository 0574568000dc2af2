#pragma once
#include "app/wiring.hpp"

namespace igb::app {

struct ServeOptions {
  bool api = true;
  bool bot = true;
  bool workers = true;
};

// Runs the process's roles until SIGINT or SIGTERM, then stops them within the grace period.
// Returns the process exit code.
int serve(Services& services, const ServeOptions& options);

}  // namespace igb::app
