#pragma once
// The generation worker: claims jobs from the durable queue, runs them through the provider router
// while renewing the lease, checks and stores the image, and records the outcome. Retries use
// exponential back-off with jitter, honouring the provider's own hint (estimated_time, Retry-After).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <string>

#include "core/jobs.hpp"
#include "gen/router.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::worker {

namespace net = boost::asio;

struct WorkerOptions {
  std::string id;  // unique per process; the lease owner
  std::chrono::milliseconds idle_poll{500};       // wait between empty claims
  std::chrono::milliseconds heartbeat{};          // default: a third of the lease
  // How often a running job is looked at between heartbeats: a cancel stops the provider call
  // within this (the user is charged for a started call; the call should not run on for nothing).
  std::chrono::milliseconds cancel_check{2'000};
  std::chrono::milliseconds backoff_base{2'000};  // first retry delay, doubled per attempt
  std::chrono::milliseconds backoff_max{120'000};
};

// What happened to one claimed job, for tests and logs.
enum class JobOutcome { succeeded, cached, retrying, failed, lease_lost, handed_back };
const char* to_string(JobOutcome o);
// The failure a job records for a provider's: what the user can act on (rephrase the prompt, change
// the settings, or try again later); billing, credential and model problems are the operator's.
core::FailureCode failure_code(gen::FailureKind kind);

class Worker {
 public:
  Worker(core::JobService& jobs, runtime::BlockingPool& pool, gen::Router& router, imaging::ImageStore& images,
         const core::Clock& clock, WorkerOptions options);

  // One slot: claims and processes jobs one after another until drain() or cancellation. Run as
  // many slots as the process's WORKER_CONCURRENCY.
  net::awaitable<void> run_slot();
  // Claims and processes one job; nullopt if the queue had nothing due.
  net::awaitable<std::optional<JobOutcome>> process_next();
  // Stop claiming; slots return after their current job.
  void drain();
  // Wake idle slots now (a job was just queued, in this process or, through LISTEN/NOTIFY, another).
  // A slot that is claiming at that moment claims again instead of going idle.
  void notify();

  const std::string& id() const { return options_.id; }
  std::chrono::milliseconds retry_delay(int attempt, std::optional<std::chrono::milliseconds> hint);

 private:
  // Wraps the outcome so that the race's result keeps the outcome's variant as one alternative.
  struct Generated {
    gen::GenerationOutcome outcome;
  };
  net::awaitable<Generated> generate(gen::GenerationRequest request, std::int64_t* progress);
  net::awaitable<JobOutcome> process(core::Job job);
  net::awaitable<JobOutcome> record_success(std::string job_id, core::Image image, std::optional<std::int64_t> seed,
                                            bool seed_applied, core::ServedBy served);
  net::awaitable<bool> keep_lease(std::string job_id, std::int64_t* progress);

  core::JobService& jobs_;
  runtime::BlockingPool& pool_;
  gen::Router& router_;
  imaging::ImageStore& images_;
  const core::Clock& clock_;
  WorkerOptions options_;
  bool draining_ = false;
  std::vector<net::steady_timer*> idle_timers_;
  std::uint64_t notifications_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace igb::worker
