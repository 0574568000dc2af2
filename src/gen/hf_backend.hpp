#pragma once
#include <chrono>
#include <string>

#include "gen/backend.hpp"
#include "http/client.hpp"

namespace igb::gen {

struct HfOptions {
  std::string name = "hf";
  std::string base_url;  // https://router.huggingface.co
  std::string model;     // black-forest-labs/FLUX.1-schnell
  std::string token;
  std::chrono::milliseconds timeout{120'000};
};

// Hugging Face Inference (hf-inference provider): POST {base}/hf-inference/models/{model} with
// {"inputs", "parameters"}; 200 answers raw image bytes, errors are JSON {"error": …}.
class HfBackend final : public Backend {
 public:
  HfBackend(http::Client& client, HfOptions options) : client_(client), options_(std::move(options)) {}
  const std::string& name() const override { return options_.name; }
  net::awaitable<GenerationOutcome> generate(GenerationRequest request, ProgressFn progress) override;

  // Exposed for tests: the JSON body sent for a request.
  static std::string request_body(const GenerationRequest& request);
  // Exposed for tests: what an HTTP answer means.
  GenerationOutcome interpret(const http::Response& response) const;

 private:
  http::Client& client_;
  HfOptions options_;
};

}  // namespace igb::gen
