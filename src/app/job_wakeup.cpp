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

std::vector<std::string_view> split_job_ids(std::string_view payload) {
  constexpr std::size_t kMaxIds = 1000, kMaxId = 64;
  std::vector<std::string_view> ids;
  while (!payload.empty() && ids.size() < kMaxIds) {
    const auto comma = payload.find(',');
    auto id = payload.substr(0, comma);
    if (!id.empty() && id.size() <= kMaxId) ids.push_back(id);
    if (comma == std::string_view::npos) break;
    payload.remove_prefix(comma + 1);
  }
  return ids;
}

net::awaitable<void> listen_for_jobs(JobWakeupOptions options, runtime::BlockingPool& pool, JobEvents events) {
  const auto executor = co_await net::this_coro::executor;
  net::steady_timer retry_timer(executor);
  auto backoff = options.min_backoff;
  const bool changes = static_cast<bool>(events.changed);
  auto open = [&options, changes] {
    auto conn = storage::PgConnection::open(options.database_url);
    conn->execute_script(std::string("LISTEN ") + storage::kJobsChannel);
    if (changes) conn->execute_script(std::string("LISTEN ") + storage::kJobChangesChannel);
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
      spdlog::info("listening for PostgreSQL NOTIFY {}{}", storage::kJobsChannel,
                   changes ? std::string(" and ") + storage::kJobChangesChannel : "");
      backoff = options.min_backoff;
      if (events.resync) events.resync();
      try {
        // libpq owns the socket: the descriptor only watches it and gives it back, never closes it.
        net::posix::stream_descriptor socket(executor, conn->socket());
        struct GiveBack {
          net::posix::stream_descriptor& socket;
          ~GiveBack() { socket.release(); }
        } give_back{socket};
        while (true) {
          co_await socket.async_wait(net::posix::stream_descriptor::wait_read, net::use_awaitable);
          bool queued = false;
          for (const auto& n : conn->take_notifications()) {
            if (n.channel == storage::kJobsChannel) {
              queued = true;
            } else if (changes && n.channel == storage::kJobChangesChannel) {
              for (auto id : split_job_ids(n.payload)) events.changed(id);
            }
          }
          if (queued && events.queued) events.queued();
        }
      } catch (const storage::DbError& e) {
        problem = e.what();
      } catch (const boost::system::system_error& e) {
        if (e.code() == net::error::operation_aborted) throw;
        problem = e.what();
      }
    }
    spdlog::warn("job wake-up connection: {}; reconnecting in {} ms (polling meanwhile)", problem, backoff.count());
    retry_timer.expires_after(backoff);
    co_await retry_timer.async_wait(net::use_awaitable);
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

}  // namespace igb::app
