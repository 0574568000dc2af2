#pragma once
// Tries the configured backends in order of preference, skipping those that are busy, over their
// rate limit, or whose circuit breaker is open, and fails over on provider-side failures.
// Used from one executor (one thread): its counters are not synchronised.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "gen/backend.hpp"

namespace igb::gen {

struct SlotLimits {
  int concurrency = 4;      // calls in flight from this process
  int rate_per_minute = 0;  // 0: unlimited
};

struct RouterOptions {
  int failure_threshold = 3;                  // consecutive failures that open the circuit
  std::chrono::milliseconds cooldown{30'000};  // how long it stays open before one trial call
  std::chrono::milliseconds long_cooldown{600'000};  // after billing or credential failures
};

enum class CircuitState { closed, open, half_open };
const char* to_string(CircuitState s);

struct BackendHealth {
  std::string name;
  CircuitState state = CircuitState::closed;
  int consecutive_failures = 0;
  int in_flight = 0;
  std::string last_failure;  // kind and detail of the latest failure
};

class Router {
 public:
  Router(const core::Clock& clock, RouterOptions options = {}) : clock_(clock), options_(options) {}
  void add(std::unique_ptr<Backend> backend, SlotLimits limits);

  // Looks at a backend's image before it counts as a success (the worker's size policy): a failure
  // counts against that backend and the router fails over to the next, as for any failed call. Runs
  // on the router's executor, so it must be cheap (headers only).
  using AnswerCheck = std::function<std::optional<GenerationFailure>(const GenerationRequest&, const GeneratedImage&)>;
  net::awaitable<GenerationOutcome> generate(GenerationRequest request, ProgressFn progress, AnswerCheck check = {});

  std::vector<BackendHealth> health() const;
  // Called after every provider call with the backend, "ok" or the failure kind, and the time taken.
  using CallObserver = std::function<void(const std::string&, const std::string&, std::chrono::nanoseconds)>;
  void observe(CallObserver observer) { observer_ = std::move(observer); }
  // At least one backend whose circuit is not open.
  bool any_usable() const;
  bool empty() const { return slots_.empty(); }

 private:
  struct Slot {
    std::unique_ptr<Backend> backend;
    SlotLimits limits;
    int in_flight = 0;
    int consecutive_failures = 0;
    core::Timestamp open_until{};
    bool trial_in_flight = false;
    double tokens = 0;
    core::Timestamp tokens_at{};
    std::string last_failure;
  };
  CircuitState state_of(const Slot& s, core::Timestamp now) const;
  bool take_token(Slot& s, core::Timestamp now);
  void record_success(Slot& s);
  void record_failure(Slot& s, const GenerationFailure& f, core::Timestamp now);

  const core::Clock& clock_;
  RouterOptions options_;
  std::vector<std::unique_ptr<Slot>> slots_;
  CallObserver observer_;
};

}  // namespace igb::gen
