#pragma once
// Hugging Face Inference Providers through the router: one Backend (one Router slot) that serves a
// prompt with the providers the model's Hub mapping names (or HF_PROVIDER pins), in order, failing
// over from one to the next inside one generate(). Each provider keeps a small cooldown of its own
// here (billing, not serving the model, repeated overload), so a broken provider is skipped while the
// others serve; the Router's circuit breaker sees the backend as a whole, and opens only when no
// provider can serve. See docs/providers.md and docs/architecture.md.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "gen/backend.hpp"
#include "gen/hf_mapping.hpp"
#include "gen/url_fetch.hpp"
#include "http/client.hpp"

namespace igb::gen {

// Told that a provider answered 402 (out of credits); at most once per HfOptions::billing_alert_every
// per provider. Awaited inline by the job that saw it (so it is owned, and bounded by its own timeout).
using BillingAlert = std::function<net::awaitable<void>(std::string provider, std::string detail)>;

struct HfOptions {
  std::string name = "hf";
  std::string base_url;  // https://router.huggingface.co
  std::string model;     // black-forest-labs/FLUX.1-schnell
  std::string token;
  std::chrono::milliseconds timeout{120'000};  // per provider call
  // Where the providers come from. Null: hf-inference alone, under the model's own id (what the
  // router's hf-inference route takes; no Hub call).
  std::shared_ptr<ProviderMappingCache> mapping;
  // For providers that answer with an image URL (fal-ai, replicate). Null: those fail over.
  std::shared_ptr<UrlFetcher> urls;
  // For the per-provider cooldowns and the billing alert's throttle. Null: no cooldowns, every
  // billing failure alerts.
  const core::Clock* clock = nullptr;
  BillingAlert on_billing;
  std::chrono::milliseconds billing_alert_every{3'600'000};
  std::chrono::milliseconds poll_interval{1'000};  // replicate
  int max_polls = 120;                              // replicate
};

class HfBackend final : public Backend {
 public:
  HfBackend(http::Client& client, HfOptions options) : client_(client), options_(std::move(options)) {}
  const std::string& name() const override { return options_.name; }
  net::awaitable<GenerationOutcome> generate(GenerationRequest request, ProgressFn progress) override;

  // How long a provider is skipped after a failure of each kind.
  static constexpr std::chrono::milliseconds kBillingCooldown{600'000};
  static constexpr std::chrono::milliseconds kUnavailableCooldown{600'000};
  static constexpr std::chrono::milliseconds kOverloadCooldown{30'000};
  static constexpr int kOverloadThreshold = 3;  // consecutive retry_later failures
  static constexpr std::chrono::milliseconds kMaxRetryAfterCooldown{600'000};

 private:
  struct ProviderHealth {
    int consecutive_failures = 0;
    core::Timestamp skip_until{};
    core::Timestamp last_billing_alert{};
    bool alerted = false;
  };
  void record(const std::string& provider, const GenerationFailure& f);
  bool should_alert(const std::string& provider);

  http::Client& client_;
  HfOptions options_;
  std::map<std::string, ProviderHealth> health_;
};

}  // namespace igb::gen
