// The Bot API client on the wire, against a scriptable HTTP server: what it sends, how it reads
// answers that are not Telegram's envelope, and that the token never reaches an error or a log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <set>
#include <sstream>

#include "support/async.hpp"
#include "http/client.hpp"
#include "support/fake_http_server.hpp"
#include "telegram/bot_api.hpp"

namespace igb::telegram {
namespace {

using igb::testing::FakeHttpServer;
using igb::testing::FakeRequest;
using igb::testing::FakeResponse;
using igb::testing::run_async;
using ::testing::HasSubstr;
using ::testing::Not;
using Kind = ApiError::Kind;
using namespace std::chrono_literals;

class BotApiWireTest : public ::testing::Test {
 protected:
  static constexpr const char* kToken = "987654:SECRET-token-never-shown";

  ApiResult<Message> send_with(FakeResponse response, std::chrono::seconds timeout = 30s) {
    server_.set_handler([response](const FakeRequest&) { return response; });
    auto api = make_http_bot_api(*client_,
                                 {.base_url = server_.base_url() + "/", .token = kToken, .request_timeout = timeout});
    return run_async(io_, api->send_message({.chat_id = 1, .text = "x"}));
  }

  net::io_context io_;
  FakeHttpServer server_;
  std::unique_ptr<http::Client> client_ = http::make_client(io_.get_executor());
};

TEST_F(BotApiWireTest, PostsJsonToTheMethodUrl) {
  auto r = send_with(FakeResponse::json(
      R"({"ok":true,"result":{"message_id":5,"date":1,"chat":{"id":1,"type":"private"},"text":"x","new_field":{}}})"));
  ASSERT_TRUE(r.ok()) << r.error().description;
  EXPECT_EQ(r->message_id, 5);
  auto req = server_.requests().at(0);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, std::string("/bot") + kToken + "/sendMessage");
  EXPECT_EQ(req.header("Content-Type"), "application/json");
}

TEST_F(BotApiWireTest, AnswersThatAreNotTheEnvelope) {
  auto html =
      send_with(FakeResponse{.status = 200, .headers = {{"Content-Type", "text/html"}}, .body = "<html>hi</html>"});
  EXPECT_EQ(html.error().kind, Kind::invalid_response);
  EXPECT_EQ(html.error().error_code, 0);

  auto gateway = send_with(
      FakeResponse{.status = 502, .headers = {{"Content-Type", "text/html"}}, .body = "<html>Bad Gateway</html>"});
  EXPECT_EQ(gateway.error().kind, Kind::server);
  EXPECT_EQ(gateway.error().error_code, 502);

  auto bad_result = send_with(
      FakeResponse::json(R"({"ok":true,"result":{"message_id":"5","date":1,"chat":{"id":1,"type":"private"}}})"));
  EXPECT_EQ(bad_result.error().kind, Kind::invalid_response);
  EXPECT_EQ(bad_result.error().description, "sendMessage: result.message_id: expected integer");

  auto truncated =
      send_with(FakeResponse{.status = 200, .body = R"({"ok":true,"result":{"message_id":5})", .truncate_body_to = 10});
  EXPECT_EQ(truncated.error().kind, Kind::network);

  auto closed = send_with(FakeResponse{.close_without_response = true});
  EXPECT_EQ(closed.error().kind, Kind::network);
}

TEST_F(BotApiWireTest, ErrorEnvelopeParameters) {
  auto flood = send_with(
      FakeResponse::json(R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7"})", 429));
  EXPECT_EQ(flood.error().kind, Kind::rate_limited);
  EXPECT_EQ(flood.error().retry_after, 7s);  // read from the description when parameters are absent

  auto migrated = send_with(FakeResponse::json(
      R"({"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1001234}})",
      400));
  EXPECT_EQ(migrated.error().kind, Kind::bad_request);
  EXPECT_EQ(migrated.error().migrate_to_chat_id, -1001234);

  auto conflict = send_with(FakeResponse::json(
      R"({"ok":false,"error_code":409,"description":"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})",
      409));
  EXPECT_EQ(conflict.error().kind, Kind::conflict);
}

TEST_F(BotApiWireTest, LongPollTimeoutAddsToTheRequestTimeout) {
  struct Recorder : http::Client {
    std::vector<http::Request> requests;
    net::awaitable<http::Response> send(http::Request r) override {
      requests.push_back(r);
      co_return http::Response{.status = 200, .body = R"({"ok":true,"result":[]})"};
    }
  } recorder;
  auto api =
      make_http_bot_api(recorder, {.base_url = "https://api.telegram.org", .token = "1:t", .request_timeout = 10s});
  ASSERT_TRUE(run_async(io_, api->get_updates({.timeout = 50})).ok());
  EXPECT_FALSE(run_async(io_, api->get_me()).ok());  // result [] is not a User
  EXPECT_EQ(recorder.requests.at(0).timeout, 60s);
  EXPECT_EQ(recorder.requests.at(0).url, "https://api.telegram.org/bot1:t/getUpdates");
  EXPECT_EQ(recorder.requests.at(1).timeout, 10s);
}

TEST_F(BotApiWireTest, TheTokenNeverAppearsInErrorsOrLogs) {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = std::make_shared<spdlog::logger>("capture", sink);
  logger->set_level(spdlog::level::trace);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(logger);

  std::vector<ApiError> errors;
  auto collect = [&](const ApiResult<Message>& r) {
    ASSERT_FALSE(r.ok());
    errors.push_back(r.error());
  };
  const std::string path = std::string("/bot") + kToken + "/sendMessage";
  collect(send_with(
      FakeResponse{.status = 404, .headers = {{"Content-Type", "text/html"}}, .body = "<p>No route " + path + "</p>"}));
  collect(send_with(FakeResponse{.status = 503, .body = "upstream " + path}));
  collect(send_with(
      FakeResponse::json(R"({"ok":false,"error_code":404,"description":"Not Found: )" + path + R"("})", 404)));
  collect(send_with(FakeResponse::json(R"({"ok":false,"error_code":401,"description":"Unauthorized"})", 401)));
  collect(send_with(
      FakeResponse::json(R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1"})", 429)));
  collect(send_with(FakeResponse::json(R"({"ok":true,"result":{"message_id":"x"}})")));
  collect(send_with(FakeResponse{.status = 200, .body = "{\"ok\":true", .truncate_body_to = 3}));
  collect(send_with(FakeResponse{.close_without_response = true}));
  collect(send_with(FakeResponse{.no_response_hang = true}, 1s));
  {
    net::io_context probe;
    net::ip::tcp::acceptor a(probe, {net::ip::make_address("127.0.0.1"), 0});
    auto port = a.local_endpoint().port();
    a.close();  // nothing listens there now
    auto api = make_http_bot_api(*client_, {.base_url = "http://127.0.0.1:" + std::to_string(port), .token = kToken});
    collect(run_async(io_, api->send_message({.chat_id = 1, .text = "x"})));
  }
  auto bad_url = make_http_bot_api(*client_, {.base_url = "ftp://example.com", .token = kToken});
  try {
    (void)run_async(io_, bad_url->send_message({.chat_id = 1, .text = "x"}));
    ADD_FAILURE() << "a malformed base URL is a bug";
  } catch (const std::exception& e) {
    EXPECT_THAT(e.what(), Not(HasSubstr("SECRET")));
  }
  spdlog::set_default_logger(previous);

  std::set<Kind> kinds;
  for (const auto& e : errors) {
    kinds.insert(e.kind);
    EXPECT_THAT(e.description, Not(HasSubstr("SECRET"))) << to_string(e.kind);
    EXPECT_THAT(e.description, Not(HasSubstr("987654"))) << to_string(e.kind);
  }
  EXPECT_EQ(kinds, (std::set<Kind>{Kind::invalid_response, Kind::server, Kind::not_found, Kind::unauthorized,
                                   Kind::rate_limited, Kind::network}));
  EXPECT_THAT(log.str(), Not(HasSubstr("SECRET")));
}

}  // namespace
}  // namespace igb::telegram
