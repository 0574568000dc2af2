#include "storage/migrations.hpp"

#include <ctime>
#include <string>

namespace igb::storage {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at BIGINT NOT NULL)";
// An arbitrary constant naming the migration lock among the server's advisory locks.
constexpr std::int64_t kAdvisoryLockId = 0x16b6e7b07;

int latest(Connection& conn) {
  auto r = conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  return static_cast<int>(r.rows.at(0).i64(0));
}

}  // namespace

int schema_version(Connection& conn) {
  conn.execute_script(kCreateTable);
  return latest(conn);
}

int migrate(Connection& conn) {
  const auto& all = embedded_migrations(conn.dialect());
  const bool pg = conn.dialect() == Dialect::postgres;
  int applied = 0;
  conn.execute_script(pg ? "SELECT pg_advisory_lock(" + std::to_string(kAdvisoryLockId) + ")" : "SELECT 1");
  try {
    conn.execute_script(kCreateTable);
    int current = latest(conn);
    if (!all.empty() && current > all.back().version) {
      throw DbError(DbError::Kind::other, "the database schema (version " + std::to_string(current) +
                                              ") is newer than this program (" + std::to_string(all.back().version) +
                                              "); upgrade imggenbot");
    }
    for (const auto& m : all) {
      if (m.version <= current) continue;
      conn.execute_script(pg ? "BEGIN" : "BEGIN IMMEDIATE");
      try {
        // Another process may have applied it while we waited for the write lock (SQLite).
        if (latest(conn) >= m.version) {
          conn.execute_script("ROLLBACK");
          continue;
        }
        conn.execute_script(m.sql);
        conn.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                   {static_cast<std::int64_t>(m.version), std::string(m.name),
                    static_cast<std::int64_t>(std::time(nullptr)) * 1000});
        conn.execute_script("COMMIT");
        ++applied;
      } catch (...) {
        try {
          conn.execute_script("ROLLBACK");
        } catch (...) {}
        throw;
      }
    }
  } catch (...) {
    if (pg) try {
        conn.execute_script("SELECT pg_advisory_unlock(" + std::to_string(kAdvisoryLockId) + ")");
      } catch (...) {}
    throw;
  }
  if (pg) conn.execute_script("SELECT pg_advisory_unlock(" + std::to_string(kAdvisoryLockId) + ")");
  return applied;
}

}  // namespace igb::storage
