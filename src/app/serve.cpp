#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>

#include "runtime/blocking_pool.hpp"
#include "runtime/supervisor.hpp"

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

}  // namespace

int serve(Services& s, const ServeOptions& options) {
  net::io_context io;
  runtime::BlockingPool pool(static_cast<std::size_t>(s.config.db_pool_size));
  runtime::Supervisor supervisor(io.get_executor());
  int exit_code = 0;

  net::signal_set signals(io, SIGINT, SIGTERM);
  net::steady_timer grace_timer(io);
  bool stopping = false;
  auto shutdown = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("shutting down ({})", why);
    signals.cancel();
    supervisor.cancel_all();
    // Whatever has not finished when the grace period ends is abandoned; jobs it held come back
    // to the queue when their lease runs out.
    grace_timer.expires_after(std::chrono::seconds(s.config.shutdown_grace_seconds));
    grace_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::warn("{} task(s) still running after the grace period; exiting anyway", supervisor.running());
      exit_code = 1;
      io.stop();
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
  // The HTTP API, the Telegram bot and the generation workers join here as they are built.
  std::vector<std::string> missing;
  if (options.api) missing.emplace_back("api");
  if (options.bot) missing.emplace_back("bot");
  if (options.workers) missing.emplace_back("worker");
  if (!missing.empty()) {
    spdlog::warn("roles not in this build yet: {}; running the queue maintenance only", fmt::join(missing, ", "));
  }
  spdlog::info("imggenbot is up (database {}); Ctrl-C to stop", config::redact_database_url(s.config.database_url));

  io.run();
  pool.stop();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace igb::app
