#pragma once
// Wakes this process's idle workers when any process queues a job, through PostgreSQL LISTEN/NOTIFY
// (storage::kJobsChannel). Polling stays the fallback; this only makes it rarely needed.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "runtime/blocking_pool.hpp"

namespace igb::app {

struct JobWakeupOptions {
  std::string database_url;  // postgresql://…
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

// Keeps one dedicated connection LISTENing and calls `wake` (on the caller's executor) whenever
// notifications arrive, and once after every (re)connect, since jobs may have been queued while it
// was away. The socket is waited on asynchronously; connecting runs on the blocking pool. A lost
// connection is reopened with doubling back-off. Runs until canceled.
boost::asio::awaitable<void> listen_for_jobs(JobWakeupOptions options, runtime::BlockingPool& pool,
                                             std::function<void()> wake);

}  // namespace igb::app
