// The listener and the registry of connections (on the control strand), shutdown, and the public
// Server. See server_impl.hpp.
#include "server/server_impl.hpp"

namespace igb::server {

namespace {

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
  build_head(head, 503, {{"Content-Type", "application/problem+json"}, {"Retry-After", "1"}}, false, body.size(), false,
             false);
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
                net::bind_cancellation_slot(c->cancel.slot(), [self, c](const std::exception_ptr& e) {
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
  if (impl.start_called) throw std::logic_error("server: start() called twice");
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
  impl.start_called = true;
  impl.accepting = true;  // read on `control` only after the co_spawn below
  auto self = impl_;
  net::co_spawn(impl.control, Impl::accept_loop(self), [self](const std::exception_ptr& e) {
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
