#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>

#include <unistd.h>

#include <optional>

#include "app/generation.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/supervisor.hpp"
#include "util/crypto.hpp"
#include "worker/worker.hpp"

namespace igb::app {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// Puts jobs of crashed workers back in the queue. Also watches its own timer: waking up much later
// than asked means something blocked the I/O thread.
net::awaitable<void> maintenance_loop(core::JobService& jobs, runtime::BlockingPool& pool,
                                      std::chrono::milliseconds period) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (true) {
    int reaped = co_await pool.run([&jobs] { return jobs.reap_expired_leases(); });
    if (reaped > 0) spdlog::info("requeued or failed {} job(s) whose worker stopped", reaped);
    timer.expires_after(period);
    const auto due = std::chrono::steady_clock::now() + period;
    co_await timer.async_wait(net::use_awaitable);
    const auto late = std::chrono::steady_clock::now() - due;
    if (late > 200ms) {
      spdlog::warn("maintenance timer fired {} ms late: the I/O thread was blocked",
                   std::chrono::duration_cast<std::chrono::milliseconds>(late).count());
    }
  }
}

std::string worker_id() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + util::random_hex(3);
}

}  // namespace

int serve(Services& s, const ServeOptions& options) {
  net::io_context io;
  runtime::BlockingPool pool(static_cast<std::size_t>(s.config.db_pool_size));
  runtime::Supervisor supervisor(io.get_executor());
  int exit_code = 0;

  std::optional<GenerationStack> generation;
  std::optional<worker::Worker> workers;

  net::signal_set signals(io, SIGINT, SIGTERM);
  net::steady_timer grace_timer(io);
  bool stopping = false;
  auto shutdown = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("shutting down ({})", why);
    signals.cancel();
    if (workers) {
      // Workers finish the job in hand (within the grace period) and claim nothing new; the other
      // tasks stop now.
      workers->drain();
      supervisor.cancel_all_except("worker-slot-");
    } else {
      supervisor.cancel_all();
    }
    // Whatever has not finished when the grace period ends is canceled; a worker hands its job
    // back to the queue.
    grace_timer.expires_after(std::chrono::seconds(s.config.shutdown_grace_seconds));
    grace_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::warn("{} task(s) still running after the grace period; handing their jobs back", supervisor.running());
      supervisor.cancel_all();
      // A task that ignores cancellation cannot hold the process: stop hard shortly after.
      grace_timer.expires_after(std::chrono::seconds(2));
      grace_timer.async_wait([&](const boost::system::error_code& ec2) {
        if (!ec2) io.stop();
      });
    });
  };
  supervisor.on_idle([&] {
    if (stopping) grace_timer.cancel();
  });
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
  });
  supervisor.on_failure([&](const std::string& task) {
    exit_code = 1;
    shutdown("task " + task + " failed");
  });

  supervisor.spawn("maintenance", maintenance_loop(*s.jobs, pool, 5s));

  if (options.workers && s.config.worker_concurrency > 0) {
    generation = build_generation(s, io.get_executor());
    workers.emplace(*s.jobs, pool, *generation->router, *generation->images, s.clock,
                   worker::WorkerOptions{.id = worker_id()});
    for (int i = 0; i < s.config.worker_concurrency; ++i) {
      supervisor.spawn("worker-slot-" + std::to_string(i), workers->run_slot());
    }
    spdlog::info("worker {}: {} generation slot(s) over {} backend(s)", workers->id(), s.config.worker_concurrency,
                 s.config.backends.size());
  }
  // The HTTP API and the Telegram bot join here as they are built.
  std::vector<std::string> missing;
  if (options.api) missing.emplace_back("api");
  if (options.bot) missing.emplace_back("bot");
  if (!missing.empty()) spdlog::warn("roles not in this build yet: {}", fmt::join(missing, ", "));
  spdlog::info("imggenbot is up (database {}); Ctrl-C to stop", config::redact_database_url(s.config.database_url));

  io.run();
  pool.stop();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace igb::app
