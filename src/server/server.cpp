// The HTTP/1.1 server on Beast. Shape:
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
#include "server/server.hpp"

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
#include <stdexcept>

#include "server/wire.hpp"

namespace igb::server {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTok = net::as_tuple(net::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
// When the client may still be sending as a connection is closed after a response (a refused body,
// pipelined requests), the server stops sending (FIN) and reads and drops input until the client
// closes, for at most this long: closing a socket with unread input makes the kernel send a RST,
// which can destroy the response before the client has read it (a 413 while the client is still
// sending its body is the classic case).
constexpr std::chrono::milliseconds kMaxLinger{5000};
constexpr std::string_view kUnmatched = "unmatched";
constexpr std::string_view kRefused = "refused";  // the route label of connections over the cap

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

// Arms the watchdog for min(deadline, now + every). A deadline is always set at least `every` ahead
// (every is the shortest timeout, or the watchdog is re-armed), so the watchdog never wakes after it.
void watch(std::shared_ptr<Connection> c, Clock::duration every) {
  c->watchdog.expires_at(std::min(c->deadline, Clock::now() + every));
  c->watchdog.async_wait([c = std::move(c), every](const error_code& ec) mutable {
    if (ec || c->finished) return;  // canceled: the connection has ended, or the watchdog was re-armed
    if (Clock::now() >= c->deadline) {
      error_code ignored;
      c->socket.close(ignored);  // the pending operation fails; the connection ends
      return;
    }
    watch(std::move(c), every);
  });
}

bool is_http_error(const error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category;
}

// What RFC 9112 says the server must refuse once the header is read, before any body: a
// Transfer-Encoding other than exactly "chunked" (§6.3: the length cannot be known; Beast would read
// such a request as bodiless and the body as the next request), any Transfer-Encoding in HTTP/1.0
// (§6.1), and an HTTP/1.1 request without exactly one Host (§3.2). Empty: the framing is fine.
std::string_view framing_problem(const bhttp::request_parser<bhttp::string_body>::value_type& msg) {
  int hosts = 0;
  int encodings = 0;
  bool chunked_only = true;
  for (const auto& field : msg) {
    if (field.name() == bhttp::field::host) {
      ++hosts;
    } else if (field.name() == bhttp::field::transfer_encoding) {
      ++encodings;
      const auto v = field.value();
      std::string_view value(v.data(), v.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (!wire::iequals(value, "chunked")) chunked_only = false;
    }
  }
  if (encodings > 0 && msg.version() < 11) return "Transfer-Encoding is not allowed in HTTP/1.0";
  if (encodings > 1 || !chunked_only) return "the only Transfer-Encoding accepted is \"chunked\"";
  if (msg.version() >= 11 && hosts == 0) return "an HTTP/1.1 request needs a Host header";
  if (hosts > 1) return "more than one Host header";
  return {};
}

// Metrics and logs see the method as one of the standard ones, or "OTHER": a client picks the
// method freely, and each distinct value would otherwise become a label kept for good.
std::string_view method_label(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (auto known : kKnown)
    if (method == known) return known;
  return "OTHER";
}

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Headers the server writes itself; a handler's copy is dropped.
bool server_owned_header(std::string_view name, bool stream) {
  using wire::iequals;
  if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection") ||
      iequals(name, "date") || iequals(name, "server"))
    return true;
  return stream && (iequals(name, "content-type") || iequals(name, "cache-control"));
}

bool asks_to_close(const Headers& headers) {
  for (const auto& [name, value] : headers)
    if (wire::iequals(name, "connection") && wire::iequals(value, "close")) return true;
  return false;
}

void build_head(std::string& out, int status, const Headers& headers, bool stream,
                std::optional<std::size_t> content_length, bool keep_alive, bool http10) {
  out.clear();
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::uint64_t>(status));
  out += ' ';
  const auto code = bhttp::int_to_status(static_cast<unsigned>(status));
  if (code != bhttp::status::unknown) {
    const auto reason = bhttp::obsolete_reason(code);
    out.append(reason.data(), reason.size());
  }
  out += "\r\nServer: imggenbot\r\nDate: ";
  out += wire::http_date();
  out += "\r\n";
  if (stream) out += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
  for (const auto& [name, value] : headers) {
    if (server_owned_header(name, stream)) continue;
    if (!wire::valid_header_name(name) || !wire::valid_header_value(value)) {
      spdlog::warn("http: dropped an invalid response header (name or value has forbidden characters)");
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (content_length) {
    out += "Content-Length: ";
    append_number(out, *content_length);
    out += "\r\n";
  }
  if (!keep_alive)
    out += "Connection: close\r\n";
  else if (http10)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
}

void log_unexpected(std::string_view what, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& ex) {
    if (ex.code() == net::error::operation_aborted) return;  // the server closed it
    spdlog::error("http server: {}: {}", what, ex.what());
  } catch (const std::exception& ex) {
    spdlog::error("http server: {}: {}", what, ex.what());
  } catch (...) {
    spdlog::error("http server: {}: unknown exception", what);
  }
}

// Method and route only: never the target (it can carry tokens), the body or the headers.
void log_handler_failure(std::string_view what, std::string_view method, std::string_view route,
                         std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    spdlog::error("http: {} {}: {} threw: {}", method, route, what, ex.what());
  } catch (...) {
    spdlog::error("http: {} {}: {} threw a non-standard exception", method, route, what);
  }
}

// The EventStream of one SSE response: writes straight to the connection's socket.
class SseWriter final : public EventStream {
 public:
  SseWriter(Connection& c, std::chrono::milliseconds write_timeout) : c_(c), write_timeout_(write_timeout) {}

  // The views are read before the first suspension, while the caller's arguments are alive.
  net::awaitable<bool> send(std::string_view event, std::string_view data, std::string_view id) override {
    if (!usable()) co_return false;
    c_.event.clear();
    wire::append_sse_event(c_.event, event, data, id);
    co_return co_await flush();
  }

  net::awaitable<bool> comment(std::string_view text) override {
    if (!usable()) co_return false;
    c_.event.clear();
    wire::append_sse_comment(c_.event, text);
    co_return co_await flush();
  }

  bool failed() const { return failed_; }

 private:
  bool usable() {
    if (failed_ || c_.stopping) return false;
    if (peer_closed()) failed_ = true;
    return !failed_;
  }

  // A client that has gone away usually still accepts a write or two (the kernel buffers it); a
  // non-blocking peek sees its FIN or RST at once.
  bool peer_closed() {
    char byte;
    const auto n = ::recv(c_.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return false;
  }

  net::awaitable<bool> flush() {
    c_.expires_after(write_timeout_);
    auto [ec, n] = co_await net::async_write(c_.socket, net::buffer(c_.event), kTok);
    c_.expires_never();  // the producer may wait as long as it likes between events
    if (ec) failed_ = true;
    co_return !failed_;
  }

  Connection& c_;
  std::chrono::milliseconds write_timeout_;
  bool failed_ = false;
};

// On the connection's strand: shutdown has begun.
void stop_connection(Connection& c) {
  if (c.finished || c.stopping) return;
  c.stopping = true;
  // Waiting for a request that has not started: nothing is in flight.
  if (c.phase == Phase::idle) {
    error_code ignored;
    c.socket.cancel(ignored);
  }
}

// On the connection's strand: the grace period is over.
void kill_connection(Connection& c) {
  if (c.finished) return;
  c.killed = true;
  c.stopping = true;
  c.cancel.emit(net::cancellation_type::terminal);  // wakes a handler waiting on a timer, a pool…
  error_code ec;
  c.socket.shutdown(tcp::socket::shutdown_both, ec);
  c.socket.close(ec);
}

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(net::any_io_executor ex, ServerOptions o, std::shared_ptr<const RouteTable> r,
       std::vector<net::any_io_executor> connection_ex)
      : executor(std::move(ex)),
        connection_executors(std::move(connection_ex)),
        control(net::make_strand(executor)),
        acceptor(control),
        options(std::move(o)),
        routes(std::move(r)),
        watch_every(std::max<Clock::duration>(std::min({options.read_timeout, options.idle_timeout, options.write_timeout}),
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
  bool started = false;    // start()'s caller only
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
};

// ---- listener and registry (control strand) ----

net::awaitable<void> Server::Impl::accept_loop(std::shared_ptr<Impl> self) {
  for (;;) {
    const auto& spread = self->connection_executors;
    net::any_io_executor where =
        spread.empty() ? net::make_strand(self->executor) : spread[self->next_executor++ % spread.size()];
    auto [ec, socket] = co_await self->acceptor.async_accept(where, kTok);
    if (self->stopping || ec == net::error::operation_aborted || ec == net::error::bad_descriptor) co_return;
    if (ec) {
      // E.g. EMFILE: back off instead of spinning on a listener that cannot accept.
      spdlog::warn("http server: accept failed: {}", ec.message());
      net::steady_timer pause(self->control, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTok);
      continue;
    }
    const auto limit = self->options.max_connections;
    if (limit > 0 && self->open.load(std::memory_order_relaxed) >= limit) {
      self->refuse(std::move(socket));
      continue;
    }
    self->launch(std::move(socket));
  }
}

// Over the connection cap: a 503 written without waiting (a small response fits the socket's send
// buffer; whatever does not fit is dropped), then closed. No coroutine, no buffer, no timer.
void Server::Impl::refuse(tcp::socket socket) {
  const auto started = Clock::now();
  std::string head;
  const std::string body =
      R"({"type":"about:blank","title":"Service Unavailable","status":503,"detail":"too many open connections, try again shortly"})";
  build_head(head, 503, {{"Content-Type", "application/problem+json"}, {"Retry-After", "1"}}, false, body.size(),
             false, false);
  head += body;
  error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.write_some(net::buffer(head), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
  report("", kRefused, 503, started);
}

void Server::Impl::launch(tcp::socket socket) {
  auto c = std::make_shared<Connection>(std::move(socket));
  connections.push_front(c);
  c->registry_entry = connections.begin();
  open.fetch_add(1, std::memory_order_relaxed);
  auto self = shared_from_this();
  // Owned, not detached: the registry keeps the connection and its cancellation signal, and the
  // completion handler (on the connection's strand) takes it out again.
  net::co_spawn(c->executor, serve(self, c),
                net::bind_cancellation_slot(c->cancel.slot(), [self, c](std::exception_ptr e) {
                  c->finished = true;
                  if (e) log_unexpected("connection", e);
                  error_code ec;
                  c->socket.close(ec);
                  c->watchdog.cancel();
                  net::post(self->control, [self, c] { self->forget(c); });
                }));
}

void Server::Impl::forget(const std::shared_ptr<Connection>& c) {
  connections.erase(c->registry_entry);
  open.fetch_sub(1, std::memory_order_relaxed);
  wake_if_done();
}

void Server::Impl::wake_if_done() {
  if (accepting || !connections.empty()) return;
  for (auto* timer : waiters) timer->cancel();
}

void Server::Impl::begin_stop() {
  if (stopping) return;
  stopping = true;
  error_code ec;
  acceptor.close(ec);  // new connections are refused from now on
  for (auto& c : connections) net::post(c->executor, [c] { stop_connection(*c); });
}

void Server::Impl::kill_all() {
  for (auto& c : connections) net::post(c->executor, [c] { kill_connection(*c); });
}

net::awaitable<void> Server::Impl::do_shutdown(std::shared_ptr<Impl> self, std::chrono::milliseconds grace) {
  const auto deadline = Clock::now() + grace;
  self->begin_stop();
  net::steady_timer wake(self->control);
  self->waiters.push_back(&wake);
  struct Unregister {
    Impl* impl;
    std::list<net::steady_timer*>::iterator entry;
    ~Unregister() { impl->waiters.erase(entry); }
  } unregister{self.get(), std::prev(self->waiters.end())};

  // All of this runs on `control`, as does forget(): the check and the wait cannot miss a wake-up.
  bool killed = false;
  while (self->accepting || !self->connections.empty()) {
    wake.expires_at(killed ? net::steady_timer::time_point::max() : deadline);
    co_await wake.async_wait(kTok);
    if (!killed && Clock::now() >= deadline && (self->accepting || !self->connections.empty())) {
      self->kill_all();
      killed = true;
    }
  }
}

void Server::Impl::report(std::string_view method, std::string_view route, int status,
                          Clock::time_point started) const {
  if (!options.on_request) return;
  RequestRecord record{std::string(method_label(method)), std::string(route), status, Clock::now() - started};
  try {
    options.on_request(record);
  } catch (...) {
    log_unexpected("on_request", std::current_exception());
  }
}

// ---- one connection (its strand) ----

net::awaitable<void> Server::Impl::serve(std::shared_ptr<Impl> self, std::shared_ptr<Connection> conn) {
  Connection* c = conn.get();
  const ServerOptions& o = self->options;
  {
    error_code ec;
    c->socket.set_option(tcp::no_delay(true), ec);
    auto remote = c->socket.remote_endpoint(ec);
    if (!ec) c->request.remote_address = remote.address().to_string();
  }
  watch(conn, self->watch_every);
  const auto header_limit = static_cast<std::uint32_t>(
      std::min<std::size_t>(o.max_header_bytes, std::numeric_limits<std::uint32_t>::max()));

  std::optional<Parser> parser;
  bool first = true;
  Next next = Next::drop;
  while (!c->stopping) {
    if (c->buffer.size() == 0) {
      // Between requests: the idle timeout (the read timeout for a new connection's first request).
      c->phase = Phase::idle;
      c->expires_after(first ? o.read_timeout : o.idle_timeout);
      auto [ec, n] = co_await c->socket.async_read_some(c->buffer.prepare(beast::read_size(c->buffer, kReadChunk)), kTok);
      if (ec) {
        next = Next::drop;
        break;
      }
      c->buffer.commit(n);
    }
    first = false;
    c->phase = Phase::reading;
    const auto started = Clock::now();
    c->expires_after(o.read_timeout);  // one deadline for the whole request
    parser.emplace();
    parser->header_limit(header_limit);
    parser->body_limit(static_cast<std::uint64_t>(o.max_body_bytes));
    parser->eager(false);  // stop after the header, so its framing is checked before any body byte; then eager
    const error_code read_error = co_await read_request(c, &*parser);
    next = co_await answer(self.get(), c, &*parser, read_error, started);
    if (next != Next::keep_alive) break;
  }
  co_await close_connection(std::move(conn), next, std::min(o.read_timeout, kMaxLinger), self->watch_every);
}

net::awaitable<error_code> Server::Impl::read_request(Connection* c, Parser* parser) {
  bool continue_checked = false;
  bool framing_checked = false;
  c->framing_error = {};
  for (;;) {
    if (c->buffer.size() > 0) {
      error_code ec;
      const std::size_t used = parser->put(c->buffer.data(), ec);
      c->buffer.consume(used);
      if (ec && ec != bhttp::error::need_more) co_return ec;
      if (!framing_checked && parser->is_header_done()) {
        framing_checked = true;
        c->framing_error = framing_problem(parser->get());
        if (!c->framing_error.empty()) co_return error_code(bhttp::error::bad_transfer_encoding);
        parser->eager(true);
        if (!parser->is_done() && c->buffer.size() > 0) continue;  // the body may be here already
      }
      if (parser->is_done()) co_return error_code{};
      if (!ec && used > 0 && c->buffer.size() > 0) continue;
    }
    if (!continue_checked && parser->is_header_done()) {
      continue_checked = true;
      const auto& msg = parser->get();
      if (msg.version() >= 11 && wire::iequals(msg[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [ec, n] = co_await net::async_write(c->socket, net::buffer(kContinue.data(), kContinue.size()), kTok);
        if (ec) co_return ec;
      }
    }
    auto [ec, n] = co_await c->socket.async_read_some(c->buffer.prepare(beast::read_size(c->buffer, kReadChunk)), kTok);
    if (ec == net::error::eof) {
      if (!parser->got_some()) co_return error_code(bhttp::error::end_of_stream);
      error_code eof_ec;
      parser->put_eof(eof_ec);
      if (!eof_ec && parser->is_done()) co_return error_code{};
      co_return error_code(bhttp::error::partial_message);
    }
    if (ec) co_return ec;
    c->buffer.commit(n);
  }
}

net::awaitable<Next> Server::Impl::answer(Impl* self, Connection* c, Parser* parser, error_code read_error,
                                          Clock::time_point started) {
  const ServerOptions& o = self->options;
  Request& req = c->request;
  auto& msg = parser->get();
  Response res;
  std::string_view route = kUnmatched;
  bool head_only = false;
  bool keep_alive = false;  // errors in the framing end the connection: the rest of the input is suspect
  bool http10 = false;

  if (read_error) {
    int status = 0;
    if (read_error == bhttp::error::body_limit)
      status = 413;
    else if (read_error == bhttp::error::header_limit)
      status = 431;
    else if (is_http_error(read_error) && read_error != bhttp::error::partial_message &&
             read_error != bhttp::error::end_of_stream)
      status = 400;
    else
      co_return Next::drop;  // timeout, reset, end of input, shutdown: nobody to answer
    req.method.assign(msg.method_string().data(), msg.method_string().size());
    if (status == 413) {
      // The header is complete: name the route in the metrics.
      const auto target = msg.target();
      if (wire::decode_target(std::string_view(target.data(), target.size()), req.path, req.query)) {
        auto m = self->routes->match_ref(req.method, req.path, req.params);
        if (m.pattern) route = *m.pattern;
      }
      res = Response::problem(413, "Content Too Large",
                              "the request body is larger than " + std::to_string(o.max_body_bytes) + " bytes");
    } else if (status == 431) {
      res = Response::problem(431, "Request Header Fields Too Large",
                              "the request header is larger than " + std::to_string(o.max_header_bytes) + " bytes");
    } else {
      // Beast refuses some Transfer-Encodings itself (e.g. chunked twice) before framing_problem sees them.
      std::string_view detail = c->framing_error;
      if (detail.empty() && read_error == bhttp::error::bad_transfer_encoding)
        detail = "the only Transfer-Encoding accepted is \"chunked\"";
      res = Response::problem(400, "Bad Request", detail.empty() ? "the request is not valid HTTP/1.1" : detail);
    }
    head_only = msg.method() == bhttp::verb::head;
  } else {
    req.method.assign(msg.method_string().data(), msg.method_string().size());
    req.target.assign(msg.target().data(), msg.target().size());
    std::size_t count = 0;
    for (const auto& field : msg) {
      const auto name = field.name_string();
      const auto value = field.value();
      if (count < req.headers.size()) {
        req.headers[count].first.assign(name.data(), name.size());
        req.headers[count].second.assign(value.data(), value.size());
      } else {
        req.headers.emplace_back(std::string(name.data(), name.size()), std::string(value.data(), value.size()));
      }
      ++count;
    }
    req.headers.resize(count);
    req.body = std::move(msg.body());
    head_only = msg.method() == bhttp::verb::head;
    keep_alive = msg.keep_alive();
    http10 = msg.version() < 11;

    if (!wire::decode_target(req.target, req.path, req.query)) {
      req.params.clear();
      res = Response::problem(400, "Bad Request",
                              "the request target is not valid (percent-encoding, or not UTF-8 once decoded)");
    } else {
      auto m = self->routes->match_ref(req.method, req.path, req.params);
      if (!m.pattern) {
        res = Response::problem(404, "Not Found", "there is no resource at this path");
      } else if (route = *m.pattern; !m.handler) {
        res = Response::problem(405, "Method Not Allowed", "this resource does not support the method " + req.method);
        res.headers.emplace_back("Allow", std::string(m.allow));
      } else {
        c->phase = Phase::handling;
        c->expires_never();  // handlers take as long as they take
        std::exception_ptr failure;
        try {
          auto task = (*m.handler)(req);
          res = co_await std::move(task);
        } catch (...) {
          failure = std::current_exception();
        }
        if (failure) {
          if (c->killed) {
            self->report(req.method, route, 0, started);
            std::rethrow_exception(failure);
          }
          log_handler_failure("handler", req.method, route, failure);
          res = Response::problem(500, "Internal Server Error", "internal error");
        } else if (res.status < 200 || res.status > 599) {
          spdlog::error("http: {} {}: handler returned status {}, answered 500", req.method, route, res.status);
          res = Response::problem(500, "Internal Server Error", "internal error");
        }
      }
    }
  }

  if (res.stream) co_return co_await stream_response(self, c, &res, head_only, route, started);

  const bool keep = keep_alive && !c->stopping && !asks_to_close(res.headers);
  const bool no_body = res.status == 204 || res.status == 304;
  build_head(c->head, res.status, res.headers, false,
             no_body ? std::nullopt : std::optional<std::size_t>(res.body.size()), keep, http10);
  std::array<net::const_buffer, 2> buffers{net::buffer(c->head), net::const_buffer()};
  if (!head_only && !no_body) buffers[1] = net::buffer(res.body);
  c->phase = Phase::writing;
  c->expires_after(o.write_timeout);
  error_code write_error;
  std::exception_ptr failure;
  try {
    auto [ec, n] = co_await net::async_write(c->socket, buffers, kTok);
    write_error = ec;
  } catch (...) {
    failure = std::current_exception();  // killed while writing
  }
  self->report(req.method, route, res.status, started);
  if (failure) std::rethrow_exception(failure);
  if (write_error) co_return Next::drop;
  if (read_error) co_return Next::drain;
  co_return keep ? Next::keep_alive : Next::close;
}

// Status and headers, then the producer writes events; the body ends when the connection closes
// (no Content-Length, no chunking: `Connection: close`).
net::awaitable<Next> Server::Impl::stream_response(Impl* self, Connection* c, Response* res, bool head_only,
                                                   std::string_view route, Clock::time_point started) {
  const std::string& method = c->request.method;
  build_head(c->head, res->status, res->headers, true, std::nullopt, false, false);
  c->phase = Phase::writing;
  c->expires_after(self->options.write_timeout);
  error_code write_error;
  std::exception_ptr failure;
  try {
    auto [ec, n] = co_await net::async_write(c->socket, net::buffer(c->head), kTok);
    write_error = ec;
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure || write_error) {
    self->report(method, route, res->status, started);
    if (failure) std::rethrow_exception(failure);
    co_return Next::drop;
  }
  if (head_only) {
    self->report(method, route, res->status, started);
    co_return Next::close;
  }

  SseWriter writer(*c, self->options.write_timeout);
  c->phase = Phase::streaming;
  bool client_left = false;
  try {
    // The producer may wait long between events; a client that closes meanwhile ends it at once
    // (the other side of `||` is cancelled) instead of at its next write.
    using namespace net::experimental::awaitable_operators;
    auto task = res->stream(writer);
    auto ended = co_await (std::move(task) || client_gone(c));
    client_left = ended.index() == 1;
  } catch (...) {
    failure = std::current_exception();
  }
  self->report(method, route, res->status, started);
  if (failure) {
    if (c->killed) std::rethrow_exception(failure);
    log_handler_failure("event stream", method, route, failure);  // the status is sent: just close
  }
  co_return writer.failed() || client_left ? Next::drop : Next::close;
}

// Completes when the client of a stream sends anything or closes (an SSE client only listens), or
// the socket fails.
net::awaitable<void> Server::Impl::client_gone(Connection* c) {
  auto [ec] = co_await c->socket.async_wait(tcp::socket::wait_read, kTok);
  (void)ec;
}

net::awaitable<void> Server::Impl::close_connection(std::shared_ptr<Connection> c, Next how,
                                                   std::chrono::milliseconds limit, Clock::duration every) {
  auto& socket = c->socket;
  error_code ec;
  if ((how == Next::close || how == Next::drain) && socket.is_open()) {
    c->phase = Phase::closing;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    // Input already waiting means the client is sending more (pipelining): drain it as well.
    error_code available_ec;
    const bool linger = how == Next::drain || c->buffer.size() > 0 || socket.available(available_ec) > 0;
    if (!ec && linger) {
      c->expires_after(limit);
      if (limit < every) {
        c->watchdog.cancel();  // it may be due later than this shorter limit
        watch(c, limit);
      }
      c->buffer.clear();
      for (;;) {
        auto [rec, n] = co_await c->socket.async_read_some(c->buffer.prepare(kReadChunk), kTok);
        if (rec) break;  // the client's FIN, the limit, or an error; what came is dropped (never committed)
      }
    }
  }
  socket.close(ec);
}

// ---- Server ----

Server::Server(net::any_io_executor executor, ServerOptions options, std::shared_ptr<const RouteTable> routes,
               std::vector<net::any_io_executor> connection_executors) {
  if (!routes) throw std::invalid_argument("server: no route table");
  impl_ = std::make_shared<Impl>(std::move(executor), std::move(options), std::move(routes),
                                 std::move(connection_executors));
}

Server::~Server() {
  if (!impl_) return;
  // Not a graceful stop (that is shutdown()): refuse new connections and close the open ones. The
  // coroutines hold the Impl until they have ended.
  auto impl = impl_;
  net::post(impl->control, [impl] {
    impl->begin_stop();
    impl->kill_all();
  });
}

void Server::start() {
  Impl& impl = *impl_;
  if (impl.started) throw std::logic_error("server: start() called twice");
  std::string host = impl.options.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    const tcp::endpoint endpoint(net::ip::make_address(host), impl.options.port);
    impl.acceptor.open(endpoint.protocol());
    impl.acceptor.set_option(net::socket_base::reuse_address(true));
    impl.acceptor.bind(endpoint);
    impl.acceptor.listen(net::socket_base::max_listen_connections);
    impl.port = impl.acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    error_code ignored;
    impl.acceptor.close(ignored);
    throw boost::system::system_error(
        e.code(), "server: cannot listen on " + impl.options.host + ":" + std::to_string(impl.options.port));
  }
  impl.started = true;
  impl.accepting = true;  // read on `control` only after the co_spawn below
  auto self = impl_;
  net::co_spawn(impl.control, Impl::accept_loop(self), [self](std::exception_ptr e) {
    self->accepting = false;
    if (e) log_unexpected("accept loop", e);
    self->wake_if_done();
  });
}

std::uint16_t Server::port() const { return impl_->port; }

std::size_t Server::open_connections() const { return impl_->open.load(std::memory_order_relaxed); }

net::awaitable<void> Server::shutdown(std::chrono::milliseconds grace) {
  std::shared_ptr<Impl> impl = impl_;
  auto task = Impl::do_shutdown(impl, grace);
  co_await net::co_spawn(impl->control, std::move(task), net::use_awaitable);
}

}  // namespace igb::server
