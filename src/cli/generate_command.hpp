#pragma once
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "app/wiring.hpp"
#include "gen/backend.hpp"
#include "gen/router.hpp"

namespace igb::cli {

namespace net = boost::asio;

struct GenerateCommand {
  std::string prompt;
  std::string output = "image.png";
  int width = 1024;
  int height = 1024;
  int steps = 4;
  std::optional<std::int64_t> seed;
  std::string style;
};

// How `imggenbot generate` (and `doctor --generate`) retries a provider that says "later" (a model
// loading, a rate limit, an overloaded server, a circuit open after failures), the way a worker
// would: the provider's hint (estimated_time, Retry-After) when it gives one, else back-off from
// 2 s doubling; each wait at most max_wait, all of them at most max_total.
struct RetryOptions {
  int max_attempts = 5;
  std::chrono::milliseconds max_wait{60'000};
  std::chrono::milliseconds max_total{300'000};
};

// One generation through the router with those retries. Each wait is announced on `progress` in one
// line ("hf: the model is loading, waiting 20 s (attempt 2 of 5)"). Returns the last outcome.
net::awaitable<gen::GenerationOutcome> generate_with_retries(gen::Router& router, gen::GenerationRequest request,
                                                             RetryOptions options, std::ostream& progress);

// `imggenbot generate`: one generation through the configured backends, straight to a file, without
// the queue: the operator's first check that a token works. Returns the exit code.
int run_generate(app::Services& services, const GenerateCommand& command);

}  // namespace igb::cli
