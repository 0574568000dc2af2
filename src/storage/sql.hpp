#pragma once
// The thin SQL layer both databases implement: run a statement with positional parameters and get
// rows back as text. Statements are written once with PostgreSQL's $1…$n placeholders; the SQLite
// connection rewrites them to ?1…?n (SQLite would read $1 as a name).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/error.hpp"

namespace igb::storage {

enum class Dialect { sqlite, postgres };

using SqlParam = std::variant<std::nullptr_t, std::int64_t, std::string>;

// Lets the statement caches look SQL text up by string_view without building a std::string.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

class Row {
 public:
  explicit Row(std::vector<std::optional<std::string>> cols) : cols_(std::move(cols)) {}
  std::size_t size() const { return cols_.size(); }
  bool is_null(std::size_t i) const { return !cols_.at(i).has_value(); }
  const std::string& text(std::size_t i) const;  // throws on NULL
  std::optional<std::string> opt_text(std::size_t i) const { return cols_.at(i); }
  std::int64_t i64(std::size_t i) const;  // throws on NULL or non-integer
  std::optional<std::int64_t> opt_i64(std::size_t i) const;

 private:
  std::vector<std::optional<std::string>> cols_;
};

struct QueryResult {
  std::vector<Row> rows;
  std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

// connection and busy are temporary: the database is out of reach or contended for now.
class DbError : public core::InfrastructureError {
 public:
  enum class Kind { unique_violation, busy, connection, other };
  DbError(Kind kind, const std::string& what) : core::InfrastructureError(what), kind_(kind) {}
  Kind kind() const { return kind_; }
  bool temporary() const noexcept override { return kind_ == Kind::connection || kind_ == Kind::busy; }

 private:
  Kind kind_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const = 0;
  // Runs one or more statements without parameters (migrations, BEGIN/COMMIT).
  virtual void execute_script(std::string_view sql) = 0;
  // Runs one statement; throws DbError. Implementations cache prepared statements by SQL text.
  virtual QueryResult query(std::string_view sql, std::span<const SqlParam> params) = 0;
  // False once the connection is known to be unusable; the pool then drops it.
  virtual bool healthy() const = 0;

  QueryResult query(std::string_view sql, std::initializer_list<SqlParam> params = {}) {
    return query(sql, std::span<const SqlParam>(params.begin(), params.size()));
  }
};

}  // namespace igb::storage
