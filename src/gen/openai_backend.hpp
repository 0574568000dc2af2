#pragma once
#include <chrono>
#include <string>

#include "gen/backend.hpp"
#include "http/client.hpp"

namespace igb::gen {

struct OpenAiOptions {
  std::string name = "openai";
  std::string base_url;  // without /v1
  std::string model;
  std::string api_key;   // may be empty for self-hosted servers
  std::string flavor = "openai";  // "together": sends steps and seed, asks for response_format "base64"
  std::chrono::milliseconds timeout{120'000};
};

// The OpenAI-compatible images API (OpenAI, Together AI, LocalAI, stable-diffusion.cpp's server):
// POST {base}/v1/images/generations → data[0].b64_json, or data[0].url which is then fetched.
class OpenAiBackend final : public Backend {
 public:
  OpenAiBackend(http::Client& client, OpenAiOptions options) : client_(client), options_(std::move(options)) {}
  const std::string& name() const override { return options_.name; }
  net::awaitable<GenerationOutcome> generate(GenerationRequest request, ProgressFn progress) override;

  std::string request_body(const GenerationRequest& request) const;
  GenerationFailure error_of(const http::Response& response) const;

 private:
  http::Client& client_;
  OpenAiOptions options_;
};

}  // namespace igb::gen
