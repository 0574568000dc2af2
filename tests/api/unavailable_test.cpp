// answer_unavailable_as_503 (src/api/errors.cpp): a temporary infrastructure failure thrown by a
// handler (the database out of reach) is a 503 problem with Retry-After; anything else goes on to the
// server, which answers 500. The same with real processes and a real PostgreSQL restart:
// tests/e2e/faults_db_test.cpp.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <stdexcept>
#include <string>

#include "api/errors.hpp"
#include "storage/sql.hpp"
#include "support/async.hpp"

namespace igb::api {
namespace {

namespace net = boost::asio;
using storage::DbError;

std::string header(const server::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

template <class E>
server::Handler throwing(E error) {
  return [error](server::Request&) -> net::awaitable<server::Response> {
    throw error;
    co_return server::Response{};
  };
}

server::Response run(const server::Handler& h) {
  net::io_context io;
  server::Request req{.method = "GET", .path = "/v1/status/x"};
  return testing::run_async(io, h(req));
}

TEST(AnswerUnavailable, TheDatabaseOutOfReachIs503WithRetryAfterAndNoDetail) {
  const std::string detail = "cannot connect to PostgreSQL at db.internal:5432/igb: Connection refused";
  for (auto kind : {DbError::Kind::connection, DbError::Kind::busy}) {
    auto res = run(answer_unavailable_as_503(throwing(DbError(kind, detail)), "GET /v1/status/{job_id}"));
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(header(res, "Retry-After"), std::to_string(kUnavailableRetryAfter.count()));
    EXPECT_EQ(header(res, "Content-Type"), "application/problem+json");
    EXPECT_EQ(res.body.find("db.internal"), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("PostgreSQL"), std::string::npos) << res.body;
  }
}

TEST(AnswerUnavailable, OtherFailuresGoOnToTheServer) {
  EXPECT_THROW(run(answer_unavailable_as_503(throwing(DbError(DbError::Kind::other, "syntax error")), "r")), DbError);
  EXPECT_THROW(run(answer_unavailable_as_503(throwing(DbError(DbError::Kind::unique_violation, "dup")), "r")),
               DbError);
  EXPECT_THROW(run(answer_unavailable_as_503(throwing(std::runtime_error("bug")), "r")), std::runtime_error);
  EXPECT_THROW(run(answer_unavailable_as_503(throwing(core::InfrastructureError("not temporary")), "r")),
               core::InfrastructureError);
}

TEST(AnswerUnavailable, AnswersPassThrough) {
  server::Handler ok = [](server::Request& r) -> net::awaitable<server::Response> {
    co_return server::Response{.status = 202, .body = r.path};
  };
  auto res = run(answer_unavailable_as_503(ok, "r"));
  EXPECT_EQ(res.status, 202);
  EXPECT_EQ(res.body, "/v1/status/x");
}

}  // namespace
}  // namespace igb::api
