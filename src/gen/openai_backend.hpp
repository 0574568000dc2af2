#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "gen/backend.hpp"
#include "http/client.hpp"

namespace igb::gen {

// Servers that speak some version of OpenAI's POST /v1/images/generations, each with its own fields.
// Every one is written from its own source (cited in openai_backend.cpp and docs/providers.md):
//   openai    OpenAI's GPT image and DALL·E models: no steps, no seed; sizes from the model's set.
//   together  Together AI: width, height, steps, seed, response_format "base64".
//   localai   LocalAI: size, step, seed, response_format "b64_json".
//   sdcpp     stable-diffusion.cpp's server: size; steps and seed inside the prompt as
//             <sd_cpp_extra_args>{json}</sd_cpp_extra_args>.
enum class OpenAiDialect { openai, together, localai, sdcpp };

std::optional<OpenAiDialect> parse_openai_dialect(std::string_view name);
const char* to_string(OpenAiDialect dialect);

// The size an OpenAI image model is asked for, from its allowed set: the one whose aspect ratio is
// closest to width:height (among equal ratios, the smallest that covers the request, else the
// largest). "dall-e-2", "dall-e-3", else the GPT image models (gpt-image-1 and its successors).
std::pair<int, int> openai_size_for(std::string_view model, int width, int height);

struct OpenAiOptions {
  std::string name = "openai";
  std::string base_url;  // without /v1
  std::string model;
  std::string api_key;   // may be empty for self-hosted servers
  // The dialect, by name ("openai", "together", "localai", "sdcpp"); config's `dialect` (alias
  // `flavor`). Another name is a bug: the constructor throws std::invalid_argument.
  std::string flavor = "openai";
  std::chrono::milliseconds timeout{120'000};
};

// The OpenAI-compatible images API: POST {base}/v1/images/generations → data[0].b64_json, or
// data[0].url which is then fetched.
class OpenAiBackend final : public Backend {
 public:
  OpenAiBackend(http::Client& client, OpenAiOptions options);
  const std::string& name() const override { return options_.name; }
  net::awaitable<GenerationOutcome> generate(GenerationRequest request, ProgressFn progress) override;

  OpenAiDialect dialect() const { return dialect_; }
  // Whether this dialect passes the request's seed to the model.
  bool applies_seed() const { return dialect_ != OpenAiDialect::openai; }
  std::string request_body(const GenerationRequest& request) const;
  GenerationFailure error_of(const http::Response& response) const;

 private:
  http::Client& client_;
  OpenAiOptions options_;
  OpenAiDialect dialect_;
};

}  // namespace igb::gen
