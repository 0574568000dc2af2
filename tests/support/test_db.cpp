#include "support/test_db.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "storage/postgres/pg_connection.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

const char* pg_base_url() { return std::getenv("IMGGENBOT_TEST_PG_URL"); }

class SqliteTestDatabase final : public TestDatabase {
 public:
  explicit SqliteTestDatabase(const std::filesystem::path& parent) {
    dir_ = (parent.empty() ? std::filesystem::temp_directory_path() : parent) / ("igb-test-" + util::random_hex(6));
    std::filesystem::create_directories(dir_);
    url_ = "sqlite://" + std::filesystem::absolute(dir_ / "test.db").string();
    dialect = storage::Dialect::sqlite;
  }
  ~SqliteTestDatabase() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& url() const override { return url_; }

 private:
  std::filesystem::path dir_;
  std::string url_;
};

// Each test gets its own schema, selected through libpq's `options` URI parameter.
class PgTestDatabase final : public TestDatabase {
 public:
  explicit PgTestDatabase(std::string base) : base_(std::move(base)) {
    schema_ = "t_" + util::random_hex(6);
    storage::PgConnection::open(base_)->execute_script("CREATE SCHEMA " + schema_);
    url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "options=-c%20search_path%3D" + schema_;
    dialect = storage::Dialect::postgres;
  }
  ~PgTestDatabase() override {
    try {
      storage::PgConnection::open(base_)->execute_script("DROP SCHEMA " + schema_ + " CASCADE");
    } catch (...) {}
  }
  const std::string& url() const override { return url_; }

 private:
  std::string base_, schema_, url_;
};

}  // namespace

bool pg_configured() { return pg_base_url() != nullptr && *pg_base_url() != '\0'; }

bool allow_no_pg() {
  const char* allow = std::getenv("IMGGENBOT_ALLOW_NO_PG");
  return allow != nullptr && std::string(allow) == "1";
}

std::unique_ptr<TestDatabase> make_scratch_database(const std::string& server_url,
                                                    const std::filesystem::path& sqlite_parent) {
  if (server_url.starts_with("postgres")) return std::make_unique<PgTestDatabase>(server_url);
  return std::make_unique<SqliteTestDatabase>(sqlite_parent);
}

std::unique_ptr<TestDatabase> make_test_database(storage::Dialect dialect) {
  if (dialect == storage::Dialect::sqlite) return make_scratch_database("sqlite", {});
  if (!pg_configured()) throw std::runtime_error("IMGGENBOT_TEST_PG_URL is not set");
  return make_scratch_database(pg_base_url(), {});
}

std::string dialect_name(storage::Dialect d) { return d == storage::Dialect::sqlite ? "sqlite" : "postgres"; }

}  // namespace igb::testing
