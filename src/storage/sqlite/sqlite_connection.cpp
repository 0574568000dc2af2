#include "storage/sqlite/sqlite_connection.hpp"

#include <sqlite3.h>

namespace igb::storage {

std::unique_ptr<SqliteConnection> SqliteConnection::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw DbError(DbError::Kind::connection, "cannot open SQLite database " + path + ": " + msg);
  }
  std::unique_ptr<SqliteConnection> conn(new SqliteConnection(db));
  sqlite3_busy_timeout(db, 10000);
  conn->execute_script(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;");
  return conn;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [_, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

void SqliteConnection::fail(int rc, std::string_view what) {
  int primary = rc & 0xFF;
  auto kind = DbError::Kind::other;
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    kind = DbError::Kind::unique_violation;
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    kind = DbError::Kind::busy;
  else if (primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_CANTOPEN)
    kind = DbError::Kind::connection;
  throw DbError(kind, std::string(what) + ": " + sqlite3_errmsg(db_));
}

void SqliteConnection::execute_script(std::string_view sql) {
  char* err = nullptr;
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    sqlite3_free(err);
    fail(sqlite3_extended_errcode(db_), "SQLite script failed");
  }
}

std::string SqliteConnection::rewrite_placeholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_string = false;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'') in_string = !in_string;
    if (!in_string && c == '$' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      out.push_back('?');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

sqlite3_stmt* SqliteConnection::prepare(std::string_view sql) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  std::string text = rewrite_placeholders(sql);
  sqlite3_stmt* stmt = nullptr;
  int rc =
      sqlite3_prepare_v3(db_, text.c_str(), static_cast<int>(text.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) fail(sqlite3_extended_errcode(db_), "SQLite prepare failed");
  statements_.emplace(std::string(sql), stmt);
  return stmt;
}

QueryResult SqliteConnection::query(std::string_view sql, std::span<const SqlParam> params) {
  sqlite3_stmt* stmt = prepare(sql);
  struct Reset {
    sqlite3_stmt* s;
    ~Reset() {
      sqlite3_reset(s);
      sqlite3_clear_bindings(s);
    }
  } reset{stmt};
  for (std::size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i + 1);
    int rc = std::visit(
        [&](const auto& v) -> int {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::nullptr_t>)
            return sqlite3_bind_null(stmt, idx);
          else if constexpr (std::is_same_v<V, std::int64_t>)
            return sqlite3_bind_int64(stmt, idx, v);
          else
            return sqlite3_bind_text(stmt, idx, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
        },
        params[i]);
    if (rc != SQLITE_OK) fail(rc, "SQLite bind failed");
  }
  QueryResult result;
  const int ncols = sqlite3_column_count(stmt);
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) fail(sqlite3_extended_errcode(db_), "SQLite statement failed");
    std::vector<std::optional<std::string>> cols;
    cols.reserve(ncols);
    for (int c = 0; c < ncols; ++c) {
      if (sqlite3_column_type(stmt, c) == SQLITE_NULL) {
        cols.emplace_back(std::nullopt);
      } else {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        cols.emplace_back(std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, c))));
      }
    }
    result.rows.emplace_back(std::move(cols));
  }
  result.affected = sqlite3_changes64(db_);
  return result;
}

}  // namespace igb::storage
