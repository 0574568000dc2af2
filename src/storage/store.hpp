#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/store.hpp"
#include "storage/sql.hpp"

namespace igb::storage {

// On PostgreSQL a transaction that queues a job (new, retried, handed back, reaped) sends NOTIFY on
// this channel as it commits, so idle workers of every process can LISTEN instead of polling hard.
inline constexpr const char* kJobsChannel = "igb_jobs";
// Every transaction that writes jobs (queued, claimed, progress, ended) sends NOTIFY on this channel as
// it commits, with the job ids joined by ',' as payload (split into several notifications if long),
// so status streams of every process hear of changes instead of polling.
inline constexpr const char* kJobChangesChannel = "igb_job_changes";

struct DatabaseTarget {
  Dialect dialect;
  std::string location;  // SQLite: a file path; PostgreSQL: the libpq URI as given
};

// sqlite://relative/path, sqlite:///absolute/path, postgresql://… or postgres://…; throws
// std::invalid_argument (without echoing the URL, which may hold a password).
DatabaseTarget parse_database_url(const std::string& url);

struct StoreOptions {
  std::string database_url;
  int pool_size = 8;
  bool migrate = true;  // apply pending migrations on open
  // Called after each commit that wrote jobs, on the committing thread, with their ids (once each).
  std::function<void(const std::vector<std::string>& job_ids)> on_jobs_changed;
};

// Opens the database named by the URL (creating a SQLite file and its folder if needed), checks one
// connection works and, unless told not to, migrates it. Throws DbError.
std::unique_ptr<core::Store> open_store(const StoreOptions& options);

// One connection outside any pool, for tools (migrate, version checks).
std::unique_ptr<Connection> open_connection(const DatabaseTarget& target);

}  // namespace igb::storage
