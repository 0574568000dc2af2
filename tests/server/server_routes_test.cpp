// The server: routing (params, query, 404/405, literal over parameter), HEAD, method labels, target
// decoding, handler failures, on_request records.
#include "server_fixture.hpp"

namespace igb::server {
namespace {

INSTANTIATE_TEST_SUITE_P(Threading, ServerTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "IoContextPerThread" : "Strands"; });

TEST_P(ServerTest, PortZeroGetsAPortAndStandardHeaders) {
  start();
  EXPECT_NE(server_->port(), 0);
  auto r = get("/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_EQ(r.header("server"), "imggenbot");
  EXPECT_EQ(r.header("date").size(), 29u);
}

TEST_P(ServerTest, RoutesWithParamsQueryAndBody) {
  start();
  auto r = get("/v1/items/42?limit=10&q=a%20b&q=c+d");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "id=42;path=/v1/items/42;limit=10;q=c d");

  r = get("/v1/items/caf%C3%A9");  // decoded before matching
  EXPECT_EQ(r.body, "id=caf\xC3\xA9;path=/v1/items/caf\xC3\xA9");

  r = send({.method = "PUT", .url = url("/v1/items/7"), .headers = {{"Content-Type", "text/plain"}}, .body = "new"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "put 7 new ct=text/plain");

  const std::string json = R"({"prompt":"a fox"})";
  r = send({.method = "POST", .url = url("/v1/items"), .body = json});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, json);
}

TEST_P(ServerTest, NotFoundAndMethodNotAllowed) {
  start();
  auto r = get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  auto p = boost::json::parse(r.body).as_object();
  EXPECT_EQ(p.at("status").as_int64(), 404);
  EXPECT_EQ(p.at("type").as_string(), "about:blank");

  EXPECT_EQ(get("/hello/").status, 404);  // trailing slash is another path
  EXPECT_EQ(get("/v1/items/").status, 404);

  r = send({.method = "DELETE", .url = url("/v1/items/1")});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, PUT");
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_EQ(boost::json::parse(r.body).at("status").as_int64(), 405);

  r = send({.method = "POST", .url = url("/hello")});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST_P(ServerTest, LiteralBeatsParam) {
  start();
  EXPECT_EQ(get("/v1/status/x").body, "literal");
  EXPECT_EQ(get("/v1/status/y").body, "param:y");
  EXPECT_EQ(get("/v1/status/x/").status, 404);
}

TEST_P(ServerTest, HeadIsGetWithoutBodyAnd204HasNoLength) {
  start();
  auto r = send({.method = "HEAD", .url = url("/hello")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(get("/hello").body, "hello");  // the connection is fine after a HEAD

  r = get("/nocontent");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("content-length"), "");
}

// Metrics label the method; a client-chosen method must not become a new label value each time.
TEST_P(ServerTest, UnknownMethodsAreRecordedAsOther) {
  start();
  for (int i = 0; i < 3; ++i) {
    Raw raw(server_->port());
    raw.write("X" + std::string(200, static_cast<char>('A' + i)) + " /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(raw.read().result_int(), 404u);
  }
  auto records = wait_for_records(3);
  for (const auto& rec : records) EXPECT_EQ(rec.method, "OTHER");
}

TEST_P(ServerTest, BadPercentEncodingAndBadUtf8Are400) {
  start();
  Raw raw(server_->port());
  raw.write("GET /v1/items/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 400u);
  // The request itself was well framed: the connection goes on.
  raw.write("GET /v1/items/%4 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 400u);
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().body(), "hello");

  auto r = get("/v1/items/%FF");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_EQ(get("/v1/items/1?q=%C3%28").status, 400);
  EXPECT_EQ(get("/v1/items/a%00b").status, 400);
}

TEST_P(ServerTest, HandlerExceptionIs500AndTheConnectionGoesOn) {
  start();
  Raw raw(server_->port());
  raw.write("GET /boom HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 500u);
  EXPECT_EQ(header(r, bhttp::field::content_type), "application/problem+json");
  EXPECT_EQ(header(r, bhttp::field::connection), "");
  auto p = boost::json::parse(r.body()).as_object();
  EXPECT_EQ(p.at("detail").as_string(), "internal error");
  EXPECT_EQ(r.body().find("secret"), std::string::npos);

  raw.write("GET /echo/again HTTP/1.1\r\nHost: x\r\n\r\n");
  auto next = raw.read();
  EXPECT_EQ(next.result_int(), 200u);
  EXPECT_EQ(next.body(), "again");
}

TEST_P(ServerTest, OnRequestRecordsRoutePatternsAndStatuses) {
  start();
  get("/v1/items/7");
  get("/nope/at/all");
  send({.method = "POST", .url = url("/hello")});
  get("/boom");
  get("/v1/status/x");
  auto records = wait_for_records(5);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].route, "/v1/items/{id}");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[1].route, "unmatched");
  EXPECT_EQ(records[1].status, 404);
  EXPECT_EQ(records[2].method, "POST");
  EXPECT_EQ(records[2].route, "/hello");
  EXPECT_EQ(records[2].status, 405);
  EXPECT_EQ(records[3].route, "/boom");
  EXPECT_EQ(records[3].status, 500);
  EXPECT_EQ(records[4].route, "/v1/status/x");
  for (const auto& r : records) EXPECT_GT(r.duration.count(), 0);
}

}  // namespace
}  // namespace igb::server
