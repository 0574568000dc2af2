// The generation worker in process: a real JobService (manual clock) on SQLite and PostgreSQL, a real
// router with Hugging Face backends talking to fake servers in the provider's wire format, a file
// image store in a temp folder, and the blocking pool.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <thread>

#include "gen/hf_backend.hpp"
#include "gen/openai_backend.hpp"
#include "gen/router.hpp"
#include "imaging/decode.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "support/async.hpp"
#include "support/store_fixture.hpp"
#include "worker/worker.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::JobStatus;
using core::QuotaState;

constexpr core::UserId kUser = 1;

std::string name(std::optional<worker::JobOutcome> o) { return o ? worker::to_string(*o) : "nothing claimed"; }

class WorkerTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    accounts_->ensure_user(kUser, "u1", "en");
    hf_.set_handler(hf_provider({}));
    router_ = make_router({&hf_});
    worker_ = make_worker(*jobs_);
  }

  std::unique_ptr<gen::Router> make_router(std::vector<FakeHttpServer*> servers, const core::Clock* clock = nullptr) {
    auto router = std::make_unique<gen::Router>(clock ? *clock : clock_);
    int i = 0;
    for (auto* s : servers) {
      router->add(std::make_unique<gen::HfBackend>(*client_, gen::HfOptions{.name = "hf" + std::to_string(++i),
                                                                            .base_url = s->base_url(),
                                                                            .model = kHfModel,
                                                                            .token = kHfToken,
                                                                            .timeout = 120s}),
                  {.concurrency = 4});
    }
    return router;
  }
  std::unique_ptr<worker::Worker> make_worker(core::JobService& jobs, const core::Clock* clock = nullptr) {
    return std::make_unique<worker::Worker>(
        jobs, pool_, *router_, images_, clock ? *clock : clock_,
        worker::WorkerOptions{
            .id = "w-test", .idle_poll = 50ms, .heartbeat = 50ms, .backoff_base = 10ms, .backoff_max = 100ms});
  }

  core::Job submit(core::JobParams params) {
    auto r = jobs_->submit(core::SubmitRequest{.user = kUser, .params = std::move(params), .source = "test"});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().public_message);
    if (!r.ok()) throw std::runtime_error("submit failed");
    return r->jobs.at(0);
  }
  static core::JobParams fox(std::optional<std::int64_t> seed = std::nullopt, std::string style = {}) {
    return core::JobParams{
        .prompt = "a fox in snow", .width = 512, .height = 512, .steps = 4, .seed = seed, .style = std::move(style)};
  }
  core::Job job(const std::string& id) { return jobs_->get(id, kUser).value(); }
  std::optional<worker::JobOutcome> process_next() { return run_async(io_, worker_->process_next()); }
  // Moves the manual clock to the job's run_after (its retry time).
  void advance_to_run_after(const std::string& id) {
    const auto at = job(id).run_after;
    if (at > clock_.now()) clock_.advance(at - clock_.now());
  }
  std::vector<HfCall> calls(const FakeHttpServer& s) const {
    std::vector<HfCall> out;
    for (const auto& r : s.requests()) out.push_back(decode_hf_call(r));
    return out;
  }
  std::optional<core::Image> image_record(const std::string& image_id) {
    return store().begin(core::TxMode::read)->find_image(image_id);
  }

  TempDir data_;
  boost::asio::io_context io_;
  std::unique_ptr<http::Client> client_ = http::make_client(io_.get_executor());
  FakeHttpServer hf_;
  runtime::BlockingPool pool_{4};
  imaging::FileImageStore images_{data_.path()};
  std::unique_ptr<gen::Router> router_;
  std::unique_ptr<worker::Worker> worker_;
};

TEST_P(WorkerTest, SucceedsStoresTheImageCommitsQuotaAndRecordsThePickedSeed) {
  auto j = submit(fox());
  EXPECT_EQ(name(process_next()), "succeeded");

  auto done = job(j.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.quota_state, QuotaState::committed);
  EXPECT_EQ(done.attempts, 1);
  EXPECT_FALSE(done.lease_owner);
  ASSERT_TRUE(done.image_id);
  auto record = image_record(*done.image_id);
  ASSERT_TRUE(record);
  EXPECT_EQ(record->mime, "image/png");
  EXPECT_TRUE(images_.exists(*record));
  EXPECT_TRUE(std::filesystem::is_regular_file(images_.path_of(*record)));
  auto bytes = images_.read(*record);
  ASSERT_TRUE(bytes);
  auto info = imaging::inspect(*bytes);
  ASSERT_TRUE(info.ok()) << info.error().internal_detail;
  EXPECT_EQ(info->width, 512);
  EXPECT_EQ(info->height, 512);
  EXPECT_EQ(image_files(data_.path()).size(), 1u);

  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 1);
  EXPECT_EQ(q.reserved, 0);

  // The request had no seed: the worker picked one, sent it, and recorded it so the user can repeat it.
  auto sent = calls(hf_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].target, std::string("/hf-inference/models/") + kHfModel);
  EXPECT_EQ(sent[0].authorization, std::string("Bearer ") + kHfToken);
  EXPECT_EQ(sent[0].inputs, "a fox in snow");
  EXPECT_EQ(sent[0].width, 512);
  EXPECT_EQ(sent[0].steps, 4);
  ASSERT_TRUE(done.params.seed);
  EXPECT_GE(sent[0].seed, 0);
  EXPECT_EQ(*done.params.seed, sent[0].seed);
}

TEST_P(WorkerTest, SendsAnExplicitSeedAndTheStyleWords) {
  auto j = submit(fox(123456789, "anime"));
  EXPECT_EQ(name(process_next()), "succeeded");
  auto sent = calls(hf_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].seed, 123456789);
  EXPECT_EQ(sent[0].inputs, "a fox in snow, anime style, clean line art, vibrant colours");
  auto done = job(j.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.params.seed, 123456789);
  EXPECT_EQ(done.params.prompt, "a fox in snow");  // the user's words are kept as they were
}

TEST_P(WorkerTest, ModelLoadingWaitsForTheEstimatedTimeThenSucceeds) {
  hf_.set_handler(hf_provider(
      {answer(hf_json_error(
           503, R"({"error":"Model black-forest-labs/FLUX.1-schnell is currently loading","estimated_time":20.0})")),
       answer_png()}));
  auto j = submit(fox());
  const auto failed_at = clock_.now();
  EXPECT_EQ(name(process_next()), "retrying");

  auto waiting = job(j.id);
  EXPECT_EQ(waiting.status, JobStatus::queued);
  EXPECT_EQ(waiting.attempts, 1);
  EXPECT_FALSE(waiting.lease_owner);
  EXPECT_GE(waiting.run_after, failed_at + 20s);
  EXPECT_EQ(waiting.quota_state, QuotaState::reserved);
  EXPECT_EQ(quota_->status(kUser).reserved, 1);

  // Not claimable a moment before its time…
  clock_.advance(waiting.run_after - clock_.now() - 1ms);
  EXPECT_EQ(name(process_next()), "nothing claimed");
  EXPECT_EQ(hf_.request_count(), 1u);
  // …and run at its time.
  clock_.advance(1ms);
  EXPECT_EQ(name(process_next()), "succeeded");
  auto done = job(j.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_FALSE(done.failure);  // the first attempt's failure went with its success
  EXPECT_EQ(hf_.request_count(), 2u);
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 1);
  EXPECT_EQ(q.reserved, 0);
}

TEST_P(WorkerTest, AnswersThatAreNotImagesAreRetriedThenFailWithoutUsingQuota) {
  const std::string html =
      "<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head>"
      "<body>upstream overloaded</body></html>";
  auto truncated = imaging::make_png(512, 512, 3);
  truncated.resize(truncated.size() / 2);
  hf_.set_handler(hf_provider({answer(FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = html}),
                               answer(FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = truncated})}));
  auto j = submit(fox());
  ASSERT_EQ(j.max_attempts, 3);

  EXPECT_EQ(name(process_next()), "retrying");  // HTML labelled image/png
  EXPECT_EQ(job(j.id).status, JobStatus::queued);
  EXPECT_TRUE(image_files(data_.path()).empty());
  advance_to_run_after(j.id);
  EXPECT_EQ(name(process_next()), "retrying");  // a PNG cut in half
  EXPECT_EQ(job(j.id).status, JobStatus::queued);
  EXPECT_TRUE(image_files(data_.path()).empty());
  advance_to_run_after(j.id);
  EXPECT_EQ(name(process_next()), "failed");  // the third attempt was the last

  auto failed = job(j.id);
  EXPECT_EQ(failed.status, JobStatus::failed);
  EXPECT_EQ(failed.attempts, 3);
  EXPECT_EQ(failed.quota_state, QuotaState::released);
  EXPECT_FALSE(failed.image_id);
  EXPECT_EQ(failed.failure, core::FailureCode::unavailable);  // a code: no provider words reach the user
  EXPECT_TRUE(image_files(data_.path()).empty());
  EXPECT_EQ(hf_.request_count(), 3u);
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 0);
  EXPECT_EQ(q.reserved, 0);
  EXPECT_EQ(q.failed, 1);  // three provider calls, one failed job
}

// What the user can act on: rephrase, change the settings, or try later (everything else, the
// operator's problems included).
TEST(WorkerFailureCodes, ProviderFailureKindsMapToWhatTheUserCanDo) {
  using gen::FailureKind;
  EXPECT_EQ(worker::failure_code(FailureKind::content_refused), core::FailureCode::content_refused);
  EXPECT_EQ(worker::failure_code(FailureKind::invalid_request), core::FailureCode::invalid_request);
  for (auto kind : {FailureKind::retry_later, FailureKind::billing, FailureKind::bad_credentials,
                    FailureKind::model_unavailable, FailureKind::permanent}) {
    EXPECT_EQ(worker::failure_code(kind), core::FailureCode::unavailable) << gen::to_string(kind);
  }
}

TEST_P(WorkerTest, RefusedContentFailsAtOnceAndReleasesQuota) {
  hf_.set_handler(hf_provider({answer(hf_json_error(400, R"({"error":"NSFW content detected in the prompt"})"))}));
  auto j = submit(fox());
  EXPECT_EQ(name(process_next()), "failed");
  auto failed = job(j.id);
  EXPECT_EQ(failed.status, JobStatus::failed);
  EXPECT_EQ(failed.attempts, 1);  // no retry
  EXPECT_EQ(failed.quota_state, QuotaState::released);
  EXPECT_EQ(failed.failure, core::FailureCode::content_refused);  // worded by the bot and the API, not the provider
  EXPECT_EQ(hf_.request_count(), 1u);
  EXPECT_EQ(quota_->status(kUser).reserved, 0);
  EXPECT_EQ(quota_->status(kUser).used, 0);
  EXPECT_EQ(quota_->status(kUser).failed, 1);  // but against the user's budget of failed attempts
  // The provider works; refusing a prompt does not count against it.
  EXPECT_EQ(router_->health().at(0).state, gen::CircuitState::closed);
  EXPECT_EQ(name(process_next()), "nothing claimed");
}

TEST_P(WorkerTest, OutOfCreditsIsRetriedLaterAndOpensTheCircuit) {
  hf_.set_handler(hf_provider({answer(
      hf_json_error(402, R"({"error":"You have exceeded your monthly included credits for Inference Providers."})"))}));
  auto j = submit(fox());
  EXPECT_EQ(name(process_next()), "retrying");
  auto waiting = job(j.id);
  EXPECT_EQ(waiting.status, JobStatus::queued);
  EXPECT_EQ(waiting.quota_state, QuotaState::reserved);
  EXPECT_EQ(waiting.failure, core::FailureCode::unavailable);  // the operator's problem, not the user's
  auto health = router_->health();
  ASSERT_EQ(health.size(), 1u);
  EXPECT_EQ(health[0].state, gen::CircuitState::open);
  EXPECT_FALSE(router_->any_usable());

  // The next attempt does not call the provider while its circuit is open.
  advance_to_run_after(j.id);
  EXPECT_EQ(name(process_next()), "retrying");
  EXPECT_EQ(hf_.request_count(), 1u);
  EXPECT_EQ(job(j.id).status, JobStatus::queued);
}

TEST_P(WorkerTest, FailsOverToTheSecondBackend) {
  FakeHttpServer second(hf_provider({}));
  hf_.set_handler(hf_provider({answer(hf_json_error(500, R"({"error":"Internal Server Error"})"))}));
  router_ = make_router({&hf_, &second});
  worker_ = make_worker(*jobs_);

  auto j = submit(fox(99));
  EXPECT_EQ(name(process_next()), "succeeded");
  EXPECT_EQ(hf_.request_count(), 1u);
  ASSERT_EQ(second.request_count(), 1u);
  EXPECT_EQ(decode_hf_call(second.requests().at(0)).seed, 99);
  auto done = job(j.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.attempts, 1);
  ASSERT_TRUE(done.image_id);
  // The image is the second server's answer.
  EXPECT_EQ(*done.image_id, util::sha256_hex(imaging::make_png(512, 512, 99)));
  auto health = router_->health();
  EXPECT_EQ(health.at(0).consecutive_failures, 1);
  EXPECT_EQ(health.at(1).consecutive_failures, 0);
}

TEST_P(WorkerTest, CancelDuringGenerationDropsTheJobWithoutAnImage) {
  // The provider would answer much later (a server-side timer); the hang guard below is far shorter,
  // so the worker has to give up on the call when it learns the job was canceled.
  hf_.set_handler(hf_provider({answer_png_after(10min)}));
  auto j = submit(fox());
  std::thread canceller([&] {
    if (!hf_.wait_for_requests(1, 60s)) return;
    auto st = jobs_->cancel(j.id, kUser);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().public_message);
  });
  auto outcome = run_guarded(io_, worker_->process_next(), 60s);
  canceller.join();
  ASSERT_TRUE(outcome) << "the worker did not stop the generation of a canceled job";
  EXPECT_EQ(name(*outcome), "lease_lost");

  auto canceled = job(j.id);
  EXPECT_EQ(canceled.status, JobStatus::canceled);
  // The provider call had started: the user who asked pays for it (a cancel loop must not turn
  // into free provider calls), and the image is not kept.
  EXPECT_EQ(canceled.quota_state, QuotaState::committed);
  EXPECT_FALSE(canceled.image_id);
  EXPECT_TRUE(image_files(data_.path()).empty());
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 1);
  EXPECT_EQ(q.reserved, 0);
  // The router's bookkeeping is back to idle.
  EXPECT_EQ(router_->health().at(0).in_flight, 0);
}

// Between heartbeats (here ten minutes apart) the worker still hears of a cancel within its
// cancel_check and stops the provider call.
TEST_P(WorkerTest, ACancelIsHeardBetweenHeartbeats) {
  worker_ = std::make_unique<worker::Worker>(*jobs_, pool_, *router_, images_, clock_,
                                             worker::WorkerOptions{.id = "w-test",
                                                                   .idle_poll = 50ms,
                                                                   .heartbeat = 10min,
                                                                   .cancel_check = 50ms,
                                                                   .backoff_base = 10ms,
                                                                   .backoff_max = 50ms});
  hf_.set_handler(hf_provider({answer_png_after(10min)}));
  auto j = submit(fox());
  std::thread canceller([&] {
    if (!hf_.wait_for_requests(1, 60s)) return;
    EXPECT_EQ(jobs_->cancel(j.id, kUser).value(), true);  // it had started: charged
  });
  auto outcome = run_guarded(io_, worker_->process_next(), 60s);
  canceller.join();
  ASSERT_TRUE(outcome) << "the worker did not stop the generation of a canceled job";
  EXPECT_EQ(name(*outcome), "lease_lost");
  EXPECT_EQ(router_->health().at(0).in_flight, 0);
}

TEST_P(WorkerTest, AnExactRepeatWithAnExplicitSeedIsServedFromTheCache) {
  auto first = submit(fox(7, "photo"));
  EXPECT_EQ(name(process_next()), "succeeded");
  ASSERT_EQ(hf_.request_count(), 1u);
  const auto first_image = job(first.id).image_id;
  ASSERT_TRUE(first_image);

  // The same request, white space aside.
  auto repeat_params = fox(7, "photo");
  repeat_params.prompt = "  a fox   in snow ";
  auto repeat = submit(repeat_params);
  EXPECT_EQ(name(process_next()), "cached");
  EXPECT_EQ(hf_.request_count(), 1u);  // the provider was not asked again
  auto done = job(repeat.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.image_id, first_image);
  EXPECT_EQ(done.params.seed, 7);
  EXPECT_EQ(image_files(data_.path()).size(), 1u);
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 1);  // nobody pays twice for the picture they already have
  EXPECT_EQ(q.reserved, 0);

  // Another seed is a new image.
  submit(fox(8, "photo"));
  EXPECT_EQ(name(process_next()), "succeeded");
  EXPECT_EQ(hf_.request_count(), 2u);

  // A cache entry whose file is gone is generated again rather than served broken.
  for (const auto& f : image_files(data_.path())) std::filesystem::remove(f);
  auto third = submit(fox(7, "photo"));
  EXPECT_EQ(name(process_next()), "succeeded");
  EXPECT_EQ(hf_.request_count(), 3u);
  EXPECT_EQ(job(third.id).image_id, first_image);
  EXPECT_EQ(image_files(data_.path()).size(), 1u);
  // The user had that picture: making it again is on us. Seed 8 was the only other charge.
  EXPECT_EQ(quota_->status(kUser).used, 2);
}

// OpenAI's image models take no seed (openai-python image_generate_params.py has none): the job must
// not show a seed that was never applied, and must not become an exact-repeat cache entry.
TEST_P(WorkerTest, ASeedTheProviderCannotApplyIsNotRecordedAndTheJobIsNotCached) {
  const std::string png = imaging::make_png(48, 48);
  FakeHttpServer openai([&](const FakeRequest&) {
    return FakeResponse::json(R"({"created":1713833628,"data":[{"b64_json":")" + util::base64(png) +
                              R"("}],"usage":{"total_tokens":100,"input_tokens":50,"output_tokens":50}})");
  });
  router_ = std::make_unique<gen::Router>(clock_);
  router_->add(std::make_unique<gen::OpenAiBackend>(*client_, gen::OpenAiOptions{.name = "openai",
                                                                                 .base_url = openai.base_url(),
                                                                                 .model = "gpt-image-1",
                                                                                 .api_key = "sk-test",
                                                                                 .flavor = "openai"}),
               {.concurrency = 4});
  worker_ = make_worker(*jobs_);

  // The user's own seed: asked for, never applied.
  auto explicit_seed = submit(fox(7, "photo"));
  ASSERT_TRUE(explicit_seed.cache_key);
  EXPECT_EQ(name(process_next()), "succeeded");
  auto done = job(explicit_seed.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  ASSERT_TRUE(done.image_id);
  EXPECT_FALSE(done.params.seed);  // not 7: no seed is shown
  EXPECT_FALSE(done.cache_key);    // not kept for exact repeats

  // The same request again is generated again, not served from the cache.
  auto repeat = submit(fox(7, "photo"));
  EXPECT_EQ(name(process_next()), "succeeded");
  EXPECT_EQ(openai.request_count(), 2u);
  EXPECT_FALSE(job(repeat.id).params.seed);

  // Without a seed the worker's own pick is not recorded either.
  auto picked = submit(fox());
  EXPECT_EQ(name(process_next()), "succeeded");
  EXPECT_FALSE(job(picked.id).params.seed);
  for (const auto& r : openai.requests()) {
    EXPECT_FALSE(boost::json::parse(r.body).as_object().contains("seed")) << r.body;
  }
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 3);
  EXPECT_EQ(q.reserved, 0);
}

// The other side of the rule: a provider that applies the seed keeps it, and the cache.
TEST_P(WorkerTest, AnAppliedSeedIsRecordedAndCached) {
  auto j = submit(fox(11));
  EXPECT_EQ(name(process_next()), "succeeded");
  auto done = job(j.id);
  EXPECT_EQ(done.params.seed, 11);
  EXPECT_TRUE(done.cache_key);
  submit(fox(11));
  EXPECT_EQ(name(process_next()), "cached");
  EXPECT_EQ(hf_.request_count(), 1u);
}

TEST_P(WorkerTest, HeartbeatsKeepTheLeaseDuringALongGeneration) {
  // Wall-clock services: the lease (200 ms) is far shorter than the provider's answer (1 s), so
  // only the heartbeats keep the job from being reaped.
  core::SystemClock wall;
  core::JobService live(store(), wall, plans_, core::JobOptions{.lease = 200ms});
  core::JobService reaper(store(), wall, plans_, core::JobOptions{.lease = 200ms});
  router_ = make_router({&hf_}, &wall);
  worker_ = make_worker(live, &wall);
  hf_.set_handler(hf_provider({answer_png_after(1s)}));

  auto submitted = live.submit(core::SubmitRequest{.user = kUser, .params = fox(), .source = "test"});
  ASSERT_TRUE(submitted.ok());
  const auto id = submitted->jobs.at(0).id;

  std::atomic<bool> finished{false};
  std::atomic<int> reaped{0};
  std::atomic<int> checks_while_running{0};
  std::thread watcher([&] {
    if (!hf_.wait_for_requests(1, 60s)) return;
    while (!finished) {
      auto before = live.get(id, kUser);
      reaped += reaper.reap_expired_leases();
      if (before.ok() && before->status == JobStatus::running) ++checks_while_running;
      std::this_thread::sleep_for(20ms);
    }
  });
  auto outcome = run_guarded(io_, worker_->process_next(), 60s);
  finished = true;
  watcher.join();

  ASSERT_TRUE(outcome);
  EXPECT_EQ(name(*outcome), "succeeded");
  EXPECT_EQ(reaped.load(), 0);
  EXPECT_GT(checks_while_running.load(), 0);
  auto done = live.get(id, kUser);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->status, JobStatus::succeeded);
  EXPECT_EQ(done->attempts, 1);
  EXPECT_EQ(hf_.request_count(), 1u);
}

boost::asio::awaitable<std::string> outcome_or_exception(worker::Worker* w) {
  try {
    co_return name(co_await w->process_next());
  } catch (const std::exception& e) {
    co_return std::string("exception: ") + e.what();
  }
}

// An exception while handling a job (a bug, not a provider's answer) ends that attempt: the lease
// keeper stops, the attempt is counted with back-off, and the worker goes on with other jobs.
TEST_P(WorkerTest, AnExceptionWhileHandlingAJobEndsTheAttemptNotTheWorker) {
  // A job the HTTP client cannot even address: a model id with a space makes an invalid URL. submit()
  // refuses such a model now, so the job is written directly, as an older version might have queued it.
  auto j = submit(fox());
  core::Job broken = j;
  broken.id = j.id + "x";
  broken.params.model = "black-forest-labs/FLUX 1";
  ASSERT_TRUE(jobs_->cancel(j.id, kUser).ok());
  {
    auto tx = store().begin(core::TxMode::write);
    tx->insert_job(broken);
    tx->adjust_quota(kUser, broken.quota_period_start, 0, 1);
    tx->commit();
  }
  auto result = run_guarded(io_, outcome_or_exception(worker_.get()), 60s);
  ASSERT_TRUE(result) << "process_next neither returned nor threw: the job's lease is renewed for ever";
  EXPECT_EQ(*result, "retrying");  // the attempt counts; the worker carries on
  EXPECT_EQ(hf_.request_count(), 0u);
  auto after = job(broken.id);
  EXPECT_EQ(after.status, JobStatus::queued);
  EXPECT_EQ(after.attempts, 1);
  EXPECT_FALSE(after.lease_owner);
  // Once its attempts are used up the job fails for good and gives the quota back.
  for (int i = 1; i < after.max_attempts; ++i) {
    clock_.set(job(broken.id).run_after);
    EXPECT_EQ(*run_guarded(io_, outcome_or_exception(worker_.get()), 60s), "retrying");
  }
  EXPECT_EQ(job(broken.id).status, JobStatus::failed);
  EXPECT_EQ(quota_->status(kUser).reserved, 0);
}

IGB_ON_BOTH_DATABASES(WorkerTest);

}  // namespace
}  // namespace igb::testing
