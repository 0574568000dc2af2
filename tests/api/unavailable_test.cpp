// api::answer_exception (src/api/errors.cpp), the API's ServerOptions::on_exception: a temporary
// infrastructure failure thrown by a handler (the database out of reach) is a 503 problem with
// Retry-After and no detail, logged with the request id; anything else is left to the server, which
// answers 500. And api::error_response hands a 5xx's internal detail to the server's log, never to
// the body. The same with real processes and a real PostgreSQL restart: tests/e2e/faults_db_test.cpp.
#include <gtest/gtest.h>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#include "api/errors.hpp"
#include "storage/sql.hpp"

namespace igb::api {
namespace {

using storage::DbError;

std::string header(const server::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

template <class E>
std::exception_ptr thrown(E error) {
  try {
    throw error;
  } catch (...) {
    return std::current_exception();
  }
}

server::Request request() { return server::Request{.method = "GET", .path = "/v1/status/x", .id = "req-42"}; }

TEST(AnswerException, TheDatabaseOutOfReachIs503WithRetryAfterAndNoDetail) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(100);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  const std::string detail = "cannot connect to PostgreSQL at db.internal:5432/igb: Connection refused";
  std::vector<server::Response> answers;
  for (auto kind : {DbError::Kind::connection, DbError::Kind::busy}) {
    auto res = answer_exception(thrown(DbError(kind, detail)), request(), "/v1/status/{job_id}");
    ASSERT_TRUE(res.has_value());
    answers.push_back(*res);
  }
  spdlog::set_default_logger(previous);
  for (const auto& res : answers) {
    EXPECT_EQ(res.status, 503);
    EXPECT_EQ(header(res, "Retry-After"), std::to_string(kUnavailableRetryAfter.count()));
    EXPECT_EQ(header(res, "Content-Type"), "application/problem+json");
    EXPECT_EQ(res.body.find("db.internal"), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find("PostgreSQL"), std::string::npos) << res.body;
    EXPECT_TRUE(res.log_detail.empty()) << "logged here, at most once a second: not again by the server";
  }
  // The first is logged with the request id and the route (the second falls in the same second).
  auto lines = sink->last_formatted();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("req-42"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("GET /v1/status/{job_id}"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("db.internal:5432"), std::string::npos) << lines[0];
}

TEST(AnswerException, OtherFailuresAreLeftToTheServer) {
  EXPECT_FALSE(answer_exception(thrown(DbError(DbError::Kind::other, "syntax error")), request(), "r"));
  EXPECT_FALSE(answer_exception(thrown(DbError(DbError::Kind::unique_violation, "dup")), request(), "r"));
  EXPECT_FALSE(answer_exception(thrown(std::runtime_error("bug")), request(), "r"));
  EXPECT_FALSE(answer_exception(thrown(core::InfrastructureError("not temporary")), request(), "r"));
  EXPECT_FALSE(answer_exception(thrown(42), request(), "r"));
}

TEST(ErrorResponse, A5xxHandsItsInternalDetailToTheLogNotTheBody) {
  auto e = core::make_error(core::ErrorCode::internal, "something went wrong", "row 7 of jobs: bad state 'x'");
  auto res = error_response(e);
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(res.log_detail, "row 7 of jobs: bad state 'x'");
  EXPECT_EQ(res.body.find("row 7"), std::string::npos) << res.body;

  auto refused = error_response(core::make_error(core::ErrorCode::not_found, "no such job", "job j1 of user 9"));
  EXPECT_EQ(refused.status, 404);
  EXPECT_TRUE(refused.log_detail.empty()) << "only 5xx answers are logged";
}

TEST(CoreHelpers, IsTemporaryAndTemporaryOrRethrow) {
  EXPECT_TRUE(core::is_temporary(thrown(DbError(DbError::Kind::connection, "down"))));
  EXPECT_FALSE(core::is_temporary(thrown(DbError(DbError::Kind::other, "bug"))));
  EXPECT_FALSE(core::is_temporary(thrown(std::runtime_error("bug"))));
  EXPECT_FALSE(core::is_temporary(nullptr));

  std::string message;
  try {
    throw DbError(DbError::Kind::busy, "database is locked");
  } catch (...) {
    message = core::temporary_or_rethrow();
  }
  EXPECT_NE(message.find("database is locked"), std::string::npos);
  auto rethrown = [](auto error) {
    try {
      throw error;
    } catch (...) {
      (void)core::temporary_or_rethrow();
    }
  };
  EXPECT_THROW(rethrown(DbError(DbError::Kind::other, "bug")), DbError);
  EXPECT_THROW(rethrown(std::runtime_error("bug")), std::runtime_error);
}

}  // namespace
}  // namespace igb::api
