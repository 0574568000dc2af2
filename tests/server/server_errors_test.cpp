// The server: request ids (X-Request-Id taken when sane, else made up; echoed), 5xx answers that
// carry the id in the problem body while their internal detail goes to the log under the same id,
// and ServerOptions::on_exception.
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <regex>
#include <set>

#include "server_fixture.hpp"

namespace igb::server {
namespace {

// The default logger, swapped for one that keeps the lines, for the life of a test.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("capture", sink_);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::vector<std::string> lines() const { return sink_->last_formatted(); }
  // The lines containing `needle`.
  std::vector<std::string> with(std::string_view needle) const {
    std::vector<std::string> out;
    for (auto& l : lines())
      if (l.find(needle) != std::string::npos) out.push_back(l);
    return out;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_ = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  std::shared_ptr<spdlog::logger> previous_;
};

std::string request_id_of(const std::string& problem_body) {
  auto doc = boost::json::parse(problem_body).as_object();
  const auto* id = doc.if_contains("request_id");
  return id != nullptr && id->is_string() ? std::string(id->as_string()) : std::string();
}

TEST_P(ServerTest, ASaneClientRequestIdIsEchoedAndOthersAreReplaced) {
  start();
  Raw raw(server_->port());
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123_x.Y\r\n\r\n");
  EXPECT_EQ(std::string(raw.read()["X-Request-Id"]), "abc-123_x.Y");

  const std::regex made_up("[0-9a-f]{12}-[0-9a-f]+");
  std::set<std::string> seen;
  for (const std::string& bad : {std::string(65, 'a'), std::string("has space"), std::string("semi;colon"),
                                 std::string("\"quoted\""), std::string("")}) {
    raw.write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + bad + "\r\n\r\n");
    const std::string id(raw.read()["X-Request-Id"]);
    EXPECT_TRUE(std::regex_match(id, made_up)) << "for '" << bad << "': " << id;
    seen.insert(id);
  }
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string id(raw.read()["X-Request-Id"]);
  EXPECT_TRUE(std::regex_match(id, made_up)) << id;
  seen.insert(id);
  EXPECT_EQ(seen.size(), 6u) << "each request gets an id of its own";
  // 64 characters is still sane.
  const std::string longest(64, 'z');
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + longest + "\r\n\r\n");
  EXPECT_EQ(std::string(raw.read()["X-Request-Id"]), longest);
}

TEST_P(ServerTest, AnswersTheServerRefusesCarryARequestIdToo) {
  start(ServerOptions{.max_body_bytes = 10});
  Raw raw(server_->port());
  raw.write("POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_FALSE(std::string(r["X-Request-Id"]).empty());
}

TEST_P(ServerTest, A5xxProblemCarriesTheRequestIdAndItsDetailGoesToTheLogOnly) {
  LogCapture log;
  start();
  Raw raw(server_->port());
  raw.write(
      "GET /fail HTTP/1.1\r\nHost: x\r\nX-Request-Id: req-fail-1\r\nAuthorization: Bearer igb_secret_key\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 503u);
  EXPECT_EQ(std::string(r["X-Request-Id"]), "req-fail-1");
  EXPECT_EQ(request_id_of(r.body()), "req-fail-1");
  EXPECT_EQ(r.body().find("db.internal"), std::string::npos) << r.body();
  EXPECT_EQ(boost::json::parse(r.body()).at("detail").as_string(), "try again shortly");

  auto lines = log.with("req-fail-1");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("cannot connect to db.internal:5432 as igb"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("GET /fail"), std::string::npos) << lines[0];
  for (const auto& l : log.lines()) EXPECT_EQ(l.find("igb_secret_key"), std::string::npos) << l;
}

TEST_P(ServerTest, AHandlersExceptionIsA500WithTheRequestIdInBodyAndLog) {
  LogCapture log;
  start();
  Raw raw(server_->port());
  raw.write("GET /boom HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer igb_secret_key\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 500u);
  const std::string id(r["X-Request-Id"]);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(request_id_of(r.body()), id);
  EXPECT_EQ(r.body().find("secret-token-123"), std::string::npos) << r.body();
  auto lines = log.with(id);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("secret-token-123 leaked"), std::string::npos) << "the exception's text is the detail";
  for (const auto& l : log.lines()) EXPECT_EQ(l.find("igb_secret_key"), std::string::npos) << l;
}

TEST_P(ServerTest, TheExceptionHookAnswersWhatItKnowsAndLeavesTheRestTo500) {
  std::atomic<int> asked{0};
  start(ServerOptions{.on_exception = [&asked](std::exception_ptr e, const Request& req,
                                               std::string_view route) -> std::optional<Response> {
    ++asked;
    EXPECT_FALSE(req.id.empty());
    try {
      std::rethrow_exception(e);
    } catch (const Busy&) {
      auto r = Response::problem(503, "Service Unavailable", "busy; try again");
      r.headers.emplace_back("Retry-After", "2");
      r.headers.emplace_back("X-Route", std::string(route));
      return r;
    } catch (...) {
      return std::nullopt;
    }
  }});
  Raw raw(server_->port());
  raw.write("GET /busy HTTP/1.1\r\nHost: x\r\nX-Request-Id: busy-1\r\n\r\n");
  auto busy = raw.read();
  EXPECT_EQ(busy.result_int(), 503u);
  EXPECT_EQ(std::string(busy["Retry-After"]), "2");
  EXPECT_EQ(std::string(busy["X-Route"]), "/busy");
  EXPECT_EQ(request_id_of(busy.body()), "busy-1");
  EXPECT_EQ(busy.body().find("db.internal"), std::string::npos);

  raw.write("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n");
  auto boom = raw.read();
  EXPECT_EQ(boom.result_int(), 500u);
  EXPECT_EQ(asked.load(), 2);
  // The connection goes on after both.
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 200u);
}

TEST_P(ServerTest, AThrowingExceptionHookIsA500) {
  start(ServerOptions{.on_exception = [](std::exception_ptr, const Request&, std::string_view)
                          -> std::optional<Response> { throw std::logic_error("hook bug"); }});
  Raw raw(server_->port());
  raw.write("GET /busy HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 500u);
}

}  // namespace
}  // namespace igb::server
