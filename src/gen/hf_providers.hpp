#pragma once
// One adapter per Hugging Face inference provider: each sends text-to-image through the router
// (https://router.huggingface.co/{provider}/…) in that provider's own dialect, exactly as the official
// clients do, and reads its answer. The source each follows is cited in hf_providers.cpp.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "gen/backend.hpp"
#include "gen/hf_mapping.hpp"
#include "http/client.hpp"

namespace igb::gen {

class UrlFetcher;

struct ProviderCall {
  http::Client* client = nullptr;
  UrlFetcher* urls = nullptr;  // for providers that answer with an image URL; null: they fail
  std::string router_base;     // https://router.huggingface.co, no trailing '/'
  std::string token;           // HF_TOKEN: the router bills the token owner
  std::chrono::milliseconds timeout{120'000};
  std::string backend;         // the name failures carry
  // replicate: how long to wait between polls of a prediction that `Prefer: wait` did not finish,
  // and how many polls at most.
  std::chrono::milliseconds poll_interval{1'000};
  int max_polls = 120;
};

bool has_adapter(std::string_view provider);
// Whether a provider's model id can go into a router URL path (letters, digits, - _ . / :, no "..").
bool is_usable_provider_id(std::string_view id);
std::vector<std::string_view> adapter_names();

// Calls `mapping.provider` for `request`, whose `model` is the HF model id: its defaults
// (model_defaults.hpp) are applied here, before the provider's body is built. The failure's backend
// is call.backend; its detail starts with the provider's name. A provider id that is not
// is_usable_provider_id throws std::invalid_argument (a bug: the mapping cache drops such entries).
net::awaitable<GenerationOutcome> call_provider(ProviderCall call, ProviderMapping mapping, GenerationRequest request);

// An error answer of the router or a provider, in every shape they use: {"error": str | [str] |
// {"message"}}, {"errors": [str | {"message"}]}, {"detail": str | [{"msg"}]}, {"message": str}, the
// X-Error-Message header; retry hints from estimated_time (503 loading), Retry-After and the
// RateLimit header's t= (seconds to the window's reset).
GenerationFailure read_provider_error(const http::Response& response, const std::string& backend);

// RateLimit: "api";r=0;t=55 (IETF draft 9, as the Hub sends it) or RateLimit: limit=…, reset=55.
std::optional<std::chrono::milliseconds> parse_ratelimit_reset(const std::string& value);

}  // namespace igb::gen
