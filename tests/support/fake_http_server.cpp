#include "support/fake_http_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <list>
#include <mutex>
#include <sstream>
#include <thread>

namespace igb::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {
constexpr auto kTok = net::as_tuple(net::use_awaitable);
constexpr std::uint64_t kMaxRequestBody = 256ull * 1024 * 1024;
constexpr std::uint32_t kMaxRequestHeader = 1024 * 1024;
}  // namespace

std::string FakeRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

bool FakeRequest::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return beast::iequals(h.first, name); });
}

std::string FakeRequest::path() const { return target.substr(0, target.find('?')); }

std::string FakeRequest::query() const {
  auto q = target.find('?');
  return q == std::string::npos ? std::string() : target.substr(q + 1);
}

FakeResponse FakeResponse::text(std::string body, int status) {
  FakeResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

FakeResponse FakeResponse::json(std::string body, int status) {
  FakeResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

struct FakeHttpServer::Impl {
  // One accepted connection. Touched only on the server thread.
  struct Conn {
    explicit Conn(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    tcp::socket socket;
    net::steady_timer timer;  // delay / hang
    std::size_t id = 0;
    bool idle = false;             // waiting for the first byte of its next request
    bool close_when_idle = false;  // close_idle_connections() came while it was busy

    void close() {
      error_code ec;
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
      timer.cancel();
    }
  };

  // Declared first: destroyed last, after everything bound to it.
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::uint16_t port = 0;
  std::string host = "127.0.0.1";  // for base_url()
  std::thread thread;
  bool stopped = false;  // test thread side (stop() is not meant to race with itself)

  // Server thread only.
  bool stopping = false;
  std::list<std::shared_ptr<Conn>> conns;

  std::atomic<std::size_t> accepted{0};
  std::atomic<std::size_t> open{0};

  mutable std::mutex mutex;
  mutable std::condition_variable cv;
  FakeHandler handler;
  std::vector<FakeRequest> recorded;
  std::size_t request_count = 0;

  net::awaitable<void> accept_loop();
  net::awaitable<void> until_peer_closes(Conn& conn);
  net::awaitable<void> serve(std::shared_ptr<Conn> conn);
  FakeResponse answer(const FakeRequest& request);
  void shutdown();
};

FakeResponse FakeHttpServer::Impl::answer(const FakeRequest& request) {
  FakeHandler h;
  {
    std::lock_guard lock(mutex);
    h = handler;
  }
  if (!h) return FakeResponse{};
  try {
    return h(request);
  } catch (const std::exception& e) {
    return FakeResponse::text(std::string("fake handler threw: ") + e.what(), 500);
  } catch (...) {
    return FakeResponse::text("fake handler threw", 500);
  }
}

namespace {
void report(const char* what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    ADD_FAILURE() << "fake http server: " << what << ": " << ex.what();
  } catch (...) {
    ADD_FAILURE() << "fake http server: " << what << ": unknown exception";
  }
}
}  // namespace

net::awaitable<void> FakeHttpServer::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTok);
    if (stopping || ec == net::error::operation_aborted || ec == net::error::bad_descriptor) co_return;
    if (ec) {
      // E.g. EMFILE in a test that opens too many sockets: back off instead of spinning.
      net::steady_timer pause(io, std::chrono::milliseconds(10));
      co_await pause.async_wait(kTok);
      continue;
    }
    auto conn = std::make_shared<Conn>(std::move(socket));
    conn->id = ++accepted;
    ++open;
    conns.push_back(conn);
    net::co_spawn(io, serve(conn), [](std::exception_ptr e) { report("connection", e); });
  }
}

// Reads (and drops) whatever comes until the client closes the connection, or stop() closes it.
net::awaitable<void> FakeHttpServer::Impl::until_peer_closes(Conn& conn) {
  char sink[512];
  for (;;) {
    auto [ec, n] = co_await conn.socket.async_read_some(net::buffer(sink), kTok);
    if (ec || stopping) co_return;
  }
}

net::awaitable<void> FakeHttpServer::Impl::serve(std::shared_ptr<Conn> conn) {
  beast::flat_buffer buffer;
  for (;;) {
    if (stopping) break;
    if (conn->close_when_idle && buffer.size() == 0) break;
    conn->idle = buffer.size() == 0;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxRequestBody);
    parser.header_limit(kMaxRequestHeader);
    auto [hec, hn] = co_await bhttp::async_read_header(conn->socket, buffer, parser, kTok);
    conn->idle = false;
    if (hec) break;
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [cec, cn] = co_await net::async_write(conn->socket, net::buffer(kContinue), kTok);
      if (cec) break;
    }
    auto [bec, bn] = co_await bhttp::async_read(conn->socket, buffer, parser, kTok);
    if (bec) break;

    auto& req = parser.get();
    FakeRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    for (const auto& field : req)
      request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request.body = req.body();
    request.connection = conn->id;
    {
      std::lock_guard lock(mutex);
      recorded.push_back(request);
      ++request_count;
    }
    cv.notify_all();

    FakeResponse fr = answer(request);
    if (stopping) break;
    if (fr.delay.count() > 0) {
      conn->timer.expires_after(fr.delay);
      co_await conn->timer.async_wait(kTok);
      if (stopping) break;
    }
    if (fr.no_response_hang) {
      conn->timer.expires_at(net::steady_timer::time_point::max());
      co_await conn->timer.async_wait(kTok);  // cancelled by stop()
      break;
    }
    if (fr.hang_until_closed) {
      co_await until_peer_closes(*conn);
      break;
    }
    if (fr.close_without_response) break;
    if (fr.raw) {
      co_await net::async_write(conn->socket, net::buffer(*fr.raw), kTok);
      break;
    }

    bhttp::response<bhttp::string_body> res;
    res.version(req.version());
    res.result(static_cast<unsigned>(fr.status));
    res.keep_alive(req.keep_alive() && !fr.close);
    res.body() = std::move(fr.body);
    if (fr.chunked)
      res.chunked(true);
    else
      res.prepare_payload();
    for (auto& [name, value] : fr.headers) {
      if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding") ||
          beast::iequals(name, "connection"))
        res.set(name, value);
      else
        res.insert(name, value);
    }

    if (fr.truncate_body_to || fr.stall_body_after) {
      std::ostringstream out;
      out << res;
      std::string wire = std::move(out).str();
      auto header_end = wire.find("\r\n\r\n");
      header_end = header_end == std::string::npos ? wire.size() : header_end + 4;
      wire.resize(std::min(wire.size(), header_end + fr.truncate_body_to.value_or(fr.stall_body_after.value_or(0))));
      co_await net::async_write(conn->socket, net::buffer(wire), kTok);
      if (fr.stall_body_after) co_await until_peer_closes(*conn);
      break;
    }
    auto [wec, wn] = co_await bhttp::async_write(conn->socket, res, kTok);
    if (wec || fr.close || fr.close_after || !res.keep_alive()) break;
  }
  conn->close();
  conns.remove(conn);
  --open;
}

void FakeHttpServer::Impl::shutdown() {
  stopping = true;
  error_code ec;
  acceptor.close(ec);
  for (auto& c : conns) c->close();
}

FakeHttpServer::FakeHttpServer(FakeHandler handler) : FakeHttpServer(std::move(handler), FakeHttpServerOptions{}) {}

FakeHttpServer::FakeHttpServer(FakeHandler handler, FakeHttpServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  const auto address = net::ip::make_address(options.bind_address);
  impl_->host = address.is_unspecified() ? "127.0.0.1"
                : address.is_v6()        ? "[" + options.bind_address + "]"
                                         : options.bind_address;
  tcp::endpoint endpoint(address, options.port);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(net::socket_base::max_listen_connections);
  impl_->port = impl_->acceptor.local_endpoint().port();
  Impl* impl = impl_.get();
  net::co_spawn(impl->io, impl->accept_loop(), [](std::exception_ptr e) { report("accept loop", e); });
  // No work guard: run() returns once stop() has closed the listener and every connection.
  impl->thread = std::thread([impl] { impl->io.run(); });
}

FakeHttpServer::~FakeHttpServer() { stop(); }

void FakeHttpServer::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  Impl* impl = impl_.get();
  net::post(impl->io, [impl] { impl->shutdown(); });
  impl->thread.join();
}

std::uint16_t FakeHttpServer::port() const { return impl_->port; }

std::string FakeHttpServer::base_url() const { return "http://" + impl_->host + ":" + std::to_string(impl_->port); }

void FakeHttpServer::set_handler(FakeHandler handler) {
  std::lock_guard lock(impl_->mutex);
  impl_->handler = std::move(handler);
}

std::size_t FakeHttpServer::request_count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->request_count;
}

std::vector<FakeRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recorded;
}

void FakeHttpServer::clear_requests() {
  std::lock_guard lock(impl_->mutex);
  impl_->recorded.clear();
  impl_->request_count = 0;
}

bool FakeHttpServer::wait_for_requests(std::size_t n, std::chrono::milliseconds guard) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->cv.wait_for(lock, guard, [&] { return impl_->request_count >= n; });
}

std::size_t FakeHttpServer::connection_count() const { return impl_->accepted.load(); }

std::size_t FakeHttpServer::open_connection_count() const { return impl_->open.load(); }

void FakeHttpServer::close_idle_connections() {
  if (impl_->stopped) return;
  std::promise<void> done;
  auto closed = done.get_future();
  Impl* impl = impl_.get();
  net::post(impl->io, [impl, &done] {
    for (auto& c : impl->conns) {
      if (c->idle)
        c->close();
      else
        c->close_when_idle = true;
    }
    done.set_value();
  });
  closed.wait();
}

}  // namespace igb::testing
