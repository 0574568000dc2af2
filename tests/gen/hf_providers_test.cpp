// Hugging Face Inference Providers against a fake router, Hub and image CDN (one FakeHttpServer on
// 127.0.0.1, routed by path). Every request shape asserted here and every answer the fake gives is
// taken from the official clients, cited at each test:
//   [py] huggingface/huggingface_hub  src/huggingface_hub/inference/_providers/{provider}.py,
//        _common.py, src/huggingface_hub/hf_api.py (ModelInfo: the mapping's two shapes)
//   [js] huggingface/huggingface.js   packages/inference/src/providers/{provider}.ts,
//        packages/inference/src/lib/getInferenceProviderMapping.ts
//   [docs] huggingface/hub-docs docs/hub/rate-limits.md (the RateLimit header)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <mutex>

#include "core/clock.hpp"
#include "gen/hf_backend.hpp"
#include "gen/hf_mapping.hpp"
#include "gen/hf_providers.hpp"
#include "gen/model_defaults.hpp"
#include "gen/url_fetch.hpp"
#include "support/test_image.hpp"
#include "support/async.hpp"
#include "support/fake_http_server.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using gen::FailureKind;
using gen::ProviderMapping;

constexpr const char* kModel = "black-forest-labs/FLUX.1-schnell";
constexpr const char* kToken = "hf_test_token_provider_42";

// The Hub's answer for FLUX.1-schnell with ?expand[]=inferenceProviderMapping, object shape ([py]
// hf_api.py ModelInfo "API returns a dict on model_info"; [js] getInferenceProviderMapping.ts reads
// json.inferenceProviderMapping keyed by provider).
const std::string kHubObjectAnswer = R"({"_id":"66aaa908fc35e079a941470d","id":"black-forest-labs/FLUX.1-schnell",
  "inferenceProviderMapping":{
    "fal-ai":{"status":"live","providerId":"fal-ai/flux/schnell","task":"text-to-image"},
    "wavespeed":{"status":"live","providerId":"wavespeed-ai/flux-schnell","task":"text-to-image"},
    "nscale":{"status":"live","providerId":"black-forest-labs/FLUX.1-schnell","task":"text-to-image"},
    "hf-inference":{"status":"staging","providerId":"black-forest-labs/FLUX.1-schnell","task":"text-to-image"},
    "together":{"status":"live","providerId":"black-forest-labs/FLUX.1-schnell-Free","task":"text-to-image"},
    "nebius":{"status":"live","providerId":"black-forest-labs/flux-schnell","task":"text-to-image"},
    "replicate":{"status":"live","providerId":"black-forest-labs/flux-schnell","task":"text-to-image"},
    "sambanova":{"status":"live","providerId":"x","task":"conversational"}}})";

// The list shape ([py] hf_api.py ModelInfo: "a list on list_models", entries carry "provider").
const std::string kHubListAnswer = R"({"id":"black-forest-labs/FLUX.1-schnell","inferenceProviderMapping":[
    {"provider":"nscale","providerId":"black-forest-labs/FLUX.1-schnell","status":"live","task":"text-to-image","hfModelId":"black-forest-labs/FLUX.1-schnell"},
    {"provider":"fal-ai","providerId":"fal-ai/flux/schnell","status":"live","task":"text-to-image"},
    {"provider":"broken-entry","status":"live"}]})";

std::string png() { return imaging::make_png(64, 48); }

FakeResponse png_response() {
  return FakeResponse{.status = 200, .headers = {{"Content-Type", "image/png"}}, .body = png()};
}

// {"data":[{"b64_json":…}]}: what nscale, together and nebius answer ([py]/[js] get_response/getResponse
// read data[0].b64_json). Together's answer also carries id/model/object.
FakeResponse b64_answer() {
  return FakeResponse::json(R"({"id":"gen-1","model":"m","object":"list","data":[{"index":0,"b64_json":")" +
                            util::base64(png()) + R"("}]})");
}

std::string percent_decoded(std::string s) {
  for (std::string_view from : {"%5B", "%5D"}) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from)) {
      s.replace(pos, 3, from == "%5B" ? "[" : "]");
    }
  }
  return s;
}

gen::GenerationRequest fox() {
  return gen::GenerationRequest{
      .prompt = "a fox in snow", .width = 1024, .height = 768, .steps = 4, .seed = 42, .model = kModel};
}

class HfProviders : public ::testing::Test {
 protected:
  void route(FakeHandler h) { server_.set_handler(std::move(h)); }

  std::shared_ptr<gen::UrlFetcher> urls(bool allow_private = true) {
    return std::make_shared<gen::UrlFetcher>(io_.get_executor(), gen::UrlFetchOptions{.allow_private = allow_private});
  }
  std::shared_ptr<gen::ProviderMappingCache> cache(std::vector<std::string> pinned = {}) {
    return std::make_shared<gen::ProviderMappingCache>(
        *client_, clock_,
        gen::MappingCacheOptions{.hub = {.hub_base = server_.base_url(), .token = kToken, .timeout = 5s},
                                 .pinned = std::move(pinned),
                                 .refresh = 5min,
                                 .retry_failed = 30s});
  }
  gen::HfOptions options(std::shared_ptr<gen::ProviderMappingCache> mapping, bool allow_private = true) {
    return gen::HfOptions{.name = "hf",
                          .base_url = server_.base_url(),
                          .model = kModel,
                          .token = kToken,
                          .timeout = 5s,
                          .mapping = std::move(mapping),
                          .urls = urls(allow_private),
                          .clock = &clock_,
                          .poll_interval = 1ms,
                          .max_polls = 5};
  }
  // One provider, called directly (the mapping entry given).
  gen::GenerationOutcome call(ProviderMapping m, gen::GenerationRequest r = fox(), bool allow_private = true) {
    auto fetcher = urls(allow_private);
    gen::ProviderCall c{.client = client_.get(),
                        .urls = fetcher.get(),
                        .router_base = server_.base_url(),
                        .token = kToken,
                        .timeout = 5s,
                        .backend = "hf",
                        .poll_interval = 1ms,
                        .max_polls = 5};
    return run_async(io_, gen::call_provider(c, std::move(m), std::move(r)));
  }
  static ProviderMapping mapping(std::string provider, std::string id) {
    return ProviderMapping{
        .provider = std::move(provider), .provider_id = std::move(id), .status = "live", .task = "text-to-image"};
  }
  static gen::GenerationFailure failure(const gen::GenerationOutcome& o) {
    EXPECT_TRUE(std::holds_alternative<gen::GenerationFailure>(o));
    return std::holds_alternative<gen::GenerationFailure>(o) ? std::get<gen::GenerationFailure>(o)
                                                             : gen::GenerationFailure{};
  }
  static void expect_png(const gen::GenerationOutcome& o) {
    ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(o)) << std::get<gen::GenerationFailure>(o).detail;
    EXPECT_EQ(std::get<gen::GeneratedImage>(o).bytes, png());
  }
  std::vector<FakeRequest> requests_to(std::string_view prefix) const {
    std::vector<FakeRequest> out;
    for (auto& r : server_.requests())
      if (r.path().starts_with(prefix)) out.push_back(r);
    return out;
  }

  boost::asio::io_context io_;
  std::unique_ptr<http::Client> client_ = http::make_client(io_.get_executor());
  core::ManualClock clock_;
  FakeHttpServer server_;
};

// ---- the mapping -----------------------------------------------------------------------------------

TEST_F(HfProviders, MappingRequestAndObjectShape) {
  route([](const FakeRequest&) { return FakeResponse::json(kHubObjectAnswer); });
  auto r =
      run_async(io_, gen::fetch_provider_mapping(*client_, {.hub_base = server_.base_url(), .token = kToken}, kModel));
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  auto req = server_.requests().at(0);
  EXPECT_EQ(req.method, "GET");
  EXPECT_EQ(req.path(), std::string("/api/models/") + kModel);
  EXPECT_EQ(percent_decoded(req.query()), "expand[]=inferenceProviderMapping");
  EXPECT_EQ(req.header("Authorization"), std::string("Bearer ") + kToken);
  ASSERT_EQ(r->size(), 8u);
  EXPECT_EQ(r->at(0).provider, "fal-ai");
  EXPECT_EQ(r->at(0).provider_id, "fal-ai/flux/schnell");
  EXPECT_EQ(r->at(3).status, "staging");

  // Live for text-to-image, in the Hub's order (the first one is what both clients pick for "auto").
  auto usable = gen::usable_providers(*r, {});
  std::vector<std::string> names;
  for (auto& m : usable) names.push_back(m.provider);
  EXPECT_EQ(names, (std::vector<std::string>{"fal-ai", "wavespeed", "nscale", "together", "nebius", "replicate"}));
  // Pinned: that order, only those, unknown or not-live ones dropped.
  names.clear();
  for (auto& m : gen::usable_providers(*r, {"nebius", "hf-inference", "fal-ai", "nope"})) names.push_back(m.provider);
  EXPECT_EQ(names, (std::vector<std::string>{"nebius", "fal-ai"}));
}

TEST_F(HfProviders, MappingListShape) {
  auto r = gen::parse_provider_mapping(kHubListAnswer);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);  // the entry without providerId/task is skipped
  EXPECT_EQ(r->at(0).provider, "nscale");
  EXPECT_EQ(r->at(1).provider_id, "fal-ai/flux/schnell");
  EXPECT_FALSE(gen::parse_provider_mapping(R"({"id":"x"})").ok());
  EXPECT_FALSE(gen::parse_provider_mapping("<html>").ok());
  EXPECT_FALSE(gen::parse_provider_mapping(R"({"inferenceProviderMapping":"live"})").ok());
  EXPECT_EQ(gen::parse_provider_list("auto"), std::vector<std::string>{});
  EXPECT_EQ(gen::parse_provider_list(" Fal-AI, nscale,,fal-ai"), (std::vector<std::string>{"fal-ai", "nscale"}));
}

TEST_F(HfProviders, MappingErrorsAreForOperatorsWithoutTheToken) {
  route([](const FakeRequest&) { return FakeResponse::json(R"({"error":"Repository not found"})", 404); });
  auto r =
      run_async(io_, gen::fetch_provider_mapping(*client_, {.hub_base = server_.base_url(), .token = kToken}, kModel));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::not_found);
  EXPECT_NE(r.error().public_message.find(kModel), std::string::npos);
  route([](const FakeRequest&) {
    return FakeResponse::json(R"({"error":"Invalid credentials in Authorization header"})", 401);
  });
  r = run_async(io_, gen::fetch_provider_mapping(*client_, {.hub_base = server_.base_url(), .token = kToken}, kModel));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::ErrorCode::unauthenticated);
  EXPECT_EQ(r.error().public_message.find(kToken), std::string::npos);
  // Not a model id: no request at all.
  auto before = server_.request_count();
  r = run_async(io_, gen::fetch_provider_mapping(*client_, {.hub_base = server_.base_url()}, "../etc/passwd"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(server_.request_count(), before);
}

// ---- one adapter per provider ---------------------------------------------------------------------

// [py] hf_inference.py HFInferenceTask / [js] hf-inference.ts: POST {router}/hf-inference/models/{id},
// {"inputs", "parameters"}, answer the image bytes.
TEST_F(HfProviders, HfInferenceRequest) {
  route([](const FakeRequest&) { return png_response(); });
  auto r = fox();
  r.steps = 9;       // FLUX.1-schnell takes 1-4
  r.width = 1000;    // multiple of 16
  expect_png(call(mapping("hf-inference", kModel), r));
  auto req = server_.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, std::string("/hf-inference/models/") + kModel);
  EXPECT_EQ(req.header("Authorization"), std::string("Bearer ") + kToken);
  auto body = json::parse(req.body).as_object();
  EXPECT_EQ(body.at("inputs").as_string(), "a fox in snow");
  auto p = body.at("parameters").as_object();
  EXPECT_EQ(p.at("width").as_int64(), 992);
  EXPECT_EQ(p.at("height").as_int64(), 768);
  EXPECT_EQ(p.at("num_inference_steps").as_int64(), 4);
  EXPECT_EQ(p.at("guidance_scale").to_number<double>(), 0.0);
  EXPECT_EQ(p.at("seed").as_int64(), 42);
}

// [py] fal_ai.py FalAITextToImageTask: POST {router}/fal-ai/{id}, {"prompt", …, "image_size": {width,
// height}}; answer {"images":[{"url",…}]}, the URL fetched without the token.
TEST_F(HfProviders, FalAiRequestAndUrlAnswer) {
  const std::string cdn = server_.base_url() + "/cdn/files/penguin/out.jpeg?sig=secret";
  route([&](const FakeRequest& r) {
    if (r.path().starts_with("/cdn/")) return png_response();
    return FakeResponse::json(
        R"({"images":[{"url":")" + cdn +
        R"(","width":1024,"height":768,"content_type":"image/jpeg"}],"timings":{"inference":0.3},"seed":42,"has_nsfw_concepts":[false],"prompt":"a fox in snow"})");
  });
  expect_png(call(mapping("fal-ai", "fal-ai/flux/schnell")));
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/fal-ai/fal-ai/flux/schnell");
  EXPECT_EQ(reqs[0].header("Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(reqs[0].header("Content-Type"), "application/json");
  auto body = json::parse(reqs[0].body).as_object();
  EXPECT_EQ(body.at("prompt").as_string(), "a fox in snow");
  EXPECT_EQ(body.at("image_size").as_object().at("width").as_int64(), 1024);
  EXPECT_EQ(body.at("image_size").as_object().at("height").as_int64(), 768);
  EXPECT_FALSE(body.contains("width"));
  EXPECT_EQ(body.at("num_inference_steps").as_int64(), 4);
  EXPECT_EQ(body.at("seed").as_int64(), 42);
  EXPECT_FALSE(body.contains("guidance_scale"));  // schnell's 0 is not sent
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].target, "/cdn/files/penguin/out.jpeg?sig=secret");
  EXPECT_FALSE(reqs[1].has_header("Authorization"));  // the token stays with the router
}

TEST_F(HfProviders, FalAiDataUrlAndSafetyChecker) {
  route([](const FakeRequest&) {
    return FakeResponse::json(R"({"images":[{"url":"data:image/png;base64,)" + util::base64(png()) + R"("}]})");
  });
  expect_png(call(mapping("fal-ai", "fal-ai/flux/schnell")));
  route([](const FakeRequest&) {
    return FakeResponse::json(R"({"images":[{"url":"https://v3.fal.media/x.jpeg"}],"has_nsfw_concepts":[true]})");
  });
  EXPECT_EQ(failure(call(mapping("fal-ai", "fal-ai/flux/schnell"))).kind, FailureKind::content_refused);
}

// [py] nscale.py NscaleTextToImageTask / [js] nscale.ts: POST {router}/nscale/v1/images/generations,
// response_format b64_json, model = provider id, size "WxH", no num_inference_steps.
TEST_F(HfProviders, NscaleRequest) {
  route([](const FakeRequest&) { return b64_answer(); });
  expect_png(call(mapping("nscale", "black-forest-labs/FLUX.1-schnell")));
  auto req = server_.requests().at(0);
  EXPECT_EQ(req.target, "/nscale/v1/images/generations");
  EXPECT_EQ(req.header("Authorization"), std::string("Bearer ") + kToken);
  auto body = json::parse(req.body).as_object();
  EXPECT_EQ(body.at("response_format").as_string(), "b64_json");
  EXPECT_EQ(body.at("model").as_string(), "black-forest-labs/FLUX.1-schnell");
  EXPECT_EQ(body.at("prompt").as_string(), "a fox in snow");
  EXPECT_EQ(body.at("size").as_string(), "1024x768");
  EXPECT_FALSE(body.contains("num_inference_steps"));
  EXPECT_FALSE(body.contains("guidance_scale"));  // 0 for schnell: not sent
}

// [py] together.py TogetherTextToImageTask / [js] together.ts: POST {router}/together/v1/images/generations,
// response_format "base64", num_inference_steps renamed "steps", model = provider id.
TEST_F(HfProviders, TogetherRequest) {
  route([](const FakeRequest&) { return b64_answer(); });
  expect_png(call(mapping("together", "black-forest-labs/FLUX.1-schnell-Free")));
  auto req = server_.requests().at(0);
  EXPECT_EQ(req.target, "/together/v1/images/generations");
  auto body = json::parse(req.body).as_object();
  EXPECT_EQ(body.at("response_format").as_string(), "base64");
  EXPECT_EQ(body.at("model").as_string(), "black-forest-labs/FLUX.1-schnell-Free");
  EXPECT_EQ(body.at("steps").as_int64(), 4);
  EXPECT_FALSE(body.contains("num_inference_steps"));
  EXPECT_EQ(body.at("width").as_int64(), 1024);
  EXPECT_EQ(body.at("height").as_int64(), 768);
  EXPECT_EQ(body.at("seed").as_int64(), 42);
  EXPECT_FALSE(body.contains("guidance_scale"));
  // FLUX.1-dev: guidance 3.5 by default, steps up to 50.
  auto dev = fox();
  dev.model = "black-forest-labs/FLUX.1-dev";
  dev.steps = 30;
  expect_png(call(mapping("together", "black-forest-labs/FLUX.1-dev"), dev));
  body = json::parse(server_.requests().at(1).body).as_object();
  EXPECT_EQ(body.at("guidance_scale").to_number<double>(), 3.5);
  EXPECT_EQ(body.at("steps").as_int64(), 30);
}

// [py] nebius.py NebiusTextToImageTask / [js] nebius.ts: POST {router}/nebius/v1/images/generations,
// response_format b64_json, guidance_scale dropped, model = provider id.
TEST_F(HfProviders, NebiusRequest) {
  route([](const FakeRequest&) { return b64_answer(); });
  auto r = fox();
  r.model = "black-forest-labs/FLUX.1-dev";  // guidance 3.5 by default, and still not sent to nebius
  expect_png(call(mapping("nebius", "black-forest-labs/flux-dev"), r));
  auto req = server_.requests().at(0);
  EXPECT_EQ(req.target, "/nebius/v1/images/generations");
  auto body = json::parse(req.body).as_object();
  EXPECT_EQ(body.at("response_format").as_string(), "b64_json");
  EXPECT_EQ(body.at("model").as_string(), "black-forest-labs/flux-dev");
  EXPECT_EQ(body.at("num_inference_steps").as_int64(), 4);
  EXPECT_FALSE(body.contains("guidance_scale"));
}

// [py] replicate.py ReplicateTask / [js] replicate.ts: "Prefer: wait", POST
// {router}/replicate/v1/models/{id}/predictions with {"input": {"prompt", …}}; the prediction's output
// is a URL list. Here the wait ends first ("starting"), so we poll the prediction until it succeeds.
TEST_F(HfProviders, ReplicatePredictionPolledUntilDone) {
  std::atomic<int> polls{0};
  const std::string out = server_.base_url() + "/delivery/xezq/out-0.webp";
  route([&](const FakeRequest& r) {
    if (r.path().starts_with("/delivery/")) return png_response();
    if (r.method == "POST") {
      auto a = FakeResponse::json(
          R"({"id":"ufawqhfynnddngldkgtslldrkq","model":"black-forest-labs/flux-schnell","version":"hidden","input":{"prompt":"a fox in snow"},"logs":"","output":null,"data_removed":false,"error":null,"status":"starting","created_at":"2025-01-01T00:00:00.000Z","urls":{"cancel":"https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel","get":"https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq"}})",
          201);
      return a;
    }
    if (++polls < 2)
      return FakeResponse::json(R"({"id":"ufawqhfynnddngldkgtslldrkq","status":"processing","output":null})");
    return FakeResponse::json(R"({"id":"ufawqhfynnddngldkgtslldrkq","status":"succeeded","output":[")" + out +
                              R"("],"error":null})");
  });
  expect_png(call(mapping("replicate", "black-forest-labs/flux-schnell")));
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].target, "/replicate/v1/models/black-forest-labs/flux-schnell/predictions");
  EXPECT_EQ(reqs[0].header("Prefer"), "wait");
  EXPECT_EQ(reqs[0].header("Authorization"), std::string("Bearer ") + kToken);
  auto body = json::parse(reqs[0].body).as_object();
  EXPECT_FALSE(body.contains("version"));
  EXPECT_EQ(body.at("input").as_object().at("prompt").as_string(), "a fox in snow");
  EXPECT_EQ(body.at("input").as_object().at("num_inference_steps").as_int64(), 4);
  EXPECT_EQ(reqs[1].method, "GET");
  EXPECT_EQ(reqs[1].target, "/replicate/v1/predictions/ufawqhfynnddngldkgtslldrkq");
  EXPECT_EQ(reqs[3].target, "/delivery/xezq/out-0.webp");
  EXPECT_FALSE(reqs[3].has_header("Authorization"));
}

TEST_F(HfProviders, ReplicateVersionedIdAndBoundedPolling) {
  route([](const FakeRequest& r) {
    if (r.method == "POST") return FakeResponse::json(R"({"id":"abc123","status":"starting","output":null})", 201);
    return FakeResponse::json(R"({"id":"abc123","status":"processing","output":null})");
  });
  auto f = failure(
      call(mapping("replicate", "owner/model:5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637")));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_NE(f.detail.find("not done after 5 polls"), std::string::npos) << f.detail;
  auto reqs = server_.requests();
  EXPECT_EQ(reqs.size(), 6u);  // the POST and max_polls polls, no more
  EXPECT_EQ(reqs[0].target, "/replicate/v1/predictions");
  auto body = json::parse(reqs[0].body).as_object();
  EXPECT_EQ(body.at("version").as_string(), "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637");

  route([](const FakeRequest&) {
    return FakeResponse::json(
        R"({"id":"abc123","status":"failed","output":null,"error":"NSFW content detected. Try running it again, or try a different prompt."})",
        201);
  });
  EXPECT_EQ(failure(call(mapping("replicate", "black-forest-labs/flux-schnell"))).kind, FailureKind::content_refused);
}

// ---- image URLs ------------------------------------------------------------------------------------

TEST_F(HfProviders, ImageUrlsMustBePublicHttps) {
  // The fake CDN is on 127.0.0.1: refused unless private addresses are allowed (tests only).
  route([&](const FakeRequest& r) {
    if (r.path().starts_with("/cdn/")) return png_response();
    return FakeResponse::json(R"({"images":[{"url":")" + server_.base_url() + R"(/cdn/x.png"}]})");
  });
  auto f = failure(call(mapping("fal-ai", "fal-ai/flux/schnell"), fox(), /*allow_private=*/false));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_TRUE(requests_to("/cdn/").empty());
  for (std::string url :
       {"https://127.0.0.1/x.png", "https://[::1]/x.png", "https://[::ffff:10.0.0.1]/x.png", "https://localhost/x.png",
        "https://169.254.169.254/latest/meta-data", "ftp://example.com/x.png", "https://user:pw@example.com/x.png"}) {
    gen::UrlFetcher fetcher(io_.get_executor(), {});
    auto o = run_async(io_, fetcher.fetch(url, "hf"));
    EXPECT_TRUE(std::holds_alternative<gen::GenerationFailure>(o)) << url;
  }
  // A host name is checked after resolving, by the client hook: "localhost" resolves to loopback and
  // is not connected to, while the same client with every address allowed reaches the server.
  auto checked = http::make_client(io_.get_executor(), {.allow_address = gen::is_public_address});
  const auto url = "http://localhost:" + std::to_string(server_.port()) + "/cdn/x.png";
  EXPECT_THROW(run_async(io_, checked->send({.url = url})), http::TransportError);
  EXPECT_TRUE(requests_to("/cdn/").empty());
  auto open = http::make_client(io_.get_executor(), {.allow_address = [](const auto&) { return true; }});
  EXPECT_EQ(run_async(io_, open->send({.url = url})).status, 200);
  EXPECT_EQ(requests_to("/cdn/").size(), 1u);

  namespace ip = boost::asio::ip;
  for (const char* a : {"127.0.0.1",
                        "10.1.2.3",
                        "172.16.0.1",
                        "192.168.1.1",
                        "100.64.0.1",
                        "169.254.1.1",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "::1",
                        "::",
                        "fe80::1",
                        "fc00::1",
                        "fd12::1",
                        "ff02::1",
                        "::ffff:127.0.0.1",
                        "::ffff:192.168.0.1",
                        "64:ff9b::a00:1",
                        "2002:a00:1::1",
                        "2001:db8::1"}) {
    EXPECT_FALSE(gen::is_public_address(ip::make_address(a))) << a;
  }
  for (const char* a : {"8.8.8.8", "151.101.1.1", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    EXPECT_TRUE(gen::is_public_address(ip::make_address(a))) << a;
  }
}

TEST_F(HfProviders, ImageUrlBodyIsCapped) {
  route([](const FakeRequest&) {
    return FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = std::string(4096, 'x')};
  });
  gen::UrlFetcher fetcher(io_.get_executor(), {.allow_private = true, .max_bytes = 1024});
  auto o = run_async(io_, fetcher.fetch(server_.base_url() + "/big.png", "hf"));
  ASSERT_TRUE(std::holds_alternative<gen::GenerationFailure>(o));
  EXPECT_EQ(std::get<gen::GenerationFailure>(o).kind, FailureKind::retry_later);
}

// ---- errors ----------------------------------------------------------------------------------------

TEST_F(HfProviders, ErrorShapes) {
  struct Case {
    FakeResponse response;
    FailureKind kind;
    std::string says;
  };
  std::vector<Case> cases;
  cases.push_back({FakeResponse::json(R"({"error":["width must be a multiple of 16","bad size"]})", 400),
                   FailureKind::invalid_request, "width must be a multiple of 16; bad size"});
  cases.push_back({FakeResponse::json(R"({"errors":[{"message":"Unknown parameter: seed"}]})", 422),
                   FailureKind::invalid_request, "Unknown parameter: seed"});
  cases.push_back({FakeResponse::json(R"({"detail":[{"loc":["body","prompt"],"msg":"field required"}]})", 422),
                   FailureKind::invalid_request, "field required"});
  auto header = FakeResponse::text("", 404);
  header.headers.emplace_back("X-Error-Message", "Model not supported by provider nscale");
  cases.push_back({header, FailureKind::model_unavailable, "Model not supported by provider nscale"});
  cases.push_back(
      {FakeResponse::json(
           R"({"error":"You have exceeded your monthly included credits for Inference Providers. Subscribe to PRO to get 20x more monthly included credits."})",
           402),
       FailureKind::billing, "monthly included credits"});
  cases.push_back({FakeResponse::json(R"({"error":"Your prompt was flagged by the safety filter"})", 400),
                   FailureKind::content_refused, "safety"});
  for (auto& c : cases) {
    route([r = c.response](const FakeRequest&) { return r; });
    auto f = failure(call(mapping("nscale", "m/x")));
    EXPECT_EQ(f.kind, c.kind) << f.detail;
    EXPECT_NE(f.detail.find(c.says), std::string::npos) << f.detail;
    EXPECT_NE(f.detail.find("nscale: HTTP"), std::string::npos) << f.detail;
    EXPECT_EQ(f.detail.find(kToken), std::string::npos);
  }
  // [docs] rate-limits.md: RateLimit: "api";r=[remaining];t=[seconds until reset].
  route([](const FakeRequest&) {
    auto r = FakeResponse::json(R"({"error":"You have reached the rate limit"})", 429);
    r.headers.emplace_back("RateLimit", "\"api\";r=0;t=37");
    r.headers.emplace_back("RateLimit-Policy", "\"fixed window\";\"api\";q=1000;w=300");
    return r;
  });
  auto f = failure(call(mapping("nscale", "m/x")));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_EQ(f.retry_after, 37s);
  // 503 while the model loads, with the time it expects.
  route([](const FakeRequest&) {
    return FakeResponse::json(R"({"error":"Model is currently loading","estimated_time":12.5})", 503);
  });
  f = failure(call(mapping("hf-inference", kModel)));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_EQ(f.retry_after, 12500ms);
  EXPECT_EQ(gen::parse_ratelimit_reset("limit=100, remaining=0, reset=50"), 50s);
  EXPECT_EQ(gen::parse_ratelimit_reset("garbage"), std::nullopt);
}

// ---- failover, cooldowns, billing alerts -------------------------------------------------------------

TEST_F(HfProviders, FailsOverOn404And402And5xxAndTellsOperatorsOnce) {
  std::atomic<int> fal{0}, nscale{0}, together{0};
  route([&](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) return FakeResponse::json(kHubObjectAnswer);
    if (r.path().starts_with("/fal-ai/")) {
      ++fal;
      return FakeResponse::json(
          R"({"error":"Model black-forest-labs/FLUX.1-schnell is not supported by provider fal-ai"})", 404);
    }
    if (r.path().starts_with("/nscale/")) {
      ++nscale;
      return FakeResponse::json(
          R"({"error":"You have exceeded your monthly included credits for Inference Providers."})", 402);
    }
    if (r.path().starts_with("/together/")) {
      ++together;
      if (together == 1) return FakeResponse::json(R"({"error":{"message":"upstream overloaded"}})", 503);
      return b64_answer();
    }
    return FakeResponse::json(R"({"error":"unexpected"})", 500);
  });
  std::vector<std::string> alerts;
  auto opts = options(cache({"fal-ai", "nscale", "together"}));
  opts.on_billing = [&alerts](std::string provider, std::string detail) -> boost::asio::awaitable<void> {
    alerts.push_back(provider + "|" + detail);
    co_return;
  };
  gen::HfBackend backend(*client_, opts);

  // fal 404 → nscale 402 → together 503: all failed; retry_later speaks for the attempt.
  auto f = failure(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(f.kind, FailureKind::retry_later);
  EXPECT_NE(f.detail.find("fal-ai: HTTP 404"), std::string::npos) << f.detail;
  EXPECT_NE(f.detail.find("nscale: HTTP 402"), std::string::npos) << f.detail;
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].substr(0, 7), "nscale|");
  EXPECT_EQ(alerts[0].find(kToken), std::string::npos);

  // Next job: fal and nscale are cooling down and are not asked; together serves.
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(fal.load(), 1);
  EXPECT_EQ(nscale.load(), 1);
  EXPECT_EQ(together.load(), 2);

  // After the cooldowns they are tried again; nscale's 402 alerts again only after an hour.
  clock_.advance(gen::HfBackend::kBillingCooldown + 1s);
  route([&](const FakeRequest& r) {
    if (r.path().starts_with("/nscale/")) {
      ++nscale;
      return FakeResponse::json(R"({"error":"credits"})", 402);
    }
    if (r.path().starts_with("/api/models/")) return FakeResponse::json(kHubObjectAnswer);
    return FakeResponse::json(R"({"error":"not here"})", 404);
  });
  f = failure(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(nscale.load(), 2);
  EXPECT_EQ(alerts.size(), 1u);  // 10 minutes after the first: throttled
  EXPECT_EQ(f.kind, FailureKind::billing);  // billing outranks "does not serve"
  clock_.advance(1h);
  f = failure(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(alerts.size(), 2u);
}

TEST_F(HfProviders, AParameterOnlyOneProviderRejectsFailsOver) {
  // fal's 422 (FastAPI "detail" list) for an input its endpoint does not take; nscale serves.
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) return FakeResponse::json(kHubObjectAnswer);
    if (r.path().starts_with("/fal-ai/")) {
      return FakeResponse::json(
          R"({"detail":[{"loc":["body","seed"],"msg":"extra fields not permitted","type":"value_error.extra"}]})", 422);
    }
    return b64_answer();
  });
  gen::HfBackend backend(*client_, options(cache({"fal-ai", "nscale"})));
  auto served = run_async(io_, backend.generate(fox(), {}));
  expect_png(served);
  EXPECT_EQ(requests_to("/fal-ai/").size(), 1u);
  EXPECT_EQ(requests_to("/nscale/").size(), 1u);
  // The image names the provider that served it after the failover, for its cost (PROVIDER_PRICES).
  ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(served));
  EXPECT_EQ(std::get<gen::GeneratedImage>(served).provider, "nscale");
  EXPECT_EQ(std::get<gen::GeneratedImage>(served).model, "black-forest-labs/FLUX.1-schnell");
  // Every provider rejects it: the request is what is wrong.
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) return FakeResponse::json(kHubObjectAnswer);
    return FakeResponse::json(R"({"error":"prompt too long"})", 400);
  });
  auto f = failure(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(f.kind, FailureKind::invalid_request);
  EXPECT_NE(f.detail.find("every provider failed"), std::string::npos) << f.detail;
}

TEST_F(HfProviders, ContentRefusalAndBadTokenDoNotFailOver) {
  auto opts = options(cache({"fal-ai", "nscale"}));
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) return FakeResponse::json(kHubObjectAnswer);
    if (r.path().starts_with("/fal-ai/")) return FakeResponse::json(R"({"detail":"NSFW content detected"})", 422);
    return b64_answer();
  });
  gen::HfBackend pinned(*client_, opts);
  EXPECT_EQ(failure(run_async(io_, pinned.generate(fox(), {}))).kind, FailureKind::content_refused);
  EXPECT_TRUE(requests_to("/nscale/").empty());
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/fal-ai/"))
      return FakeResponse::json(R"({"error":"Invalid credentials in Authorization header"})", 401);
    return b64_answer();
  });
  EXPECT_EQ(failure(run_async(io_, pinned.generate(fox(), {}))).kind, FailureKind::bad_credentials);
  EXPECT_TRUE(requests_to("/nscale/").empty());
}

TEST_F(HfProviders, AProviderThatTimesOutFailsOverToTheNext) {
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) return FakeResponse::json(kHubListAnswer);  // nscale, fal-ai
    if (r.path().starts_with("/nscale/")) return FakeResponse{.no_response_hang = true};
    if (r.path().starts_with("/cdn/")) return png_response();
    return FakeResponse::json(R"({"images":[{"url":"data:image/png;base64,)" + util::base64(png()) + R"("}]})");
  });
  auto opts = options(cache());
  opts.timeout = 300ms;
  gen::HfBackend backend(*client_, opts);
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(requests_to("/nscale/").size(), 1u);
  EXPECT_EQ(requests_to("/fal-ai/").size(), 1u);
}

// ---- the mapping cache -------------------------------------------------------------------------------

TEST_F(HfProviders, MappingIsCachedRefreshedAndKeptOnFailure) {
  std::mutex mu;
  std::string hub = kHubListAnswer;  // nscale, fal-ai
  int hub_status = 200;
  route([&](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) {
      std::lock_guard lock(mu);
      return FakeResponse::json(hub, hub_status);
    }
    if (r.path().starts_with("/nscale/")) return b64_answer();
    return FakeResponse::json(R"({"images":[{"url":"data:image/png;base64,)" + util::base64(png()) + R"("}]})");
  });
  auto mapping = cache();
  gen::HfBackend backend(*client_, options(mapping));
  expect_png(run_async(io_, backend.generate(fox(), {})));
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(requests_to("/api/models/").size(), 1u);  // cached
  EXPECT_EQ(requests_to("/nscale/").size(), 2u);

  // The Hub's order changes; after the refresh period the next job reads it again and follows it.
  {
    std::lock_guard lock(mu);
    hub =
        R"({"inferenceProviderMapping":{"fal-ai":{"status":"live","providerId":"fal-ai/flux/schnell","task":"text-to-image"},
                                          "nscale":{"status":"live","providerId":"x/y","task":"text-to-image"}}})";
  }
  clock_.advance(5min + 1s);
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(requests_to("/api/models/").size(), 2u);
  EXPECT_EQ(requests_to("/fal-ai/").size(), 1u);

  // The Hub fails: the last good mapping stays in use; no new fetch before retry_failed.
  {
    std::lock_guard lock(mu);
    hub_status = 500;
  }
  clock_.advance(5min + 1s);
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(requests_to("/api/models/").size(), 3u);
  EXPECT_EQ(requests_to("/fal-ai/").size(), 2u);
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(requests_to("/api/models/").size(), 3u);

  // refresh_all (for a periodic task) fetches every model seen.
  {
    std::lock_guard lock(mu);
    hub_status = 200;
  }
  run_async(io_, mapping->refresh_all());
  EXPECT_EQ(requests_to("/api/models/").size(), 4u);
}

TEST_F(HfProviders, WithoutAMappingFallsBackToHfInference) {
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) return FakeResponse::text("down", 503);
    return png_response();
  });
  gen::HfBackend backend(*client_, options(cache()));
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_EQ(requests_to("/hf-inference/models/").size(), 1u);
  // Pinned without hf-inference: nothing to fall back to.
  gen::HfBackend pinned(*client_, options(cache({"fal-ai"})));
  EXPECT_EQ(failure(run_async(io_, pinned.generate(fox(), {}))).kind, FailureKind::model_unavailable);
}

TEST_F(HfProviders, HubIdsThatCannotGoIntoAUrlAreDropped) {
  route([](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) {
      return FakeResponse::json(R"({"inferenceProviderMapping":{
        "nscale":{"status":"live","providerId":"../../admin?x=1","task":"text-to-image"},
        "together":{"status":"live","providerId":"black-forest-labs/FLUX.1-schnell-Free","task":"text-to-image"}}})");
    }
    return b64_answer();
  });
  gen::HfBackend backend(*client_, options(cache()));
  expect_png(run_async(io_, backend.generate(fox(), {})));
  EXPECT_TRUE(requests_to("/nscale/").empty());
  EXPECT_TRUE(requests_to("/admin").empty());
  EXPECT_EQ(requests_to("/together/").size(), 1u);
  // Our own model id that cannot be addressed is a bug (as a malformed URL is to the HTTP client).
  EXPECT_THROW(call(mapping("hf-inference", "black-forest-labs/FLUX 1")), std::invalid_argument);
}

TEST(ModelDefaults, SchnellDevAndOthers) {
  auto r = gen::apply_model_defaults(gen::GenerationRequest{.width = 1000, .height = 8, .steps = 0},
                                     gen::defaults_for("black-forest-labs/FLUX.1-schnell"));
  EXPECT_EQ(r.steps, 4);
  EXPECT_EQ(r.width, 992);
  EXPECT_EQ(r.height, 16);
  EXPECT_EQ(gen::defaults_for("black-forest-labs/FLUX.1-schnell").guidance, 0.0);
  EXPECT_EQ(gen::defaults_for("black-forest-labs/FLUX.1-dev").guidance, 3.5);
  r = gen::apply_model_defaults(gen::GenerationRequest{.width = 1000, .height = 1000, .steps = 80},
                                gen::defaults_for("black-forest-labs/FLUX.1-dev"));
  EXPECT_EQ(r.steps, 50);
  EXPECT_FALSE(gen::defaults_for("stabilityai/sdxl").guidance.has_value());
}

}  // namespace
}  // namespace igb::testing
