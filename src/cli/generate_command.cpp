#include "cli/generate_command.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <random>

#include "app/generation.hpp"
#include "core/styles.hpp"
#include "imaging/decode.hpp"
#include "util/strings.hpp"
#include "worker/answer_check.hpp"

namespace igb::cli {

namespace {

// What the provider is doing, in words an operator reads at a glance.
std::string what_we_wait_for(const gen::GenerationFailure& f) {
  const auto detail = util::to_lower(f.detail);
  if (detail.find("loading") != std::string::npos) return "the model is loading";
  if (detail.find("circuit open") != std::string::npos) return "the backend is paused after repeated failures";
  if (detail.find("busy or over its rate limit") != std::string::npos) return "the backend is busy";
  if (detail.find("http 429") != std::string::npos || detail.find("rate limit") != std::string::npos) {
    return "the provider's rate limit was reached";
  }
  return "the provider is not answering yet (" + f.detail.substr(0, 120) + ")";
}

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0);
}

}  // namespace

net::awaitable<gen::GenerationOutcome> generate_with_retries(gen::Router& router, gen::GenerationRequest request,
                                                             RetryOptions options, std::ostream& progress) {
  net::steady_timer timer(co_await net::this_coro::executor);
  std::chrono::milliseconds waited{0};
  for (int attempt = 1;; ++attempt) {
    // The same size rule as the worker's: a far-too-large answer is that backend's failure.
    auto outcome = co_await router.generate(request, {}, worker::check_answer);
    const auto* f = std::get_if<gen::GenerationFailure>(&outcome);
    // Only "later" is worth waiting for here: billing, credentials and models need the operator,
    // and the router has already tried every backend.
    if (f == nullptr || f->kind != gen::FailureKind::retry_later || attempt >= options.max_attempts) co_return outcome;
    const auto backoff = std::chrono::milliseconds(2'000) * (1LL << std::min(attempt - 1, 10));
    auto wait = std::min(f->retry_after.value_or(backoff), options.max_wait);
    wait = std::max(wait, std::chrono::milliseconds(100));  // a hint of 0 must not spin
    if (waited + wait > options.max_total) co_return outcome;
    progress << (f->backend.empty() ? std::string() : f->backend + ": ") << what_we_wait_for(*f) << ", waiting "
             << seconds_text(wait) << " (attempt " << attempt + 1 << " of " << options.max_attempts << ")" << std::endl;
    timer.expires_after(wait);
    co_await timer.async_wait(net::use_awaitable);
    waited += wait;
  }
}

int run_generate(app::Services& s, const GenerateCommand& c) {
  if (!c.style.empty() && core::find_style(c.style) == nullptr) {
    std::cerr << "error: unknown style '" << c.style << "'\n";
    return 2;
  }
  boost::asio::io_context io;
  auto stack = app::build_generation(s, io.get_executor());
  const std::int64_t seed = c.seed.value_or(static_cast<std::int64_t>(std::random_device{}() % 4294967296ULL));
  gen::GenerationRequest request{.prompt = core::apply_style(c.prompt, c.style),
                                 .width = c.width,
                                 .height = c.height,
                                 .steps = c.steps,
                                 .seed = seed};
  auto future =
      boost::asio::co_spawn(io, generate_with_retries(*stack.router, request, {}, std::cerr), boost::asio::use_future);
  io.run();
  auto outcome = future.get();
  if (auto* f = std::get_if<gen::GenerationFailure>(&outcome)) {
    std::cerr << fmt::format("error: generation failed ({}) via {}: {}\n", gen::to_string(f->kind),
                             f->backend.empty() ? "-" : f->backend, f->detail);
    return 1;
  }
  const auto& image = std::get<gen::GeneratedImage>(outcome);
  auto info = imaging::inspect(image.bytes);
  if (!info) {
    std::cerr << "error: the provider's answer is not a valid image: " << info.error().internal_detail << "\n";
    return 1;
  }
  std::ofstream out(c.output, std::ios::binary);
  out.write(image.bytes.data(), static_cast<std::streamsize>(image.bytes.size()));
  if (!out.flush()) {
    std::cerr << "error: cannot write " << c.output << "\n";
    return 1;
  }
  const std::string seed_text =
      image.seed_applied ? "seed " + std::to_string(seed) : std::string("no seed: the backend cannot take one");
  std::cout << fmt::format("wrote {} ({}x{} {}, {} bytes, {})\n", c.output, info->width, info->height,
                           imaging::mime_of(info->type), image.bytes.size(), seed_text);
  return 0;
}

}  // namespace igb::cli
