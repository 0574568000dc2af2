// The providers' answers: what a Hugging Face or OpenAI-compatible server sends back is hostile
// input (error JSON in every shape, base64 images, image URLs). The harness drives the real
// Backend::generate over a scripted http::Client that returns the fuzzed answers, so the whole
// answer → outcome path runs: status mapping, error JSON, Retry-After, data[0].b64_json decoding,
// data[0].url and the fetch of it.
// Input: one byte picking the backend (HF, or an OpenAI dialect: openai, together, localai, sdcpp),
// then six fields separated by "\n--8<--\n": status, header lines ("Name: value") and body of the
// first answer, then of the second (the image fetched from data[0].url). Past the answers given, the client
// throws TransportError(protocol), as a dropped connection would.
// Oracles besides the sanitizers: generate() never throws (a broken answer is a failure value), and
// a failure's detail never carries the API token (unless the answer itself does: the fuzzer learns
// the token from this very check and puts it into answers).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_input.hpp"
#include "http_answer.hpp"
#include "gen/hf_backend.hpp"
#include "gen/openai_backend.hpp"

namespace net = boost::asio;
namespace gen = igb::gen;
namespace http = igb::http;

namespace {

constexpr std::string_view kToken = "hf_fuzzTOKENfuzzTOKENfuzzTOKEN";

class ScriptedClient final : public http::Client {
 public:
  std::vector<http::Response> answers;
  std::size_t next = 0;
  net::awaitable<http::Response> send(http::Request) override {
    if (next >= answers.size()) throw http::TransportError(http::TransportError::Kind::protocol, "connection dropped");
    co_return answers[next++];
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const int which = data[0] % 5;
  auto f = igb::fuzz::split_fields(igb::fuzz::as_view(data + 1, size - 1), 6);

  ScriptedClient client;
  client.answers.push_back(igb::fuzz::http_answer(f[0], f[1], f[2]));
  if (!f[3].empty() || !f[5].empty()) client.answers.push_back(igb::fuzz::http_answer(f[3], f[4], f[5]));

  std::unique_ptr<gen::Backend> backend;
  if (which == 0) {
    backend = std::make_unique<gen::HfBackend>(client, gen::HfOptions{.base_url = "https://router.huggingface.co",
                                                                      .model = "black-forest-labs/FLUX.1-schnell",
                                                                      .token = std::string(kToken)});
  } else {
    static constexpr const char* kDialects[] = {"openai", "together", "localai", "sdcpp"};
    backend = std::make_unique<gen::OpenAiBackend>(client, gen::OpenAiOptions{.base_url = "https://api.example.test",
                                                                              .model = "gpt-image-1",
                                                                              .api_key = std::string(kToken),
                                                                              .flavor = kDialects[which - 1]});
  }

  net::io_context io;
  std::exception_ptr thrown;
  std::optional<gen::GenerationOutcome> outcome;
  gen::GenerationRequest request{.prompt = "a fox in snow", .width = 1024, .height = 1024, .steps = 4, .seed = 42};
  net::co_spawn(io, backend->generate(std::move(request), {}), [&](std::exception_ptr e, gen::GenerationOutcome o) {
    thrown = e;
    if (!e) outcome = std::move(o);
  });
  io.run();
  if (thrown) {
    try {
      std::rethrow_exception(thrown);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "generate threw: %s\n", e.what());
    }
    igb::fuzz::fail("generate() threw instead of returning a failure");
  }
  IGB_FUZZ_CHECK(outcome.has_value());
  if (const auto* failure = std::get_if<gen::GenerationFailure>(&*outcome)) {
    // Our code never adds the token; a provider that echoes it back is beyond this check.
    if (igb::fuzz::as_view(data, size).find(kToken) == std::string_view::npos) {
      IGB_FUZZ_CHECK(failure->detail.find(kToken) == std::string::npos);
    }
  }
  // A GeneratedImage may hold anything, even nothing (an empty 200 from data[0].url): the worker
  // inspects the bytes before it stores them (ImageStore::put), and that is fuzzed by image_inspect.
  return 0;
}
