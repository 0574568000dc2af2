#include "app/generate_command.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <random>

#include "app/generation.hpp"
#include "core/styles.hpp"
#include "imaging/decode.hpp"

namespace igb::app {

int run_generate(Services& s, const GenerateCommand& c) {
  if (!c.style.empty() && core::find_style(c.style) == nullptr) {
    std::cerr << "error: unknown style '" << c.style << "'\n";
    return 2;
  }
  boost::asio::io_context io;
  auto stack = build_generation(s, io.get_executor());
  const std::int64_t seed = c.seed.value_or(static_cast<std::int64_t>(std::random_device{}() % 4294967296ULL));
  gen::GenerationRequest request{.prompt = core::apply_style(c.prompt, c.style), .width = c.width,
                                 .height = c.height, .steps = c.steps, .seed = seed};
  auto future = boost::asio::co_spawn(io, stack.router->generate(request, {}), boost::asio::use_future);
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
  std::cout << fmt::format("wrote {} ({}x{} {}, {} bytes, seed {})\n", c.output, info->width, info->height,
                           imaging::mime_of(info->type), image.bytes.size(), seed);
  return 0;
}

}  // namespace igb::app
