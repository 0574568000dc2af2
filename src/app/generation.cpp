#include "app/generation.hpp"

#include <spdlog/spdlog.h>

#include "gen/hf_backend.hpp"
#include "gen/openai_backend.hpp"

namespace igb::app {

GenerationStack build_generation(const Services& s, boost::asio::any_io_executor executor) {
  GenerationStack g;
  g.http = http::make_client(std::move(executor));
  g.router = std::make_unique<gen::Router>(s.clock);
  g.images = imaging::make_file_image_store(s.config.data_dir);
  for (const auto& b : s.config.backends) {
    const auto timeout = std::chrono::milliseconds(std::chrono::seconds(b.timeout_seconds));
    if (b.kind == "hf") {
      if (b.api_key.empty()) spdlog::warn("backend {}: {} is not set; Hugging Face will refuse it", b.name, b.api_key_env);
      g.router->add(std::make_unique<gen::HfBackend>(*g.http, gen::HfOptions{.name = b.name, .base_url = b.base_url,
                                                                             .model = b.model,
                                                                             .token = b.api_key.value(),
                                                                             .timeout = timeout}),
                    {.concurrency = b.concurrency, .rate_per_minute = b.rate_per_minute});
    } else {
      g.router->add(std::make_unique<gen::OpenAiBackend>(
                        *g.http, gen::OpenAiOptions{.name = b.name, .base_url = b.base_url, .model = b.model,
                                                    .api_key = b.api_key.value(), .flavor = b.flavor,
                                                    .timeout = timeout}),
                    {.concurrency = b.concurrency, .rate_per_minute = b.rate_per_minute});
    }
  }
  return g;
}

}  // namespace igb::app
