#pragma once
// Throwaway databases for tests: a SQLite file in a fresh temp folder, or a fresh schema on the
// PostgreSQL server that the test script started (IMGGENBOT_TEST_PG_URL). PostgreSQL tests do not
// skip: without that variable they fail, unless IMGGENBOT_ALLOW_NO_PG=1 is set for a quick local run.
#include <filesystem>
#include <memory>
#include <string>

#include "core/store.hpp"
#include "storage/sql.hpp"

namespace igb::testing {

class TestDatabase {
 public:
  virtual ~TestDatabase() = default;
  virtual const std::string& url() const = 0;  // a DATABASE_URL for this database
  storage::Dialect dialect;
};

// Requires IMGGENBOT_TEST_PG_URL for PostgreSQL.
std::unique_ptr<TestDatabase> make_test_database(storage::Dialect dialect);
// A fresh schema on the PostgreSQL server `server_url` (postgres:// or postgresql://), or, for
// anything else, a SQLite file in a new folder under `sqlite_parent` (empty: the temp directory).
// Used by the benchmarks too.
std::unique_ptr<TestDatabase> make_scratch_database(const std::string& server_url,
                                                    const std::filesystem::path& sqlite_parent);

// For INSTANTIATE_TEST_SUITE_P: "sqlite" / "postgres".
std::string dialect_name(storage::Dialect d);

bool pg_configured();
bool allow_no_pg();

}  // namespace igb::testing

// In SetUp of a test that needs PostgreSQL: fails (or skips with IMGGENBOT_ALLOW_NO_PG=1) when
// the test script did not provide a server.
#define IGB_REQUIRE_POSTGRES()                                                                                   \
  do {                                                                                                           \
    if (!::igb::testing::pg_configured()) {                                                                      \
      if (::igb::testing::allow_no_pg()) GTEST_SKIP() << "IMGGENBOT_TEST_PG_URL is not set";                     \
      FAIL() << "IMGGENBOT_TEST_PG_URL is not set: run the tests with scripts/test.sh, which starts PostgreSQL"; \
    }                                                                                                            \
  } while (0)
