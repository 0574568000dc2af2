// imggenbot-bench-worker: what the generation pipeline costs by itself. Jobs go through the real
// queue (JobService over SqlStore), Worker::run_slot() coroutines, the provider router, the Hugging
// Face backend and HTTP client, the image check and the file image store, against a fake Hugging
// Face server on 127.0.0.1 that answers at once with a small PNG.
//
//   imggenbot-bench-worker --database-url sqlite --jobs 2000 --slots 4
//   imggenbot-bench-worker --database-url postgresql://user@host/db --markdown
//   imggenbot-bench-worker --memory --database-url sqlite
//
// Each run has a database of its own (a SQLite file in a temporary folder, or a fresh schema on the
// PostgreSQL server) and an image folder of its own, both removed afterwards.
//
//   provider call alone   router.generate() called --calls times in a row, nothing else running: the
//                         HTTP round trip to the fake and the backend's decoding of the answer
//   queue runs            --jobs jobs queued through JobService::submit for many users (a plan with
//                         no practical limits), then 1 and --slots slots on one io_context with a
//                         blocking pool sized like the service's (DB_POOL_SIZE) until every job has
//                         succeeded; then the worker drains and the slots end
//   --memory              --memory-jobs jobs queued, then the real `imggenbot serve` (release build)
//                         started against that database and a fake provider that never answers, so
//                         every slot is busy and the rest stays queued; after --memory-seconds its
//                         VmRSS and VmHWM are read from /proc, and it is stopped with SIGTERM. An empty
//                         queue is measured too, for comparison.
#include <signal.h>
#include <sqlite3.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "report.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/jobs.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"
#include "core/styles.hpp"
#include "gen/hf_backend.hpp"
#include "gen/router.hpp"
#include "http/client.hpp"
#include "support/test_image.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "storage/store.hpp"
#include "support/fake_http_server.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "util/crypto.hpp"
#include "worker/worker.hpp"

#ifndef IMGGENBOT_BIN
#error "IMGGENBOT_BIN (the imggenbot executable) must be defined by the build"
#endif

namespace {

// The free plans' daily budget (FREE_DAILY_IMAGES, default 1000 a day for all users together) would
// refuse the benchmark's jobs after the first thousand: it is a brake on spending, not on speed.
const igb::core::JobOptions kNoFreeBrake{.free_daily_images = 0};

using namespace igb;
using namespace std::chrono_literals;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr const char* kModel = "black-forest-labs/FLUX.1-schnell";
constexpr int kWarmupCalls = 20;

struct Options {
  std::string database_url = "sqlite";
  long jobs = 2000;
  int slots = 4;
  int image_size = 64;
  int calls = 500;
  double timeout_seconds = 300;  // per queue run: a hang guard, reported as a failure
  bool markdown = false;
  bool memory = false;
  long memory_jobs = 10'000;
  double memory_seconds = 5;
};

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// A database that exists for one measurement: a fresh schema on PostgreSQL, a temp file for SQLite.
std::unique_ptr<testing::TestDatabase> scratch_database(const Options& o) {
  return testing::make_scratch_database(o.database_url, std::filesystem::path());
}

std::string describe_database(const Options& o) {
  if (!o.database_url.starts_with("postgres")) {
    return std::string("SQLite ") + sqlite3_libversion() + " (WAL, synchronous=NORMAL; file in " +
           std::filesystem::temp_directory_path().string() + ")";
  }
  auto conn = storage::open_connection(storage::parse_database_url(o.database_url));
  auto setting = [&](const char* name) {
    return conn->query("SELECT current_setting($1)", {std::string(name)}).rows.at(0).text(0);
  };
  return "PostgreSQL " + setting("server_version") + " (fsync=" + setting("fsync") +
         ", synchronous_commit=" + setting("synchronous_commit") + ")";
}

// The service's default DB_POOL_SIZE: the size of its connection pool and of its blocking pool.
// (Read from a Config on the heap: GCC 12 gives a false -Wmaybe-uninitialized for a Config temporary.)
int default_db_pool_size() { return std::make_unique<config::Config>()->db_pool_size; }

// A free plan without practical limits, so every submission is accepted.
core::PlanCatalog bench_plans() {
  auto plans = core::default_plans();
  plans[0].images_per_period = 1'000'000'000;
  plans[0].max_concurrent_jobs = 1'000'000'000;
  return core::PlanCatalog::create(std::move(plans)).value();
}

// The k-th job's prompt: unique, so a provider call can be matched to its job.
std::string bench_prompt(long k) { return "a lighthouse at dusk, oil painting #" + std::to_string(k); }

struct Stats {
  std::size_t n = 0;
  double mean = 0, p50 = 0, p99 = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s{.n = v.size()};
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  s.p50 = bench::percentile(v, 0.50);
  s.p99 = bench::percentile(v, 0.99);
  return s;
}

std::string fmt_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), ms < 10 ? "%.2f" : "%.1f", ms);
  return buf;
}

// The fake Hugging Face server: answers every request at once with one of `distinct` different PNGs
// (made beforehand, so the answer costs the fake nothing), in turn. Distinct images matter: the
// image store skips writing bytes it already has.
class FakeProvider {
 public:
  FakeProvider(int side, long distinct) {
    pngs_.reserve(static_cast<std::size_t>(distinct));
    for (long i = 0; i < distinct; ++i) pngs_.push_back(imaging::make_png(side, side, static_cast<std::uint32_t>(i)));
    server_.set_handler([this](const testing::FakeRequest&) {
      const auto i = next_.fetch_add(1) % pngs_.size();
      return testing::FakeResponse{.status = 200, .headers = {{"Content-Type", "image/png"}}, .body = pngs_[i]};
    });
  }
  std::string base_url() const { return server_.base_url(); }
  std::size_t distinct() const { return pngs_.size(); }
  std::size_t png_bytes() const { return pngs_.front().size(); }
  const std::string& png(std::size_t i) const { return pngs_[i % pngs_.size()]; }
  void forget_requests() { server_.clear_requests(); }

 private:
  std::vector<std::string> pngs_;
  std::atomic<std::size_t> next_{0};
  testing::FakeHttpServer server_;  // last: stopped (joined) before the images go away
};

gen::HfOptions hf_options(const FakeProvider& fake) {
  return {.name = "hf", .base_url = fake.base_url(), .model = kModel, .token = "hf_bench"};
}

// A file image store in its steady state: the 256 folders <root>/images/<first 2 hex>/ exist already
// (a store creates each on its first image, with two more directory fsyncs, which would weigh on the
// first few hundred jobs of a short run but not on a service that has been running a while).
std::unique_ptr<imaging::ImageStore> steady_image_store(const std::filesystem::path& root) {
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    std::filesystem::create_directories(root / "images" / std::string{hex[i / 16], hex[i % 16]});
  }
  return imaging::make_file_image_store(root);
}

// One provider call as the router made it.
struct Call {
  Clock::time_point start, end;
  std::string prompt;
  bool ok = false;
};

// Wraps the real backend and records when each call starts and ends. Used from the io thread only.
class TimedBackend final : public gen::Backend {
 public:
  TimedBackend(std::unique_ptr<gen::Backend> inner, std::vector<Call>& calls)
      : inner_(std::move(inner)), calls_(calls) {}
  const std::string& name() const override { return inner_->name(); }
  net::awaitable<gen::GenerationOutcome> generate(gen::GenerationRequest request, gen::ProgressFn progress) override {
    Call call{.start = Clock::now(), .prompt = request.prompt};
    auto outcome = co_await inner_->generate(std::move(request), std::move(progress));
    call.end = Clock::now();
    call.ok = std::holds_alternative<gen::GeneratedImage>(outcome);
    calls_.push_back(std::move(call));
    co_return outcome;
  }

 private:
  std::unique_ptr<gen::Backend> inner_;
  std::vector<Call>& calls_;
};

// Sends the worker's log (one info line per job, as in the service) to a file, and warnings also to
// stderr: the formatting and writing stay in the measurement, the report stays clean.
void setup_logging(const std::filesystem::path& file) {
  auto to_file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), true);
  to_file->set_level(spdlog::level::info);
  auto to_stderr = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  to_stderr->set_level(spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>("bench", spdlog::sinks_init_list{to_file, to_stderr});
  logger->set_level(spdlog::level::info);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  spdlog::set_default_logger(logger);
}

// ---- the provider call alone

net::awaitable<void> call_provider(gen::Router* router, int calls, std::vector<double>* ms) {
  // Arguments are named variables, never temporaries made inside the co_await expression: GCC 12
  // destroys some of those twice.
  const gen::ProgressFn no_progress;
  for (int i = 0; i < kWarmupCalls + calls; ++i) {
    gen::GenerationRequest request{.prompt = bench_prompt(i), .width = 512, .height = 512, .steps = 4, .seed = i};
    const auto t0 = Clock::now();
    auto outcome = co_await router->generate(std::move(request), no_progress);
    const auto t1 = Clock::now();
    if (auto* f = std::get_if<gen::GenerationFailure>(&outcome)) {
      throw std::runtime_error("the fake provider's answer was a failure: " + f->detail);
    }
    if (i >= kWarmupCalls) ms->push_back(ms_between(t0, t1));
  }
}

Stats measure_provider_call(const Options& o, const FakeProvider& fake) {
  net::io_context io;
  core::SystemClock clock;
  auto client = http::make_client(io.get_executor());
  gen::Router router(clock);
  router.add(std::make_unique<gen::HfBackend>(*client, hf_options(fake)), {.concurrency = 1});
  std::vector<double> ms;
  ms.reserve(static_cast<std::size_t>(o.calls));
  std::exception_ptr error;
  net::co_spawn(io, call_provider(&router, o.calls, &ms), [&](std::exception_ptr e) { error = e; });
  io.run();
  if (error) std::rethrow_exception(error);
  return stats_of(std::move(ms));
}

// ---- queue runs

struct QueueRun {
  int slots = 0;
  long jobs = 0;
  int users = 0;
  double submit_seconds = 0;
  double seconds = 0;   // from starting the slots to the last job's finished_at
  Stats latency;        // claim -> succeeded per job (started_at, finished_at: 1 ms resolution)
  Stats provider;       // the job's provider call, timed around the backend
  Stats worker_share;   // latency minus provider, per job
  // One slot only: the cycle from one provider call's start to the next (steady clock), and the
  // part of it outside the provider call.
  Stats cycle, around;
  std::string problem;
};

struct RunState {
  core::Store* store = nullptr;
  runtime::BlockingPool* pool = nullptr;
  worker::Worker* worker = nullptr;
  std::vector<net::cancellation_signal>* cancel = nullptr;
  net::io_context* io = nullptr;
  long jobs = 0;
  Clock::time_point deadline;
  int running = 0;  // slots not yet returned
  std::string problem;
};

// Polls the database until every job has finished, then drains the worker and waits for the slots.
net::awaitable<void> watch(RunState* st) {
  net::steady_timer timer(co_await net::this_coro::executor);
  auto count = [st] {
    auto tx = st->store->begin(core::TxMode::read);
    return std::pair(tx->count_jobs(core::JobStatus::succeeded), tx->count_jobs(core::JobStatus::failed));
  };
  while (true) {
    auto [succeeded, failed] = co_await st->pool->run(count);
    if (succeeded + failed >= st->jobs) {
      if (failed > 0) st->problem = std::to_string(failed) + " job(s) failed";
      break;
    }
    if (Clock::now() > st->deadline) {
      st->problem = "only " + std::to_string(succeeded) + " of " + std::to_string(st->jobs) +
                    " jobs succeeded within the time limit";
      break;
    }
    timer.expires_after(20ms);
    co_await timer.async_wait(net::use_awaitable);
  }
  st->worker->drain();
  // Slots return after their current job; after a grace period they are canceled (and hand their
  // job back), and if even that does not end them the io_context is stopped.
  const auto started = Clock::now();
  bool canceled = false;
  while (st->running > 0) {
    if (!canceled && Clock::now() - started > 10s) {
      st->problem += (st->problem.empty() ? "" : "; ") + std::string("slots did not return after drain()");
      for (auto& c : *st->cancel) c.emit(net::cancellation_type::terminal);
      canceled = true;
    } else if (Clock::now() - started > 20s) {
      st->io->stop();
      co_return;
    }
    timer.expires_after(1ms);
    co_await timer.async_wait(net::use_awaitable);
  }
}

struct Fixture {
  const Options& o;
  FakeProvider& fake;
  core::SystemClock clock;
  core::PlanCatalog plans = bench_plans();
  int db_pool_size = default_db_pool_size();
};

// Users 1..n, inserted in a few transactions.
void create_users(core::Store& store, int n, core::Timestamp now) {
  for (int first = 1; first <= n; first += 1000) {
    core::transact(store, core::TxMode::write, [&](core::Tx& tx) {
      for (int id = first; id < first + 1000 && id <= n; ++id) tx.upsert_user(id, std::to_string(id), "en", now);
    });
  }
}

// Queues `count` jobs for users 1..users in turn through JobService::submit; returns job id by prompt.
std::unordered_map<std::string, std::string> submit_jobs(core::JobService& jobs, long count, int users) {
  std::unordered_map<std::string, std::string> by_prompt;
  by_prompt.reserve(static_cast<std::size_t>(count));
  for (long k = 0; k < count; ++k) {
    core::SubmitRequest request{.user = static_cast<core::UserId>(1 + k % users),
                                .params = {.prompt = bench_prompt(k), .width = 512, .height = 512, .steps = 4},
                                .source = "bench"};
    auto r = jobs.submit(request);
    if (!r.ok()) throw std::runtime_error("submit: " + r.error().public_message);
    by_prompt.emplace(core::apply_style(request.params.prompt, request.params.style), r->jobs.at(0).id);
  }
  return by_prompt;
}

int users_for(long jobs) { return static_cast<int>(std::clamp(jobs / 4, 1L, 1000L)); }

QueueRun run_queue(Fixture& fx, int slots) {
  const Options& o = fx.o;
  QueueRun run{.slots = slots, .jobs = o.jobs, .users = users_for(o.jobs)};
  auto scratch = scratch_database(o);
  const auto& db = *scratch;
  testing::TempDir data("igb-bench-images-");
  auto store = storage::open_store({.database_url = db.url(), .pool_size = fx.db_pool_size});
  create_users(*store, run.users, fx.clock.now());
  core::JobService jobs(*store, fx.clock, fx.plans, kNoFreeBrake);
  const auto s0 = Clock::now();
  const auto job_of_prompt = submit_jobs(jobs, o.jobs, run.users);
  run.submit_seconds = ms_between(s0, Clock::now()) / 1000;
  auto images = steady_image_store(data.path());
  fx.fake.forget_requests();

  // Declared in this order so that everything the coroutines touch outlives the io_context's work.
  net::io_context io;
  runtime::BlockingPool pool(static_cast<std::size_t>(fx.db_pool_size));
  auto client = http::make_client(io.get_executor());
  std::vector<Call> calls;
  calls.reserve(static_cast<std::size_t>(o.jobs) + 16);
  gen::Router router(fx.clock);
  router.add(std::make_unique<TimedBackend>(std::make_unique<gen::HfBackend>(*client, hf_options(fx.fake)), calls),
             {.concurrency = slots});
  worker::Worker worker(jobs, pool, router, *images, fx.clock,
                        worker::WorkerOptions{.id = "bench-" + util::random_hex(3)});
  std::vector<net::cancellation_signal> cancel(static_cast<std::size_t>(slots));
  RunState st{.store = store.get(),
              .pool = &pool,
              .worker = &worker,
              .cancel = &cancel,
              .io = &io,
              .jobs = o.jobs,
              .deadline = Clock::now() +
                          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout_seconds)),
              .running = slots};

  const auto t0 = fx.clock.now();
  for (int i = 0; i < slots; ++i) {
    net::co_spawn(io, worker.run_slot(),
                  net::bind_cancellation_slot(cancel[static_cast<std::size_t>(i)].slot(), [&st](std::exception_ptr e) {
                    --st.running;
                    if (!e) return;
                    try {
                      std::rethrow_exception(e);
                    } catch (const boost::system::system_error& se) {
                      if (se.code() == net::error::operation_aborted) return;  // canceled by watch()
                      st.problem += std::string("; a slot failed: ") + se.what();
                    } catch (const std::exception& ex) {
                      st.problem += std::string("; a slot failed: ") + ex.what();
                    }
                  }));
  }
  std::exception_ptr watch_error;
  net::co_spawn(io, watch(&st), [&](std::exception_ptr e) {
    watch_error = e;
    if (!e) return;
    worker.drain();  // a broken database: end the slots too, or io.run() would not return
    for (auto& c : cancel) c.emit(net::cancellation_type::terminal);
  });
  io.run();
  pool.stop();
  if (watch_error) std::rethrow_exception(watch_error);
  run.problem = st.problem;

  // Per job: claim -> succeeded from the database, the provider call from the timed backend.
  std::unordered_map<std::string, const Call*> call_of_prompt;
  long failed_calls = 0;
  for (const auto& c : calls) {
    if (!c.ok) ++failed_calls;
    if (!call_of_prompt.emplace(c.prompt, &c).second) call_of_prompt[c.prompt] = &c;  // a retry: the last
  }
  if (failed_calls > 0) run.problem += "; " + std::to_string(failed_calls) + " provider call(s) failed";
  std::vector<double> latency, provider, share;
  core::Timestamp last_finished = t0;
  {
    auto tx = store->begin(core::TxMode::read);
    for (const auto& [prompt, id] : job_of_prompt) {
      auto job = tx->find_job(id, false);
      if (!job || job->status != core::JobStatus::succeeded || !job->started_at || !job->finished_at) continue;
      last_finished = std::max(last_finished, *job->finished_at);
      const double l = static_cast<double>((*job->finished_at - *job->started_at).count());
      latency.push_back(l);
      auto it = call_of_prompt.find(prompt);
      if (it == call_of_prompt.end()) continue;
      const double p = ms_between(it->second->start, it->second->end);
      provider.push_back(p);
      share.push_back(l - p);
    }
  }
  if (static_cast<long>(latency.size()) != o.jobs) {
    run.problem += "; " + std::to_string(latency.size()) + " of " + std::to_string(o.jobs) + " jobs succeeded";
  }
  run.seconds = static_cast<double>((last_finished - t0).count()) / 1000;
  run.latency = stats_of(std::move(latency));
  run.provider = stats_of(std::move(provider));
  run.worker_share = stats_of(std::move(share));
  if (slots == 1 && calls.size() >= 2) {
    std::vector<double> cycle, around;
    for (std::size_t i = 0; i + 1 < calls.size(); ++i) {
      cycle.push_back(ms_between(calls[i].start, calls[i + 1].start));
      around.push_back(ms_between(calls[i].end, calls[i + 1].start));
    }
    run.cycle = stats_of(std::move(cycle));
    run.around = stats_of(std::move(around));
  }
  if (run.problem.starts_with("; ")) run.problem.erase(0, 2);
  return run;
}

// The worker's steps around the provider call, called directly one after another on this thread
// (no blocking pool, no coroutines): what the cycle would cost without thread hand-offs.
struct Steps {
  Stats claim, put, succeed, sum;
};

Steps measure_steps(Fixture& fx, int count) {
  count =
      static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(count), fx.fake.distinct()));  // new images only
  auto scratch = scratch_database(fx.o);
  const auto& db = *scratch;
  testing::TempDir data("igb-bench-images-");
  auto store = storage::open_store({.database_url = db.url(), .pool_size = fx.db_pool_size});
  const int users = users_for(count);
  create_users(*store, users, fx.clock.now());
  core::JobService jobs(*store, fx.clock, fx.plans, kNoFreeBrake);
  submit_jobs(jobs, count, users);
  auto images = steady_image_store(data.path());
  std::vector<double> claim, put, succeed, sum;
  for (int i = 0; i < count; ++i) {
    const auto t0 = Clock::now();
    auto job = jobs.claim("bench-steps");
    const auto t1 = Clock::now();
    if (!job) throw std::runtime_error("steps: the queue ran dry");
    auto image = images->put(fx.fake.png(static_cast<std::size_t>(i)), fx.clock.now());
    const auto t2 = Clock::now();
    if (!image) throw std::runtime_error("steps: image rejected: " + image.error().internal_detail);
    auto done = jobs.succeed(job->id, "bench-steps", *image, 1);
    const auto t3 = Clock::now();
    if (!done.ok()) throw std::runtime_error("steps: succeed: " + done.error().public_message);
    claim.push_back(ms_between(t0, t1));
    put.push_back(ms_between(t1, t2));
    succeed.push_back(ms_between(t2, t3));
    sum.push_back(ms_between(t0, t3));
  }
  return {stats_of(std::move(claim)), stats_of(std::move(put)), stats_of(std::move(succeed)), stats_of(std::move(sum))};
}

int run_throughput(const Options& o) {
  testing::TempDir scratch("igb-bench-worker-");
  setup_logging(scratch.path() / "worker.log");
  // Enough different images for one run; a cap keeps --image-size 1024 runs within memory (then
  // images repeat, and the store skips writing those).
  const std::size_t one = imaging::make_png(o.image_size, o.image_size).size();
  const long distinct = std::clamp<long>(static_cast<long>((512u << 20) / std::max<std::size_t>(one, 1)), 1, o.jobs);
  FakeProvider fake(o.image_size, distinct);
  Fixture fx{.o = o, .fake = fake};

  std::printf(
      "%s%s; blocking pool and connection pool of %d (the default DB_POOL_SIZE); the fake Hugging Face "
      "server on 127.0.0.1 answers at once with %dx%d PNGs of about %zu bytes (%zu different ones); images "
      "written (file and folder fsync, rename) under %s, into a store whose 256 folders exist\n%s",
      o.markdown ? "" : "# ", describe_database(o).c_str(), fx.db_pool_size, o.image_size, o.image_size,
      fake.png_bytes(), fake.distinct(), std::filesystem::temp_directory_path().c_str(), o.markdown ? "\n" : "");
  std::fflush(stdout);

  const Stats alone = measure_provider_call(o, fake);
  std::vector<QueueRun> runs;
  runs.push_back(run_queue(fx, 1));
  const Steps steps = measure_steps(fx, o.calls);  // right after the 1-slot run it is compared with
  if (o.slots != 1) runs.push_back(run_queue(fx, o.slots));

  int status = 0;
  for (const auto& r : runs) {
    if (!r.problem.empty()) {
      std::fprintf(stderr, "bench: %d slot(s): %s\n", r.slots, r.problem.c_str());
      status = 1;
    }
  }
  const char* h = o.markdown ? "**" : "";
  std::printf(
      "%sProvider call alone%s: router.generate() %d times in a row (after %d warm-up calls) on one kept-alive "
      "connection: mean %s ms, p50 %s ms, p99 %s ms\n\n",
      h, h, o.calls, kWarmupCalls, fmt_ms(alone.mean).c_str(), fmt_ms(alone.p50).c_str(), fmt_ms(alone.p99).c_str());

  std::printf(
      "%sThroughput%s: jobs queued first (through JobService::submit, not timed), then the slots run until "
      "every job has succeeded.\n\n",
      h, h);
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : runs) {
    char jps[32], secs[32];
    std::snprintf(jps, sizeof(jps), "%.0f", r.seconds > 0 ? static_cast<double>(r.jobs) / r.seconds : 0.0);
    std::snprintf(secs, sizeof(secs), "%.2f", r.seconds);
    rows.push_back({std::to_string(r.slots), std::to_string(r.jobs) + " / " + std::to_string(r.users), secs, jps,
                    fmt_ms(r.latency.mean), fmt_ms(r.latency.p50), fmt_ms(r.latency.p99), fmt_ms(r.provider.mean),
                    fmt_ms(r.worker_share.mean), fmt_ms(r.worker_share.p50), fmt_ms(r.worker_share.p99)});
  }
  bench::print_table(o.markdown,
                     {"slots", "jobs / users", "seconds", "jobs/s", "claim→succeeded ms: mean", "p50", "p99",
                      "provider call ms: mean", "claim→succeeded − provider call ms: mean", "p50", "p99"},
                     rows);

  const QueueRun& one_slot = runs.front();
  std::printf("\n%sTime a worker adds around a provider call%s (1 slot, %ld jobs):\n\n", h, h, one_slot.jobs);
  bench::print_table(o.markdown, {"per job", "mean ms", "p50 ms", "p99 ms"},
                     {{"cycle: one provider call's start to the next's", fmt_ms(one_slot.cycle.mean),
                       fmt_ms(one_slot.cycle.p50), fmt_ms(one_slot.cycle.p99)},
                      {"provider call inside the run", fmt_ms(one_slot.provider.mean), fmt_ms(one_slot.provider.p50),
                       fmt_ms(one_slot.provider.p99)},
                      {"worker time around the call: one call's end to the next's start", fmt_ms(one_slot.around.mean),
                       fmt_ms(one_slot.around.p50), fmt_ms(one_slot.around.p99)}});
  std::printf(
      "\nWorker overhead per job = per-job time with 1 slot − mean router.generate() time alone = %s − %s = "
      "%s%s ms%s\n\n",
      fmt_ms(one_slot.cycle.mean).c_str(), fmt_ms(alone.mean).c_str(), h,
      fmt_ms(one_slot.cycle.mean - alone.mean).c_str(), h);
  std::printf(
      "%sThe worker's steps alone%s (%zu times each, called directly one after another on one thread: no "
      "blocking pool, no coroutines, no other slot):\n\n",
      h, h, steps.claim.n);
  auto step_row = [](const char* what, const Stats& s) {
    return std::vector<std::string>{what, fmt_ms(s.mean), fmt_ms(s.p50), fmt_ms(s.p99)};
  };
  bench::print_table(o.markdown, {"step", "mean ms", "p50 ms", "p99 ms"},
                     {step_row("JobService::claim", steps.claim),
                      step_row("ImageStore::put (check, hash, write, fsync, rename)", steps.put),
                      step_row("JobService::succeed", steps.succeed), step_row("the three in a row", steps.sum)});
  std::printf(
      "\nCompare \"the three in a row\" with the worker time around the call above: what the worker adds "
      "besides them is three round trips between the I/O thread and the blocking pool, its log line and "
      "waiting for a CPU. Both were measured at different moments, and fsync latency follows other disk "
      "work on the machine.\n\n");
  std::printf(
      "Method: the fake answers in ~0 ms, so the provider call is what the HTTP round trip and the backend cost; "
      "it is timed by calling router.generate() alone, and inside the runs by a wrapper around the backend "
      "(steady clock). With 1 slot the jobs run one after another, so the time from one provider call's start to "
      "the next is one job's whole cycle (image check and store, succeed, claim of the next job, the request); "
      "minus the provider call it is the worker's own time. claim→succeeded comes from the jobs' started_at and "
      "finished_at (1 ms resolution); jobs/s counts from starting the slots to the last finished_at. The worker "
      "logs one info line per job to a file, as the service does to stderr.\n");
  return status;
}

// ---- memory of the real service

struct MemoryRow {
  long submitted = 0;
  double submit_seconds = 0;
  std::int64_t queued = -1, running = -1;  // after the wait
  long rss_kb = -1, hwm_kb = -1;
  double stop_seconds = 0;
  int exit_code = -1;
  std::string problem;
};

std::string tail(const std::string& s, std::size_t n = 1500) { return s.size() <= n ? s : s.substr(s.size() - n); }

MemoryRow measure_serve(const Options& o, long queued_jobs) {
  MemoryRow row{.submitted = queued_jobs};
  auto scratch = scratch_database(o);
  const auto& db = *scratch;
  testing::TempDir data("igb-bench-serve-");
  core::SystemClock clock;
  {
    auto store = storage::open_store({.database_url = db.url(), .pool_size = 2});
    const int users = users_for(std::max(queued_jobs, 1L));
    create_users(*store, users, clock.now());
    const auto plans = bench_plans();
    core::JobService jobs(*store, clock, plans, kNoFreeBrake);
    const auto s0 = Clock::now();
    submit_jobs(jobs, queued_jobs, users);
    row.submit_seconds = ms_between(s0, Clock::now()) / 1000;
  }
  // Takes every request and never answers: the service's slots wait on it (until the provider
  // timeout, 120 s, far beyond the measurement).
  testing::FakeHttpServer never(
      [](const testing::FakeRequest&) { return testing::FakeResponse{.no_response_hang = true}; });
  // serve runs the HTTP API too (on a free port).
  testing::ChildProcess serve(
      testing::ServiceEnv(
          {.database_url = db.url(), .dir = data.path(), .hf_api_base = never.base_url(), .hf_token = "hf_bench"})
          .set("WORKER_CONCURRENCY", std::to_string(o.slots))
          .set("SHUTDOWN_GRACE_SECONDS", "1")
          .command({"--env-file", "", "serve"}));
  if (!serve.wait_for_output("imggenbot is up", 60s)) {
    row.problem = "imggenbot serve did not start: " + tail(serve.err_so_far());
    return row;
  }
  const auto expected_calls = static_cast<std::size_t>(std::min<long>(queued_jobs, o.slots));
  if (expected_calls > 0 && !never.wait_for_requests(expected_calls, 60s)) {
    row.problem = "the worker slots did not all call the provider: " + tail(serve.err_so_far());
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.memory_seconds));
  if (!serve.running()) {
    row.problem = "imggenbot serve stopped by itself: " + tail(serve.err_so_far());
    return row;
  }
  auto status = bench::proc_status(serve.pid());
  row.rss_kb = status.contains("VmRSS") ? status["VmRSS"] : -1;
  row.hwm_kb = status.contains("VmHWM") ? status["VmHWM"] : -1;
  {
    auto store = storage::open_store({.database_url = db.url(), .pool_size = 1, .migrate = false});
    auto tx = store->begin(core::TxMode::read);
    row.queued = tx->count_jobs(core::JobStatus::queued);
    row.running = tx->count_jobs(core::JobStatus::running);
  }
  const auto t0 = Clock::now();
  serve.send(SIGTERM);
  auto result = serve.wait(60s);
  row.stop_seconds = ms_between(t0, Clock::now()) / 1000;
  row.exit_code = result.signal != 0 ? 128 + result.signal : result.exit_code;
  if (row.exit_code != 0)
    row.problem = "imggenbot serve exited with " + std::to_string(row.exit_code) + ": " + tail(result.err);
  never.stop();
  return row;
}

int run_memory(const Options& o) {
  std::printf(
      "%s%s; `%s serve` (this build) with WORKER_CONCURRENCY=%d, DB_POOL_SIZE default (%d), a fake Hugging "
      "Face server on 127.0.0.1 that never answers; VmRSS and VmHWM read from /proc/<pid>/status %g s after "
      "start-up (with queued jobs: after every slot has called the provider)\n%s",
      o.markdown ? "" : "# ", describe_database(o).c_str(), IMGGENBOT_BIN, o.slots, default_db_pool_size(),
      o.memory_seconds, o.markdown ? "\n" : "");
  std::fflush(stdout);
  std::vector<MemoryRow> rows;
  for (long n : {0L, o.memory_jobs}) rows.push_back(measure_serve(o, n));
  int status = 0;
  std::vector<std::vector<std::string>> table;
  auto mb = [](long kb) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(kb) / 1024);
    return kb < 0 ? std::string("?") : std::string(buf);
  };
  for (const auto& r : rows) {
    if (!r.problem.empty()) {
      std::fprintf(stderr, "bench: %ld queued: %s\n", r.submitted, r.problem.c_str());
      status = 1;
    }
    char stop[32];
    std::snprintf(stop, sizeof(stop), "%.2f", r.stop_seconds);
    table.push_back({std::to_string(r.submitted), std::to_string(r.queued), std::to_string(r.running), mb(r.rss_kb),
                     mb(r.hwm_kb), stop, std::to_string(r.exit_code)});
  }
  bench::print_table(o.markdown,
                     {"jobs submitted", "queued at the reading", "running", "VmRSS MiB", "VmHWM MiB",
                      "SIGTERM to exit s", "exit code"},
                     table);
  std::printf(
      "\nThe queue lives in the database: a slot claims one job at a time, so the process holds only the "
      "jobs in hand. SHUTDOWN_GRACE_SECONDS=1 (the provider never answers, so the slots are canceled after "
      "it and hand their jobs back).\n");
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App cli{
      "Measures the generation worker: jobs per second through queue and worker slots against an instant "
      "fake provider, the time a worker adds around a provider call, and (--memory) the resident memory "
      "of `imggenbot serve` with a long queue",
      "imggenbot-bench-worker"};
  cli.add_option("--database-url", o.database_url,
                 "'sqlite' (a temporary file) or a postgresql:// URL (a temporary schema in that database)")
      ->capture_default_str();
  cli.add_option("--jobs", o.jobs, "jobs per queue run")->check(CLI::Range(2L, 10'000'000L))->capture_default_str();
  cli.add_option("--slots", o.slots, "worker slots (a 1-slot run is always made too); --memory: WORKER_CONCURRENCY")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cli.add_option("--image-size", o.image_size, "side of the fake provider's PNGs")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cli.add_option("--calls", o.calls, "router.generate() calls timed alone")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cli.add_option("--timeout", o.timeout_seconds, "seconds a queue run may take at most (then it fails)")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  cli.add_flag("--memory", o.memory, "measure the memory of `imggenbot serve` with a long queue instead");
  cli.add_option("--memory-jobs", o.memory_jobs, "--memory: jobs queued")
      ->check(CLI::Range(1L, 10'000'000L))
      ->capture_default_str();
  cli.add_option("--memory-seconds", o.memory_seconds, "--memory: seconds between the slots' calls and the reading")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  cli.add_flag("--markdown", o.markdown, "print markdown tables");
  CLI11_PARSE(cli, argc, argv);

  if (o.database_url == "sqlite" || o.database_url == "sqlite://") {
    o.database_url = "sqlite";
  } else if (!o.database_url.starts_with("postgresql://") && !o.database_url.starts_with("postgres://")) {
    std::fprintf(stderr,
                 "bench: --database-url must be 'sqlite' or a postgresql:// URL (SQLite always uses a "
                 "fresh temporary file)\n");
    return 2;
  }
  try {
    return o.memory ? run_memory(o) : run_throughput(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 1;
  }
}
