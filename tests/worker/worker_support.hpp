#pragma once
// Helpers shared by the worker tests: a fake Hugging Face Inference endpoint (the hf-inference wire
// format: POST /hf-inference/models/<owner>/<name> with {"inputs", "parameters"}; 200 answers raw
// image bytes, errors are JSON {"error": …} with the provider's real statuses), temp folders, and
// a hang-guarded way to run a coroutine.
#include <gtest/gtest.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support/test_image.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace igb::testing {

inline constexpr const char* kHfModel = "black-forest-labs/FLUX.1-schnell";
inline constexpr const char* kHfToken = "hf_worker_test_9f3c2a7b1d";

// Every regular file under <data_dir>/images, temp files included: a test that expects one image
// expects one file.
inline std::vector<std::filesystem::path> image_files(const std::filesystem::path& data_dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  const auto root = data_dir / "images";
  if (!std::filesystem::exists(root, ec)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root, ec)) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

// What the fake provider was asked, decoded from the request body.
struct HfCall {
  std::string target;
  std::string authorization;
  std::string inputs;
  std::int64_t seed = -1;
  int width = 0;
  int height = 0;
  int steps = 0;
};

inline HfCall decode_hf_call(const FakeRequest& r) {
  HfCall call{.target = r.target, .authorization = r.header("Authorization")};
  boost::system::error_code ec;
  auto doc = boost::json::parse(r.body, ec);
  if (ec || !doc.is_object()) return call;
  const auto& o = doc.as_object();
  if (auto* in = o.if_contains("inputs"); in && in->is_string()) call.inputs = std::string(in->as_string());
  if (auto* p = o.if_contains("parameters"); p && p->is_object()) {
    const auto& params = p->as_object();
    auto integer = [&](const char* key) -> std::int64_t {
      auto* v = params.if_contains(key);
      return v && v->is_int64() ? v->as_int64()
                                : (v && v->is_uint64() ? static_cast<std::int64_t>(v->as_uint64()) : -1);
    };
    call.seed = integer("seed");
    call.width = static_cast<int>(integer("width"));
    call.height = static_cast<int>(integer("height"));
    call.steps = static_cast<int>(integer("num_inference_steps"));
  }
  return call;
}

inline FakeResponse hf_json_error(int status, std::string body) { return FakeResponse::json(std::move(body), status); }

// A 200 with a real PNG of the requested size, whose pixels depend on the requested seed (so the same
// request gives the same bytes, as a seeded diffusion model would).
inline FakeResponse hf_png(const FakeRequest& r) {
  const auto call = decode_hf_call(r);
  const int w = call.width > 0 ? call.width : 64;
  const int h = call.height > 0 ? call.height : 64;
  return FakeResponse{.status = 200,
                      .headers = {{"Content-Type", "image/png"}},
                      .body = imaging::make_png(w, h, static_cast<std::uint32_t>(call.seed < 0 ? 0 : call.seed))};
}

// Answers like the hf-inference provider: the model route only, POST only; everything else 404/405.
// `answers` are used one per request, in order; once they run out, the last one repeats (an empty
// list means: always a PNG).
inline FakeHandler hf_provider(std::vector<FakeHandler> answers, std::string model = kHfModel) {
  struct State {
    std::mutex mutex;
    std::vector<FakeHandler> answers;
    std::size_t next = 0;
  };
  auto state = std::make_shared<State>();
  state->answers = std::move(answers);
  return [state, model](const FakeRequest& r) -> FakeResponse {
    if (r.path() != "/hf-inference/models/" + model) return hf_json_error(404, R"({"error":"Not Found"})");
    if (r.method != "POST") return hf_json_error(405, R"({"error":"Method Not Allowed"})");
    FakeHandler h;
    {
      std::lock_guard lock(state->mutex);
      if (state->answers.empty()) return hf_png(r);
      h = state->answers[std::min(state->next, state->answers.size() - 1)];
      ++state->next;
    }
    return h(r);
  };
}

inline FakeHandler answer(FakeResponse response) {
  return [response](const FakeRequest&) { return response; };
}
inline FakeHandler answer_png() {
  return [](const FakeRequest& r) { return hf_png(r); };
}
inline FakeHandler answer_png_after(std::chrono::milliseconds delay) {
  return [delay](const FakeRequest& r) {
    auto res = hf_png(r);
    res.delay = delay;
    return res;
  };
}

// Runs `task` on `io` like run_async, but gives up after `guard` (a hang guard, not a timing check):
// nullopt means the coroutine did not finish.
template <class T>
std::optional<T> run_guarded(boost::asio::io_context& io, boost::asio::awaitable<T> task,
                             std::chrono::milliseconds guard = std::chrono::seconds(60)) {
  auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready &&
         std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(100));
    if (io.stopped()) io.restart();
  }
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return std::nullopt;
  return future.get();
}

}  // namespace igb::testing
