#pragma once
#include <memory>
#include <string>

#include "core/store.hpp"
#include "storage/sql.hpp"

namespace igb::storage {

// On PostgreSQL a transaction that queues a job (new, retried, handed back, reaped) sends NOTIFY on
// this channel as it commits, so idle workers of every process can LISTEN instead of polling hard.
inline constexpr const char* kJobsChannel = "igb_jobs";

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
};

// Opens the database named by the URL (creating a SQLite file and its folder if needed), checks one
// connection works and, unless told not to, migrates it. Throws DbError.
std::unique_ptr<core::Store> open_store(const StoreOptions& options);

// One connection outside any pool, for tools (migrate, version checks).
std::unique_ptr<Connection> open_connection(const DatabaseTarget& target);

}  // namespace igb::storage
