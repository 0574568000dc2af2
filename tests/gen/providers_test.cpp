// The provider clients against fake servers that speak the Hugging Face and OpenAI wire formats,
// errors included, and the router's failover and circuit breaker.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/clock.hpp"
#include "gen/hf_backend.hpp"
#include "gen/openai_backend.hpp"
#include "gen/router.hpp"
#include "imaging/decode.hpp"
#include "support/test_image.hpp"
#include "support/async.hpp"
#include "support/fake_http_server.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using gen::FailureKind;

constexpr const char* kModel = "black-forest-labs/FLUX.1-schnell";
constexpr const char* kToken = "hf_test_token_123";

FakeResponse png_response(int w = 64, int h = 48) {
  return FakeResponse{.status = 200, .headers = {{"Content-Type", "image/png"}}, .body = imaging::make_png(w, h)};
}

gen::GenerationRequest fox() {
  return gen::GenerationRequest{.prompt = "a fox in snow", .width = 1024, .height = 768, .steps = 4, .seed = 42};
}

class Providers : public ::testing::Test {
 protected:
  gen::GenerationOutcome hf(FakeHandler handler, std::chrono::milliseconds timeout = 10s) {
    server_.set_handler(std::move(handler));
    gen::HfBackend backend(
        *client_, {.name = "hf", .base_url = server_.base_url(), .model = kModel, .token = kToken, .timeout = timeout});
    return run_async(io_, backend.generate(fox(), {}));
  }
  // A self-hosted flux-dev server (LocalAI's dialect); every dialect: openai_dialects_test.cpp.
  gen::GenerationOutcome openai(FakeHandler handler, std::string flavor = "localai") {
    server_.set_handler(std::move(handler));
    gen::OpenAiBackend backend(*client_, {.name = "oa",
                                          .base_url = server_.base_url(),
                                          .model = "flux-dev",
                                          .api_key = "sk-test",
                                          .flavor = std::move(flavor),
                                          .timeout = 10s});
    return run_async(io_, backend.generate(fox(), {}));
  }
  static gen::GenerationFailure failure(const gen::GenerationOutcome& o) {
    EXPECT_TRUE(std::holds_alternative<gen::GenerationFailure>(o));
    return std::get<gen::GenerationFailure>(o);
  }

  boost::asio::io_context io_;
  std::unique_ptr<http::Client> client_ = http::make_client(io_.get_executor());
  FakeHttpServer server_;
};

TEST_F(Providers, HuggingFaceRequestIsWhatTheApiExpects) {
  auto outcome = hf([](const FakeRequest&) { return png_response(); });
  ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(outcome));
  auto image = std::get<gen::GeneratedImage>(outcome);
  EXPECT_EQ(image.content_type, "image/png");
  auto info = imaging::inspect(image.bytes);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->width, 64);

  auto req = server_.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, std::string("/hf-inference/models/") + kModel);
  EXPECT_EQ(req.header("Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(req.header("Accept"), "image/png");
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  auto body = json::parse(req.body).as_object();
  EXPECT_EQ(body.at("inputs").as_string(), "a fox in snow");
  auto params = body.at("parameters").as_object();
  EXPECT_EQ(params.at("width").as_int64(), 1024);
  EXPECT_EQ(params.at("height").as_int64(), 768);
  EXPECT_EQ(params.at("num_inference_steps").as_int64(), 4);
  EXPECT_EQ(params.at("guidance_scale").to_number<double>(), 0.0);
  EXPECT_EQ(params.at("seed").as_int64(), 42);
}

TEST_F(Providers, HuggingFaceJpegIsAccepted) {
  auto outcome = hf([](const FakeRequest&) {
    return FakeResponse{.headers = {{"Content-Type", "image/jpeg"}}, .body = imaging::make_jpeg(32, 32)};
  });
  ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(outcome));
  EXPECT_EQ(std::get<gen::GeneratedImage>(outcome).content_type, "image/jpeg");
}

TEST_F(Providers, HuggingFaceModelLoadingHonoursEstimatedTime) {
  auto f = failure(hf([](const FakeRequest&) {
    return FakeResponse::json(
        R"({"error":"Model black-forest-labs/FLUX.1-schnell is currently loading","estimated_time":20.0})", 503);
  }));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_EQ(f.retry_after, 20s);
  EXPECT_NE(f.detail.find("currently loading"), std::string::npos);
}

TEST_F(Providers, HuggingFaceRateLimitHonoursRetryAfter) {
  auto f = failure(hf([](const FakeRequest&) {
    auto r = FakeResponse::json(R"({"error":"Rate limit reached. You reached free usage limit (reset hourly)."})", 429);
    r.headers.emplace_back("Retry-After", "7");
    return r;
  }));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_EQ(f.retry_after, 7s);
}

TEST_F(Providers, HuggingFaceErrorStatusesAreTyped) {
  struct Case {
    int status;
    const char* body;
    FailureKind kind;
  };
  for (const auto& c : std::vector<Case>{
           {402, R"({"error":"You have exceeded your monthly included credits for Inference Providers."})",
            FailureKind::billing},
           {401, R"({"error":"Invalid credentials in Authorization header"})", FailureKind::bad_credentials},
           {403, R"({"error":"This authentication method does not have sufficient permissions"})",
            FailureKind::bad_credentials},
           {404, R"({"error":"Model not found"})", FailureKind::model_unavailable},
           {410, R"({"error":"https://api-inference.huggingface.co is no longer supported"})",
            FailureKind::model_unavailable},
           {500, R"({"error":"Internal Server Error"})", FailureKind::retry_later},
           {504, "<html>Gateway Timeout</html>", FailureKind::retry_later},
           {400, R"({"error":"Input validation error: `inputs` must be non-empty"})", FailureKind::invalid_request},
           {400, R"({"error":"NSFW content detected in the prompt"})", FailureKind::content_refused},
       }) {
    auto f = failure(hf([&](const FakeRequest&) { return FakeResponse::json(c.body, c.status); }));
    EXPECT_EQ(f.kind, c.kind) << c.status << " " << c.body;
    EXPECT_NE(f.detail.find(std::to_string(c.status)), std::string::npos);
    EXPECT_EQ(f.detail.find(kToken), std::string::npos);
  }
}

TEST_F(Providers, HuggingFaceTimeoutTruncationAndHtmlAreRetryable) {
  auto slow = failure(hf([](const FakeRequest&) { return FakeResponse{.no_response_hang = true}; }, 300ms));
  EXPECT_EQ(slow.kind, FailureKind::retry_later);
  auto truncated = png_response();
  truncated.truncate_body_to = truncated.body.size() / 2;
  EXPECT_EQ(failure(hf([&](const FakeRequest&) { return truncated; })).kind, FailureKind::retry_later);
  auto html = failure(hf([](const FakeRequest&) {
    return FakeResponse{.headers = {{"Content-Type", "text/html"}}, .body = "<!DOCTYPE html><html>oops</html>"};
  }));
  EXPECT_EQ(html.kind, FailureKind::retry_later);
  EXPECT_NE(html.detail.find("text/html"), std::string::npos);
  // Nothing listening at all.
  server_.stop();
  gen::HfBackend backend(*client_, {.name = "hf", .base_url = server_.base_url(), .model = kModel, .token = kToken});
  auto refused = run_async(io_, backend.generate(fox(), {}));
  EXPECT_EQ(failure(refused).kind, FailureKind::retry_later);
}

TEST_F(Providers, OpenAiCompatibleBase64AndUrlAnswers) {
  const auto png = imaging::make_png(40, 40);
  auto outcome = openai([&](const FakeRequest& r) {
    EXPECT_EQ(r.target, "/v1/images/generations");
    EXPECT_EQ(r.header("Authorization"), "Bearer sk-test");
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("model").as_string(), "flux-dev");
    EXPECT_EQ(body.at("prompt").as_string(), "a fox in snow");
    EXPECT_EQ(body.at("size").as_string(), "1024x768");
    EXPECT_EQ(body.at("n").as_int64(), 1);
    EXPECT_EQ(body.at("response_format").as_string(), "b64_json");
    return FakeResponse::json(R"({"created":1,"data":[{"b64_json":"not base64!"}]})");
  });
  EXPECT_EQ(failure(outcome).kind, FailureKind::retry_later);
  const auto b64 = util::base64(png);
  outcome =
      openai([&](const FakeRequest&) { return FakeResponse::json(R"({"data":[{"b64_json":")" + b64 + R"("}]})"); });
  ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(outcome));
  EXPECT_EQ(std::get<gen::GeneratedImage>(outcome).bytes, png);

  outcome = openai([&](const FakeRequest& r) {
    if (r.path() == "/files/out.png") return FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = png};
    return FakeResponse::json(R"({"data":[{"url":")" + server_.base_url() + R"(/files/out.png"}]})");
  });
  ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(outcome));
  EXPECT_EQ(std::get<gen::GeneratedImage>(outcome).bytes, png);
}

TEST_F(Providers, TogetherFlavourSendsStepsAndSeed) {
  auto outcome = openai(
      [](const FakeRequest& r) {
        auto body = json::parse(r.body).as_object();
        EXPECT_EQ(body.at("steps").as_int64(), 4);
        EXPECT_EQ(body.at("seed").as_int64(), 42);
        EXPECT_EQ(body.at("response_format").as_string(), "base64");
        return FakeResponse::json(R"({"error":{"message":"bad","type":"invalid_request_error"}})", 400);
      },
      "together");
  EXPECT_EQ(failure(outcome).kind, FailureKind::invalid_request);
}

TEST_F(Providers, OpenAiErrorsAreTyped) {
  struct Case {
    int status;
    const char* body;
    FailureKind kind;
  };
  for (
      const auto& c : std::vector<Case>{
          {400,
           R"({"error":{"message":"Your request was rejected by the safety system.","type":"image_generation_user_error","code":"content_policy_violation"}})",
           FailureKind::content_refused},
          {429,
           R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
           FailureKind::billing},
          {429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})",
           FailureKind::retry_later},
          {404,
           R"({"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}})",
           FailureKind::model_unavailable},
          {401,
           R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})",
           FailureKind::bad_credentials},
          {503, "upstream connect error", FailureKind::retry_later},
      }) {
    auto f = failure(openai([&](const FakeRequest&) { return FakeResponse::json(c.body, c.status); }));
    EXPECT_EQ(f.kind, c.kind) << c.body;
  }
  auto empty = failure(openai([](const FakeRequest&) { return FakeResponse::json(R"({"data":[]})"); }));
  EXPECT_EQ(empty.kind, FailureKind::retry_later);
}

// A backend scripted in memory, for the router's logic.
class ScriptedBackend final : public gen::Backend {
 public:
  explicit ScriptedBackend(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  boost::asio::awaitable<gen::GenerationOutcome> generate(gen::GenerationRequest, gen::ProgressFn) override {
    ++calls;
    if (fail_with) co_return gen::GenerationFailure{.kind = *fail_with, .detail = "scripted", .retry_after = hint};
    co_return gen::GeneratedImage{.bytes = "img-from-" + name_, .content_type = "image/png"};
  }
  std::optional<FailureKind> fail_with;
  std::optional<std::chrono::milliseconds> hint;
  int calls = 0;

 private:
  std::string name_;
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto a = std::make_unique<ScriptedBackend>("a");
    auto b = std::make_unique<ScriptedBackend>("b");
    a_ = a.get();
    b_ = b.get();
    router_.add(std::move(a), {.concurrency = 2});
    router_.add(std::move(b), {.concurrency = 2});
  }
  gen::GenerationOutcome generate() { return run_async(io_, router_.generate(fox(), {})); }
  std::string from() { return std::get<gen::GeneratedImage>(generate()).bytes; }

  boost::asio::io_context io_;
  core::ManualClock clock_;
  gen::Router router_{clock_, {.failure_threshold = 3, .cooldown = 30s, .long_cooldown = 600s}};
  ScriptedBackend* a_ = nullptr;
  ScriptedBackend* b_ = nullptr;
};

TEST_F(RouterTest, PrefersTheFirstBackend) {
  EXPECT_EQ(from(), "img-from-a");
  EXPECT_EQ(b_->calls, 0);
}

// A backend that does not say who made the image is named by the router (the cost's provider).
TEST_F(RouterTest, TheImageNamesTheBackendThatServedIt) {
  a_->fail_with = FailureKind::retry_later;
  auto outcome = generate();
  ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(outcome));
  EXPECT_EQ(std::get<gen::GeneratedImage>(outcome).provider, "b");
}

TEST_F(RouterTest, FailsOverAndOpensTheCircuitAfterRepeatedFailures) {
  a_->fail_with = FailureKind::retry_later;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(from(), "img-from-b");
  EXPECT_EQ(a_->calls, 3);
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::open);
  EXPECT_EQ(from(), "img-from-b");
  EXPECT_EQ(a_->calls, 3);  // skipped while open
  clock_.advance(31s);
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::half_open);
  a_->fail_with.reset();
  EXPECT_EQ(from(), "img-from-a");  // the trial call succeeds and closes the circuit
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::closed);
}

TEST_F(RouterTest, FailedTrialReopens) {
  a_->fail_with = FailureKind::retry_later;
  for (int i = 0; i < 3; ++i) generate();
  clock_.advance(31s);
  EXPECT_EQ(from(), "img-from-b");
  EXPECT_EQ(a_->calls, 4);
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::open);
}

TEST_F(RouterTest, BillingOpensAtOnceForLong) {
  a_->fail_with = FailureKind::billing;
  EXPECT_EQ(from(), "img-from-b");
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::open);
  clock_.advance(60s);
  EXPECT_EQ(from(), "img-from-b");
  EXPECT_EQ(a_->calls, 1);  // not hammered
  clock_.advance(600s);
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::half_open);
}

TEST_F(RouterTest, RequestFaultsDoNotFailOver) {
  a_->fail_with = FailureKind::content_refused;
  auto o = generate();
  ASSERT_TRUE(std::holds_alternative<gen::GenerationFailure>(o));
  EXPECT_EQ(std::get<gen::GenerationFailure>(o).kind, FailureKind::content_refused);
  EXPECT_EQ(std::get<gen::GenerationFailure>(o).backend, "a");
  EXPECT_EQ(b_->calls, 0);
  EXPECT_EQ(router_.health()[0].state, gen::CircuitState::closed);
}

TEST_F(RouterTest, AllFailingGivesTheShortestRetryHint) {
  a_->fail_with = FailureKind::retry_later;
  a_->hint = 20s;
  b_->fail_with = FailureKind::retry_later;
  b_->hint = 5s;
  auto o = generate();
  auto f = std::get<gen::GenerationFailure>(o);
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_EQ(f.retry_after, 5s);
  EXPECT_EQ(f.backend, "b");
  b_->fail_with = FailureKind::bad_credentials;
  EXPECT_EQ(std::get<gen::GenerationFailure>(generate()).kind, FailureKind::retry_later);  // a's is preferred
}

TEST_F(RouterTest, AllOpenSaysWhenToComeBack) {
  a_->fail_with = b_->fail_with = FailureKind::billing;
  generate();
  auto f = std::get<gen::GenerationFailure>(generate());
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_NE(f.detail.find("no backend available"), std::string::npos);
  EXPECT_TRUE(f.retry_after);
  EXPECT_FALSE(router_.any_usable());
}

TEST(RouterRateLimit, SkipsABackendOverItsRate) {
  boost::asio::io_context io;
  core::ManualClock clock;
  gen::Router router(clock);
  auto a = std::make_unique<ScriptedBackend>("a");
  auto b = std::make_unique<ScriptedBackend>("b");
  auto* pa = a.get();
  router.add(std::move(a), {.concurrency = 4, .rate_per_minute = 6});  // one token at a time
  router.add(std::move(b), {.concurrency = 4});
  auto from = [&] { return std::get<gen::GeneratedImage>(run_async(io, router.generate(fox(), {}))).bytes; };
  EXPECT_EQ(from(), "img-from-a");
  EXPECT_EQ(from(), "img-from-b");
  clock.advance(10s);  // 6 a minute: a token every 10 seconds
  EXPECT_EQ(from(), "img-from-a");
  EXPECT_EQ(pa->calls, 2);
}

}  // namespace
}  // namespace igb::testing
