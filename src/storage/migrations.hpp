#pragma once
#include <string_view>
#include <vector>

#include "storage/sql.hpp"

namespace igb::storage {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// The files of src/storage/migrations/<dialect>/NNNN_name.sql, in version order.
const std::vector<Migration>& embedded_migrations(Dialect dialect);

// Applies the migrations not yet recorded in schema_migrations, each in its own transaction.
// Safe to run twice and from several processes at once (PostgreSQL: an advisory lock; SQLite:
// BEGIN IMMEDIATE). Returns the number applied. Throws if the database has a newer schema than
// this binary knows.
int migrate(Connection& conn);
// The highest applied version, 0 for an empty database.
int schema_version(Connection& conn);

}  // namespace igb::storage
