// imggenbot-bench-core: throughput of the core's queue operations on SQLite or PostgreSQL, through
// the real services and storage adapters (JobService over SqlStore), from several threads.
//
//   imggenbot-bench-core --database-url sqlite --threads 4 --ops 5000 --seconds 20
//   imggenbot-bench-core --database-url postgresql://user@host/db --format markdown
//
// Each measurement runs on a database of its own, created for it and removed afterwards: a SQLite
// file (WAL, as the service opens it) in a temporary folder, or a fresh schema on the PostgreSQL
// server. A measurement ends after --ops operations or --seconds, whichever comes first, and then
// checks the database agrees with what the threads counted.
//
//   reserve, distinct users  JobService::submit, each thread for its own set of users
//   reserve, one user        JobService::submit, all threads for one user (its quota row lock
//                            serialises them)
//   claim                    JobService::claim until the pre-filled queue is empty
//   claim + succeed          JobService::claim then JobService::succeed with an Image
#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <latch>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "report.hpp"
#include "core/clock.hpp"
#include "core/jobs.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"
#include "storage/store.hpp"
#include "support/test_db.hpp"
#include "util/crypto.hpp"

namespace {

// The free plans' daily budget (FREE_DAILY_IMAGES, default 1000 a day for all users together) would
// refuse the benchmark's jobs after the first thousand: it is a brake on spending, not on speed.
const igb::core::JobOptions kNoFreeBrake{.free_daily_images = 0};

using namespace igb;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string database_url = "sqlite";
  std::string sqlite_dir;  // empty: the system's temporary folder
  std::vector<int> thread_counts{4};
  int threads = 4;  // of the measurement being run
  int ops = 5000;
  double seconds = 20;
  bool markdown = false;
};

// A database that exists for one measurement: a fresh schema on PostgreSQL, a temp file for SQLite.
std::unique_ptr<testing::TestDatabase> scratch_database(const Options& o) {
  return testing::make_scratch_database(o.database_url, o.sqlite_dir);
}

// A free plan without practical limits, so every submission is accepted and only the database
// (and the per-user lock) decides the pace.
core::PlanCatalog bench_plans() {
  auto plans = core::default_plans();
  plans[0].images_per_period = 1'000'000'000;
  plans[0].max_concurrent_jobs = 1'000'000'000;
  return core::PlanCatalog::create(std::move(plans)).value();
}

core::SubmitRequest bench_request(core::UserId user) {
  return {.user = user,
          .params = {.prompt = "a lighthouse at dusk, oil painting", .width = 512, .height = 512},
          .source = "bench"};
}

struct Row {
  std::string operation;
  std::string database;
  int threads = 0;
  long ops = 0;
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  long errors = 0;
  std::string problem;  // the database disagrees with what the threads counted
};

// Runs `op` on `threads` threads, released together, until it returns false, `max_ops` operations
// have been started or the time is up. op(thread, &latency_counts) returns true when it did one
// operation, false when there is nothing left to do.
template <class Op>
Row measure(const Options& o, long max_ops, Op op) {
  std::atomic<long> started{0};
  std::atomic<long> errors{0};
  std::vector<std::vector<double>> latencies(static_cast<std::size_t>(o.threads));
  std::latch ready(o.threads + 1);
  std::latch go(1);
  const auto budget = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  Clock::time_point deadline;
  std::vector<std::thread> pool;
  for (int t = 0; t < o.threads; ++t) {
    pool.emplace_back([&, t] {
      auto& mine = latencies[static_cast<std::size_t>(t)];
      mine.reserve(static_cast<std::size_t>(max_ops / o.threads + 1));
      ready.count_down();
      go.wait();
      while (Clock::now() < deadline && started.fetch_add(1) < max_ops) {
        const auto t0 = Clock::now();
        bool did = false;
        try {
          did = op(t);
        } catch (const std::exception& e) {
          if (errors.fetch_add(1) < 5) std::fprintf(stderr, "bench: thread %d: %s\n", t, e.what());
          continue;
        }
        if (!did) break;
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  ready.arrive_and_wait();
  const auto t0 = Clock::now();
  deadline = t0 + budget;  // written before go.count_down(), which the threads wait for
  go.count_down();
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  return Row{.threads = o.threads,
             .ops = static_cast<long>(all.size()),
             .seconds = elapsed,
             .p50_ms = bench::percentile(all, 0.50),
             .p99_ms = bench::percentile(all, 0.99),
             .errors = errors.load()};
}

// Users 1..n, inserted in a few transactions.
void create_users(core::Store& store, int n, core::Timestamp now) {
  for (int first = 1; first <= n; first += 1000) {
    core::transact(store, core::TxMode::write, [&](core::Tx& tx) {
      for (int id = first; id < first + 1000 && id <= n; ++id) tx.upsert_user(id, "u" + std::to_string(id), "en", now);
    });
  }
}

// `count` queued jobs spread over users 1..users, as JobService::submit would have queued them
// (quota reserved), inserted in batches: the set-up of the claim measurements, not measured itself.
void prefill_queue(core::Store& store, int users, long count, core::Timestamp now) {
  const auto period = core::Timestamp(std::chrono::floor<std::chrono::days>(now));
  for (long first = 0; first < count; first += 500) {
    core::transact(store, core::TxMode::write, [&](core::Tx& tx) {
      std::vector<int> reserved(static_cast<std::size_t>(users) + 1, 0);
      for (long i = first; i < first + 500 && i < count; ++i) {
        core::Job job;
        job.id = "j" + util::random_hex(12);
        job.user_id = 1 + i % users;
        job.params = bench_request(job.user_id).params;
        job.source = "bench";
        job.quota_period_start = period;
        job.created_at = job.updated_at = job.run_after = now - std::chrono::milliseconds(count - i);
        tx.insert_job(job);
        ++reserved[static_cast<std::size_t>(job.user_id)];
      }
      for (int u = 1; u <= users; ++u) {
        if (reserved[static_cast<std::size_t>(u)] > 0)
          tx.adjust_quota(u, period, 0, reserved[static_cast<std::size_t>(u)]);
      }
    });
  }
}

std::int64_t count_jobs(core::Store& store, core::JobStatus status) {
  return store.begin(core::TxMode::read)->count_jobs(status);
}

std::string check(std::int64_t got, long want, const char* what) {
  if (got == want) return {};
  return std::string(what) + ": the database has " + std::to_string(got) + ", the threads counted " +
         std::to_string(want);
}

struct Bench {
  const Options& o;
  std::string db_label;
  core::SystemClock clock;
  core::PlanCatalog plans = bench_plans();

  std::unique_ptr<core::Store> open(const testing::TestDatabase& db) {
    // One connection per thread and one for the checks: the pool is not what is measured.
    return storage::open_store({.database_url = db.url(), .pool_size = o.threads + 1});
  }

  // Each thread submits for users of its own (thread t: users t+1, t+1+threads, …), so threads never
  // wait for each other's quota row.
  Row reserve_distinct_users() {
    auto scratch = scratch_database(o);
    const auto& db = *scratch;
    auto store = open(db);
    const int per_thread = 250;
    create_users(*store, per_thread * o.threads, clock.now());
    core::JobService jobs(*store, clock, plans, kNoFreeBrake);
    std::vector<long> turn(static_cast<std::size_t>(o.threads), 0);
    auto row = measure(o, o.ops, [&](int t) {
      auto& k = turn[static_cast<std::size_t>(t)];
      core::UserId user = 1 + t + o.threads * (k++ % per_thread);
      auto r = jobs.submit(bench_request(user));
      if (!r.ok()) throw std::runtime_error("submit: " + r.error().public_message);
      return true;
    });
    row.operation = "reserve, distinct users";
    row.problem = check(count_jobs(*store, core::JobStatus::queued), row.ops, "queued jobs");
    return row;
  }

  Row reserve_one_user() {
    auto scratch = scratch_database(o);
    const auto& db = *scratch;
    auto store = open(db);
    create_users(*store, 1, clock.now());
    core::JobService jobs(*store, clock, plans, kNoFreeBrake);
    auto row = measure(o, o.ops, [&](int) {
      auto r = jobs.submit(bench_request(1));
      if (!r.ok()) throw std::runtime_error("submit: " + r.error().public_message);
      return true;
    });
    row.operation = "reserve, one user";
    row.problem = check(count_jobs(*store, core::JobStatus::queued), row.ops, "queued jobs");
    return row;
  }

  Row claim() {
    auto scratch = scratch_database(o);
    const auto& db = *scratch;
    auto store = open(db);
    const int users = 1000;
    create_users(*store, users, clock.now());
    prefill_queue(*store, users, o.ops, clock.now());
    core::JobService jobs(*store, clock, plans, kNoFreeBrake);
    std::mutex mutex;
    std::set<std::string> claimed;
    long duplicates = 0;
    auto row = measure(o, o.ops, [&](int t) {
      auto job = jobs.claim("bench-" + std::to_string(t));
      if (!job) return false;
      std::lock_guard lock(mutex);
      if (!claimed.insert(job->id).second) ++duplicates;
      return true;
    });
    row.operation = "claim";
    row.problem = check(count_jobs(*store, core::JobStatus::running), row.ops, "running jobs");
    if (duplicates > 0) row.problem += " " + std::to_string(duplicates) + " jobs claimed twice";
    return row;
  }

  Row claim_and_succeed() {
    auto scratch = scratch_database(o);
    const auto& db = *scratch;
    auto store = open(db);
    const int users = 1000;
    create_users(*store, users, clock.now());
    prefill_queue(*store, users, o.ops, clock.now());
    core::JobService jobs(*store, clock, plans, kNoFreeBrake);
    auto row = measure(o, o.ops, [&](int t) {
      const auto worker = "bench-" + std::to_string(t);
      auto job = jobs.claim(worker);
      if (!job) return false;
      // Content-addressed like a real result: the id is the hash of the (here: pretend) bytes.
      core::Image image{.id = util::sha256_hex(job->id),
                        .mime = "image/png",
                        .size_bytes = 900'000,
                        .width = 512,
                        .height = 512,
                        .created_at = clock.now()};
      auto done = jobs.succeed(job->id, worker, image);
      if (!done.ok()) throw std::runtime_error("succeed: " + done.error().public_message);
      return true;
    });
    row.operation = "claim + succeed";
    row.problem = check(count_jobs(*store, core::JobStatus::succeeded), row.ops, "succeeded jobs");
    return row;
  }
};

std::string describe_database(const Options& o) {
  if (!o.database_url.starts_with("postgres")) {
    return std::string("SQLite ") + sqlite3_libversion() + " (WAL, synchronous=NORMAL; file in " +
           (o.sqlite_dir.empty() ? std::filesystem::temp_directory_path().string() : o.sqlite_dir) + ")";
  }
  auto conn = storage::open_connection(storage::parse_database_url(o.database_url));
  auto setting = [&](const char* name) {
    return conn->query("SELECT current_setting($1)", {std::string(name)}).rows.at(0).text(0);
  };
  return "PostgreSQL " + setting("server_version") + " (fsync=" + setting("fsync") +
         ", synchronous_commit=" + setting("synchronous_commit") + ")";
}

void print(const Options& o, const std::vector<Row>& rows) {
  if (o.markdown) {
    std::printf("| operation | database | threads | ops | seconds | ops/s | p50 ms | p99 ms |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows) {
      std::printf("| %s | %s | %d | %ld | %.2f | %.0f | %.2f | %.2f |\n", r.operation.c_str(), r.database.c_str(),
                  r.threads, r.ops, r.seconds, r.ops / r.seconds, r.p50_ms, r.p99_ms);
    }
    return;
  }
  std::printf("%-24s %-9s %7s %7s %8s %9s %8s %8s\n", "operation", "database", "threads", "ops", "seconds", "ops/s",
              "p50 ms", "p99 ms");
  for (const auto& r : rows) {
    std::printf("%-24s %-9s %7d %7ld %8.2f %9.0f %8.2f %8.2f\n", r.operation.c_str(), r.database.c_str(), r.threads,
                r.ops, r.seconds, r.ops / r.seconds, r.p50_ms, r.p99_ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> only;
  CLI::App cli{"Measures reservations, claims and claim+succeed cycles per second of the ImgGenBot core",
               "imggenbot-bench-core"};
  cli.add_option("--database-url", o.database_url,
                 "'sqlite' (a temporary file) or a postgresql:// URL (a temporary schema in that database)")
      ->capture_default_str();
  cli.add_option("--sqlite-dir", o.sqlite_dir, "folder for the temporary SQLite files (default: the temp folder)");
  cli.add_option("--threads", o.thread_counts, "threads calling the core at once; a list (1,4) measures each")
      ->delimiter(',')
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cli.add_option("--ops", o.ops, "operations per measurement at most")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  cli.add_option("--seconds", o.seconds, "seconds per measurement at most")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cli.add_option("--only", only, "measurements to run: reserve-users, reserve-one, claim, cycle (default: all)")
      ->check(CLI::IsMember({"reserve-users", "reserve-one", "claim", "cycle"}));
  cli.add_flag("--markdown", o.markdown, "print a markdown table");
  CLI11_PARSE(cli, argc, argv);

  if (o.database_url == "sqlite" || o.database_url == "sqlite://") {
    o.database_url = "sqlite";
  } else if (!o.database_url.starts_with("postgresql://") && !o.database_url.starts_with("postgres://")) {
    std::fprintf(stderr,
                 "bench: --database-url must be 'sqlite' or a postgresql:// URL (SQLite always uses a "
                 "fresh temporary file; --sqlite-dir picks its folder)\n");
    return 2;
  }
  auto wanted = [&](const char* name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };

  try {
    Bench bench{.o = o, .db_label = o.database_url == "sqlite" ? "sqlite" : "postgres"};
    std::printf("%s%s; at most %d ops or %g s per measurement\n%s", o.markdown ? "" : "# ",
                describe_database(o).c_str(), o.ops, o.seconds, o.markdown ? "\n" : "");
    std::fflush(stdout);
    std::vector<Row> rows;
    for (int threads : o.thread_counts) {
      o.threads = threads;  // bench holds `o` by reference
      if (wanted("reserve-users")) rows.push_back(bench.reserve_distinct_users());
      if (wanted("reserve-one")) rows.push_back(bench.reserve_one_user());
      if (wanted("claim")) rows.push_back(bench.claim());
      if (wanted("cycle")) rows.push_back(bench.claim_and_succeed());
    }
    int status = 0;
    for (auto& r : rows) {
      r.database = bench.db_label;
      if (r.errors > 0) {
        std::fprintf(stderr, "bench: %s: %ld operations failed\n", r.operation.c_str(), r.errors);
        status = 1;
      }
      if (!r.problem.empty()) {
        std::fprintf(stderr, "bench: %s: %s\n", r.operation.c_str(), r.problem.c_str());
        status = 1;
      }
    }
    print(o, rows);
    return status;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 1;
  }
}
