// Provider images far larger than requested (issue 15): the size rule of worker/answer_check.hpp, and
// the worker in process (real JobService on SQLite and PostgreSQL, real router with Hugging Face
// backends against fake servers in the hf-inference wire format of worker_support.hpp, a file image
// store) refusing such an answer as that provider's failure and failing over to the next backend.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "gen/hf_backend.hpp"
#include "gen/router.hpp"
#include "imaging/decode.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "support/async.hpp"
#include "support/store_fixture.hpp"
#include "worker/answer_check.hpp"
#include "worker/worker.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::JobStatus;
using core::QuotaState;

// --- the rule --------------------------------------------------------------------------------------

TEST(AnswerLimits, TwiceEachSideAndFourTimesThePixelsWithRoomForFixedSizes) {
  auto at = [](int w, int h) {
    const auto l = worker::answer_limits(w, h);
    return std::to_string(l.max_width) + "x" + std::to_string(l.max_height) + " " + std::to_string(l.max_pixels);
  };
  EXPECT_EQ(at(1024, 1024), "2048x2048 4194304");
  EXPECT_EQ(at(2048, 1024), "4096x2048 8388608");
  EXPECT_EQ(at(1440, 1440), "2880x2880 8294400");
  // Small requests still take the providers' fixed sizes.
  EXPECT_EQ(at(512, 512), "2048x2048 2097152");
  EXPECT_EQ(at(256, 256), "2048x2048 2097152");
  // Never beyond the absolute limit of the decoder.
  EXPECT_EQ(at(6000, 4096), "8192x8192 98304000");
  EXPECT_EQ(at(0, -5), "2048x2048 2097152");
}

gen::GeneratedImage png_answer(int width, int height) {
  return {.bytes = imaging::make_png(width, height), .content_type = "image/png"};
}

TEST(AnswerCheck, AcceptsRoundedAndFixedSizesAndRefusesFarLargerOnes) {
  const gen::GenerationRequest square{.prompt = "p", .width = 512, .height = 512};
  const gen::GenerationRequest wide{.prompt = "p", .width = 1024, .height = 256};
  // Rounded up to a multiple of 64; gpt-image-1's and DALL-E 3's fixed sizes.
  EXPECT_EQ(worker::check_answer(square, png_answer(512, 576)), std::nullopt);
  EXPECT_EQ(worker::check_answer(square, png_answer(1024, 1024)), std::nullopt);
  EXPECT_EQ(worker::check_answer(wide, png_answer(1536, 1024)), std::nullopt);
  EXPECT_EQ(worker::check_answer(wide, png_answer(1792, 1024)), std::nullopt);

  auto too_wide = worker::check_answer(square, png_answer(2064, 16));
  ASSERT_TRUE(too_wide);
  EXPECT_EQ(too_wide->kind, gen::FailureKind::retry_later);
  EXPECT_EQ(
      too_wide->detail,
      "the provider's image is far larger than the 512x512 requested: image too large: 2064x16 (limit 2048x2048)");
  auto too_many = worker::check_answer(square, png_answer(2048, 1040));
  ASSERT_TRUE(too_many);
  EXPECT_EQ(too_many->detail,
            "the provider's image is far larger than the 512x512 requested: image too large: "
            "2048x1040 is 2129920 pixels (limit 2097152)");
  auto html = worker::check_answer(square, {.bytes = "<!DOCTYPE html>", .content_type = "image/png"});
  ASSERT_TRUE(html);
  EXPECT_EQ(html->kind, gen::FailureKind::retry_later);
  EXPECT_EQ(html->detail.rfind("the provider's answer is not a valid image: not an image", 0), 0u) << html->detail;
  // An empty 200 (an OpenAI-compatible server's empty data[0].url) is that backend's failure too.
  auto empty = worker::check_answer(square, {.bytes = "", .content_type = "image/png"});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->detail, "the provider's answer is not a valid image: not an image (empty body)");
}

// --- the worker ------------------------------------------------------------------------------------

constexpr core::UserId kUser = 1;

std::string name(std::optional<worker::JobOutcome> o) { return o ? worker::to_string(*o) : "nothing claimed"; }

// A valid PNG that decodes fine under the absolute limits: 4112 pixels wide for a 512x512 request.
FakeHandler answer_far_too_large() {
  return answer(FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = imaging::make_png(4112, 32, 1)});
}

class AnswerSizeTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    accounts_->ensure_user(kUser, "u1", "en");
  }

  void use_backends(std::vector<FakeHttpServer*> servers) {
    router_ = std::make_unique<gen::Router>(clock_);
    int i = 0;
    for (auto* s : servers) {
      router_->add(std::make_unique<gen::HfBackend>(*client_, gen::HfOptions{.name = "hf" + std::to_string(++i),
                                                                             .base_url = s->base_url(),
                                                                             .model = kHfModel,
                                                                             .token = kHfToken,
                                                                             .timeout = 120s}),
                   {.concurrency = 4});
    }
    worker_ = std::make_unique<worker::Worker>(
        *jobs_, pool_, *router_, images_, clock_,
        worker::WorkerOptions{
            .id = "w-test", .idle_poll = 50ms, .heartbeat = 50ms, .backoff_base = 10ms, .backoff_max = 100ms});
  }

  core::Job submit(int width, int height, std::int64_t seed) {
    auto r = jobs_->submit(core::SubmitRequest{
        .user = kUser,
        .params = {.prompt = "a fox in snow", .width = width, .height = height, .steps = 4, .seed = seed},
        .source = "test"});
    if (!r.ok()) throw std::runtime_error("submit failed: " + r.error().public_message);
    return r->jobs.at(0);
  }
  core::Job job(const std::string& id) { return jobs_->get(id, kUser).value(); }
  std::optional<worker::JobOutcome> process_next() { return run_async(io_, worker_->process_next()); }

  TempDir data_;
  boost::asio::io_context io_;
  std::unique_ptr<http::Client> client_ = http::make_client(io_.get_executor());
  runtime::BlockingPool pool_{4};
  imaging::FileImageStore images_{data_.path()};
  std::unique_ptr<gen::Router> router_;
  std::unique_ptr<worker::Worker> worker_;
};

TEST_P(AnswerSizeTest, AFarTooLargeImageFailsOverToTheSecondBackendsProperImage) {
  FakeHttpServer first(hf_provider({answer_far_too_large()}));
  FakeHttpServer second(hf_provider({}));  // a PNG of the requested size
  use_backends({&first, &second});

  auto j = submit(512, 512, 77);
  EXPECT_EQ(name(process_next()), "succeeded");
  EXPECT_EQ(first.request_count(), 1u);
  EXPECT_EQ(second.request_count(), 1u);
  auto done = job(j.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.attempts, 1);
  ASSERT_TRUE(done.image_id);
  EXPECT_EQ(*done.image_id, util::sha256_hex(imaging::make_png(512, 512, 77)));  // the second server's
  EXPECT_EQ(image_files(data_.path()).size(), 1u);  // nothing of the first answer was stored
  // The oversized answer counts against the first backend, as any failed call does.
  auto health = router_->health();
  EXPECT_EQ(health.at(0).consecutive_failures, 1);
  EXPECT_NE(health.at(0).last_failure.find("far larger than the 512x512 requested: image too large: 4112x32"),
            std::string::npos)
      << health.at(0).last_failure;
  EXPECT_EQ(health.at(1).consecutive_failures, 0);
}

TEST_P(AnswerSizeTest, FarTooLargeFromEveryBackendIsRetriedThenFailsWithTheQuotaGivenBack) {
  FakeHttpServer only(hf_provider({answer_far_too_large()}));
  use_backends({&only});
  auto j = submit(512, 512, 5);
  ASSERT_EQ(j.max_attempts, 3);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    SCOPED_TRACE("attempt " + std::to_string(attempt));
    EXPECT_EQ(name(process_next()), attempt < 3 ? "retrying" : "failed");
    EXPECT_TRUE(image_files(data_.path()).empty());
    const auto at = job(j.id).run_after;
    if (at > clock_.now()) clock_.advance(at - clock_.now());
  }
  auto failed = job(j.id);
  EXPECT_EQ(failed.status, JobStatus::failed);
  EXPECT_FALSE(failed.image_id);
  EXPECT_EQ(failed.quota_state, QuotaState::released);
  EXPECT_EQ(failed.failure, core::FailureCode::unavailable);
  EXPECT_EQ(only.request_count(), 3u);
  EXPECT_EQ(quota_->status(kUser).used, 0);
  EXPECT_EQ(quota_->status(kUser).reserved, 0);
}

TEST_P(AnswerSizeTest, AProvidersFixedSizeForASmallRequestIsKept) {
  // 256x256 asked, 1024x1024 answered (a provider that makes one size only): four times each side,
  // within the allowance for fixed sizes.
  FakeHttpServer fixed(hf_provider(
      {answer(FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = imaging::make_png(1024, 1024, 9)})}));
  use_backends({&fixed});
  auto j = submit(256, 256, 9);
  EXPECT_EQ(name(process_next()), "succeeded");
  auto done = job(j.id);
  ASSERT_TRUE(done.image_id);
  auto record = store().begin(core::TxMode::read)->find_image(*done.image_id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->width, 1024);
  EXPECT_EQ(record->height, 1024);
}

IGB_ON_BOTH_DATABASES(AnswerSizeTest);

}  // namespace
}  // namespace igb::testing
