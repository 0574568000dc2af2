#include <algorithm>
#include <filesystem>
#include <mutex>

#include "storage/migrations.hpp"
#include "storage/postgres/pg_connection.hpp"
#include "storage/sql_tx.hpp"
#include "storage/sqlite/sqlite_connection.hpp"
#include "storage/store.hpp"

namespace igb::storage {

DatabaseTarget parse_database_url(const std::string& url) {
  constexpr std::string_view kSqlite = "sqlite://";
  if (url.starts_with(kSqlite)) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty()) throw std::invalid_argument("DATABASE_URL: sqlite:// needs a file path");
    return {Dialect::sqlite, path};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return {Dialect::postgres, url};
  throw std::invalid_argument("DATABASE_URL: expected sqlite://PATH or postgresql://…");
}

std::unique_ptr<Connection> open_connection(const DatabaseTarget& target) {
  if (target.dialect == Dialect::postgres) return PgConnection::open(target.location);
  std::filesystem::path path(target.location);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  return SqliteConnection::open(target.location);
}

namespace {

class SqlStore final : public core::Store {
 public:
  SqlStore(const DatabaseTarget& target, int pool_size, SqlTx::JobsChanged jobs_changed)
      : dialect_(target.dialect),
        pool_([target] { return open_connection(target); }, pool_size),
        jobs_changed_(std::move(jobs_changed)) {}
  std::unique_ptr<core::Tx> begin(core::TxMode mode) override {
    // SQLite has one writer at a time. Writers of this process queue on a mutex, which wakes the
    // next one as soon as the lock is free; only other processes are left to SQLite's busy handler,
    // which sleeps in growing steps (and made in-process write latency jump to tens of ms).
    std::unique_lock<std::mutex> writer;
    if (mode == core::TxMode::write && dialect_ == Dialect::sqlite) writer = std::unique_lock(writer_mutex_);
    return std::make_unique<SqlTx>(pool_.acquire(), mode, std::move(writer), jobs_changed_ ? &jobs_changed_ : nullptr);
  }
  ConnectionPool& pool() { return pool_; }

 private:
  Dialect dialect_;
  ConnectionPool pool_;
  SqlTx::JobsChanged jobs_changed_;
  std::mutex writer_mutex_;
};

}  // namespace

std::unique_ptr<core::Store> open_store(const StoreOptions& options) {
  auto store =
      std::make_unique<SqlStore>(parse_database_url(options.database_url), options.pool_size, options.on_jobs_changed);
  auto conn = store->pool().acquire();
  if (options.migrate) migrate(*conn);
  return store;
}

SqlTx::SqlTx(ConnectionPool::Lease conn, core::TxMode mode, std::unique_lock<std::mutex> writer,
             const JobsChanged* jobs_changed)
    : writer_(std::move(writer)), conn_(std::move(conn)), dialect_(conn_->dialect()), jobs_changed_(jobs_changed) {
  // A SQLite write transaction takes the write lock up front: upgrading a read lock later can fail
  // with SQLITE_BUSY without waiting, which would surface as spurious errors under load.
  if (mode == core::TxMode::write && !pg()) {
    q("BEGIN IMMEDIATE");
  } else {
    q("BEGIN");
  }
}

SqlTx::~SqlTx() {
  if (done_) return;
  try {
    conn_->execute_script("ROLLBACK");
  } catch (...) {
    // The connection reports itself unhealthy if it is broken; the pool then drops it.
  }
}

namespace {

// NOTIFY statements for the changed job ids, each payload well under PostgreSQL's 8000 bytes. Job ids
// are ours (hex), quoted anyway.
std::string job_change_notifications(const std::vector<std::string>& ids) {
  constexpr std::size_t kMaxPayload = 4000;
  std::string sql, payload;
  auto flush = [&] {
    if (payload.empty()) return;
    sql += std::string("NOTIFY ") + kJobChangesChannel + ", '" + payload + "'; ";
    payload.clear();
  };
  for (const auto& id : ids) {
    if (payload.size() + id.size() + 1 > kMaxPayload) flush();
    if (!payload.empty()) payload += ',';
    for (char c : id) {
      if (c == '\'') payload += '\'';
      payload += c;
    }
  }
  flush();
  return sql;
}

}  // namespace

void SqlTx::commit() {
  std::sort(changed_jobs_.begin(), changed_jobs_.end());
  changed_jobs_.erase(std::unique(changed_jobs_.begin(), changed_jobs_.end()), changed_jobs_.end());
  // NOTIFY is delivered only if the transaction commits; sent with COMMIT in one round trip. One
  // kJobsChannel notification per transaction is enough: a woken worker claims whatever is due.
  if (pg() && (queued_job_ || !changed_jobs_.empty())) {
    std::string script = queued_job_ ? std::string("NOTIFY ") + kJobsChannel + "; " : std::string();
    script += job_change_notifications(changed_jobs_);
    conn_->execute_script(script + "COMMIT");
  } else {
    q("COMMIT");
  }
  done_ = true;
  if (writer_.owns_lock()) writer_.unlock();
  if (jobs_changed_ && !changed_jobs_.empty()) (*jobs_changed_)(changed_jobs_);
}

}  // namespace igb::storage
