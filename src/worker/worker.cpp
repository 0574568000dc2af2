#include "worker/worker.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <system_error>

#include "core/styles.hpp"
#include "worker/answer_check.hpp"

namespace igb::worker {

namespace {

bool is_operation_aborted(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code() == net::error::operation_aborted;
  } catch (...) {
    return false;
  }
}

}  // namespace

core::FailureCode failure_code(gen::FailureKind kind) {
  switch (kind) {
    case gen::FailureKind::content_refused: return core::FailureCode::content_refused;
    case gen::FailureKind::invalid_request: return core::FailureCode::invalid_request;
    case gen::FailureKind::retry_later:
    case gen::FailureKind::billing:
    case gen::FailureKind::bad_credentials:
    case gen::FailureKind::model_unavailable:
    case gen::FailureKind::permanent: return core::FailureCode::unavailable;
  }
  return core::FailureCode::unavailable;
}

const char* to_string(JobOutcome o) {
  switch (o) {
    case JobOutcome::succeeded: return "succeeded";
    case JobOutcome::cached: return "cached";
    case JobOutcome::retrying: return "retrying";
    case JobOutcome::failed: return "failed";
    case JobOutcome::lease_lost: return "lease_lost";
    case JobOutcome::handed_back: return "handed_back";
  }
  return "?";
}

Worker::Worker(core::JobService& jobs, runtime::BlockingPool& pool, gen::Router& router, imaging::ImageStore& images,
               const core::Clock& clock, WorkerOptions options)
    : jobs_(jobs), pool_(pool), router_(router), images_(images), clock_(clock), options_(std::move(options)) {
  if (options_.heartbeat.count() <= 0) options_.heartbeat = jobs_.options().lease / 3;
}

std::chrono::milliseconds Worker::retry_delay(int attempt, std::optional<std::chrono::milliseconds> hint) {
  const int doublings = std::clamp(attempt - 1, 0, 20);
  auto delay = std::min<std::chrono::milliseconds>(options_.backoff_max, options_.backoff_base * (1LL << doublings));
  // "Equal jitter": between half and all of the delay, so retries of many jobs spread out.
  std::uniform_int_distribution<long long> jitter(delay.count() / 2, delay.count());
  delay = std::chrono::milliseconds(jitter(rng_));
  if (hint && *hint > delay) delay = std::min(*hint, std::chrono::milliseconds(std::chrono::hours(1)));
  return delay;
}

void Worker::drain() {
  draining_ = true;
  notify();
}

void Worker::notify() {
  ++notifications_;
  for (auto* t : idle_timers_) t->cancel();
}

net::awaitable<void> Worker::run_slot() {
  net::steady_timer idle(co_await net::this_coro::executor);
  while (!draining_) {
    // One job's trouble (a broken answer that throws, the database gone for a moment) must not stop
    // the slot: log it, pause, and go on. Cancellation (shutdown) ends the slot.
    std::exception_ptr error;
    const auto notified_before = notifications_;
    try {
      if (co_await process_next()) continue;
    } catch (...) {
      error = std::current_exception();
    }
    if (error) {
      if (is_operation_aborted(error)) std::rethrow_exception(error);
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("worker {}: {}", options_.id, e.what());
      }
    }
    if (notifications_ != notified_before && !error) continue;  // a job was queued while we claimed
    idle.expires_after(options_.idle_poll);
    idle_timers_.push_back(&idle);
    boost::system::error_code ec;  // operation_aborted: notify() or drain() woke us
    co_await idle.async_wait(net::redirect_error(net::use_awaitable, ec));
    std::erase(idle_timers_, &idle);
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
      throw boost::system::system_error(net::error::operation_aborted);
    }
  }
}

net::awaitable<std::optional<JobOutcome>> Worker::process_next() {
  auto claim = [this] { return jobs_.claim(options_.id); };
  auto job = co_await pool_.run(claim);
  if (!job) co_return std::nullopt;
  const std::string job_id = job->id;
  const int attempts = job->attempts;
  std::exception_ptr error;
  try {
    co_return co_await process(std::move(*job));
  } catch (...) {
    error = std::current_exception();
  }
  if (is_operation_aborted(error)) std::rethrow_exception(error);
  // A bug or an infrastructure failure while handling this job: count the attempt and let the job
  // come back later (or fail for good, releasing its quota) instead of waiting for the lease.
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    spdlog::error("job {} attempt {} failed unexpectedly: {}", job_id, attempts, e.what());
  }
  const auto delay = std::chrono::duration_cast<core::Millis>(retry_delay(attempts, std::nullopt));
  auto record_failure = [&] { return jobs_.fail(job_id, options_.id, core::FailureCode::unavailable, delay); };
  auto st = co_await pool_.run(record_failure);
  co_return st.ok() ? JobOutcome::retrying : JobOutcome::lease_lost;
}

// Renews the lease every heartbeat and, in between, looks every cancel_check whether the job is
// still ours (a read), so a cancel ends the provider call within seconds.
net::awaitable<bool> Worker::keep_lease(std::string job_id, std::int64_t* progress) {
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto step = std::min(options_.heartbeat, options_.cancel_check);
  auto since_renewal = std::chrono::milliseconds(0);
  while (true) {
    timer.expires_after(step);
    co_await timer.async_wait(net::use_awaitable);
    since_renewal += step;
    bool held = false;
    if (since_renewal >= options_.heartbeat) {
      since_renewal = {};
      const int p = static_cast<int>(*progress);
      auto renew = [&, p] { return jobs_.heartbeat(job_id, options_.id, p); };
      held = co_await pool_.run(renew);
    } else {
      auto look = [&] { return jobs_.held_by(job_id, options_.id); };
      held = co_await pool_.run(look);
    }
    if (!held) co_return false;
  }
}

net::awaitable<Worker::Generated> Worker::generate(gen::GenerationRequest request, std::int64_t* progress) {
  // Await into a local first: GCC 12 miscompiles a co_await inside a braced initializer
  // (`Generated{co_await …}`): the awaited outcome's strings are freed while still in use.
  gen::ProgressFn on_progress = [progress](int p) { *progress = p; };
  // An image far larger than requested (answer_check.hpp) fails that backend and the router fails over.
  auto outcome = co_await router_.generate(std::move(request), std::move(on_progress), check_answer);
  co_return Generated{std::move(outcome)};
}

net::awaitable<JobOutcome> Worker::record_success(std::string job_id, core::Image image,
                                                  std::optional<std::int64_t> seed, bool seed_applied,
                                                  core::ServedBy served) {
  auto succeed = [&] { return jobs_.succeed(job_id, options_.id, image, seed, seed_applied, served); };
  auto st = co_await pool_.run(succeed);
  co_return st.ok() ? JobOutcome::succeeded : JobOutcome::lease_lost;
}

net::awaitable<JobOutcome> Worker::process(core::Job job) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  };

  if (job.cache_key) {
    auto find_cached = [&] {
      auto img = jobs_.cached_image(job);
      return img && images_.exists(*img) ? img : std::nullopt;
    };
    auto cached = co_await pool_.run(find_cached);
    if (cached) {
      auto succeed = [&] { return jobs_.succeed_from_cache(job.id, options_.id, *cached); };
      auto st = co_await pool_.run(succeed);
      if (!st.ok()) co_return JobOutcome::lease_lost;
      spdlog::info("job {} served from the image cache", job.id);
      co_return JobOutcome::cached;
    }
  }

  const std::int64_t seed = job.params.seed ? *job.params.seed : static_cast<std::int64_t>(rng_() % 4294967296ULL);
  gen::GenerationRequest request{.prompt = core::apply_style(job.params.prompt, job.params.style),
                                 .width = job.params.width,
                                 .height = job.params.height,
                                 .steps = job.params.steps,
                                 .seed = seed,
                                 .model = job.params.model};
  std::int64_t progress = 0;
  // The generation races the lease keeper: whichever ends first, with a value or an exception,
  // cancels the other. Not operator||: in Boost 1.81 it waits for one side to *succeed*, so an
  // exception from the generation left the keeper renewing the lease for ever, and a shutdown that
  // cancels both sides came out as multiple_exceptions instead of operation_aborted.
  const auto executor = co_await net::this_coro::executor;
  auto raced = co_await net::experimental::make_parallel_group(
                   net::co_spawn(executor, generate(request, &progress), net::deferred),
                   net::co_spawn(executor, keep_lease(job.id, &progress), net::deferred))
                   .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
  const bool generation_first = std::get<0>(raced)[0] == 0;
  const std::exception_ptr error = generation_first ? std::get<1>(raced) : std::get<3>(raced);
  const bool interrupted = error && is_operation_aborted(error);
  if (error && !interrupted) std::rethrow_exception(error);
  if (interrupted) {
    // Shutting down mid-generation: give the job back so another worker runs it now, not after
    // the lease runs out.
    co_await net::this_coro::reset_cancellation_state();
    auto hand_back = [&] { return jobs_.hand_back(job.id, options_.id); };
    auto st = co_await pool_.run(hand_back);
    spdlog::info("job {} handed back on shutdown ({})", job.id, st.ok() ? "ok" : st.error().public_message);
    throw boost::system::system_error(net::error::operation_aborted);
  }
  if (!generation_first) {
    spdlog::info("job {} is no longer ours (canceled or lease lost); dropped its generation", job.id);
    co_return JobOutcome::lease_lost;
  }
  auto outcome = std::move(std::get<2>(raced).outcome);

  gen::GenerationFailure failure;
  if (auto* image = std::get_if<gen::GeneratedImage>(&outcome)) {
    // Canceled (or lost) while the provider answered: the image would be a file nobody owns.
    auto ours = [&] { return jobs_.held_by(job.id, options_.id); };
    const bool still_ours = co_await pool_.run(ours);
    if (!still_ours) {
      spdlog::info("job {} is no longer ours; its image is not stored", job.id);
      co_return JobOutcome::lease_lost;
    }
    // The same size limits again, now on the full decode: its memory is bounded by the request.
    // Writing the file may fail on our side (the disk full, an I/O error): not the provider's fault
    // nor a bug, so the attempt fails like a transient failure (retried, then failed with the quota
    // back) and the log says why, whether it retries, and when.
    std::string write_error;
    auto store_image = [&]() -> std::optional<core::Result<core::Image>> {
      try {
        return images_.put(image->bytes, clock_.now(), answer_limits(request.width, request.height));
      } catch (const std::system_error& e) {  // std::filesystem::filesystem_error
        write_error = e.what();
        return std::nullopt;
      }
    };
    auto stored_or_not = co_await pool_.run(store_image);
    if (!stored_or_not) {
      failure = {.kind = gen::FailureKind::retry_later, .detail = "cannot store the image: " + write_error};
    } else if (auto& stored = *stored_or_not) {
      // A provider that could not take the seed: the job records none (the user must not see a seed
      // that was never applied) and is not kept for exact repeats.
      const bool seed_applied = image->seed_applied;
      // Named before the co_await (GCC 12): who made it, for the cost recorded with the success.
      core::ServedBy served{.provider = image->provider, .model = image->model};
      auto result = co_await record_success(job.id, *stored, job.params.seed ? std::nullopt : std::optional(seed),
                                            seed_applied, served);
      spdlog::info("job {} {} in {} ms ({}x{}, {} bytes, via {}{})", job.id, to_string(result), elapsed_ms(),
                   stored->width, stored->height, stored->size_bytes, served.provider.empty() ? "-" : served.provider,
                   seed_applied ? "" : ", seed not applied by the provider");
      co_return result;
    } else {
      failure = {.kind = gen::FailureKind::retry_later,
                 .detail = "the provider's answer is not a valid image: " + stored.error().internal_detail};
    }
  } else {
    failure = std::get<gen::GenerationFailure>(std::move(outcome));
  }

  const bool retryable = gen::is_retryable(failure.kind);
  const auto delay = retry_delay(job.attempts, failure.retry_after);
  const bool will_retry = retryable && job.attempts < job.max_attempts;
  spdlog::warn("job {} attempt {}/{} failed via {} ({}): {}; {}", job.id, job.attempts, job.max_attempts,
               failure.backend.empty() ? "-" : failure.backend, gen::to_string(failure.kind), failure.detail,
               will_retry ? "retrying in " + std::to_string(delay.count()) + " ms" : std::string("giving up"));
  auto record_failure = [&] {
    return jobs_.fail(job.id, options_.id, failure_code(failure.kind),
                      retryable ? std::optional(std::chrono::duration_cast<core::Millis>(delay)) : std::nullopt);
  };
  auto st = co_await pool_.run(record_failure);
  if (!st.ok()) co_return JobOutcome::lease_lost;
  co_return will_retry ? JobOutcome::retrying : JobOutcome::failed;
}

}  // namespace igb::worker
