#include "gen/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace igb::gen {

const char* to_string(CircuitState s) {
  switch (s) {
    case CircuitState::closed: return "closed";
    case CircuitState::open: return "open";
    case CircuitState::half_open: return "half_open";
  }
  return "closed";
}

void Router::add(std::unique_ptr<Backend> backend, SlotLimits limits) {
  auto slot = std::make_unique<Slot>();
  slot->backend = std::move(backend);
  slot->limits = limits;
  slot->tokens = std::max(1.0, limits.rate_per_minute / 6.0);  // up to ten seconds' worth at once
  slot->tokens_at = clock_.now();
  slots_.push_back(std::move(slot));
}

CircuitState Router::state_of(const Slot& s, core::Timestamp now) const {
  if (s.consecutive_failures < options_.failure_threshold) return CircuitState::closed;
  return now < s.open_until ? CircuitState::open : CircuitState::half_open;
}

bool Router::take_token(Slot& s, core::Timestamp now) {
  if (s.limits.rate_per_minute <= 0) return true;
  const double capacity = std::max(1.0, s.limits.rate_per_minute / 6.0);
  const double elapsed_min = std::chrono::duration<double, std::ratio<60>>(now - s.tokens_at).count();
  s.tokens = std::min(capacity, s.tokens + elapsed_min * s.limits.rate_per_minute);
  s.tokens_at = now;
  if (s.tokens < 1.0) return false;
  s.tokens -= 1.0;
  return true;
}

void Router::record_success(Slot& s) {
  if (s.consecutive_failures >= options_.failure_threshold) {
    spdlog::info("backend {} recovered", s.backend->name());
  }
  s.consecutive_failures = 0;
}

void Router::record_failure(Slot& s, const GenerationFailure& f, core::Timestamp now) {
  s.last_failure = std::string(to_string(f.kind)) + ": " + f.detail;
  // Billing and credentials will not fix themselves in seconds: open at once, for longer, and say
  // so loudly for the operator.
  if (f.kind == FailureKind::billing || f.kind == FailureKind::bad_credentials) {
    spdlog::error("backend {} {}: {}; not using it for {} s", s.backend->name(),
                  f.kind == FailureKind::billing ? "is out of credits" : "rejected the credentials", f.detail,
                  std::chrono::duration_cast<std::chrono::seconds>(options_.long_cooldown).count());
    s.consecutive_failures = std::max(s.consecutive_failures + 1, options_.failure_threshold);
    s.open_until = now + options_.long_cooldown;
    return;
  }
  spdlog::warn("backend {} failed ({}): {}", s.backend->name(), to_string(f.kind), f.detail);
  ++s.consecutive_failures;
  if (s.consecutive_failures >= options_.failure_threshold) {
    auto cooldown = std::max(options_.cooldown, f.retry_after.value_or(std::chrono::milliseconds(0)));
    s.open_until = now + std::chrono::duration_cast<core::Millis>(cooldown);
    if (s.consecutive_failures == options_.failure_threshold) {
      spdlog::warn("backend {}: circuit open for {} ms after {} failures in a row", s.backend->name(), cooldown.count(),
                   s.consecutive_failures);
    }
  }
}

net::awaitable<GenerationOutcome> Router::generate(GenerationRequest request, ProgressFn progress, AnswerCheck check) {
  std::optional<GenerationFailure> best;  // what to report if every backend fails
  auto consider = [&](GenerationFailure f) {
    // Prefer a retryable answer (the job waits and tries again) with the shortest wait.
    if (!best || (is_retryable(f.kind) && !is_retryable(best->kind)) ||
        (f.kind == FailureKind::retry_later && best->kind == FailureKind::retry_later &&
         f.retry_after.value_or(core::Millis(0)) < best->retry_after.value_or(core::Millis(0)))) {
      best = std::move(f);
    }
  };
  bool tried = false;
  for (auto& slot_ptr : slots_) {
    Slot& s = *slot_ptr;
    const auto now = clock_.now();
    const auto state = state_of(s, now);
    if (state == CircuitState::open) {
      consider({.kind = FailureKind::retry_later,
                .detail = "circuit open",
                .retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(s.open_until - now),
                .backend = s.backend->name()});
      continue;
    }
    if (state == CircuitState::half_open && s.trial_in_flight) continue;
    if (s.in_flight >= s.limits.concurrency || !take_token(s, now)) {
      consider({.kind = FailureKind::retry_later,
                .detail = "busy or over its rate limit",
                .retry_after = std::chrono::seconds(2),
                .backend = s.backend->name()});
      continue;
    }
    tried = true;
    ++s.in_flight;
    const bool trial = state == CircuitState::half_open;
    if (trial) s.trial_in_flight = true;
    struct Release {
      Slot& s;
      bool trial;
      ~Release() {
        --s.in_flight;
        if (trial) s.trial_in_flight = false;
      }
    } release{s, trial};
    const auto started = std::chrono::steady_clock::now();
    auto outcome = co_await s.backend->generate(request, progress);
    if (const auto* image = std::get_if<GeneratedImage>(&outcome); image && check) {
      if (auto refused = check(request, *image)) outcome = *std::move(refused);
    }
    if (observer_) {
      const auto* f = std::get_if<GenerationFailure>(&outcome);
      observer_(s.backend->name(), f ? to_string(f->kind) : "ok", std::chrono::steady_clock::now() - started);
    }
    if (auto* image = std::get_if<GeneratedImage>(&outcome)) {
      record_success(s);
      if (image->provider.empty()) image->provider = s.backend->name();
      if (image->model.empty()) image->model = request.model;
      co_return outcome;
    }
    auto& failure = std::get<GenerationFailure>(outcome);
    failure.backend = s.backend->name();
    // The request itself is at fault: another provider would refuse it too.
    if (failure.kind == FailureKind::invalid_request || failure.kind == FailureKind::content_refused) {
      record_success(s);  // the provider works
      co_return outcome;
    }
    record_failure(s, failure, clock_.now());
    consider(std::move(failure));
  }
  if (!best) {
    best = GenerationFailure{
        .kind = FailureKind::retry_later, .detail = "no backend configured", .retry_after = std::chrono::seconds(30)};
  }
  if (!tried) best->detail = "no backend available: " + best->detail;
  co_return *best;
}

std::vector<BackendHealth> Router::health() const {
  std::vector<BackendHealth> out;
  out.reserve(slots_.size());
  const auto now = clock_.now();
  for (const auto& s : slots_) {
    out.push_back({.name = s->backend->name(),
                   .state = state_of(*s, now),
                   .consecutive_failures = s->consecutive_failures,
                   .in_flight = s->in_flight,
                   .last_failure = s->last_failure});
  }
  return out;
}

bool Router::any_usable() const {
  const auto now = clock_.now();
  return std::any_of(slots_.begin(), slots_.end(),
                     [&](const auto& s) { return state_of(*s, now) != CircuitState::open; });
}

}  // namespace igb::gen
