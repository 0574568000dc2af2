#include "worker/worker.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/styles.hpp"

namespace igb::worker {

using namespace net::experimental::awaitable_operators;

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
  for (auto* t : idle_timers_) t->cancel();
}

net::awaitable<void> Worker::run_slot() {
  net::steady_timer idle(co_await net::this_coro::executor);
  while (!draining_) {
    if (co_await process_next()) continue;
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
  auto job = co_await pool_.run([this] { return jobs_.claim(options_.id); });
  if (!job) co_return std::nullopt;
  co_return co_await process(std::move(*job));
}

net::awaitable<bool> Worker::keep_lease(std::string job_id, std::int64_t* progress) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (true) {
    timer.expires_after(options_.heartbeat);
    co_await timer.async_wait(net::use_awaitable);
    const int p = static_cast<int>(*progress);
    bool held = co_await pool_.run([&, p] { return jobs_.heartbeat(job_id, options_.id, p); });
    if (!held) co_return false;
  }
}

net::awaitable<Worker::Generated> Worker::generate(gen::GenerationRequest request, std::int64_t* progress) {
  co_return Generated{co_await router_.generate(std::move(request), [progress](int p) { *progress = p; })};
}

net::awaitable<JobOutcome> Worker::process(core::Job job) {
  const auto started = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  };
  auto finish_ok = [&](const core::Image& image, std::optional<std::int64_t> seed) -> net::awaitable<JobOutcome> {
    auto st = co_await pool_.run([&] { return jobs_.succeed(job.id, options_.id, image, seed); });
    co_return st.ok() ? JobOutcome::succeeded : JobOutcome::lease_lost;
  };

  if (job.cache_key) {
    auto cached = co_await pool_.run([&] {
      auto img = jobs_.cached_image(job);
      return img && images_.exists(*img) ? img : std::nullopt;
    });
    if (cached) {
      auto outcome = co_await finish_ok(*cached, std::nullopt);
      spdlog::info("job {} served from the image cache", job.id);
      co_return outcome == JobOutcome::succeeded ? JobOutcome::cached : outcome;
    }
  }

  const std::int64_t seed =
      job.params.seed ? *job.params.seed : static_cast<std::int64_t>(rng_() % 4294967296ULL);
  gen::GenerationRequest request{.prompt = core::apply_style(job.params.prompt, job.params.style),
                                 .width = job.params.width, .height = job.params.height,
                                 .steps = job.params.steps, .seed = seed, .model = job.params.model};
  std::int64_t progress = 0;
  // The generation races the lease keeper: whichever ends first cancels the other.
  std::variant<Generated, bool> raced;
  bool interrupted = false;
  try {
    raced = co_await (generate(request, &progress) || keep_lease(job.id, &progress));
  } catch (const boost::system::system_error& e) {
    if (e.code() != net::error::operation_aborted) throw;
    interrupted = true;
  }
  if (interrupted) {
    // Shutting down mid-generation: give the job back so another worker runs it now, not after
    // the lease runs out.
    co_await net::this_coro::reset_cancellation_state();
    auto st = co_await pool_.run([&] { return jobs_.hand_back(job.id, options_.id); });
    spdlog::info("job {} handed back on shutdown ({})", job.id, st.ok() ? "ok" : st.error().public_message);
    throw boost::system::system_error(net::error::operation_aborted);
  }
  if (raced.index() == 1) {
    spdlog::info("job {} is no longer ours (canceled or lease lost); dropped its generation", job.id);
    co_return JobOutcome::lease_lost;
  }
  auto outcome = std::get<0>(std::move(raced)).outcome;

  gen::GenerationFailure failure;
  if (auto* image = std::get_if<gen::GeneratedImage>(&outcome)) {
    auto stored = co_await pool_.run([&] { return images_.put(image->bytes, clock_.now()); });
    if (stored) {
      auto result = co_await finish_ok(*stored, job.params.seed ? std::nullopt : std::optional(seed));
      spdlog::info("job {} {} in {} ms ({}x{}, {} bytes)", job.id, to_string(result), elapsed_ms(), stored->width,
                   stored->height, stored->size_bytes);
      co_return result;
    }
    failure = {.kind = gen::FailureKind::retry_later,
               .detail = "the provider's answer is not a valid image: " + stored.error().internal_detail};
  } else {
    failure = std::get<gen::GenerationFailure>(std::move(outcome));
  }

  const bool retryable = gen::is_retryable(failure.kind);
  const auto delay = retry_delay(job.attempts, failure.retry_after);
  const bool will_retry = retryable && job.attempts < job.max_attempts;
  spdlog::warn("job {} attempt {}/{} failed via {} ({}): {}; {}", job.id, job.attempts, job.max_attempts,
               failure.backend.empty() ? "-" : failure.backend, gen::to_string(failure.kind), failure.detail,
               will_retry ? "retrying in " + std::to_string(delay.count()) + " ms" : std::string("giving up"));
  auto st = co_await pool_.run([&] {
    return jobs_.fail(job.id, options_.id, gen::public_message(failure.kind),
                      retryable ? std::optional(std::chrono::duration_cast<core::Millis>(delay)) : std::nullopt);
  });
  if (!st.ok()) co_return JobOutcome::lease_lost;
  co_return will_retry ? JobOutcome::retrying : JobOutcome::failed;
}

}  // namespace igb::worker
