#pragma once
// A scriptable HTTP/1.1 server for tests: listens on 127.0.0.1 on a port the OS picks, runs its own
// io_context on its own thread (started by the constructor, stopped and joined by stop() or the
// destructor), and answers every request with what a handler returns. Keep-alive, many concurrent
// connections (one coroutine each), and knobs for misbehaving: delays, truncated bodies, closing
// without an answer, never answering, raw bytes.
//
//   FakeHttpServer server([](const FakeRequest& r) { return FakeResponse::json(R"({"ok":true})"); });
//   client.send({.url = server.base_url() + "/bot123:abc/getMe"});
//   EXPECT_EQ(server.requests().at(0).target, "/bot123:abc/getMe");
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace igb::testing {

using FakeHeaders = std::vector<std::pair<std::string, std::string>>;

struct FakeRequest {
  std::string method;  // "GET", "POST", …
  std::string target;  // path + query, as received
  FakeHeaders headers;  // in the order received
  std::string body;
  std::size_t connection = 0;  // which accepted connection it came on (1, 2, …)

  // Case-insensitive; empty if absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  std::string path() const;   // target up to '?'
  std::string query() const;  // after '?', empty if none
};

struct FakeResponse {
  int status = 200;
  FakeHeaders headers;  // sent as given (a Content-Length here replaces the computed one)
  std::string body;

  // Knobs for misbehaving servers. At most one of the last six makes sense at a time.
  std::chrono::milliseconds delay{0};      // wait (a timer: other connections go on) before answering
  bool chunked = false;                    // Transfer-Encoding: chunked instead of Content-Length
  bool close = false;                      // answer with `Connection: close`, then close
  bool close_after = false;                // answer normally (kept alive as far as the client knows), then close
  std::optional<std::size_t> truncate_body_to;  // full Content-Length, only N body bytes, then close
  bool close_without_response = false;     // close the connection instead of answering
  bool no_response_hang = false;           // never answer (until the server stops)
  // Never answer either, but notice when the client gives up: the connection ends (and
  // open_connection_count() drops) when the client closes it, or when the server stops.
  bool hang_until_closed = false;
  // The status line, the headers (with the full Content-Length) and only N body bytes, then nothing
  // more until the client closes the connection (or the server stops): a server that stalls mid-body.
  std::optional<std::size_t> stall_body_after;
  std::optional<std::string> raw;          // send these bytes instead of a response, then close

  static FakeResponse text(std::string body, int status = 200);
  static FakeResponse json(std::string body, int status = 200);
};

using FakeHandler = std::function<FakeResponse(const FakeRequest&)>;

// Where the server listens. Tests keep the defaults (loopback, a port the OS picks); the standalone
// fakes program (fake_services_main.cpp) listens on a container's network.
struct FakeHttpServerOptions {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
};

class FakeHttpServer {
 public:
  // The default handler answers 200 with an empty body. Handlers run on the server thread; an
  // exception from one becomes a 500 with its what() as the body.
  explicit FakeHttpServer(FakeHandler handler = {});
  FakeHttpServer(FakeHandler handler, FakeHttpServerOptions options);
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;
  ~FakeHttpServer();

  // Closes the listener and every connection (hanging or delayed ones too) and joins the thread.
  // Idempotent; afterwards port() stays valid but nothing listens.
  void stop();

  std::uint16_t port() const;
  std::string base_url() const;  // "http://127.0.0.1:PORT" (the bind address unless it is 0.0.0.0 or ::)

  void set_handler(FakeHandler handler);  // takes effect for the next request

  std::size_t request_count() const;
  std::vector<FakeRequest> requests() const;  // a copy, in the order the requests were read
  void clear_requests();                      // forgets recorded requests (counts too)
  // Blocks until at least n requests have been read or the guard runs out (a hang guard, not a
  // timing check); returns whether n were reached.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds guard = std::chrono::seconds(30)) const;

  std::size_t connection_count() const;       // connections accepted since start
  std::size_t open_connection_count() const;  // connections not yet closed by either side
  // Closes, from the server side and without notice, every connection waiting for its next request
  // (the way servers drop idle kept-alive connections). Returns once they are closed.
  void close_idle_connections();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace igb::testing
