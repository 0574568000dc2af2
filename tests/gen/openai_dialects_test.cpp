// The OpenAI-compatible client in each dialect against fake servers that record the real request and
// answer with the real shapes, errors included. Where each shape comes from:
//   openai    openai/openai-python src/openai/types/image_generate_params.py (request fields, sizes per
//             model; gpt-image-1 takes no response_format and always answers b64_json) and
//             src/openai/types/images_response.py (created, data[].b64_json|url, usage); refusals are
//             400 {"error":{"message":"Your request was rejected by the safety system…","type":
//             "image_generation_user_error","param":null,"code":"moderation_blocked"}} (gpt-image-1) and
//             code "content_policy_violation" (DALL·E).
//   together  togethercomputer/together-py src/together/types/image_generate_params.py and
//             together-python src/together/types/images.py (id, model, object "list", data[].index,
//             data[].b64_json).
//   localai   mudler/LocalAI core/schema/openai.go (OpenAIRequest.size/step/response_format; Item:
//             index, url, b64_json; APIError{code,message,type}), core/schema/prediction.go (seed),
//             core/http/endpoints/openai/image.go (b64_json only for response_format "b64_json").
//   sdcpp     leejet/stable-diffusion.cpp examples/server/routes_openai.cpp (the first
//             <sd_cpp_extra_args>(.*?)</sd_cpp_extra_args> in the prompt is parsed, every one removed;
//             answer {created, data[].b64_json, output_format}; errors {"error":"…"} 400 and
//             {"error":"server_error","message":"…"} 500) and examples/server/api.md (sample_params.
//             sample_steps, seed).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <regex>

#include "gen/openai_backend.hpp"
#include "support/test_image.hpp"
#include "support/async.hpp"
#include "support/fake_http_server.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using gen::FailureKind;

constexpr const char* kKey = "sk-test-SecretKey123";

gen::GenerationRequest fox(int width = 1024, int height = 768) {
  return gen::GenerationRequest{.prompt = "a fox in snow", .width = width, .height = height, .steps = 4, .seed = 42};
}

class Dialects : public ::testing::Test {
 protected:
  gen::GenerationOutcome run(const std::string& dialect, const std::string& model, FakeHandler handler,
                             gen::GenerationRequest request = fox()) {
    server_.set_handler(std::move(handler));
    gen::OpenAiBackend backend(*client_, {.name = "oa",
                                          .base_url = server_.base_url(),
                                          .model = model,
                                          .api_key = kKey,
                                          .flavor = dialect,
                                          .timeout = 10s});
    return run_async(io_, backend.generate(std::move(request), {}));
  }
  json::object body(std::size_t i = 0) const { return json::parse(server_.requests().at(i).body).as_object(); }
  static gen::GenerationFailure failure(const gen::GenerationOutcome& o) {
    EXPECT_TRUE(std::holds_alternative<gen::GenerationFailure>(o));
    return std::holds_alternative<gen::GenerationFailure>(o) ? std::get<gen::GenerationFailure>(o)
                                                             : gen::GenerationFailure{};
  }
  static gen::GeneratedImage image(const gen::GenerationOutcome& o) {
    EXPECT_TRUE(std::holds_alternative<gen::GeneratedImage>(o));
    return std::holds_alternative<gen::GeneratedImage>(o) ? std::get<gen::GeneratedImage>(o) : gen::GeneratedImage{};
  }

  const std::string png_ = imaging::make_png(40, 40);
  const std::string b64_ = util::base64(png_);
  boost::asio::io_context io_;
  std::unique_ptr<http::Client> client_ = http::make_client(io_.get_executor());
  FakeHttpServer server_;
};

TEST(OpenAiSizes, NearestAllowedSizeByAspectRatio) {
  using P = std::pair<int, int>;
  // GPT image models: 1024x1024, 1536x1024, 1024x1536.
  EXPECT_EQ(gen::openai_size_for("gpt-image-1", 1024, 1024), P(1024, 1024));
  EXPECT_EQ(gen::openai_size_for("gpt-image-1", 1024, 768), P(1536, 1024));
  EXPECT_EQ(gen::openai_size_for("gpt-image-1", 768, 1344), P(1024, 1536));
  EXPECT_EQ(gen::openai_size_for("gpt-image-1", 512, 512), P(1024, 1024));
  EXPECT_EQ(gen::openai_size_for("gpt-image-1", 1088, 1024), P(1024, 1024));  // 17:16 is nearer square than 3:2
  // DALL·E 3: 1024x1024, 1792x1024, 1024x1792.
  EXPECT_EQ(gen::openai_size_for("dall-e-3", 1344, 768), P(1792, 1024));
  EXPECT_EQ(gen::openai_size_for("dall-e-3", 768, 1344), P(1024, 1792));
  EXPECT_EQ(gen::openai_size_for("dall-e-3", 1024, 1024), P(1024, 1024));
  // DALL·E 2: squares only; the smallest that covers the request, else the largest.
  EXPECT_EQ(gen::openai_size_for("dall-e-2", 200, 200), P(256, 256));
  EXPECT_EQ(gen::openai_size_for("dall-e-2", 512, 512), P(512, 512));
  EXPECT_EQ(gen::openai_size_for("dall-e-2", 1024, 768), P(1024, 1024));
  EXPECT_EQ(gen::openai_size_for("dall-e-2", 2048, 2048), P(1024, 1024));
}

TEST_F(Dialects, DialectNamesAndAnUnknownOneIsABug) {
  for (auto d : {gen::OpenAiDialect::openai, gen::OpenAiDialect::together, gen::OpenAiDialect::localai,
                 gen::OpenAiDialect::sdcpp}) {
    EXPECT_EQ(gen::parse_openai_dialect(gen::to_string(d)), d);
  }
  EXPECT_FALSE(gen::parse_openai_dialect("dalle"));
  EXPECT_THROW(gen::OpenAiBackend(*client_, {.flavor = "dalle"}), std::invalid_argument);
}

TEST_F(Dialects, GptImageSendsNoResponseFormatStepsOrSeedAndSaysTheSeedWasNotApplied) {
  auto outcome = run("openai", "gpt-image-1", [&](const FakeRequest&) {
    return FakeResponse::json(R"({"created":1713833628,"data":[{"b64_json":")" + b64_ +
                              R"("}],"usage":{"total_tokens":100,"input_tokens":50,"output_tokens":50,)"
                              R"("input_tokens_details":{"text_tokens":10,"image_tokens":40}}})");
  });
  auto img = image(outcome);
  EXPECT_EQ(img.bytes, png_);
  EXPECT_FALSE(img.seed_applied);

  auto req = server_.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/images/generations");
  EXPECT_EQ(req.header("Authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(req.header("Content-Type"), "application/json");
  auto b = body();
  EXPECT_EQ(b.at("model").as_string(), "gpt-image-1");
  EXPECT_EQ(b.at("prompt").as_string(), "a fox in snow");
  EXPECT_EQ(b.at("n").as_int64(), 1);
  EXPECT_EQ(b.at("size").as_string(), "1536x1024");  // 1024x768 asked: the nearest landscape size
  for (const char* absent : {"response_format", "steps", "seed", "width", "height", "step"}) {
    EXPECT_FALSE(b.contains(absent)) << absent;
  }
}

TEST_F(Dialects, DallE3AsksForBase64AndItsOwnSizes) {
  auto outcome = run(
      "openai", "dall-e-3",
      [&](const FakeRequest&) {
        return FakeResponse::json(R"({"created":1,"data":[{"b64_json":")" + b64_ +
                                  R"(","revised_prompt":"A red fox standing in fresh snow"}]})");
      },
      fox(1344, 768));
  EXPECT_FALSE(image(outcome).seed_applied);
  auto b = body();
  EXPECT_EQ(b.at("size").as_string(), "1792x1024");
  EXPECT_EQ(b.at("response_format").as_string(), "b64_json");
  EXPECT_EQ(b.at("n").as_int64(), 1);
  EXPECT_FALSE(b.contains("seed"));
}

TEST_F(Dialects, OpenAiRefusalsAreContentRefused) {
  struct Case {
    const char* body;
    FailureKind kind;
  };
  for (
      const auto& c : std::vector<Case>{
          {R"({"error":{"message":"Your request was rejected by the safety system. If you believe this is an error, contact us.","type":"image_generation_user_error","param":null,"code":"moderation_blocked"}})",
           FailureKind::content_refused},
          {R"({"error":{"message":"Your request was rejected as a result of our safety system.","type":"invalid_request_error","param":null,"code":"content_policy_violation"}})",
           FailureKind::content_refused},
          {R"({"error":{"message":"Invalid value: '1024x768'. Supported values are: '1024x1024', '1024x1536', '1536x1024', and 'auto'.","type":"invalid_request_error","param":"size","code":"invalid_value"}})",
           FailureKind::invalid_request},
      }) {
    auto f = failure(run("openai", "gpt-image-1", [&](const FakeRequest&) { return FakeResponse::json(c.body, 400); }));
    EXPECT_EQ(f.kind, c.kind) << c.body;
    EXPECT_NE(f.detail.find("HTTP 400"), std::string::npos);
    EXPECT_EQ(f.detail.find(kKey), std::string::npos);
  }
}

TEST_F(Dialects, OpenAiOtherErrorsAreTyped) {
  struct Case {
    int status;
    const char* body;
    FailureKind kind;
  };
  for (
      const auto& c : std::vector<Case>{
          {429,
           R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
           FailureKind::billing},
          {400,
           R"({"error":{"message":"Billing hard limit has been reached","type":"invalid_request_error","code":"billing_hard_limit_reached"}})",
           FailureKind::billing},
          {429, R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})",
           FailureKind::retry_later},
          {404,
           R"({"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}})",
           FailureKind::model_unavailable},
          {401,
           R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})",
           FailureKind::bad_credentials},
          {403,
           R"({"error":{"message":"Your organization must be verified to use the model `gpt-image-1`.","type":"invalid_request_error","code":null}})",
           FailureKind::bad_credentials},
          {503, "upstream connect error", FailureKind::retry_later},
      }) {
    auto f =
        failure(run("openai", "gpt-image-1", [&](const FakeRequest&) { return FakeResponse::json(c.body, c.status); }));
    EXPECT_EQ(f.kind, c.kind) << c.body;
  }
  auto limited = failure(run("openai", "gpt-image-1", [](const FakeRequest&) {
    auto r = FakeResponse::json(
        R"({"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}})", 429);
    r.headers.emplace_back("Retry-After", "9");
    return r;
  }));
  EXPECT_EQ(limited.retry_after, 9s);
}

TEST_F(Dialects, TogetherSendsWidthHeightStepsSeedAndAsksForBase64) {
  auto outcome = run("together", "black-forest-labs/FLUX.1-schnell", [&](const FakeRequest&) {
    return FakeResponse::json(R"({"id":"8e6f4d5e-0000","model":"black-forest-labs/FLUX.1-schnell","object":"list",)"
                              R"("data":[{"index":0,"b64_json":")" +
                              b64_ + R"(","timings":{"inference":0.4}}]})");
  });
  auto img = image(outcome);
  EXPECT_EQ(img.bytes, png_);
  EXPECT_TRUE(img.seed_applied);
  auto b = body();
  EXPECT_EQ(b.at("model").as_string(), "black-forest-labs/FLUX.1-schnell");
  EXPECT_EQ(b.at("width").as_int64(), 1024);
  EXPECT_EQ(b.at("height").as_int64(), 768);
  EXPECT_EQ(b.at("steps").as_int64(), 4);
  EXPECT_EQ(b.at("seed").as_int64(), 42);
  EXPECT_EQ(b.at("n").as_int64(), 1);
  EXPECT_EQ(b.at("response_format").as_string(), "base64");
  EXPECT_FALSE(b.contains("size"));  // not a Together field

  auto f = failure(run("together", "m", [](const FakeRequest&) {
    return FakeResponse::json(
        R"({"error":{"message":"Input validation error: steps must be <= 12","type":"invalid_request_error","param":null,"code":null}})",
        400);
  }));
  EXPECT_EQ(f.kind, FailureKind::invalid_request);
}

TEST_F(Dialects, LocalAiSendsSizeStepAndSeed) {
  auto outcome = run("localai", "flux.1-schnell", [&](const FakeRequest&) {
    return FakeResponse::json(R"({"created":1733300000,"id":"3d5b0bd4-1b8c-4a7e-a1c9-0f1e7b0d9a10",)"
                              R"("data":[{"embedding":null,"index":0,"b64_json":")" +
                              b64_ + R"("}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}})");
  });
  auto img = image(outcome);
  EXPECT_EQ(img.bytes, png_);
  EXPECT_TRUE(img.seed_applied);
  auto b = body();
  EXPECT_EQ(b.at("model").as_string(), "flux.1-schnell");
  EXPECT_EQ(b.at("size").as_string(), "1024x768");
  EXPECT_EQ(b.at("step").as_int64(), 4);
  EXPECT_EQ(b.at("seed").as_int64(), 42);
  EXPECT_EQ(b.at("response_format").as_string(), "b64_json");
  EXPECT_FALSE(b.contains("steps"));

  // Without "b64_json" LocalAI answers with a URL under /generated-images/: it is fetched.
  outcome = run("localai", "flux.1-schnell", [&](const FakeRequest& r) {
    if (r.path() == "/generated-images/b64123456.png") {
      return FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = png_};
    }
    return FakeResponse::json(R"({"created":1,"id":"x","data":[{"embedding":null,"index":0,"url":")" +
                              server_.base_url() + R"(/generated-images/b64123456.png"}]})");
  });
  EXPECT_EQ(image(outcome).bytes, png_);

  auto f = failure(run("localai", "missing", [](const FakeRequest&) {
    return FakeResponse::json(R"({"error":{"code":500,"message":"could not load model: rpc error","type":""}})", 500);
  }));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_NE(f.detail.find("could not load model"), std::string::npos);
}

// What stable-diffusion.cpp's server does with a prompt (routes_openai.cpp,
// extract_and_remove_sd_cpp_extra_args): the first block's JSON is used, every block is removed.
std::pair<std::string, std::string> sd_server_split(std::string prompt) {
  std::regex re("<sd_cpp_extra_args>(.*?)</sd_cpp_extra_args>");
  std::smatch match;
  std::string extracted;
  if (std::regex_search(prompt, match, re)) {
    extracted = match[1].str();
    prompt = std::regex_replace(prompt, re, "");
  }
  return {prompt, extracted};
}

TEST_F(Dialects, SdCppPassesStepsAndSeedInsideThePromptAndStripsUsersBlocks) {
  auto outcome = run("sdcpp", "sd-cpp-local", [&](const FakeRequest&) {
    return FakeResponse::json(R"({"created":1733300000,"data":[{"b64_json":")" + b64_ +
                              R"("}],"output_format":"png"})");
  });
  auto img = image(outcome);
  EXPECT_EQ(img.bytes, png_);
  EXPECT_TRUE(img.seed_applied);
  auto b = body();
  EXPECT_EQ(b.at("size").as_string(), "1024x768");
  EXPECT_EQ(b.at("n").as_int64(), 1);
  EXPECT_EQ(b.at("output_format").as_string(), "png");
  EXPECT_FALSE(b.contains("seed"));  // the server does not read it from the body
  auto [prompt, extra] = sd_server_split(std::string(b.at("prompt").as_string()));
  EXPECT_EQ(prompt, "a fox in snow ");
  auto args = json::parse(extra).as_object();
  EXPECT_EQ(args.at("seed").as_int64(), 42);
  EXPECT_EQ(args.at("sample_params").as_object().at("sample_steps").as_int64(), 4);

  // A user who writes the tags cannot set native parameters: theirs are taken out, ours is the only one.
  auto sneaky = fox();
  sneaky.prompt = "cat <sd_cpp_extra_args>{\"width\":8192}</sd_cpp_extra_args> <sd_cpp_<sd_cpp_extra_args>extra_args>";
  server_.clear_requests();
  image(run(
      "sdcpp", "sd-cpp-local",
      [&](const FakeRequest&) {
        return FakeResponse::json(R"({"created":1,"data":[{"b64_json":")" + b64_ + R"("}],"output_format":"png"})");
      },
      sneaky));
  auto [user_part, used] = sd_server_split(std::string(body().at("prompt").as_string()));
  EXPECT_EQ(user_part.find("sd_cpp_extra_args"), std::string::npos) << user_part;
  EXPECT_EQ(json::parse(used).as_object().at("seed").as_int64(), 42);
  EXPECT_FALSE(json::parse(used).as_object().contains("width"));
}

TEST_F(Dialects, SdCppErrors) {
  auto bad = failure(run("sdcpp", "m", [](const FakeRequest&) {
    return FakeResponse::json(R"({"error":"invalid sd_cpp_extra_args"})", 400);
  }));
  EXPECT_EQ(bad.kind, FailureKind::invalid_request);
  EXPECT_NE(bad.detail.find("invalid sd_cpp_extra_args"), std::string::npos);
  auto crashed = failure(run("sdcpp", "m", [](const FakeRequest&) {
    return FakeResponse::json(R"({"error":"server_error","message":"std::bad_alloc"})", 500);
  }));
  EXPECT_EQ(crashed.kind, FailureKind::retry_later);
  EXPECT_NE(crashed.detail.find("server_error: std::bad_alloc"), std::string::npos);
}

TEST_F(Dialects, BrokenAnswersAreRetryable) {
  for (const std::string answer : {R"({"data":[]})", R"({"created":1,"data":[{"b64_json":"not base64!"}]})",
                                   R"({"data":[{"revised_prompt":"x"}]})", R"(<html>oops</html>)",
                                   R"({"data":[{"url":"ftp://example.com/x.png"}]})"}) {
    auto f = failure(run("localai", "m", [&](const FakeRequest&) { return FakeResponse::json(answer); }));
    EXPECT_EQ(f.kind, FailureKind::retry_later) << answer;
  }
  auto missing = failure(run("localai", "m", [&](const FakeRequest& r) {
    if (r.path() == "/gone.png") return FakeResponse::text("not found", 404);
    return FakeResponse::json(R"({"data":[{"url":")" + server_.base_url() + R"(/gone.png"}]})");
  }));
  EXPECT_EQ(missing.kind, FailureKind::retry_later);
  // An empty 200 at the image URL is no image either (found by the provider_answer fuzzer): the
  // router must see a failure and fail over, not a success.
  auto empty = failure(run("localai", "m", [&](const FakeRequest& r) {
    if (r.path() == "/empty.png") return FakeResponse{.status = 200, .headers = {{"Content-Type", "image/png"}}};
    return FakeResponse::json(R"({"data":[{"url":")" + server_.base_url() + R"(/empty.png"}]})");
  }));
  EXPECT_EQ(empty.kind, FailureKind::retry_later);
  EXPECT_NE(empty.detail.find("empty body"), std::string::npos) << empty.detail;
}

}  // namespace
}  // namespace igb::testing
