// One connection, on its strand (or single-threaded executor): reading a request, answer() (exactly
// one Response per request read), writing it, Server-Sent Events, closing. See server_impl.hpp.
#include "server/server_impl.hpp"

namespace igb::server {

namespace {

// Arms the watchdog for min(deadline, now + every). A deadline is always set at least `every` ahead
// (every is the shortest timeout, or the watchdog is re-armed), so the watchdog never wakes after it.
void watch(std::shared_ptr<Connection> c, Clock::duration every) {
  auto& watchdog = c->watchdog;  // named first: the handler below takes `c` over
  watchdog.expires_at(std::min(c->deadline, Clock::now() + every));
  watchdog.async_wait([c = std::move(c), every](const error_code& ec) mutable {
    if (ec || c->finished) return;  // canceled: the connection has ended, or the watchdog was re-armed
    if (Clock::now() >= c->deadline) {
      error_code ignored;
      c->socket.close(ignored);  // the pending operation fails; the connection ends
      return;
    }
    watch(std::move(c), every);
  });
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

}  // namespace

// options.on_exception's answer, or a 500 and a log line naming the request id.
Response Server::Impl::answer_exception(const std::exception_ptr& failure, const Request& req,
                                        std::string_view route) const {
  if (options.on_exception) {
    try {
      if (auto answer = options.on_exception(failure, req, route)) return std::move(*answer);
    } catch (...) {
      log_handler_failure("the exception hook", req.method, route, req.id, std::current_exception());
    }
  }
  log_handler_failure("handler", req.method, route, req.id, failure);
  return Response::problem(500, "Internal Server Error", "internal error");
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
  const auto header_limit =
      static_cast<std::uint32_t>(std::min<std::size_t>(o.max_header_bytes, std::numeric_limits<std::uint32_t>::max()));

  std::optional<Parser> parser;
  bool first = true;
  Next next = Next::drop;
  while (!c->stopping) {
    if (c->buffer.size() == 0) {
      // Between requests: the idle timeout (the read timeout for a new connection's first request).
      c->phase = Phase::idle;
      c->expires_after(first ? o.read_timeout : o.idle_timeout);
      auto [ec, n] =
          co_await c->socket.async_read_some(c->buffer.prepare(beast::read_size(c->buffer, kReadChunk)), kTok);
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
    wire::new_request_id(req.id);
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
    bool client_id = false;
    for (const auto& field : msg) {
      const auto name = field.name_string();
      const auto value = field.value();
      if (!client_id && name.size() == 12 && wire::iequals(name, "x-request-id") &&
          wire::valid_request_id(std::string_view(value.data(), value.size()))) {
        req.id.assign(value.data(), value.size());
        client_id = true;
      }
      if (count < req.headers.size()) {
        req.headers[count].first.assign(name.data(), name.size());
        req.headers[count].second.assign(value.data(), value.size());
      } else {
        req.headers.emplace_back(std::string(name.data(), name.size()), std::string(value.data(), value.size()));
      }
      ++count;
    }
    req.headers.resize(count);
    if (!client_id) wire::new_request_id(req.id);
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
          res = self->answer_exception(failure, req, route);
        } else if (res.status < 200 || res.status > 599) {
          spdlog::error("http: {} {}: handler returned status {}, answered 500", req.method, route, res.status);
          res = Response::problem(500, "Internal Server Error", "internal error");
        }
      }
    }
  }

  mark_server_error(res, req.method, route, req.id);
  if (res.stream) co_return co_await stream_response(self, c, &res, head_only, route, started);

  const bool keep = keep_alive && !c->stopping && !asks_to_close(res.headers);
  const bool no_body = res.status == 204 || res.status == 304;
  build_head(c->head, res.status, res.headers, false,
             no_body ? std::nullopt : std::optional<std::size_t>(res.body.size()), keep, http10, req.id);
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
  build_head(c->head, res->status, res->headers, true, std::nullopt, false, false, c->request.id);
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
    log_handler_failure("event stream", method, route, c->request.id, failure);  // the status is sent: just close
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

}  // namespace igb::server
