#pragma once
// What the server tests share: handlers, the route table, a raw client and the fixture that runs the
// server both ways (strands, or an io_context per thread).
#include "server/server.hpp"

#include <gtest/gtest.h>

#include <array>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/client.hpp"
#include "server/wire.hpp"

namespace igb::server {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

// A hang guard, not a timing check: every wait in these tests has one.
inline constexpr auto kGuard = 30s;

template <class T>
inline T wait(std::future<T>& f) {
  if (f.wait_for(kGuard) != std::future_status::ready) throw std::runtime_error("hang guard: gave up waiting");
  return f.get();
}

// ---- the server on loopback ----

// What the /busy handler throws.
struct Busy : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TestState {
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<RequestRecord> records;
  std::promise<void> slow_entered;
  std::promise<void> hang_entered;
  std::promise<bool> forever_ended;  // true: send() returned false
  std::promise<void> forever_started;
  std::promise<void> quiet_ended;
};

inline net::awaitable<Response> hello(Request&) {
  Response r;
  r.headers.emplace_back("Content-Type", "text/plain");
  r.body = "hello";
  co_return r;
}

inline net::awaitable<Response> item_get(Request& req) {
  std::string body = "id=" + req.params.at("id") + ";path=" + req.path;
  for (const auto& [k, v] : req.query) body += ";" + k + "=" + v;
  co_return Response{.body = body};
}

inline net::awaitable<Response> item_put(Request& req) {
  co_return Response{.body = "put " + req.params.at("id") + " " + req.body +
                             " ct=" + std::string(req.header("CONTENT-TYPE"))};
}

inline net::awaitable<Response> item_create(Request& req) { co_return Response::json(201, req.body); }

inline net::awaitable<Response> slow(std::shared_ptr<TestState> state) {
  state->slow_entered.set_value();
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(300ms);
  co_await timer.async_wait(net::use_awaitable);
  co_return Response{.body = "slow done"};
}

inline net::awaitable<Response> hang(std::shared_ptr<TestState> state) {
  state->hang_entered.set_value();
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(1h);
  co_await timer.async_wait(net::use_awaitable);
  co_return Response{.body = "never"};
}

inline net::awaitable<void> three_events(EventStream* es) {
  co_await es->send("progress", "10", "1");
  co_await es->send("progress", "line one\nline two", "2");
  co_await es->comment("ping");
  co_await es->send("done", R"({"ok":true})", "3");
}

inline net::awaitable<void> forever(std::shared_ptr<TestState> state, EventStream* es) {
  // Ended by the client leaving: send() returned false, or the producer was cancelled mid-wait.
  struct Ended {
    std::shared_ptr<TestState> state;
    bool set = false;
    ~Ended() {
      if (!set) state->forever_ended.set_value(true);
    }
  } ended{state};
  net::steady_timer timer(co_await net::this_coro::executor);
  for (int i = 0; i < 100'000; ++i) {
    const std::string data = std::to_string(i);
    const bool sent = co_await es->send("tick", data);
    if (!sent) co_return;
    if (i == 0) state->forever_started.set_value();
    timer.expires_after(5ms);
    co_await timer.async_wait(net::use_awaitable);
  }
  ended.set = true;
  state->forever_ended.set_value(false);
}

// One event, then silence for an hour: only the client leaving can end it early (the producer is
// cancelled; the guard records that it ended).
inline net::awaitable<void> quiet(std::shared_ptr<TestState> state, EventStream* es) {
  struct Ended {
    std::shared_ptr<TestState> state;
    ~Ended() { state->quiet_ended.set_value(); }
  } ended{state};
  co_await es->send("hello", "1");
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(1h);
  co_await timer.async_wait(net::use_awaitable);
}

inline net::awaitable<Response> quiet_response(std::shared_ptr<TestState> state) {
  Response r;
  r.stream = [state](EventStream& es) { return quiet(state, &es); };
  co_return r;
}

inline net::awaitable<Response> forever_response(std::shared_ptr<TestState> state) {
  Response r;
  r.stream = [state](EventStream& es) { return forever(state, &es); };  // not a coroutine: may capture
  co_return r;
}

inline std::shared_ptr<RouteTable> make_routes(std::shared_ptr<TestState> state) {
  auto t = std::make_shared<RouteTable>();
  t->add("GET", "/hello", hello);
  t->add("GET", "/v1/items/{id}", item_get);
  t->add("PUT", "/v1/items/{id}", item_put);
  t->add("POST", "/v1/items", item_create);
  // The parameter route first: the literal one still wins.
  t->add("GET", "/v1/status/{id}",
         [](Request& r) -> net::awaitable<Response> { co_return Response{.body = "param:" + r.params.at("id")}; });
  t->add("GET", "/v1/status/x", [](Request&) -> net::awaitable<Response> { co_return Response{.body = "literal"}; });
  t->add("GET", "/boom", [](Request&) -> net::awaitable<Response> {
    throw std::runtime_error("secret-token-123 leaked");
    co_return Response{};
  });
  t->add("GET", "/echo/{word}",
         [](Request& r) -> net::awaitable<Response> { co_return Response{.body = r.params.at("word")}; });
  t->add("GET", "/nocontent", [](Request&) -> net::awaitable<Response> { co_return Response{.status = 204}; });
  t->add("GET", "/slow", [state](Request&) { return slow(state); });
  t->add("GET", "/hang", [state](Request&) { return hang(state); });
  t->add("GET", "/events", [](Request&) -> net::awaitable<Response> {
    Response r;
    r.stream = [](EventStream& es) { return three_events(&es); };
    co_return r;
  });
  t->add("GET", "/forever", [state](Request&) { return forever_response(state); });
  t->add("GET", "/quiet", [state](Request&) { return quiet_response(state); });
  // A 5xx answer with an internal detail for the log (what api::error_response makes of a core
  // error), and a handler that throws an exception ServerOptions::on_exception may answer.
  t->add("GET", "/fail", [](Request&) -> net::awaitable<Response> {
    auto r = Response::problem(503, "Service Unavailable", "try again shortly");
    r.log_detail = "cannot connect to db.internal:5432 as igb";
    co_return r;
  });
  t->add("GET", "/busy", [](Request&) -> net::awaitable<Response> {
    throw Busy("pool exhausted at db.internal:5432");
    co_return Response{};
  });
  return t;
}

// A client connection that writes hand-made bytes: its own io_context, run on the test thread.
class Raw {
 public:
  explicit Raw(std::uint16_t port, std::string_view host = "127.0.0.1") {
    stream_.socket().connect(tcp::endpoint(net::ip::make_address(host), port));
  }

  void write(std::string_view bytes) { net::write(stream_.socket(), net::buffer(bytes.data(), bytes.size())); }

  bhttp::response<bhttp::string_body> read(bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    parser.body_limit(64 * 1024 * 1024);
    auto ec = run([&](auto done) { bhttp::async_read(stream_, buffer_, parser, done); });
    if (ec) throw boost::system::system_error(ec, "raw read");
    return parser.release();
  }

  // Reads until the server closes; returns what came (error: why it ended).
  std::string read_to_end(error_code& end) {
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.clear();
    for (;;) {
      char chunk[4096];
      std::size_t got = 0;
      end = run([&](auto done) {
        stream_.async_read_some(net::buffer(chunk), [&got, done](error_code ec, std::size_t n) mutable {
          got = n;
          done(ec, n);
        });
      });
      out.append(chunk, got);
      if (end) return out;
    }
  }

  // Reads until `marker` has arrived (or the stream ended).
  std::string read_until(std::string_view marker) {
    std::string out;
    while (out.find(marker) == std::string::npos) {
      char chunk[4096];
      std::size_t got = 0;
      auto ec = run([&](auto done) {
        stream_.async_read_some(net::buffer(chunk), [&got, done](error_code e, std::size_t n) mutable {
          got = n;
          done(e, n);
        });
      });
      out.append(chunk, got);
      if (ec) break;
    }
    return out;
  }

  void close() {
    error_code ec;
    stream_.socket().close(ec);
  }

 private:
  template <class Op>
  error_code run(Op op) {
    error_code result;
    stream_.expires_after(kGuard);
    op([&result](error_code ec, std::size_t) { result = ec; });
    io_.restart();
    io_.run();
    return result;
  }

  net::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

inline bool connection_refused(std::uint16_t port) {
  net::io_context io;
  tcp::socket s(io);
  error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  return ec == net::error::connection_refused;
}

inline std::string header(const bhttp::response<bhttp::string_body>& r, bhttp::field f) { return std::string(r[f]); }

// Named awaitables: GCC 12 mishandles non-trivial temporaries inside co_await expressions.
inline net::awaitable<http::Response> send_via(http::Client* client, http::Request request) {
  auto op = client->send(std::move(request));
  co_return co_await std::move(op);
}

inline net::awaitable<void> shutdown_via(Server* server, std::chrono::milliseconds grace) {
  auto op = server->shutdown(grace);
  co_await std::move(op);
}

// Both ways the server runs connections: on strands of an io_context run by two threads (false),
// or spread over io_contexts run by one thread each (true, as `imggenbot api` does).
class ServerTest : public ::testing::TestWithParam<bool> {
 protected:
  void start(ServerOptions options = {}) {
    std::shared_ptr<TestState> state = state_;
    if (!options.on_request) {
      options.on_request = [state](const RequestRecord& r) {
        {
          std::lock_guard lock(state->mutex);
          state->records.push_back(r);
        }
        state->cv.notify_all();
      };
    }
    std::vector<net::any_io_executor> spread;
    if (GetParam()) {
      for (auto& ctx : connection_ios_) {
        spread.emplace_back(ctx.get_executor());
        connection_work_.emplace_back(ctx.get_executor());
        threads_.emplace_back([&ctx] { ctx.run(); });
      }
    }
    server_ = std::make_unique<Server>(io_.get_executor(), std::move(options), make_routes(state_), spread);
    server_->start();
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    work_.reset();
    connection_work_.clear();  // each connection io_context ends once its connections have
    for (auto& t : threads_) t.join();
  }

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  http::Response send(http::Request request) {
    auto f = net::co_spawn(client_strand_, send_via(client_.get(), std::move(request)), net::use_future);
    return wait(f);
  }
  http::Response get(std::string_view path) { return send({.url = url(path)}); }

  std::vector<RequestRecord> wait_for_records(std::size_t n) {
    std::unique_lock lock(state_->mutex);
    state_->cv.wait_for(lock, kGuard, [&] { return state_->records.size() >= n; });
    return state_->records;
  }

  std::array<net::io_context, 2> connection_ios_{net::io_context(1), net::io_context(1)};
  std::vector<net::executor_work_guard<net::io_context::executor_type>> connection_work_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(io_);
  // The client is not thread-safe: it and every coroutine using it run on this strand.
  net::any_io_executor client_strand_ = net::make_strand(io_);
  std::unique_ptr<http::Client> client_ = http::make_client(client_strand_);
  std::shared_ptr<TestState> state_ = std::make_shared<TestState>();
  std::unique_ptr<Server> server_;
  std::vector<std::thread> threads_;
};

}  // namespace igb::server
