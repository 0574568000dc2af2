// Crash safety, for real: `imggenbot api` and `imggenbot worker` processes on one PostgreSQL with a
// fake Hugging Face provider. Workers killed with SIGKILL mid-work and restarted, two API processes
// racing for one user's last images, and SIGTERM under load. The database is the judge: every job
// ends exactly once, quota is neither charged twice nor lost.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "http/client.hpp"
#include "storage/store.hpp"
#include "support/async.hpp"
#include "support/fake_http_server.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using core::JobStatus;

constexpr core::UserId kUser = 4242;
constexpr int kGraceSeconds = 2;

class CrashSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    IGB_REQUIRE_POSTGRES();
    db_ = make_test_database(storage::Dialect::postgres);
    store_ = storage::open_store({.database_url = db_->url(), .pool_size = 4});
  }

  void TearDown() override {
    for (auto& p : processes_) {
      if (p && p->running()) {
        p->send(SIGTERM);
        p->wait(30s);
      }
    }
  }

  // The free plan with `images` per day and no practical limit on jobs in flight, in a TOML file that
  // the processes read; the test's services use the same plans.
  void use_free_plan(int images) {
    std::ofstream(dir_.path() / "config.toml")
        << "[plans.free]\nimages_per_period = " << images << "\nmax_concurrent_jobs = 100000\n";
    auto plans = core::default_plans();
    plans.at(0).images_per_period = images;
    plans.at(0).max_concurrent_jobs = 100000;
    plans_ = std::make_unique<core::PlanCatalog>(core::PlanCatalog::create(plans).value());
    jobs_ = std::make_unique<core::JobService>(*store_, clock_, *plans_);
    quota_ = std::make_unique<core::QuotaService>(*store_, clock_, *plans_);
    accounts_ = std::make_unique<core::AccountService>(*store_, clock_);
    accounts_->ensure_user(kUser, "crash", "en");
  }

  ServiceEnv env() const {
    return ServiceEnv(
               {.database_url = db_->url(), .dir = dir_.path(), .hf_api_base = hf_.base_url(), .hf_token = kHfToken})
        .set("IMGGENBOT_CONFIG", (dir_.path() / "config.toml").string())
        .set("WORKER_CONCURRENCY", "4")
        .set("JOB_LEASE_SECONDS", "5")  // the shortest allowed: killed workers' jobs come back soon
        .set("JOB_MAX_ATTEMPTS", "20")
        .set("API_RATE_PER_MINUTE", "1000000000")
        .set("API_RATE_BURST", "1000000000")
        .set("SHUTDOWN_GRACE_SECONDS", std::to_string(kGraceSeconds));
  }

  ChildProcess& start(const std::string& role) {
    processes_.push_back(std::make_unique<ChildProcess>(env().process(role)));
    auto& p = *processes_.back();
    EXPECT_TRUE(p.wait_for_output("imggenbot is up")) << p.err_so_far();
    return p;
  }
  std::string new_key() { return accounts_->create_api_key(kUser, "crash")->secret; }

  struct Posted {
    int status = 0;
    std::string job_id;
  };
  // Sends all the requests at once (one connection each) and returns the answers in order.
  std::vector<Posted> post_generate(const std::vector<std::string>& urls, const std::string& key,
                                    const std::vector<std::string>& bodies) {
    net::io_context io;
    std::vector<Posted> out(bodies.size());
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      net::co_spawn(io, post_one(urls[i % urls.size()] + "/v1/generate", key, bodies[i], &out[i]), rethrow);
    }
    io.run();
    return out;
  }
  static net::awaitable<void> post_one(std::string url, std::string key, std::string body, Posted* out) {
    auto executor = co_await net::this_coro::executor;  // named: GCC 12 and co_await temporaries
    auto client = http::make_client(executor);
    http::Request req{.method = "POST",
                      .url = std::move(url),
                      .headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}},
                      .body = std::move(body),
                      .timeout = 60s};
    try {
      auto res = co_await client->send(std::move(req));
      out->status = res.status;
      if (res.status == 202) out->job_id = json::parse(res.body).as_object().at("job_id").as_string().c_str();
    } catch (const std::exception& e) {
      out->status = -1;
      out->job_id = e.what();
    }
  }
  static std::string body(int seed) {
    return R"({"prompt":"a fox in snow","width":512,"height":512,"seed":)" + std::to_string(seed) + "}";
  }

  std::vector<core::Job> all_jobs() { return store_->begin(core::TxMode::read)->jobs_of(kUser, 100000); }
  std::int64_t count(JobStatus s) { return store_->begin(core::TxMode::read)->count_jobs(s); }
  // Polls the database until every job has succeeded (a hang guard, not a timing check).
  bool wait_all_succeeded(std::int64_t n, std::chrono::seconds guard = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + guard;
    while (std::chrono::steady_clock::now() < deadline) {
      if (count(JobStatus::succeeded) == n) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // SIGTERM, then the exit: 0, within the grace period plus the few seconds a loaded test machine
  // needs to start and tear down a process.
  void stop_cleanly(ChildProcess& p) {
    const auto sent = std::chrono::steady_clock::now();
    p.send(SIGTERM);
    auto r = p.wait(std::chrono::seconds(kGraceSeconds + 10));
    const auto took = std::chrono::steady_clock::now() - sent;
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LE(took, std::chrono::seconds(kGraceSeconds + 10)) << r.err;
    EXPECT_EQ(r.err.find(kHfToken), std::string::npos);
  }

  // Every job succeeded once, with an image of its own, and the quota says exactly n delivered.
  void expect_each_job_done_once(std::size_t n, int max_attempts) {
    auto jobs = all_jobs();
    ASSERT_EQ(jobs.size(), n);
    std::set<std::string> images;
    for (const auto& j : jobs) {
      EXPECT_EQ(j.status, JobStatus::succeeded) << j.id;
      EXPECT_EQ(j.quota_state, core::QuotaState::committed) << j.id;
      EXPECT_FALSE(j.lease_owner) << j.id;
      EXPECT_GE(j.attempts, 1) << j.id;
      EXPECT_LE(j.attempts, max_attempts) << j.id;
      ASSERT_TRUE(j.image_id) << j.id;
      images.insert(*j.image_id);
      EXPECT_TRUE(store_->begin(core::TxMode::read)->find_image(*j.image_id)) << j.id;
    }
    EXPECT_EQ(images.size(), n);  // distinct seeds make distinct images: none was given to two jobs
    auto q = quota_->status(kUser);
    EXPECT_EQ(q.used, static_cast<int>(n));
    EXPECT_EQ(q.reserved, 0);
  }

  TempDir dir_{"igb-e2e-"};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<core::Store> store_;
  core::SystemClock clock_;  // the processes run on the wall clock
  std::unique_ptr<core::PlanCatalog> plans_;
  std::unique_ptr<core::JobService> jobs_;
  std::unique_ptr<core::QuotaService> quota_;
  std::unique_ptr<core::AccountService> accounts_;
  FakeHttpServer hf_{hf_provider({answer_png_after(100ms)})};
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

TEST_F(CrashSafety, AWorkerKilledAgainAndAgainLosesNoJobAndChargesNoImageTwice) {
  constexpr int kJobs = 200;
  use_free_plan(kJobs);
  auto& api = start("api");
  const auto url = http_api_base_url(api);
  ASSERT_FALSE(url.empty());
  start("worker");
  auto* victim = &start("worker");

  std::vector<std::string> bodies;
  for (int i = 0; i < kJobs; ++i) bodies.push_back(body(i + 1));
  for (const auto& p : post_generate({url}, new_key(), bodies)) ASSERT_EQ(p.status, 202) << p.job_id;

  // SIGKILL at random moments while work remains, restarting the victim each time.
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(100, 700);
  int kills = 0;
  for (int round = 0; round < 4 && count(JobStatus::succeeded) < kJobs; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    victim->send(SIGKILL);
    EXPECT_EQ(victim->wait().signal, SIGKILL);
    ++kills;
    victim = &start("worker");
  }
  EXPECT_GE(kills, 1);

  EXPECT_TRUE(wait_all_succeeded(kJobs)) << count(JobStatus::queued) << " queued, " << count(JobStatus::running)
                                         << " running, " << count(JobStatus::failed) << " failed";
  // A job is attempted again only after a kill took its worker (or a provider call failed, which
  // the fake does not do).
  expect_each_job_done_once(kJobs, 1 + kills);
  const auto jobs = all_jobs();
  EXPECT_GT(std::count_if(jobs.begin(), jobs.end(), [](const core::Job& j) { return j.attempts > 1; }), 0)
      << "no kill caught a job in progress";
  for (auto& p : processes_) {
    if (p->running()) stop_cleanly(*p);
  }
}

TEST_F(CrashSafety, TwoApiProcessesAcceptExactlyTheImagesLeft) {
  use_free_plan(15);
  // Five images of the fifteen are in flight already (no worker runs): ten are left.
  for (int i = 0; i < 5; ++i) {
    auto r = jobs_->submit(core::SubmitRequest{
        .user = kUser, .params = {.prompt = "earlier", .width = 512, .height = 512}, .source = "test"});
    ASSERT_TRUE(r.ok());
  }
  ASSERT_EQ(quota_->status(kUser).remaining(), 10);
  auto& a = start("api");
  auto& b = start("api");
  const std::vector<std::string> urls{http_api_base_url(a), http_api_base_url(b)};

  std::vector<std::string> bodies;
  for (int i = 0; i < 200; ++i) bodies.push_back(body(i + 1));
  const auto answers = post_generate(urls, new_key(), bodies);

  int accepted = 0;
  for (const auto& p : answers) {
    if (p.status == 202) {
      ++accepted;
    } else {
      EXPECT_TRUE(p.status == 402 || p.status == 429) << p.status << " " << p.job_id;
    }
  }
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(all_jobs().size(), 15u);
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.reserved, 15);
  EXPECT_EQ(q.used, 0);
  EXPECT_EQ(q.remaining(), 0);
  stop_cleanly(a);
  stop_cleanly(b);
}

TEST_F(CrashSafety, SigtermUnderLoadExitsZeroInTimeAndLosesNothing) {
  constexpr int kJobs = 100;
  use_free_plan(kJobs);
  // Most generations end within the grace period; every fourth does not, and is handed back.
  auto slow = [](const FakeRequest& r) { return decode_hf_call(r).seed % 4 == 0; };
  hf_.set_handler(hf_provider({[slow](const FakeRequest& r) {
    auto res = hf_png(r);
    res.delay = slow(r) ? std::chrono::seconds(kGraceSeconds + 2) : 200ms;
    return res;
  }}));
  auto& api = start("api");
  const auto url = http_api_base_url(api);
  ASSERT_FALSE(url.empty());
  auto& w1 = start("worker");
  auto& w2 = start("worker");

  std::vector<std::string> bodies;
  for (int i = 0; i < kJobs; ++i) bodies.push_back(body(i + 1));
  for (const auto& p : post_generate({url}, new_key(), bodies)) ASSERT_EQ(p.status, 202) << p.job_id;
  // Both workers are busy, and at least one slow generation is in progress.
  ASSERT_TRUE(hf_.wait_for_requests(12, 60s));
  for (int i = 0; i < 600; ++i) {
    const auto seen = hf_.requests();
    if (std::any_of(seen.begin(), seen.end(), slow)) break;
    std::this_thread::sleep_for(50ms);
  }

  for (auto* p : {&w1, &w2, &api}) p->send(SIGTERM);
  const auto sent = std::chrono::steady_clock::now();
  std::string logs;
  for (auto* p : {&w1, &w2, &api}) {
    auto r = p->wait(std::chrono::seconds(kGraceSeconds + 10));
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LE(std::chrono::steady_clock::now() - sent, std::chrono::seconds(kGraceSeconds + 10));
    logs += r.err;
  }
  EXPECT_NE(logs.find("handed back"), std::string::npos) << logs;  // the slow ones outlived the grace period
  // Nothing is left running under a lease of a stopped worker: handed back or finished.
  EXPECT_EQ(count(JobStatus::running), 0);
  EXPECT_EQ(count(JobStatus::failed), 0);
  EXPECT_EQ(count(JobStatus::queued) + count(JobStatus::succeeded), kJobs);

  hf_.set_handler(hf_provider({answer_png_after(20ms)}));
  start("worker");
  EXPECT_TRUE(wait_all_succeeded(kJobs)) << count(JobStatus::queued) << " queued, " << count(JobStatus::running)
                                         << " running";
  expect_each_job_done_once(kJobs, 1);  // a handed-back attempt does not count
  for (auto& p : processes_) {
    if (p->running()) stop_cleanly(*p);
  }
}

}  // namespace
}  // namespace igb::testing
