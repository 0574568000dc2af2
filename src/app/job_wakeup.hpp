#pragma once
// Hears of other processes' jobs through PostgreSQL LISTEN/NOTIFY: queued ones wake this process's
// idle workers (storage::kJobsChannel), changed ones wake status streams (storage::kJobChangesChannel).
// Polling stays the fallback; this only makes it rarely needed.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/blocking_pool.hpp"

namespace igb::app {

struct JobWakeupOptions {
  std::string database_url;  // postgresql://…
  std::chrono::milliseconds min_backoff{500};
  std::chrono::milliseconds max_backoff{30'000};
};

struct JobEvents {
  std::function<void()> queued;  // a job was queued somewhere
  // A job was written somewhere (status, progress); null: job changes are not listened for.
  std::function<void(std::string_view job_id)> changed;
  // After every (re)connect: notifications may have been missed while away.
  std::function<void()> resync;
};

// Keeps one dedicated connection LISTENing and calls the handlers (on the caller's executor) as
// notifications arrive. The socket is waited on asynchronously; connecting runs on the blocking pool.
// A lost connection is reopened with doubling back-off. Runs until canceled.
boost::asio::awaitable<void> listen_for_jobs(JobWakeupOptions options, runtime::BlockingPool& pool, JobEvents events);

// The job ids of one kJobChangesChannel payload: at most 1,000, each 1-64 characters; the rest is
// ignored.
std::vector<std::string_view> split_job_ids(std::string_view payload);

}  // namespace igb::app
