#include "gen/hf_backend.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "gen/hf_providers.hpp"

namespace igb::gen {

namespace {

// Which failure speaks for the whole attempt when every provider failed: one that may pass by
// itself first (so the job is retried), then the ones the operator must act on.
int rank(FailureKind kind) {
  switch (kind) {
    case FailureKind::retry_later: return 0;
    case FailureKind::billing: return 1;
    case FailureKind::invalid_request: return 2;
    case FailureKind::model_unavailable: return 3;
    default: return 4;
  }
}

GenerationFailure summarize(std::vector<GenerationFailure> failures) {
  if (failures.size() == 1) return std::move(failures.front());
  auto best = *std::min_element(failures.begin(), failures.end(),
                                [](const auto& a, const auto& b) { return rank(a.kind) < rank(b.kind); });
  std::optional<std::chrono::milliseconds> soonest;
  std::string detail;
  for (const auto& f : failures) {
    detail += (detail.empty() ? "" : "; ") + f.detail;
    if (f.kind == best.kind && f.retry_after && (!soonest || *f.retry_after < *soonest)) soonest = f.retry_after;
  }
  best.detail = "every provider failed: " + detail;
  best.retry_after = soonest;
  return best;
}

}  // namespace

void HfBackend::record(const std::string& provider, const GenerationFailure& f) {
  if (options_.clock == nullptr) return;
  const auto now = options_.clock->now();
  auto& h = health_[provider];
  auto skip_for = [&](std::chrono::milliseconds d) { h.skip_until = std::max(h.skip_until, now + d); };
  switch (f.kind) {
    case FailureKind::billing: skip_for(kBillingCooldown); break;
    case FailureKind::model_unavailable: skip_for(kUnavailableCooldown); break;
    case FailureKind::retry_later:
      ++h.consecutive_failures;
      if (f.retry_after) skip_for(std::min(*f.retry_after, kMaxRetryAfterCooldown));
      if (h.consecutive_failures >= kOverloadThreshold) skip_for(kOverloadCooldown);
      break;
    default: break;
  }
}

bool HfBackend::should_alert(const std::string& provider) {
  if (options_.clock == nullptr) return true;
  const auto now = options_.clock->now();
  auto& h = health_[provider];
  if (h.alerted && now - h.last_billing_alert < options_.billing_alert_every) return false;
  h.alerted = true;
  h.last_billing_alert = now;
  return true;
}

net::awaitable<GenerationOutcome> HfBackend::generate(GenerationRequest request, ProgressFn) {
  if (request.model.empty()) request.model = options_.model;
  std::vector<ProviderMapping> providers;
  if (options_.mapping) {
    providers = co_await options_.mapping->providers(request.model);
  } else {
    providers = {ProviderMapping{
        .provider = "hf-inference", .provider_id = request.model, .status = "live", .task = "text-to-image"}};
  }
  if (providers.empty()) {
    co_return GenerationFailure{.kind = FailureKind::model_unavailable,
                                .detail = "no inference provider serves " + request.model +
                                          " for text-to-image (see the log line \"hf providers of\")",
                                .backend = options_.name};
  }

  std::vector<GenerationFailure> failures;
  std::optional<std::chrono::milliseconds> cooling;  // the soonest end of a skipped provider's cooldown
  std::string skipped;
  for (const auto& mapping : providers) {
    if (options_.clock != nullptr) {
      const auto now = options_.clock->now();
      if (auto it = health_.find(mapping.provider); it != health_.end() && now < it->second.skip_until) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.skip_until - now);
        if (!cooling || left < *cooling) cooling = left;
        skipped += (skipped.empty() ? "" : ", ") + mapping.provider;
        continue;
      }
    }
    ProviderCall call{.client = &client_,
                      .urls = options_.urls.get(),
                      .router_base = options_.base_url,
                      .token = options_.token,
                      .timeout = options_.timeout,
                      .backend = options_.name,
                      .poll_interval = options_.poll_interval,
                      .max_polls = options_.max_polls};
    auto outcome = co_await call_provider(std::move(call), mapping, request);
    if (auto* image = std::get_if<GeneratedImage>(&outcome)) {
      if (auto it = health_.find(mapping.provider); it != health_.end()) it->second.consecutive_failures = 0;
      image->provider = mapping.provider;  // the one that served it, whichever came before
      image->model = request.model;
      co_return outcome;
    }
    auto f = std::get<GenerationFailure>(std::move(outcome));
    record(mapping.provider, f);
    if (f.kind == FailureKind::billing) {
      spdlog::error("backend {}: provider {} is out of credits (402): {}", options_.name, mapping.provider, f.detail);
      if (options_.on_billing && should_alert(mapping.provider))
        co_await options_.on_billing(mapping.provider, f.detail);
    }
    // The same prompt and the same token go to every provider: no point in asking the next one.
    if (f.kind == FailureKind::content_refused || f.kind == FailureKind::bad_credentials) co_return f;
    if (&mapping != &providers.back()) {
      spdlog::warn("backend {}: provider {} failed ({}), trying the next one: {}", options_.name, mapping.provider,
                   to_string(f.kind), f.detail);
    }
    failures.push_back(std::move(f));
  }
  if (failures.empty()) {
    co_return GenerationFailure{.kind = FailureKind::retry_later,
                                .detail = "every provider of " + request.model + " is cooling down: " + skipped,
                                .retry_after = cooling,
                                .backend = options_.name};
  }
  co_return summarize(std::move(failures));
}

}  // namespace igb::gen
