// Concurrent reservations never oversell the quota: 50 submissions racing for a remaining quota of 10
// accept exactly 10, whether they come from threads of one process or from two processes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/store_fixture.hpp"

extern char** environ;

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using core::JobStatus;

constexpr core::UserId kUser = 42;

// 10 free images a day and room for 1000 jobs at once, so only the quota can refuse a submission.
// quota_race_child.cpp builds the same catalog.
core::PlanCatalog race_plans() {
  auto plans = core::default_plans();
  plans[0].images_per_period = 10;
  plans[0].max_concurrent_jobs = 1000;
  return core::PlanCatalog::create(std::move(plans)).value();
}

core::SubmitRequest race_request(core::UserId user) {
  return {.user = user, .params = {.prompt = "a race", .width = 512, .height = 512}, .source = "test"};
}

struct Tally {
  int accepted = 0;
  int exhausted = 0;
  int other = 0;
  std::vector<std::string> others;  // what the unexpected outcomes were
};

// Starts `threads` threads that each submit one job for `user`, all released at once.
Tally race(core::JobService& jobs, core::UserId user, int threads) {
  enum class Outcome { accepted, exhausted, other };
  std::vector<Outcome> outcomes(static_cast<std::size_t>(threads), Outcome::other);
  std::vector<std::string> details(static_cast<std::size_t>(threads));
  std::latch ready(threads);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      ready.arrive_and_wait();
      try {
        auto r = jobs.submit(race_request(user));
        if (r.ok()) {
          outcomes[i] = Outcome::accepted;
        } else if (r.error().code == ErrorCode::quota_exhausted) {
          outcomes[i] = Outcome::exhausted;
        } else {
          details[i] = std::string(core::to_string(r.error().code)) + ": " + r.error().public_message;
        }
      } catch (const std::exception& e) {
        details[i] = std::string("exception: ") + e.what();
      }
    });
  }
  for (auto& t : pool) t.join();
  Tally tally;
  for (int i = 0; i < threads; ++i) {
    switch (outcomes[i]) {
      case Outcome::accepted: ++tally.accepted; break;
      case Outcome::exhausted: ++tally.exhausted; break;
      case Outcome::other:
        ++tally.other;
        tally.others.push_back(details[i]);
        break;
    }
  }
  return tally;
}

std::string describe(const Tally& t) {
  std::string s = "accepted=" + std::to_string(t.accepted) + " exhausted=" + std::to_string(t.exhausted) +
                  " other=" + std::to_string(t.other);
  for (const auto& o : t.others) s += "\n  " + o;
  return s;
}

class QuotaRace : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    plans_ = race_plans();  // the services hold plans_ by reference
    accounts_->ensure_user(kUser, "racer", "en");
  }
  std::int64_t count(JobStatus status) { return store().begin(core::TxMode::read)->count_jobs(status); }
};

TEST_P(QuotaRace, FiftySubmissionsForTenImagesAcceptExactlyTen) {
  auto tally = race(*jobs_, kUser, 50);
  EXPECT_EQ(tally.accepted, 10) << describe(tally);
  EXPECT_EQ(tally.exhausted, 40) << describe(tally);
  EXPECT_EQ(tally.other, 0) << describe(tally);
  auto st = quota_->status(kUser);
  EXPECT_EQ(st.reserved, 10);
  EXPECT_EQ(st.used, 0);
  EXPECT_EQ(count(JobStatus::queued), 10);
  EXPECT_EQ(store().begin(core::TxMode::read)->count_active_jobs(kUser), 10);
}

TEST_P(QuotaRace, FiftySubmissionsForTheSixLeftAcceptExactlySix) {
  for (int i = 0; i < 4; ++i) {
    auto r = jobs_->submit(race_request(kUser));
    ASSERT_TRUE(r.ok()) << r.error().public_message;
    auto claimed = jobs_->claim("w");
    ASSERT_TRUE(claimed);
    auto image = core::Image{.id = std::string(64, static_cast<char>('a' + i)),
                             .mime = "image/png",
                             .size_bytes = 100,
                             .width = 512,
                             .height = 512,
                             .created_at = now()};
    ASSERT_TRUE(jobs_->succeed(claimed->id, "w", image).ok());
  }
  ASSERT_EQ(quota_->status(kUser).used, 4);
  ASSERT_EQ(quota_->status(kUser).remaining(), 6);

  auto tally = race(*jobs_, kUser, 50);
  EXPECT_EQ(tally.accepted, 6) << describe(tally);
  EXPECT_EQ(tally.exhausted, 44) << describe(tally);
  EXPECT_EQ(tally.other, 0) << describe(tally);
  auto st = quota_->status(kUser);
  EXPECT_EQ(st.used, 4);
  EXPECT_EQ(st.reserved, 6);
  EXPECT_EQ(st.remaining(), 0);
  EXPECT_EQ(count(JobStatus::queued), 6);
  EXPECT_EQ(count(JobStatus::succeeded), 4);
}

IGB_ON_BOTH_DATABASES(QuotaRace);

// A child process owned by the test: spawned from a path, its stdout read through a pipe, waited
// for by pid, and killed (by that pid) only if the test gives up on it.
class RaceChild {
 public:
  explicit RaceChild(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // dup2 clears CLOEXEC on fd 1
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, args.at(0).c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("posix_spawn " + args.at(0) + ": " + std::strerror(rc));
    }
  }
  RaceChild(const RaceChild&) = delete;
  RaceChild& operator=(const RaceChild&) = delete;
  ~RaceChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // Reads stdout to the end and reaps the child. False if it is still running at the deadline (it
  // is then killed and reaped by the destructor).
  bool finish(std::chrono::steady_clock::time_point deadline) {
    char buf[4096];
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd p{.fd = out_, .events = POLLIN, .revents = 0};
      int n = poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      ssize_t got = read(out_, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;  // EOF: the child closed its stdout, normally by exiting
      output_.append(buf, static_cast<std::size_t>(got));
    }
    while (waitpid(pid_, &status_, 0) < 0) {
      if (errno != EINTR) return false;
    }
    pid_ = -1;
    return true;
  }
  const std::string& output() const { return output_; }
  bool exited_ok() const { return WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }
  int raw_status() const { return status_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int status_ = -1;
  std::string output_;
};

class QuotaRaceAcrossProcesses : public StoreTest {};

TEST_P(QuotaRaceAcrossProcesses, TwoProcessesOfTwentyFiveThreadsAcceptExactlyTen) {
  // The fixture has created and migrated the database; the children migrate again, which finds
  // nothing to do (migrations are safe to run concurrently anyway).
  core::AccountService(store(), clock_).ensure_user(kUser, "racer", "en");

  // Both start at the same wall-clock moment, far enough ahead for both to have opened the database
  // and their connections (a child reports on stderr if it was ready too late).
  const auto start = std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()) + 2s;
  const std::vector<std::string> args = {QUOTA_RACE_CHILD,
                                         db_->url(),
                                         std::to_string(kUser),
                                         "25",
                                         std::to_string(start.time_since_epoch().count()),
                                         std::to_string(core::to_unix_ms(now()))};
  RaceChild a(args);
  RaceChild b(args);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  ASSERT_TRUE(a.finish(deadline)) << "the first child did not finish in time";
  ASSERT_TRUE(b.finish(deadline)) << "the second child did not finish in time";
  ASSERT_TRUE(a.exited_ok()) << "status " << a.raw_status() << ", output: " << a.output();
  ASSERT_TRUE(b.exited_ok()) << "status " << b.raw_status() << ", output: " << b.output();

  Tally total;
  for (const auto* child : {&a, &b}) {
    Tally t;
    ASSERT_EQ(
        std::sscanf(child->output().c_str(), "accepted=%d exhausted=%d other=%d", &t.accepted, &t.exhausted, &t.other),
        3)
        << "unexpected child output: " << child->output();
    total.accepted += t.accepted;
    total.exhausted += t.exhausted;
    total.other += t.other;
  }
  EXPECT_EQ(total.accepted, 10) << a.output() << b.output();
  EXPECT_EQ(total.exhausted, 40) << a.output() << b.output();
  EXPECT_EQ(total.other, 0) << a.output() << b.output() << "(details on the children's stderr)";

  const auto plans = race_plans();
  auto st = core::QuotaService(store(), clock_, plans).status(kUser);
  EXPECT_EQ(st.reserved, 10);
  EXPECT_EQ(st.used, 0);
  EXPECT_EQ(store().begin(core::TxMode::read)->count_jobs(JobStatus::queued), 10);
}

IGB_ON_BOTH_DATABASES(QuotaRaceAcrossProcesses);

}  // namespace
}  // namespace igb::testing
