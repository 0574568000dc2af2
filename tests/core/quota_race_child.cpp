// One process of the cross-process quota race (quota_race_test.cpp): opens the database, waits for
// the agreed start time, then submits one single-image job from each of THREADS threads for one user
// and prints one line on stdout:
//   accepted=<n> exhausted=<m> other=<k>
// Usage: quota_race_child DATABASE_URL USER_ID THREADS START_UNIX_MS [NOW_UNIX_MS]
// START_UNIX_MS is wall-clock time, so two processes started a moment apart race together.
// NOW_UNIX_MS is where the core's clock stands (default: the system clock), so the test and every
// child agree on the quota period even when the race crosses midnight UTC.
// Exit status: 0 when the race ran (whatever its outcome), 1 when the setup failed, 2 on bad usage.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/jobs.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"
#include "storage/store.hpp"

namespace {

using namespace igb;

// Same catalog as race_plans() in quota_race_test.cpp: 10 free images a day and room for 1000 jobs
// at once, so only the quota can refuse a submission.
core::PlanCatalog race_plans() {
  auto plans = core::default_plans();
  plans[0].images_per_period = 10;
  plans[0].max_concurrent_jobs = 1000;
  return core::PlanCatalog::create(std::move(plans)).value();
}

enum class Outcome { accepted, exhausted, other };

int usage() {
  std::fprintf(stderr, "usage: quota_race_child DATABASE_URL USER_ID THREADS START_UNIX_MS [NOW_UNIX_MS]\n");
  return 2;
}

bool parse_i64(const char* text, long long& out) {
  char* end = nullptr;
  out = std::strtoll(text, &end, 10);
  return end != text && *end == '\0';
}

int run(const std::string& url, core::UserId user, int threads, long long start_ms, std::optional<long long> now_ms) {
  auto store = storage::open_store({.database_url = url, .pool_size = threads});
  // One connection per thread, opened now rather than inside the race, so connecting does not
  // stagger the threads.
  {
    std::vector<std::unique_ptr<core::Tx>> warm;
    for (int i = 0; i < threads; ++i) warm.push_back(store->begin(core::TxMode::read));
  }
  const auto plans = race_plans();
  core::SystemClock system_clock;
  core::ManualClock fixed_clock(now_ms ? core::from_unix_ms(*now_ms) : system_clock.now());
  const core::Clock& clock = now_ms ? static_cast<const core::Clock&>(fixed_clock) : system_clock;
  core::JobService jobs(*store, clock, plans);

  std::vector<Outcome> outcomes(static_cast<std::size_t>(threads), Outcome::other);
  std::latch go(1);
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      go.wait();
      try {
        auto r =
            jobs.submit({.user = user, .params = {.prompt = "a race", .width = 512, .height = 512}, .source = "test"});
        if (r.ok()) {
          outcomes[i] = Outcome::accepted;
        } else if (r.error().code == core::ErrorCode::quota_exhausted) {
          outcomes[i] = Outcome::exhausted;
        } else {
          std::fprintf(stderr, "quota_race_child: thread %d: %s: %s\n", i, core::to_string(r.error().code),
                       r.error().public_message.c_str());
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "quota_race_child: thread %d threw: %s\n", i, e.what());
      }
    });
  }

  const auto start = std::chrono::system_clock::time_point(std::chrono::milliseconds(start_ms));
  const auto late = std::chrono::system_clock::now() - start;
  if (late > std::chrono::milliseconds(0)) {
    // Still a valid run, but the processes may not have overlapped: the test's margin is too small.
    std::fprintf(stderr, "quota_race_child: ready %lld ms after the start time\n",
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(late).count()));
  }
  std::this_thread::sleep_until(start);
  go.count_down();
  for (auto& t : pool) t.join();

  int accepted = 0, exhausted = 0, other = 0;
  for (auto o : outcomes) {
    (o == Outcome::accepted ? accepted : o == Outcome::exhausted ? exhausted : other) += 1;
  }
  std::printf("accepted=%d exhausted=%d other=%d\n", accepted, exhausted, other);
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) return usage();
  long long user = 0, threads = 0, start_ms = 0, now = 0;
  if (!parse_i64(argv[2], user) || !parse_i64(argv[3], threads) || threads < 1 || threads > 1000 ||
      !parse_i64(argv[4], start_ms) || (argc == 6 && !parse_i64(argv[5], now))) {
    return usage();
  }
  try {
    return run(argv[1], user, static_cast<int>(threads), start_ms,
               argc == 6 ? std::optional<long long>(now) : std::nullopt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quota_race_child: %s\n", e.what());
    return 1;
  }
}
