// build_generation as `serve` uses it, against a fake Hub + router (FakeHttpServer) and the fake Bot
// API: HF_PROVIDER pins the providers, a 402 fails over and tells the admins once, and the
// refresh_providers task resolves the mapping at start-up. Wire shapes: tests/gen/hf_providers_test.cpp.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>

#include "app/generation.hpp"
#include "support/test_image.hpp"
#include "support/async.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

// huggingface_hub hf_api.py ModelInfo (object shape).
const std::string kHub = R"({"id":"black-forest-labs/FLUX.1-schnell","inferenceProviderMapping":{
  "nscale":{"status":"live","providerId":"black-forest-labs/FLUX.1-schnell","task":"text-to-image"},
  "together":{"status":"live","providerId":"black-forest-labs/FLUX.1-schnell-Free","task":"text-to-image"}}})";

TEST(Generation, HfProvidersFailOverAndAdminsHearOfA402Once) {
  std::atomic<int> hub_calls{0};
  FakeHttpServer hf([&](const FakeRequest& r) {
    if (r.path().starts_with("/api/models/")) {
      ++hub_calls;
      return FakeResponse::json(kHub);
    }
    if (r.path().starts_with("/nscale/")) {
      return FakeResponse::json(
          R"({"error":"You have exceeded your monthly included credits for Inference Providers."})", 402);
    }
    return FakeResponse::json(R"({"data":[{"b64_json":")" + util::base64(imaging::make_png(8, 8)) + R"("}]})");
  });
  FakeBotApi tg;
  tg.push_message({.from = {.id = 42, .first_name = "Admin"}, .text = "/start"});
  TempDir dir;

  auto config = config::Config{};
  config.data_dir = dir.path().string();
  config.hf_token = config::Secret("hf_generation_test_token");
  config.hf_hub_base = hf.base_url();
  config.hf_provider = "nscale,together";
  config.telegram_bot_token = config::Secret(tg.token());
  config.telegram_api_base = tg.base_url();
  config.admin_telegram_ids = {42};
  config.backends.at(0).base_url = hf.base_url();
  config.backends.at(0).api_key = config.hf_token;
  app::Services s{.config = config, .plans = *core::PlanCatalog::create(core::default_plans())};

  boost::asio::io_context io;
  auto g = app::build_generation(s, io.get_executor());
  ASSERT_TRUE(g.refresh_providers);
  // The start-up resolution, as serve would spawn it under the Supervisor: it reads the Hub at once.
  // (Cancelled here once it has; cancellation ends it like the Supervisor's does.)
  boost::asio::cancellation_signal stop;
  bool ended = false;
  boost::asio::co_spawn(io, g.refresh_providers(),
                        boost::asio::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr) { ended = true; }));
  while (hub_calls.load() == 0) io.run_one();
  stop.emit(boost::asio::cancellation_type::terminal);
  while (!ended) io.run_one();
  const int at_start = hub_calls.load();
  EXPECT_EQ(at_start, 1);

  for (int i = 0; i < 2; ++i) {
    auto outcome = run_async(
        io, g.router->generate(
                gen::GenerationRequest{.prompt = "a fox", .width = 512, .height = 512, .steps = 4, .seed = 1}, {}));
    ASSERT_TRUE(std::holds_alternative<gen::GeneratedImage>(outcome))
        << std::get<gen::GenerationFailure>(outcome).detail;
  }
  EXPECT_LE(hub_calls.load(), at_start + 1);  // read once more at most (if the start-up read was cut), then cached
  auto sent = tg.calls("sendMessage");
  ASSERT_EQ(sent.size(), 1u);  // the second job skips nscale (cooling down) and would be throttled anyway
  EXPECT_EQ(sent[0].chat_id, 42);
  auto text = std::string(sent[0].params.at("text").as_string());
  EXPECT_NE(text.find("nscale"), std::string::npos) << text;
  EXPECT_NE(text.find("402"), std::string::npos) << text;
  EXPECT_EQ(text.find("hf_generation_test_token"), std::string::npos);
  EXPECT_TRUE(tg.spec_violations().empty());
}

}  // namespace
}  // namespace igb::testing
