// The server: one connection's life (keep-alive, Connection: close, pipelining, 100-continue), many
// connections, listening.
#include "server_fixture.hpp"

namespace igb::server {
namespace {

TEST_P(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  Raw raw(server_->port());
  for (std::string word : {"one", "two", "three"}) {
    raw.write("GET /echo/" + word + " HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = raw.read();
    EXPECT_EQ(r.body(), word);
    EXPECT_TRUE(r.keep_alive());
  }
  // HTTP/1.0 keep-alive is said explicitly.
  raw.write("GET /echo/old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.body(), "old");
  EXPECT_EQ(header(r, bhttp::field::connection), "keep-alive");
  raw.write("GET /echo/last HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().body(), "last");

  // The project's client reuses its connection too.
  EXPECT_EQ(get("/hello").status, 200);
  EXPECT_EQ(get("/hello").status, 200);
  EXPECT_EQ(server_->open_connections(), 2u);  // raw + the client's one
}

TEST_P(ServerTest, ConnectionCloseIsHonoured) {
  start();
  Raw raw(server_->port());
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.body(), "hello");
  EXPECT_EQ(header(r, bhttp::field::connection), "close");
  error_code end;
  EXPECT_EQ(raw.read_to_end(end), "");
  EXPECT_EQ(end, net::error::eof);

  Raw old(server_->port());  // HTTP/1.0 without keep-alive: one request
  old.write("GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.read().body(), "hello");
  old.read_to_end(end);
  EXPECT_EQ(end, net::error::eof);
}

TEST_P(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  Raw raw(server_->port());
  std::string batch;
  for (std::string word : {"a", "b", "c", "d"}) batch += "GET /echo/" + word + " HTTP/1.1\r\nHost: x\r\n\r\n";
  batch += "POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody";
  batch += "GET /slow-not-here HTTP/1.1\r\nHost: x\r\n\r\n";
  raw.write(batch);
  for (std::string word : {"a", "b", "c", "d"}) EXPECT_EQ(raw.read().body(), word);
  auto posted = raw.read();
  EXPECT_EQ(posted.result_int(), 201u);
  EXPECT_EQ(posted.body(), "body");
  EXPECT_EQ(raw.read().result_int(), 404u);
}

TEST_P(ServerTest, ExpectContinue) {
  start();
  Raw raw(server_->port());
  raw.write("PUT /v1/items/9 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 100u);
  raw.write("abc");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "put 9 abc ct=");
}

TEST_P(ServerTest, ManyConcurrentConnections) {
  start();
  std::vector<std::future<http::Response>> responses;
  for (int i = 0; i < 64; ++i)
    responses.push_back(net::co_spawn(
        client_strand_, send_via(client_.get(), {.url = url("/echo/w" + std::to_string(i))}), net::use_future));
  for (int i = 0; i < 64; ++i) {
    auto r = wait(responses[i]);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "w" + std::to_string(i));
  }
  EXPECT_EQ(wait_for_records(64).size(), 64u);
}

TEST_P(ServerTest, ListensOnIpv6) {
  try {
    start({.host = "::1"});
  } catch (const boost::system::system_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  auto r = send({.url = "http://[::1]:" + std::to_string(server_->port()) + "/hello"});
  EXPECT_EQ(r.body, "hello");
}

TEST_P(ServerTest, StartFailsOnATakenPort) {
  start();
  Server other(io_.get_executor(), {.port = server_->port()}, std::make_shared<RouteTable>());
  EXPECT_THROW(other.start(), boost::system::system_error);
}

}  // namespace
}  // namespace igb::server
