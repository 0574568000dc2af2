#pragma once
// The HTTP/1.1 server's insides, shared by its translation units and by no other library (Beast stays
// in them): listener.cpp (accepting, the registry of connections, shutdown, the public Server),
// connection.cpp (one connection: reading a request, answer(), writing, SSE, closing) and http1.cpp
// (HTTP/1.1 rules on Beast's types: the framing check, the response header, the log lines).
// Shape:
//  - the listener and the registry of connections live on one strand (`control`); each connection
//    is a coroutine on a strand of its own (or on one of the single-threaded connection executors),
//    spawned with a cancellation slot the server keeps, and removed from the registry by its
//    completion handler;
//  - timeouts: a deadline per connection and a watchdog timer (see watch());
//  - a connection reads with request_parser::put over its own flat_buffer (pipelined bytes stay
//    there for the next request) and writes the response header (formatted into a reused string)
//    and the body with one gathered write;
//  - every request that was read, or failed to parse in a way worth an answer, goes through
//    answer(): exactly one Response comes out of it (a throwing handler becomes a 500), exactly one
//    write is attempted, and on_request is called exactly once, after the write.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/system/system_error.hpp>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <limits>
#include <list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "server/server.hpp"
#include "server/wire.hpp"

namespace igb::server {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

inline constexpr auto kTok = net::as_tuple(net::use_awaitable);
inline constexpr std::size_t kReadChunk = std::size_t{16} * 1024;
// When the client may still be sending as a connection is closed after a response (a refused body,
// pipelined requests), the server stops sending (FIN) and reads and drops input until the client
// closes, for at most this long: closing a socket with unread input makes the kernel send a RST,
// which can destroy the response before the client has read it (a 413 while the client is still
// sending its body is the classic case).
inline constexpr std::chrono::milliseconds kMaxLinger{5000};
inline constexpr std::string_view kUnmatched = "unmatched";
inline constexpr std::string_view kRefused = "refused";  // the route label of connections over the cap

using Parser = bhttp::request_parser<bhttp::string_body>;

enum class Phase { starting, idle, reading, handling, writing, streaming, closing };

// What happens to a connection after one request.
enum class Next {
  keep_alive,  // read the next request
  close,       // a response ended the connection: stop sending, drain what is already there, close
  drain,       // like close, but the client is likely still sending (the request was not read whole)
  drop,        // nothing (more) can be sent: close at once
};

struct Connection {
  explicit Connection(tcp::socket s) : executor(s.get_executor()), socket(std::move(s)), watchdog(executor) {}

  const net::any_io_executor executor;  // the connection's strand, or a single-threaded io_context's executor
  tcp::socket socket;
  // Timeouts without a timer operation per read and write: `deadline` is when the I/O in progress
  // must be done (max: no I/O in progress), and the watchdog wakes at least every `watch_every` to
  // compare (see watch()). When it has passed, the socket is closed and the pending operation fails.
  net::steady_timer watchdog;
  Clock::time_point deadline = Clock::time_point::max();
  beast::flat_buffer buffer;  // kept between requests: pipelined bytes wait here
  net::cancellation_signal cancel;
  std::list<std::shared_ptr<Connection>>::iterator registry_entry;  // control strand only

  // The connection's strand only.
  Phase phase = Phase::starting;
  bool stopping = false;  // the server is shutting down: finish what is in flight, then close
  bool killed = false;    // the grace period is over: cancelled and closed
  bool finished = false;  // the coroutine has ended
  Request request;        // reused, so its strings and vectors keep their capacity
  std::string head;       // the response header being written
  std::string event;      // the SSE event being written
  std::string_view framing_error;  // why the current request's header was refused (a literal)

  void expires_after(Clock::duration d) { deadline = Clock::now() + d; }
  void expires_never() { deadline = Clock::time_point::max(); }
};

// ---- http1.cpp ----

bool is_http_error(const error_code& ec);
// What RFC 9112 says the server must refuse once the header is read, before any body (see http1.cpp).
// Empty: the framing is fine.
std::string_view framing_problem(const Parser::value_type& msg);
// Metrics and logs see the method as one of the standard ones, or "OTHER".
std::string_view method_label(std::string_view method);
bool asks_to_close(const Headers& headers);
// The status line and headers of a response into `out` (its storage reused).
void build_head(std::string& out, int status, const Headers& headers, bool stream,
                std::optional<std::size_t> content_length, bool keep_alive, bool http10,
                std::string_view request_id = {});
void log_unexpected(std::string_view what, std::exception_ptr e);
// Method and route only: never the target (it can carry tokens), the body or the headers.
void log_handler_failure(std::string_view what, std::string_view method, std::string_view route,
                         std::string_view request_id, std::exception_ptr e);
// A 5xx answer: its problem body names the request id, and what went wrong inside (log_detail) goes
// to the log under the same id, never to the client.
void mark_server_error(Response& res, std::string_view method, std::string_view route, std::string_view request_id);

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(net::any_io_executor ex, ServerOptions o, std::shared_ptr<const RouteTable> r,
       std::vector<net::any_io_executor> connection_ex)
      : executor(std::move(ex)),
        connection_executors(std::move(connection_ex)),
        control(net::make_strand(executor)),
        acceptor(control),
        options(std::move(o)),
        routes(std::move(r)),
        watch_every(
            std::max<Clock::duration>(std::min({options.read_timeout, options.idle_timeout, options.write_timeout}),
                                      std::chrono::milliseconds(1))) {}

  net::any_io_executor executor;
  const std::vector<net::any_io_executor> connection_executors;  // single-threaded; empty: strands
  std::size_t next_executor = 0;                                 // `control` only
  net::strand<net::any_io_executor> control;
  tcp::acceptor acceptor;  // used on `control` once started
  const ServerOptions options;
  const std::shared_ptr<const RouteTable> routes;
  const Clock::duration watch_every;  // the shortest timeout: how often a connection's watchdog looks
  std::uint16_t port = 0;  // set by start()
  bool start_called = false;  // start()'s caller only
  std::atomic<std::size_t> open{0};

  // `control` only.
  bool stopping = false;
  bool accepting = false;
  std::list<std::shared_ptr<Connection>> connections;
  std::list<net::steady_timer*> waiters;  // shutdown() calls waiting for the last connection

  static net::awaitable<void> accept_loop(std::shared_ptr<Impl> self);
  void launch(tcp::socket socket);
  void forget(const std::shared_ptr<Connection>& c);
  void wake_if_done();
  void begin_stop();
  void kill_all();
  static net::awaitable<void> do_shutdown(std::shared_ptr<Impl> self, std::chrono::milliseconds grace);

  static net::awaitable<void> serve(std::shared_ptr<Impl> self, std::shared_ptr<Connection> conn);
  static net::awaitable<error_code> read_request(Connection* c, Parser* parser);
  void refuse(tcp::socket socket);
  static net::awaitable<void> client_gone(Connection* c);
  static net::awaitable<Next> answer(Impl* self, Connection* c, Parser* parser, error_code read_error,
                                     Clock::time_point started);
  static net::awaitable<Next> stream_response(Impl* self, Connection* c, Response* res, bool head_only,
                                              std::string_view route, Clock::time_point started);
  static net::awaitable<void> close_connection(std::shared_ptr<Connection> c, Next how, std::chrono::milliseconds limit,
                                               Clock::duration every);
  void report(std::string_view method, std::string_view route, int status, Clock::time_point started) const;
  Response answer_exception(const std::exception_ptr& failure, const Request& req, std::string_view route) const;
};

}  // namespace igb::server
