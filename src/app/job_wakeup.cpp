#include "app/job_wakeup.hpp"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "storage/postgres/pg_connection.hpp"
#include "storage/store.hpp"

namespace igb::app {

namespace net = boost::asio;

net::awaitable<void> listen_for_jobs(JobWakeupOptions options, runtime::BlockingPool& pool,
                                     std::function<void()> wake) {
  const auto executor = co_await net::this_coro::executor;
  net::steady_timer retry_timer(executor);
  auto backoff = options.min_backoff;
  auto open = [&options] {
    auto conn = storage::PgConnection::open(options.database_url);
    conn->execute_script(std::string("LISTEN ") + storage::kJobsChannel);
    return conn;
  };
  while (true) {
    std::string problem;
    std::unique_ptr<storage::PgConnection> conn;
    try {
      conn = co_await pool.run(open);
    } catch (const storage::DbError& e) {
      problem = e.what();
    }
    if (conn) {
      spdlog::info("workers wake on PostgreSQL NOTIFY {}", storage::kJobsChannel);
      backoff = options.min_backoff;
      wake();
      try {
        // libpq owns the socket: the descriptor only watches it and gives it back, never closes it.
        net::posix::stream_descriptor socket(executor, conn->socket());
        struct GiveBack {
          net::posix::stream_descriptor& socket;
          ~GiveBack() { socket.release(); }
        } give_back{socket};
        while (true) {
          co_await socket.async_wait(net::posix::stream_descriptor::wait_read, net::use_awaitable);
          if (conn->take_notifications() > 0) wake();
        }
      } catch (const storage::DbError& e) {
        problem = e.what();
      } catch (const boost::system::system_error& e) {
        if (e.code() == net::error::operation_aborted) throw;
        problem = e.what();
      }
    }
    spdlog::warn("job wake-up connection: {}; reconnecting in {} ms (workers poll meanwhile)", problem,
                 backoff.count());
    retry_timer.expires_after(backoff);
    co_await retry_timer.async_wait(net::use_awaitable);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

}  // namespace igb::app
