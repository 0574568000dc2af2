#pragma once
// `imggenbot doctor`: checks, with the real settings, everything the service needs from outside and
// prints one plain line per check, "ok" or "FIX" with what to do. Never prints a secret.
#include <chrono>
#include <iosfwd>

#include "config/config.hpp"
#include "core/plans.hpp"

namespace igb::cli {

struct DoctorOptions {
  bool generate = false;                      // also make one small image through the backends
  std::chrono::milliseconds timeout{15'000};  // per HTTP check
};

// The checks, in order: the Telegram bot token (getMe); for each Hugging Face backend its token
// (whoami-v2, and the "Make calls to Inference Providers" permission of a fine-grained token), access
// to the model (auth-check: gated models need their conditions accepted) and the model's provider
// mapping on the Hub; for each OpenAI-compatible backend its server, key and model (GET /v1/models);
// the database; the data directory; with `generate`, one 512x512 image. `out` gets the check lines,
// `progress` the waits of the test image. Returns 0 when everything needed works, else 1.
int run_doctor(const config::Config& config, const core::PlanCatalog& plans, const DoctorOptions& options,
               std::ostream& out, std::ostream& progress);

}  // namespace igb::cli
