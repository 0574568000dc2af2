#pragma once
// The Hugging Face Hub's inference provider mapping of a model: which providers serve it, under which
// id of their own, and whether they are live. Read the way the official clients read it:
//   huggingface/huggingface_hub  src/huggingface_hub/inference/_providers/_common.py
//                                (_fetch_inference_provider_mapping) and hf_api.py (ModelInfo)
//   huggingface/huggingface.js   packages/inference/src/lib/getInferenceProviderMapping.ts
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "http/client.hpp"

namespace igb::gen {

namespace net = boost::asio;

struct ProviderMapping {
  std::string provider;     // "fal-ai", "hf-inference", …
  std::string provider_id;  // the provider's own model id
  std::string status;       // "live" | "staging" | …
  std::string task;         // "text-to-image", …
};

struct HubOptions {
  std::string hub_base = "https://huggingface.co";
  std::string token;
  std::chrono::milliseconds timeout{10'000};
};

// The mapping field of a Hub answer (the whole JSON document of /api/models/{model}), in both shapes the
// Hub has used: an object keyed by provider name, or a list of entries with a "provider" field. Entries
// that lack providerId/status/task are skipped. The order is the Hub's. An error if the document is not
// JSON or has no usable field. Exposed for tests.
[[nodiscard]] core::Result<std::vector<ProviderMapping>> parse_provider_mapping(const std::string& body);

// GET {hub_base}/api/models/{model}?expand[]=inferenceProviderMapping; both answer shapes. The Result's
// error has a public message fit for an operator (no token).
[[nodiscard]] net::awaitable<core::Result<std::vector<ProviderMapping>>> fetch_provider_mapping(http::Client& client,
                                                                                                HubOptions options,
                                                                                                std::string model);

// The entries live for text-to-image, in the order the official clients use (or pinned by an explicit
// list: only the pinned providers, in the pinned order; a pinned provider the mapping does not name is
// dropped). An empty `pinned` or {"auto"} means the Hub's order.
std::vector<ProviderMapping> usable_providers(const std::vector<ProviderMapping>& mapping,
                                              const std::vector<std::string>& pinned);

// "auto" or "" → {}; "fal-ai, nscale" → {"fal-ai", "nscale"} (trimmed, lower case, empty items dropped).
std::vector<std::string> parse_provider_list(const std::string& value);

struct MappingCacheOptions {
  HubOptions hub;
  std::vector<std::string> pinned;                // HF_PROVIDER as a list; empty: auto
  std::chrono::milliseconds refresh{300'000};     // a mapping older than this is fetched again
  std::chrono::milliseconds retry_failed{30'000};  // after a failed fetch, wait this long to try again
};

// The usable providers of each model, fetched from the Hub on first use and refreshed lazily: the
// first caller that finds a mapping older than `refresh` fetches it again, while callers meanwhile get
// the last good one (so a slow Hub delays one job every few minutes, never all of them). A failed
// fetch keeps the last good mapping; with none yet, the model falls back to hf-inference under its own
// id (what ImgGenBot spoke before providers existed) unless a pinned list leaves hf-inference out.
// The resolved list is logged on first resolution and whenever it changes. Providers without an
// adapter here are dropped (and named in that log line).
// Used from one executor (one thread), like the Router.
class ProviderMappingCache {
 public:
  ProviderMappingCache(http::Client& client, const core::Clock& clock, MappingCacheOptions options)
      : client_(client), clock_(clock), options_(std::move(options)) {}

  [[nodiscard]] net::awaitable<std::vector<ProviderMapping>> providers(std::string model);
  // Fetches every model seen so far again now (e.g. from a periodic task); failures keep the old list.
  [[nodiscard]] net::awaitable<void> refresh_all();
  const MappingCacheOptions& options() const { return options_; }

 private:
  struct Entry {
    std::vector<ProviderMapping> usable;
    bool have = false;        // a fetch has succeeded at least once
    core::Timestamp fetched_at{};
    core::Timestamp next_try{};  // after a failure
    int in_flight = 0;           // fetches running
  };
  net::awaitable<void> refresh(std::string model);
  std::vector<ProviderMapping> fallback(const std::string& model) const;

  http::Client& client_;
  const core::Clock& clock_;
  MappingCacheOptions options_;
  std::map<std::string, Entry> entries_;
};

}  // namespace igb::gen
