#pragma once
// One interface for every image provider: a request in, image bytes or a typed failure out.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

namespace igb::gen {

namespace net = boost::asio;

struct GenerationRequest {
  std::string prompt;  // the full prompt, style preset already applied
  int width = 1024;
  int height = 1024;
  int steps = 4;
  std::int64_t seed = 0;  // always set: the worker picks one when the user did not
  std::string model;      // empty: the backend's configured model
};

struct GeneratedImage {
  std::string bytes;
  std::string content_type;  // as the provider said; the worker checks the bytes themselves
  // False when the provider cannot take a seed (OpenAI's image models): the job then records no seed
  // and is not kept for exact repeats.
  bool seed_applied = true;
  // Who made it, for the cost (PROVIDER_PRICES): the HF inference provider that served it ("fal-ai",
  // after any failover inside the HF backend) or, for other backends, the backend's name; and the
  // model it was asked for. The Router fills in its backend's name when a backend leaves it empty.
  std::string provider;
  std::string model;
};

enum class FailureKind {
  retry_later,        // loading, rate limited, overloaded, timed out, broken answer: try again later
  billing,            // out of credits: fail over and tell the operator, do not hammer
  bad_credentials,    // token missing, wrong or not allowed
  model_unavailable,  // this provider does not serve the model
  invalid_request,    // the provider rejected the parameters
  content_refused,    // the provider's safety filter refused the prompt
  permanent,          // anything else that will not get better by retrying
};

const char* to_string(FailureKind kind);
// Whether another attempt of the same job may succeed.
bool is_retryable(FailureKind kind);

struct GenerationFailure {
  FailureKind kind = FailureKind::permanent;
  std::string detail;  // for the log: status, provider message (never the token)
  std::optional<std::chrono::milliseconds> retry_after;
  std::string backend;  // which backend said so
};

using GenerationOutcome = std::variant<GeneratedImage, GenerationFailure>;

// Called with 0..100 by backends that report progress (none of the HTTP APIs we speak do today).
using ProgressFn = std::function<void(int)>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const std::string& name() const = 0;
  virtual net::awaitable<GenerationOutcome> generate(GenerationRequest request, ProgressFn progress) = 0;
};

}  // namespace igb::gen
