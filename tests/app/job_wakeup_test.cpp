// Workers on PostgreSQL wake on NOTIFY: a worker whose idle poll is 30 s picks up a job that another
// process (here: another Store, so other connections) queues, long before it would have polled, and
// still does after its listening connection is killed by the server. Changes of jobs (for status
// streams) arrive the same way, with the job ids.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "app/job_wakeup.hpp"
#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "gen/hf_backend.hpp"
#include "gen/router.hpp"
#include "http/client.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/store.hpp"
#include "support/test_db.hpp"
#include "util/crypto.hpp"
#include "worker/worker.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

constexpr core::UserId kUser = 7;
// Far longer than the waits below: a job picked up in time was not found by polling.
constexpr auto kIdlePoll = 30s;
constexpr auto kGuard = 15s;

class JobWakeup : public ::testing::Test {
 protected:
  void SetUp() override {
    IGB_REQUIRE_POSTGRES();
    db_ = make_test_database(storage::Dialect::postgres);
    worker_store_ = storage::open_store({.database_url = db_->url(), .pool_size = 4});
    client_store_ = storage::open_store({.database_url = db_->url(), .pool_size = 2, .migrate = false});
    worker_jobs_ = std::make_unique<core::JobService>(*worker_store_, clock_, plans_);
    client_jobs_ = std::make_unique<core::JobService>(*client_store_, clock_, plans_);
    core::AccountService(*client_store_, clock_).ensure_user(kUser, "w", "en");

    client_ = http::make_client(io_.get_executor());
    router_ = std::make_unique<gen::Router>(clock_);
    router_->add(
        std::make_unique<gen::HfBackend>(
            *client_,
            gen::HfOptions{
                .name = "hf", .base_url = hf_.base_url(), .model = kHfModel, .token = kHfToken, .timeout = 60s}),
        {.concurrency = 2});
    worker_ = std::make_unique<worker::Worker>(*worker_jobs_, pool_, *router_, images_, clock_,
                                               worker::WorkerOptions{.id = "w-wakeup", .idle_poll = kIdlePoll});
    // The listener gets a name of its own, so the test can find its backend and kill it.
    listener_url_ =
        db_->url() + (db_->url().find('?') == std::string::npos ? "?" : "&") + "application_name=" + listener_name_;

    slot_done_ =
        net::co_spawn(io_, worker_->run_slot(), net::bind_cancellation_slot(slot_stop_.slot(), net::use_future));
    listener_done_ = net::co_spawn(
        io_,
        app::listen_for_jobs({.database_url = listener_url_, .min_backoff = 100ms, .max_backoff = 1s}, pool_,
                             {.queued = [this] { worker_->notify(); },
                              .changed =
                                  [this](std::string_view id) {
                                    std::lock_guard lock(changed_mutex_);
                                    changed_.emplace_back(id);
                                  },
                              .resync =
                                  [this] {
                                    ++wakes_;
                                    worker_->notify();
                                  }}),
        net::bind_cancellation_slot(listener_stop_.slot(), net::use_future));
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (!thread_.joinable()) return;
    net::post(io_, [this] {
      slot_stop_.emit(net::cancellation_type::terminal);
      listener_stop_.emit(net::cancellation_type::terminal);
    });
    EXPECT_EQ(slot_done_.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(listener_done_.wait_for(30s), std::future_status::ready);
    io_.stop();
    thread_.join();
    pool_.stop();
  }

  std::size_t changes_of(const std::string& id) {
    std::lock_guard lock(changed_mutex_);
    return static_cast<std::size_t>(std::count(changed_.begin(), changed_.end(), id));
  }

  // Waits until the listener has (re)connected `n` times in all: it wakes the worker once per connect.
  bool wait_for_wakes(int n) {
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (wakes_.load() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return wakes_.load() >= n;
  }

  std::string submit() {
    auto r = client_jobs_->submit(core::SubmitRequest{
        .user = kUser, .params = {.prompt = "a fox in snow", .width = 512, .height = 512}, .source = "test"});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().public_message);
    return r.ok() ? r->jobs.at(0).id : "";
  }

  bool succeeds_within_guard(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + kGuard;
    while (std::chrono::steady_clock::now() < deadline) {
      if (client_jobs_->get(id, kUser).value().status == core::JobStatus::succeeded) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  core::SystemClock clock_;
  core::PlanCatalog plans_ = core::PlanCatalog::create(core::default_plans()).value();
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<core::Store> worker_store_, client_store_;
  std::unique_ptr<core::JobService> worker_jobs_, client_jobs_;
  TempDir data_;
  FakeHttpServer hf_{hf_provider({})};
  net::io_context io_;
  runtime::BlockingPool pool_{4};
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<gen::Router> router_;
  imaging::FileImageStore images_{data_.path()};
  std::unique_ptr<worker::Worker> worker_;
  std::string listener_name_ = "igb_wakeup_" + util::random_hex(4);
  std::string listener_url_;
  std::atomic<int> wakes_{0};  // (re)connects
  std::mutex changed_mutex_;
  std::vector<std::string> changed_;  // job ids, as notified
  net::cancellation_signal slot_stop_, listener_stop_;
  std::future<void> slot_done_, listener_done_;
  std::thread thread_;
};

TEST_F(JobWakeup, AnIdleWorkerPicksUpAJobQueuedElsewhereWithoutWaitingForItsPoll) {
  ASSERT_TRUE(wait_for_wakes(1));
  std::this_thread::sleep_for(300ms);  // let the slot find the queue empty and go idle
  const auto started = std::chrono::steady_clock::now();
  const auto id = submit();
  EXPECT_TRUE(succeeds_within_guard(id));
  EXPECT_LT(std::chrono::steady_clock::now() - started, kIdlePoll);
  EXPECT_EQ(hf_.request_count(), 1u);
}

TEST_F(JobWakeup, ReconnectsWhenTheServerDropsTheListeningConnection) {
  ASSERT_TRUE(wait_for_wakes(1));
  auto admin = storage::PgConnection::open(db_->url());
  auto killed = admin->query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                             {std::string(listener_name_)});
  ASSERT_EQ(killed.rows.size(), 1u);

  ASSERT_TRUE(wait_for_wakes(2));  // connected again
  std::this_thread::sleep_for(300ms);
  const auto id = submit();
  EXPECT_TRUE(succeeds_within_guard(id));
  EXPECT_EQ(hf_.request_count(), 1u);
}

TEST_F(JobWakeup, ChangesOfJobsWrittenElsewhereArriveWithTheirIds) {
  ASSERT_TRUE(wait_for_wakes(1));
  const auto id = submit();
  ASSERT_TRUE(succeeds_within_guard(id));
  // Queued (the other store's insert), claimed, and finished by the worker: each transaction notified.
  const auto deadline = std::chrono::steady_clock::now() + kGuard;
  while (changes_of(id) < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  EXPECT_GE(changes_of(id), 3u);
}

TEST(JobChangePayload, SplitsIdsAndDropsWhatIsOutOfBounds) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(app::split_job_ids("a1,b2,c3"), (V{"a1", "b2", "c3"}));
  EXPECT_EQ(app::split_job_ids(""), V{});
  EXPECT_EQ(app::split_job_ids(",,x,"), V{"x"});
  const std::string long_id(65, 'z');
  EXPECT_EQ(app::split_job_ids("a," + long_id + ",b"), (V{"a", "b"}));
  std::string many;
  for (int i = 0; i < 1500; ++i) many += "j,";
  EXPECT_EQ(app::split_job_ids(many).size(), 1000u);
}

}  // namespace
}  // namespace igb::testing
