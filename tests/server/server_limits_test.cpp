// The server: its limits and refusals (body and header size, malformed framing, Host, the
// connection cap, timeouts).
#include "server_fixture.hpp"

namespace igb::server {
namespace {

TEST_P(ServerTest, BodyTooLargeIs413AndClosesTheConnection) {
  start({.max_body_bytes = 1024});
  // Declared too large: refused before any body byte is read.
  Raw raw(server_->port());
  raw.write("POST /v1/items HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_EQ(header(r, bhttp::field::content_type), "application/problem+json");
  EXPECT_EQ(header(r, bhttp::field::connection), "close");
  error_code end;
  EXPECT_EQ(raw.read_to_end(end), "");
  EXPECT_EQ(end, net::error::eof);

  // A client that sends the whole body anyway still reads the 413 (the server drains, no RST).
  auto big = send({.method = "POST", .url = url("/v1/items"), .body = std::string(3 * 1024 * 1024, 'x')});
  EXPECT_EQ(big.status, 413);
  // Chunked bodies are counted as they come.
  Raw chunked(server_->port());
  chunked.write("POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                std::string(0x800, 'y') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.read().result_int(), 413u);

  auto records = wait_for_records(3);
  EXPECT_EQ(records[0].status, 413);
  EXPECT_EQ(records[0].route, "/v1/items");
  EXPECT_EQ(records[0].method, "POST");
}

TEST_P(ServerTest, HeaderTooLargeIs431) {
  start({.max_header_bytes = 4096});
  Raw raw(server_->port());
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 431u);
  EXPECT_EQ(header(r, bhttp::field::connection), "close");
  error_code end;
  raw.read_to_end(end);
  EXPECT_EQ(end, net::error::eof);
}

TEST_P(ServerTest, MalformedRequestIs400ThenClose) {
  start();
  Raw raw(server_->port());
  raw.write("NOT A REQUEST\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(header(r, bhttp::field::content_type), "application/problem+json");
  EXPECT_EQ(boost::json::parse(r.body()).at("status").as_int64(), 400);
  error_code end;
  EXPECT_EQ(raw.read_to_end(end), "");
  EXPECT_EQ(end, net::error::eof);

  auto records = wait_for_records(1);
  EXPECT_EQ(records[0].route, "unmatched");
  EXPECT_EQ(records[0].status, 400);
}

// RFC 9112 §6.3: a Transfer-Encoding whose final coding is not chunked leaves the body length
// unknown; the server must answer 400 and close. Before, such a body was read as the next request.
TEST_P(ServerTest, TransferEncodingOtherThanChunkedIs400AndClose) {
  start();
  for (const std::string& te : std::initializer_list<std::string>{"gzip", "chunked, gzip", "gzip, chunked", "identity",
                                                                  "chunked\r\nTransfer-Encoding: chunked"}) {
    Raw raw(server_->port());
    raw.write("POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
              "\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    auto r = raw.read();
    EXPECT_EQ(r.result_int(), 400u) << te;
    EXPECT_NE(r.body().find("Transfer-Encoding"), std::string::npos) << te << ": " << r.body();
    EXPECT_EQ(header(r, bhttp::field::connection), "close") << te;
    error_code end;
    EXPECT_EQ(raw.read_to_end(end), "") << te << ": the smuggled request was answered";
  }
  // HTTP/1.0 has no chunked coding at all (§6.1).
  Raw old(server_->port());
  old.write("POST /v1/items HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(old.read().result_int(), 400u);
  // Exactly "chunked" (any case, with spaces) still works.
  Raw ok(server_->port());
  ok.write("POST /v1/items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  Chunked \r\n\r\n2\r\nhi\r\n0\r\n\r\n");
  auto r = ok.read();
  EXPECT_EQ(r.result_int(), 201u);
  EXPECT_EQ(r.body(), "hi");
}

// RFC 9112 §3.2: an HTTP/1.1 request without a Host, or with two, is answered 400.
TEST_P(ServerTest, HostIsRequiredOnceInHttp11) {
  start();
  Raw none(server_->port());
  none.write("GET /hello HTTP/1.1\r\n\r\n");
  auto r = none.read();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_NE(r.body().find("Host"), std::string::npos) << r.body();
  Raw two(server_->port());
  two.write("GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  EXPECT_EQ(two.read().result_int(), 400u);
  Raw old(server_->port());  // HTTP/1.0 may omit it
  old.write("GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.read().body(), "hello");
}

// Past max_connections a new connection is answered 503 with Retry-After and closed; the open
// ones go on, and once one closes a new connection is served again.
TEST_P(ServerTest, ConnectionsOverTheCapGet503) {
  start({.max_connections = 2});
  Raw a(server_->port());
  Raw b(server_->port());
  a.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(a.read().body(), "hello");
  b.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(b.read().body(), "hello");
  Raw c(server_->port());
  auto r = c.read();
  EXPECT_EQ(r.result_int(), 503u);
  EXPECT_EQ(header(r, bhttp::field::retry_after), "1");
  EXPECT_EQ(header(r, bhttp::field::content_type), "application/problem+json");
  a.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");  // still served
  EXPECT_EQ(a.read().body(), "hello");
  a.close();
  // The server notices the close on its own time: retry until a connection is served (bounded).
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    Raw d(server_->port());
    d.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    served = d.read().result_int() == 200;
    if (!served) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(served);
  bool refused_recorded = false;
  for (const auto& rec : wait_for_records(4))
    if (rec.route == "refused" && rec.status == 503) refused_recorded = true;
  EXPECT_TRUE(refused_recorded);
}

TEST_P(ServerTest, TimeoutsCloseTheConnection) {
  start({.read_timeout = 200ms, .idle_timeout = 100ms});
  // Half a request, then nothing: closed without an answer.
  Raw partial(server_->port());
  partial.write("GET /hello HTTP/1.1\r\nHost:");
  error_code end;
  EXPECT_EQ(partial.read_to_end(end), "");
  EXPECT_TRUE(end == net::error::eof || end == net::error::connection_reset) << end.message();

  // Idle after a request: closed.
  Raw idle(server_->port());
  idle.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read().body(), "hello");
  EXPECT_EQ(idle.read_to_end(end), "");
  EXPECT_TRUE(end == net::error::eof || end == net::error::connection_reset) << end.message();
}

}  // namespace
}  // namespace igb::server
