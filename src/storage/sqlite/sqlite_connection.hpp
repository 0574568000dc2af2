#pragma once
#include <memory>
#include <string>
#include <unordered_map>

#include "storage/sql.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace igb::storage {

// One SQLite connection in WAL mode with a busy timeout, so several connections (threads or
// processes) can share one file: readers run concurrently, writers wait their turn.
class SqliteConnection final : public Connection {
 public:
  static std::unique_ptr<SqliteConnection> open(const std::string& path);
  ~SqliteConnection() override;

  Dialect dialect() const override { return Dialect::sqlite; }
  void execute_script(std::string_view sql) override;
  QueryResult query(std::string_view sql, std::span<const SqlParam> params) override;
  bool healthy() const override { return db_ != nullptr; }

  // $1…$n → ?1…?n, leaving string literals alone.
  static std::string rewrite_placeholders(std::string_view sql);

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3_stmt* prepare(std::string_view sql);
  [[noreturn]] void fail(int rc, std::string_view what);

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> statements_;
};

}  // namespace igb::storage
