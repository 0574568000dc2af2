#pragma once
// The HTTP/1.1 server: Boost.Beast on Asio coroutines. Keep-alive, limits on header and body size,
// read/write timeouts, a route table keyed by path pattern with per-method handlers (404 vs 405),
// every request answered exactly once (a handler that throws becomes a 500 problem+json and a log
// line), streaming responses for Server-Sent Events, and a graceful stop (stop accepting, let
// in-flight requests finish within a grace period, then close).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace igb::server {

namespace net = boost::asio;

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // upper case: GET, POST, …
  std::string target;  // as received: path + query
  std::string path;    // percent-decoded path, without the query ("%2F" is a '/' like any other)
  std::map<std::string, std::string> query;  // decoded query parameters (last one wins)
  Headers headers;
  std::string body;
  std::map<std::string, std::string> params;  // from the route pattern, e.g. {job_id}
  std::string remote_address;  // the peer's IP address, without the port
  // The request id: the client's X-Request-Id when it is sane (1 to 64 of [A-Za-z0-9._-]), else
  // one the server made up. Echoed in the response's X-Request-Id; a 5xx problem+json carries it as
  // `request_id`, and so do the log lines about the request, so an answer can be found in the log.
  std::string id;

  // Case-insensitive; empty if absent. Valid as long as the request.
  std::string_view header(std::string_view name) const;
};

// Writes a text/event-stream response piece by piece. send() returns false once the client is
// gone or the server is shutting down; the producer should then return. One call at a time; the
// producer runs on the connection's strand. Each event is written as `id:`, `event:` (each only if
// not empty; CR and LF in them are dropped) and one `data:` line per line of `data`.
class EventStream {
 public:
  virtual ~EventStream() = default;
  virtual net::awaitable<bool> send(std::string_view event, std::string_view data, std::string_view id = {}) = 0;
  virtual net::awaitable<bool> comment(std::string_view text) = 0;  // keep-alive ping
};

struct Response {
  int status = 200;
  Headers headers;  // Content-Type included; Content-Length and Date are added by the server
  std::string body;
  // When set, the server sends the status and headers with Content-Type text/event-stream and
  // Cache-Control no-cache, then runs this until it returns or the client disconnects, then closes
  // the connection. `body` is ignored.
  std::function<net::awaitable<void>(EventStream&)> stream;
  // Never sent: with a 5xx status the server logs it with the method, route and request id (what
  // went wrong inside, for the operator; the body says only what the client may read).
  std::string log_detail;

  static Response json(int status, std::string body);
  // application/problem+json (RFC 9457): {type, title, status, detail} plus extra members (a JSON
  // object's members, without braces, e.g. "\"errors\":[…]").
  static Response problem(int status, std::string_view title, std::string_view detail,
                          std::string_view extra_members = {});
};

// The Request lives until the handler's awaitable completes (the server reuses it afterwards for
// the connection's next request). An exception becomes ServerOptions::on_exception's answer, by
// default a 500 problem+json and a log line.
using Handler = std::function<net::awaitable<Response>(Request&)>;

// Maps an exception that escaped a handler to the answer (`route` is the matched pattern), or to
// nullopt for the server's own: a 500 problem+json and a log line. Called on the connection's
// strand, inside no catch block; one that throws gets the 500 as well.
using ExceptionAnswer =
    std::function<std::optional<Response>(std::exception_ptr, const Request&, std::string_view route)>;

// Metadata of a route for the generated OpenAPI document and for metrics labels.
struct RouteDoc {
  std::string summary;
  std::string operation_id;
  std::string tag;
  bool auth = false;                 // needs Authorization: Bearer <api key>
  std::string request_schema;        // JSON Schema (as JSON text) of the body, empty if none
  std::map<int, std::string> responses;  // status -> description
  std::string response_content_type = "application/json";
  std::string response_schema;       // JSON Schema (as JSON text) of the 2xx answers, empty if none
};

class RouteTable {
 public:
  // `pattern` is a path with {name} segments, e.g. "/v1/status/{job_id}". Adding the same method
  // and pattern twice throws.
  void add(std::string method, std::string pattern, Handler handler, RouteDoc doc = {});

  struct Match {
    const Handler* handler = nullptr;  // null: see allowed
    std::string pattern;               // the route, for metrics ("/v1/status/{job_id}")
    std::map<std::string, std::string> params;
    std::vector<std::string> allowed;  // path matched but not the method: 405 with Allow
  };
  // No route for the path: handler null and allowed empty (404).
  Match match(std::string_view method, std::string_view path) const;

  struct Route {
    std::string method;
    std::string pattern;
    Handler handler;
    RouteDoc doc;
  };
  const std::vector<Route>& routes() const { return routes_; }

  // match() without copies, for the server's hot path: the pattern and the Allow list point into
  // the table, `params` is cleared and then filled.
  struct MatchRef {
    const Handler* handler = nullptr;      // null: see pattern and allow
    const std::string* pattern = nullptr;  // null: no route for the path (404)
    std::string_view allow;                // "GET, HEAD, POST": when the method is not allowed (405)
  };
  MatchRef match_ref(std::string_view method, std::string_view path, std::map<std::string, std::string>& params) const;

 private:
  // Patterns are split once, at add(). Paths with only literal segments are found by one map
  // lookup; the others are tried one by one, and where several match, the one whose first
  // differing segment is literal wins ("/v1/status/x" over "/v1/status/{id}").
  struct Segment {
    std::string text;  // literal text, or the parameter's name
    bool param = false;
  };
  struct PathEntry {
    std::string pattern;
    std::vector<Segment> segments;
    std::vector<std::pair<std::string, std::size_t>> methods;  // method -> index in routes_
    std::string allow;
  };
  const PathEntry* find_path(std::string_view path) const;

  std::vector<Route> routes_;
  std::vector<PathEntry> paths_;
  std::map<std::string, std::size_t, std::less<>> literal_paths_;  // pattern -> index in paths_
  std::vector<std::size_t> param_paths_;                            // indexes in paths_
};

// Called once per finished request, for metrics and access logs.
// Requests that could not be read whole (a timeout, the client gone mid-request) are not reported;
// every other one is, exactly once, after its response was written (or failed to be). A request
// refused before its handler (400, 413, 431) is reported too.
struct RequestRecord {
  std::string method;  // GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, CONNECT, TRACE, or OTHER (anything else)
  std::string route;   // the pattern, "unmatched", or "refused" (over max_connections)
  int status = 0;      // 0: the connection was closed before an answer (end of the shutdown grace)
  std::chrono::nanoseconds duration{};  // from the first byte of the request to the end of the response
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                            // 0: the OS picks; see Server::port()
  std::size_t max_header_bytes = std::size_t{16} * 1024;        // larger: 431
  std::size_t max_body_bytes = std::size_t{1024} * 1024;        // larger: 413
  std::chrono::milliseconds read_timeout{30'000};    // for one whole request, headers and body
  std::chrono::milliseconds idle_timeout{60'000};    // between requests on a kept-alive connection
  std::chrono::milliseconds write_timeout{30'000};
  // Open connections at most (0: no cap). Past it a new connection gets a 503 with Retry-After and
  // is closed at once, reported with the route "refused".
  std::size_t max_connections = 0;
  // May be empty. Called on the connection's strand: with several threads running the io_context,
  // calls for different connections can run at the same time.
  std::function<void(const RequestRecord&)> on_request;
  // May be empty: every exception a handler lets escape is then a 500.
  ExceptionAnswer on_exception;
};

// Threading: the io_context behind `executor` may be run by any number of threads; the listener
// and the bookkeeping of connections run on one strand, every connection on a strand of its own
// (its handlers too) or on one of the single-threaded connection executors. Handlers and on_request must be safe to call from several threads at once.
class Server {
 public:
  // Connections are spread round-robin over `connection_executors` when given: each must be run by
  // exactly one thread (an io_context of its own per thread), so a connection needs no strand and
  // the threads share no queue. Without them each connection gets a strand on `executor`.
  Server(net::any_io_executor executor, ServerOptions options, std::shared_ptr<const RouteTable> routes,
         std::vector<net::any_io_executor> connection_executors = {});
  ~Server();
  // Binds and listens (throws on failure, e.g. the port is taken), then accepts in the background.
  void start();
  std::uint16_t port() const;
  // Stops accepting and closes idle connections at once; in-flight requests and streams may run
  // until `grace` is over, then their connections are closed. Completes when every connection is gone.
  net::awaitable<void> shutdown(std::chrono::milliseconds grace);
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace igb::server
