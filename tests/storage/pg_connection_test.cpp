#include "storage/postgres/pg_connection.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace igb::storage {
namespace {

using Kind = DbError::Kind;

// PostgreSQL tests are never skipped silently: the test script always starts a server and passes
// its URL. IMGGENBOT_ALLOW_NO_PG=1 is the explicit opt-out for a machine without one.
std::string test_url() {
  const char* url = std::getenv("IMGGENBOT_TEST_PG_URL");
  return url ? url : "";
}

bool allow_no_pg() {
  const char* allow = std::getenv("IMGGENBOT_ALLOW_NO_PG");
  return allow && std::string(allow) == "1";
}

#define REQUIRE_PG()                                                                                \
  do {                                                                                              \
    if (test_url().empty()) {                                                                       \
      if (allow_no_pg()) GTEST_SKIP() << "IMGGENBOT_TEST_PG_URL unset and IMGGENBOT_ALLOW_NO_PG=1"; \
      FAIL() << "IMGGENBOT_TEST_PG_URL is not set. Start a server with "                            \
                "`scripts/pg-test-server.sh start DIR` and export the URL it prints "               \
                "(or set IMGGENBOT_ALLOW_NO_PG=1 to skip PostgreSQL tests)";                        \
    }                                                                                               \
  } while (0)

class PgConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_PG();
    conn_ = PgConnection::open(test_url());
    conn_->execute_script("CREATE TEMP TABLE items (id bigint PRIMARY KEY, name text, note text)");
  }

  std::unique_ptr<PgConnection> conn_;
};

// The URL from pg-test-server.sh has no password, so secrets are spliced in at the authority.
std::string with_userinfo(const std::string& url, const std::string& userinfo) {
  auto scheme = url.find("://");
  auto at = url.find('@', scheme);
  auto host = at == std::string::npos ? scheme + 3 : at + 1;
  return url.substr(0, scheme + 3) + userinfo + "@" + url.substr(host);
}

DbError expect_db_error(auto&& fn) {
  try {
    fn();
  } catch (const DbError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a DbError";
  return DbError(Kind::other, "<none>");
}

TEST_F(PgConnectionTest, OpensHealthyPostgresConnectionWithQuietNotices) {
  EXPECT_EQ(conn_->dialect(), Dialect::postgres);
  EXPECT_TRUE(conn_->healthy());
  auto r = conn_->query("SHOW client_min_messages");
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].text(0), "warning");
  conn_->execute_script("DROP TABLE IF EXISTS no_such_table_here");  // a NOTICE nobody sees
}

TEST_F(PgConnectionTest, InsertsAndSelectsParamsIncludingNullInt64AndUtf8) {
  const std::string utf8 = "Привет, 世界 🌍 \"quoted\" 'single'";
  auto ins = conn_->query("INSERT INTO items (id, name, note) VALUES ($1, $2, $3)",
                          {std::int64_t{9'223'372'036'854'775'807}, utf8, nullptr});
  EXPECT_EQ(ins.affected, 1);
  conn_->query("INSERT INTO items (id, name, note) VALUES ($1, $2, $3)",
               {std::int64_t{-42}, std::string("plain"), std::string("")});

  auto r = conn_->query("SELECT id, name, note FROM items ORDER BY id");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].i64(0), -42);
  EXPECT_EQ(r.rows[0].text(1), "plain");
  EXPECT_FALSE(r.rows[0].is_null(2));
  EXPECT_EQ(r.rows[0].text(2), "");
  EXPECT_EQ(r.rows[1].i64(0), 9'223'372'036'854'775'807);
  EXPECT_EQ(r.rows[1].text(1), utf8);
  EXPECT_TRUE(r.rows[1].is_null(2));
  EXPECT_EQ(r.rows[1].opt_text(2), std::nullopt);
  EXPECT_EQ(r.rows[1].opt_i64(2), std::nullopt);

  auto by_param = conn_->query("SELECT name FROM items WHERE name = $1", {utf8});
  ASSERT_EQ(by_param.rows.size(), 1u);
  EXPECT_EQ(by_param.rows[0].text(0), utf8);
}

TEST_F(PgConnectionTest, ReportsAffectedRows) {
  for (std::int64_t id = 1; id <= 5; ++id) {
    conn_->query("INSERT INTO items (id, name) VALUES ($1, $2)", {id, std::string(id % 2 ? "odd" : "even")});
  }
  EXPECT_EQ(conn_->query("UPDATE items SET note = $1 WHERE name = $2", {std::string("x"), std::string("odd")}).affected,
            3);
  EXPECT_EQ(conn_->query("UPDATE items SET note = $1 WHERE id > $2", {std::string("y"), std::int64_t{100}}).affected,
            0);
  EXPECT_EQ(conn_->query("DELETE FROM items WHERE name = $1", {std::string("even")}).affected, 2);
  EXPECT_EQ(conn_->query("CREATE TEMP TABLE other (x int)").affected, 0);
}

TEST_F(PgConnectionTest, DuplicateKeyIsUniqueViolation) {
  conn_->query("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{7}, std::string("first")});
  auto e = expect_db_error([&] {
    conn_->query("INSERT INTO items (id, name) VALUES ($1, $2)", {std::int64_t{7}, std::string("second-secret")});
  });
  EXPECT_EQ(e.kind(), Kind::unique_violation) << e.what();
  EXPECT_NE(std::string(e.what()).find("23505"), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("second-secret"), std::string::npos) << e.what();
  EXPECT_TRUE(conn_->healthy());
}

TEST_F(PgConnectionTest, BadSqlIsOtherAndHidesParams) {
  const std::string secret = "tok_4f9a1c-very-secret";
  auto syntax = expect_db_error([&] { conn_->query("SELEC name FROM items WHERE name = $1", {secret}); });
  EXPECT_EQ(syntax.kind(), Kind::other) << syntax.what();
  EXPECT_NE(std::string(syntax.what()).find("42601"), std::string::npos) << syntax.what();
  EXPECT_EQ(std::string(syntax.what()).find(secret), std::string::npos) << syntax.what();

  // PostgreSQL quotes the bad value in this error; the connection must cut it out.
  auto cast = expect_db_error([&] { conn_->query("SELECT $1::bigint", {secret}); });
  EXPECT_EQ(cast.kind(), Kind::other) << cast.what();
  EXPECT_NE(std::string(cast.what()).find("22P02"), std::string::npos) << cast.what();
  EXPECT_EQ(std::string(cast.what()).find(secret), std::string::npos) << cast.what();

  auto short_value = expect_db_error([&] { conn_->query("SELECT $1::bigint", {std::string("ab")}); });
  EXPECT_EQ(std::string(short_value.what()).find("\"ab\""), std::string::npos) << short_value.what();

  EXPECT_TRUE(conn_->healthy());
  EXPECT_EQ(conn_->query("SELECT 1").rows.at(0).i64(0), 1);
}

TEST_F(PgConnectionTest, PreparesEachStatementOnce) {
  const std::string sql = "SELECT $1::bigint * 2";
  for (std::int64_t i = 0; i < 100; ++i) {
    auto r = conn_->query(sql, {i});
    ASSERT_EQ(r.rows.size(), 1u);
    ASSERT_EQ(r.rows[0].i64(0), i * 2);
  }
  auto prepared = conn_->query("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", {sql});
  EXPECT_EQ(prepared.rows.at(0).i64(0), 1);
}

TEST_F(PgConnectionTest, PreparesAgainAfterResultTypeChanges) {
  conn_->execute_script("CREATE TEMP TABLE shape (a int); INSERT INTO shape VALUES (1)");
  EXPECT_EQ(conn_->query("SELECT * FROM shape").rows.at(0).size(), 1u);
  conn_->execute_script("ALTER TABLE shape ADD COLUMN b int");
  // The first run after the change fails (the server's cached plan); the next one prepares afresh.
  try {
    conn_->query("SELECT * FROM shape");
  } catch (const DbError& e) {
    EXPECT_EQ(e.kind(), Kind::other) << e.what();
  }
  EXPECT_EQ(conn_->query("SELECT * FROM shape").rows.at(0).size(), 2u);
}

TEST_F(PgConnectionTest, ExecuteScriptRunsSeveralStatements) {
  conn_->execute_script(
      "CREATE TEMP TABLE pair (x int);\n"
      "INSERT INTO pair VALUES (1), (2);");
  EXPECT_EQ(conn_->query("SELECT count(*) FROM pair").rows.at(0).i64(0), 2);

  auto e = expect_db_error([&] { conn_->execute_script("INSERT INTO pair VALUES (3); SELEC 1"); });
  EXPECT_EQ(e.kind(), Kind::other);
  // A multi-statement string runs as one implicit transaction: the failure undoes the insert.
  EXPECT_EQ(conn_->query("SELECT count(*) FROM pair").rows.at(0).i64(0), 2);
}

TEST_F(PgConnectionTest, LockTimeoutIsBusy) {
  const std::string table = "igb_pg_lock_test_" + std::to_string(::getpid());
  conn_->execute_script("CREATE TABLE " + table + " (x int)");
  auto other = PgConnection::open(test_url());
  other->execute_script("BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
  auto e = expect_db_error(
      [&] { conn_->execute_script("BEGIN; LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE NOWAIT"); });
  EXPECT_EQ(e.kind(), Kind::busy) << e.what();
  EXPECT_NE(std::string(e.what()).find("55P03"), std::string::npos) << e.what();
  conn_->execute_script("ROLLBACK");
  other->execute_script("ROLLBACK");
  conn_->execute_script("DROP TABLE " + table);
}

TEST_F(PgConnectionTest, LostConnectionIsUnhealthy) {
  auto pid = conn_->query("SELECT pg_backend_pid()").rows.at(0).i64(0);
  auto killer = PgConnection::open(test_url());
  killer->query("SELECT pg_terminate_backend($1::int)", {pid});
  auto e = expect_db_error([&] { conn_->query("SELECT 1"); });
  EXPECT_EQ(e.kind(), Kind::connection) << e.what();
  EXPECT_FALSE(conn_->healthy());
}

TEST(PgConnectionOpenTest, WrongPortIsConnectionErrorWithoutPassword) {
  REQUIRE_PG();
  const std::string password = "Pa55-w0rd-never-logged";
  auto url = with_userinfo(test_url(), "postgres:" + password);
  // Port 1 on loopback refuses at once.
  auto port_start = url.rfind(':', url.find('/', url.find('@'))) + 1;
  auto port_end = url.find('/', port_start);
  url.replace(port_start, port_end - port_start, "1");

  auto e = expect_db_error([&] { PgConnection::open(url); });
  EXPECT_EQ(e.kind(), Kind::connection);
  std::string msg = e.what();
  EXPECT_EQ(msg.find(password), std::string::npos) << msg;
  EXPECT_EQ(msg.find(url), std::string::npos) << msg;
  EXPECT_NE(msg.find("127.0.0.1:1/imggenbot_test"), std::string::npos) << msg;
}

TEST(PgConnectionOpenTest, RejectedLoginIsConnectionErrorWithoutPassword) {
  REQUIRE_PG();
  // The test server trusts every local login, so an unknown role is what the server rejects.
  const std::string password = "Pa55-w0rd-never-logged";
  auto e = expect_db_error([&] { PgConnection::open(with_userinfo(test_url(), "no_such_role:" + password)); });
  EXPECT_EQ(e.kind(), Kind::connection);
  std::string msg = e.what();
  EXPECT_EQ(msg.find(password), std::string::npos) << msg;
  EXPECT_NE(msg.find("no_such_role"), std::string::npos) << msg;
}

TEST(PgConnectionOpenTest, MalformedUrlDoesNotEchoPassword) {
  REQUIRE_PG();
  // libpq quotes an undecodable percent-escape together with the text around it.
  const std::string password = "%zzPa55-w0rd-never-logged";
  auto e = expect_db_error([&] { PgConnection::open(with_userinfo(test_url(), "postgres:" + password)); });
  EXPECT_EQ(e.kind(), Kind::connection);
  EXPECT_EQ(std::string(e.what()).find("Pa55-w0rd"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace igb::storage
