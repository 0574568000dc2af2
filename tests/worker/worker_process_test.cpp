// The worker and the generate command as the real `imggenbot` binary, against a fake Hugging Face
// endpoint, on SQLite and PostgreSQL: a crashed worker's job is finished by another, a stopping
// worker hands its job back, and the token never shows in the output.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/quota.hpp"
#include "imaging/decode.hpp"
#include "support/test_image.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/store_fixture.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::JobStatus;

constexpr core::UserId kUser = 42;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class WorkerProcess : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    accounts_ = std::make_unique<core::AccountService>(store(), wall_);
    jobs_ = std::make_unique<core::JobService>(store(), wall_, plans_);
    quota_ = std::make_unique<core::QuotaService>(store(), wall_, plans_);
    accounts_->ensure_user(kUser, "p", "en");
  }

  ServiceEnv env() const {
    return ServiceEnv({.database_url = db_->url(),
                       .dir = cwd_.path(),
                       .hf_api_base = hf_.base_url(),
                       .hf_token = kHfToken,
                       .log_level = "debug",
                       .http = false})
        .set("JOB_LEASE_SECONDS", "5")
        .set("WORKER_CONCURRENCY", "1");
  }
  ChildProcess::Options worker(std::map<std::string, std::string> extra = {}) const {
    return env().merge(extra).process("worker");
  }
  std::filesystem::path data_dir() const { return cwd_.path() / "data"; }
  core::Job submit() {
    auto r = jobs_->submit(core::SubmitRequest{
        .user = kUser, .params = {.prompt = "a fox in snow", .width = 512, .height = 512}, .source = "test"});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().public_message);
    if (!r.ok()) throw std::runtime_error("submit failed");
    return r->jobs.at(0);
  }
  core::Job job(const std::string& id) { return jobs_->get(id, kUser).value(); }
  // Polls the database until the job has `status` or the guard runs out (a hang guard).
  bool wait_for_status(const std::string& id, JobStatus status, std::chrono::seconds guard = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + guard;
    while (std::chrono::steady_clock::now() < deadline) {
      if (job(id).status == status) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  static std::string hostname() {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    return host;
  }

  // The binary runs on the wall clock: so do the services the test uses to queue and check.
  core::SystemClock wall_;
  std::unique_ptr<core::AccountService> accounts_;
  std::unique_ptr<core::JobService> jobs_;
  std::unique_ptr<core::QuotaService> quota_;
  FakeHttpServer hf_{hf_provider({})};
  TempDir cwd_{"igb-worker-cwd-"};  // no .env here; DATA_DIR is its data/
};

TEST_P(WorkerProcess, GenerateCommandWritesTheImageAndNeverPrintsTheToken) {
  const auto e = env();
  auto r = run_process(e.command({"generate", "a fox", "-o", "out.png", "--seed", "7"}));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto bytes = slurp(cwd_.path() / "out.png");
  auto info = imaging::inspect(bytes);
  ASSERT_TRUE(info.ok()) << info.error().internal_detail;
  EXPECT_EQ(info->type, imaging::ImageType::png);
  ASSERT_EQ(hf_.request_count(), 1u);
  auto call = decode_hf_call(hf_.requests().at(0));
  EXPECT_EQ(call.seed, 7);
  EXPECT_EQ(call.inputs, "a fox");
  EXPECT_EQ(call.authorization, std::string("Bearer ") + kHfToken);
  EXPECT_EQ(info->width, call.width);
  EXPECT_EQ(r.out.find(kHfToken), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kHfToken), std::string::npos) << r.err;

  hf_.set_handler(
      hf_provider({answer(hf_json_error(401, R"({"error":"Invalid credentials in Authorization header"})"))}));
  r = run_process(e.command({"generate", "a fox", "-o", "denied.png", "--seed", "7"}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("bad_credentials"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find(kHfToken), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kHfToken), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(cwd_.path() / "denied.png"));
}

// `imggenbot generate` waits like a worker: a loading model's estimated_time (HF's 503 answer), with
// a line on stderr saying what it waits for. The wait is the fake's 1-second hint.
TEST_P(WorkerProcess, GenerateCommandWaitsWhileTheModelLoadsAndSaysWhatItWaitsFor) {
  hf_.set_handler(hf_provider(
      {answer(hf_json_error(
           503, R"({"error":"Model black-forest-labs/FLUX.1-schnell is currently loading","estimated_time":1.0})")),
       answer_png()}));
  auto r = run_process(env().command({"generate", "a fox", "-o", "late.png", "--seed", "7"}));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(hf_.request_count(), 2u);
  EXPECT_NE(r.err.find("the model is loading, waiting 1 s (attempt 2 of 5)"), std::string::npos) << r.err;
  auto info = imaging::inspect(slurp(cwd_.path() / "late.png"));
  ASSERT_TRUE(info.ok()) << info.error().internal_detail;
  EXPECT_NE(r.out.find("seed 7"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kHfToken), std::string::npos) << r.err;
}

// `imggenbot generate` applies the worker's size rule (worker/answer_check.hpp): an answer far larger
// than asked for is the provider's failure, waited out and asked again, never written.
TEST_P(WorkerProcess, GenerateCommandRefusesAnImageFarLargerThanAsked) {
  hf_.set_handler(hf_provider(
      {answer(FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = imaging::make_png(4112, 32)}),
       answer_png()}));
  auto r = run_process(env().command({"generate", "a fox", "-o", "fits.png", "--seed", "7"}));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(hf_.request_count(), 2u) << r.err;
  EXPECT_NE(r.err.find("(attempt 2 of 5)"), std::string::npos) << r.err;
  auto info = imaging::inspect(slurp(cwd_.path() / "fits.png"));
  ASSERT_TRUE(info.ok()) << info.error().internal_detail;
  EXPECT_EQ(info->width, decode_hf_call(hf_.requests().at(1)).width);
}

TEST_P(WorkerProcess, AJobOfAKilledWorkerIsFinishedByAnotherOnce) {
  // The first call never gets an answer; later ones get a PNG at once.
  hf_.set_handler(hf_provider({answer(FakeResponse{.no_response_hang = true}), answer_png()}));
  auto j = submit();

  ChildProcess first(worker());
  ASSERT_TRUE(hf_.wait_for_requests(1, 60s)) << first.err_so_far();
  const pid_t dead_pid = first.pid();
  first.send(SIGKILL);
  auto killed = first.wait();
  EXPECT_EQ(killed.signal, SIGKILL);

  auto orphan = job(j.id);
  EXPECT_EQ(orphan.status, JobStatus::running);
  EXPECT_EQ(orphan.attempts, 1);
  ASSERT_TRUE(orphan.lease_owner);
  EXPECT_TRUE(orphan.lease_owner->starts_with(hostname() + "-" + std::to_string(dead_pid) + "-"))
      << *orphan.lease_owner;

  ChildProcess second(worker());
  const bool finished = wait_for_status(j.id, JobStatus::succeeded, 60s);
  EXPECT_TRUE(finished) << second.err_so_far();

  auto done = job(j.id);
  EXPECT_EQ(done.status, JobStatus::succeeded);
  EXPECT_EQ(done.attempts, 2);
  EXPECT_FALSE(done.lease_owner);
  EXPECT_TRUE(done.image_id);
  EXPECT_EQ(hf_.request_count(), 2u);
  EXPECT_EQ(image_files(data_dir()).size(), 1u);
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 1);
  EXPECT_EQ(q.reserved, 0);

  second.send(SIGTERM);
  auto r = second.wait(60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("requeued or failed 1 job"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kHfToken), std::string::npos);
}

TEST_P(WorkerProcess, StoppingDuringAGenerationHandsTheJobBack) {
  hf_.set_handler(hf_provider({answer_png_after(30s)}));
  auto j = submit();

  ChildProcess p(worker({{"SHUTDOWN_GRACE_SECONDS", "1"}}));
  ASSERT_TRUE(hf_.wait_for_requests(1, 60s)) << p.err_so_far();
  EXPECT_EQ(job(j.id).status, JobStatus::running);
  p.send(SIGTERM);
  auto r = p.wait(60s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.signal, 0) << r.err;
  EXPECT_NE(r.err.find("handed back"), std::string::npos) << r.err;

  auto back = job(j.id);
  EXPECT_EQ(back.status, JobStatus::queued);
  EXPECT_EQ(back.attempts, 0);  // the interrupted attempt does not count
  EXPECT_FALSE(back.lease_owner);
  EXPECT_FALSE(back.lease_expires_at);
  EXPECT_FALSE(back.image_id);
  EXPECT_EQ(back.quota_state, core::QuotaState::reserved);
  EXPECT_TRUE(image_files(data_dir()).empty());
  EXPECT_EQ(quota_->status(kUser).reserved, 1);
}

IGB_ON_BOTH_DATABASES(WorkerProcess);

}  // namespace
}  // namespace igb::testing
