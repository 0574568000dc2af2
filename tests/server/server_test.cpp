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
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

// A hang guard, not a timing check: every wait in these tests has one.
constexpr auto kGuard = 30s;

template <class T>
T wait(std::future<T>& f) {
  if (f.wait_for(kGuard) != std::future_status::ready) throw std::runtime_error("hang guard: gave up waiting");
  return f.get();
}

// ---- the server on loopback ----

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

net::awaitable<Response> hello(Request&) {
  Response r;
  r.headers.emplace_back("Content-Type", "text/plain");
  r.body = "hello";
  co_return r;
}

net::awaitable<Response> item_get(Request& req) {
  std::string body = "id=" + req.params.at("id") + ";path=" + req.path;
  for (const auto& [k, v] : req.query) body += ";" + k + "=" + v;
  co_return Response{.body = body};
}

net::awaitable<Response> item_put(Request& req) {
  co_return Response{.body = "put " + req.params.at("id") + " " + req.body + " ct=" + std::string(req.header("CONTENT-TYPE"))};
}

net::awaitable<Response> item_create(Request& req) { co_return Response::json(201, req.body); }

net::awaitable<Response> slow(std::shared_ptr<TestState> state) {
  state->slow_entered.set_value();
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(300ms);
  co_await timer.async_wait(net::use_awaitable);
  co_return Response{.body = "slow done"};
}

net::awaitable<Response> hang(std::shared_ptr<TestState> state) {
  state->hang_entered.set_value();
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(1h);
  co_await timer.async_wait(net::use_awaitable);
  co_return Response{.body = "never"};
}

net::awaitable<void> three_events(EventStream* es) {
  co_await es->send("progress", "10", "1");
  co_await es->send("progress", "line one\nline two", "2");
  co_await es->comment("ping");
  co_await es->send("done", R"({"ok":true})", "3");
}

net::awaitable<void> forever(std::shared_ptr<TestState> state, EventStream* es) {
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
net::awaitable<void> quiet(std::shared_ptr<TestState> state, EventStream* es) {
  struct Ended {
    std::shared_ptr<TestState> state;
    ~Ended() { state->quiet_ended.set_value(); }
  } ended{state};
  co_await es->send("hello", "1");
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(1h);
  co_await timer.async_wait(net::use_awaitable);
}

net::awaitable<Response> quiet_response(std::shared_ptr<TestState> state) {
  Response r;
  r.stream = [state](EventStream& es) { return quiet(state, &es); };
  co_return r;
}

net::awaitable<Response> forever_response(std::shared_ptr<TestState> state) {
  Response r;
  r.stream = [state](EventStream& es) { return forever(state, &es); };  // not a coroutine: may capture
  co_return r;
}

std::shared_ptr<RouteTable> make_routes(std::shared_ptr<TestState> state) {
  auto t = std::make_shared<RouteTable>();
  t->add("GET", "/hello", hello);
  t->add("GET", "/v1/items/{id}", item_get);
  t->add("PUT", "/v1/items/{id}", item_put);
  t->add("POST", "/v1/items", item_create);
  // The parameter route first: the literal one still wins.
  t->add("GET", "/v1/status/{id}", [](Request& r) -> net::awaitable<Response> {
    co_return Response{.body = "param:" + r.params.at("id")};
  });
  t->add("GET", "/v1/status/x", [](Request&) -> net::awaitable<Response> { co_return Response{.body = "literal"}; });
  t->add("GET", "/boom", [](Request&) -> net::awaitable<Response> {
    throw std::runtime_error("secret-token-123 leaked");
    co_return Response{};
  });
  t->add("GET", "/echo/{word}", [](Request& r) -> net::awaitable<Response> {
    co_return Response{.body = r.params.at("word")};
  });
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

bool connection_refused(std::uint16_t port) {
  net::io_context io;
  tcp::socket s(io);
  error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  return ec == net::error::connection_refused;
}

std::string header(const bhttp::response<bhttp::string_body>& r, bhttp::field f) { return std::string(r[f]); }

// Named awaitables: GCC 12 mishandles non-trivial temporaries inside co_await expressions.
net::awaitable<http::Response> send_via(http::Client* client, http::Request request) {
  auto op = client->send(std::move(request));
  co_return co_await std::move(op);
}

net::awaitable<void> shutdown_via(Server* server, std::chrono::milliseconds grace) {
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

INSTANTIATE_TEST_SUITE_P(Threading, ServerTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "IoContextPerThread" : "Strands"; });

TEST_P(ServerTest, PortZeroGetsAPortAndStandardHeaders) {
  start();
  EXPECT_NE(server_->port(), 0);
  auto r = get("/hello");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_EQ(r.header("server"), "imggenbot");
  EXPECT_EQ(r.header("date").size(), 29u);
}

TEST_P(ServerTest, RoutesWithParamsQueryAndBody) {
  start();
  auto r = get("/v1/items/42?limit=10&q=a%20b&q=c+d");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "id=42;path=/v1/items/42;limit=10;q=c d");

  r = get("/v1/items/caf%C3%A9");  // decoded before matching
  EXPECT_EQ(r.body, "id=caf\xC3\xA9;path=/v1/items/caf\xC3\xA9");

  r = send({.method = "PUT", .url = url("/v1/items/7"), .headers = {{"Content-Type", "text/plain"}}, .body = "new"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "put 7 new ct=text/plain");

  const std::string json = R"({"prompt":"a fox"})";
  r = send({.method = "POST", .url = url("/v1/items"), .body = json});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, json);
}

TEST_P(ServerTest, NotFoundAndMethodNotAllowed) {
  start();
  auto r = get("/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  auto p = boost::json::parse(r.body).as_object();
  EXPECT_EQ(p.at("status").as_int64(), 404);
  EXPECT_EQ(p.at("type").as_string(), "about:blank");

  EXPECT_EQ(get("/hello/").status, 404);  // trailing slash is another path
  EXPECT_EQ(get("/v1/items/").status, 404);

  r = send({.method = "DELETE", .url = url("/v1/items/1")});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, PUT");
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_EQ(boost::json::parse(r.body).at("status").as_int64(), 405);

  r = send({.method = "POST", .url = url("/hello")});
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD");
}

TEST_P(ServerTest, LiteralBeatsParam) {
  start();
  EXPECT_EQ(get("/v1/status/x").body, "literal");
  EXPECT_EQ(get("/v1/status/y").body, "param:y");
  EXPECT_EQ(get("/v1/status/x/").status, 404);
}

TEST_P(ServerTest, HeadIsGetWithoutBodyAnd204HasNoLength) {
  start();
  auto r = send({.method = "HEAD", .url = url("/hello")});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "5");
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(get("/hello").body, "hello");  // the connection is fine after a HEAD

  r = get("/nocontent");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("content-length"), "");
}

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
  for (const std::string& te : std::initializer_list<std::string>{"gzip", "chunked, gzip", "gzip, chunked", "identity", "chunked\r\nTransfer-Encoding: chunked"}) {
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

// Metrics label the method; a client-chosen method must not become a new label value each time.
TEST_P(ServerTest, UnknownMethodsAreRecordedAsOther) {
  start();
  for (int i = 0; i < 3; ++i) {
    Raw raw(server_->port());
    raw.write("X" + std::string(200, static_cast<char>('A' + i)) + " /nope HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(raw.read().result_int(), 404u);
  }
  auto records = wait_for_records(3);
  for (const auto& rec : records) EXPECT_EQ(rec.method, "OTHER");
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

TEST_P(ServerTest, BadPercentEncodingAndBadUtf8Are400) {
  start();
  Raw raw(server_->port());
  raw.write("GET /v1/items/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 400u);
  // The request itself was well framed: the connection goes on.
  raw.write("GET /v1/items/%4 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().result_int(), 400u);
  raw.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(raw.read().body(), "hello");

  auto r = get("/v1/items/%FF");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.header("content-type"), "application/problem+json");
  EXPECT_EQ(get("/v1/items/1?q=%C3%28").status, 400);
  EXPECT_EQ(get("/v1/items/a%00b").status, 400);
}

TEST_P(ServerTest, HandlerExceptionIs500AndTheConnectionGoesOn) {
  start();
  Raw raw(server_->port());
  raw.write("GET /boom HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n");
  auto r = raw.read();
  EXPECT_EQ(r.result_int(), 500u);
  EXPECT_EQ(header(r, bhttp::field::content_type), "application/problem+json");
  EXPECT_EQ(header(r, bhttp::field::connection), "");
  auto p = boost::json::parse(r.body()).as_object();
  EXPECT_EQ(p.at("detail").as_string(), "internal error");
  EXPECT_EQ(r.body().find("secret"), std::string::npos);

  raw.write("GET /echo/again HTTP/1.1\r\nHost: x\r\n\r\n");
  auto next = raw.read();
  EXPECT_EQ(next.result_int(), 200u);
  EXPECT_EQ(next.body(), "again");
}

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

TEST_P(ServerTest, ServerSentEvents) {
  start();
  auto r = get("/events");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  EXPECT_EQ(r.header("content-length"), "");
  EXPECT_EQ(r.body,
            "id: 1\nevent: progress\ndata: 10\n\n"
            "id: 2\nevent: progress\ndata: line one\ndata: line two\n\n"
            ": ping\n\n"
            "id: 3\nevent: done\ndata: {\"ok\":true}\n\n");
  auto records = wait_for_records(1);
  EXPECT_EQ(records[0].route, "/events");
  EXPECT_EQ(records[0].status, 200);
}

TEST_P(ServerTest, StreamSendReturnsFalseOnceTheClientIsGone) {
  start();
  Raw raw(server_->port());
  raw.write("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = raw.read_until("data: 0\n\n");
  EXPECT_NE(first.find("HTTP/1.1 200 OK\r\n"), std::string::npos);
  EXPECT_NE(first.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(first.find("event: tick\ndata: 0\n\n"), std::string::npos);
  raw.close();
  auto ended = state_->forever_ended.get_future();
  EXPECT_TRUE(wait(ended));
}

// A stream that has nothing to say for a long time ends as soon as its client closes, not at its
// next write (which might be minutes away, holding a connection and whatever the producer holds).
TEST_P(ServerTest, AQuietStreamEndsWhenItsClientCloses) {
  start();
  Raw raw(server_->port());
  raw.write("GET /quiet HTTP/1.1\r\nHost: x\r\n\r\n");
  auto first = raw.read_until("data: 1\n\n");
  EXPECT_NE(first.find("event: hello"), std::string::npos);
  raw.close();
  auto ended = state_->quiet_ended.get_future();
  wait(ended);  // throws (the hang guard) if the producer were left waiting
  auto records = wait_for_records(1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].route, "/quiet");
  EXPECT_EQ(records[0].status, 200);
}

TEST_P(ServerTest, ShutdownLetsInFlightRequestsFinishAndRefusesNewConnections) {
  start();
  const auto port = server_->port();
  Raw idle(port);  // a kept-alive connection waiting for its next request
  idle.write("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(idle.read().body(), "hello");

  auto entered = state_->slow_entered.get_future();
  auto slow_response = net::co_spawn(client_strand_, send_via(client_.get(), {.url = url("/slow")}), net::use_future);
  wait(entered);

  auto done = net::co_spawn(io_, shutdown_via(server_.get(), 30s), net::use_future);
  // The listener closes at once; keep trying until the connection is refused.
  bool refused = false;
  for (int attempt = 0; attempt < 3000 && !refused; ++attempt) {
    refused = connection_refused(port);
    if (!refused) std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(refused);

  // The idle connection is closed without waiting for the slow request.
  error_code end;
  EXPECT_EQ(idle.read_to_end(end), "");

  auto r = wait(slow_response);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_EQ(r.header("connection"), "close");
  wait(done);
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_TRUE(connection_refused(port));
  // A second shutdown completes at once.
  auto again = net::co_spawn(io_, shutdown_via(server_.get(), 30s), net::use_future);
  wait(again);
}

TEST_P(ServerTest, ShutdownTellsStreamsToStop) {
  start();
  Raw raw(server_->port());
  raw.write("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  auto started = state_->forever_started.get_future();
  wait(started);
  auto done = net::co_spawn(io_, shutdown_via(server_.get(), 30s), net::use_future);
  auto ended = state_->forever_ended.get_future();
  EXPECT_TRUE(wait(ended));  // send() returned false: not killed at the end of the grace period
  wait(done);
  error_code end;
  raw.read_to_end(end);
  EXPECT_EQ(end, net::error::eof);
}

TEST_P(ServerTest, ShutdownClosesWhatIsLeftAfterTheGracePeriod) {
  start();
  Raw raw(server_->port());
  raw.write("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
  auto entered = state_->hang_entered.get_future();
  wait(entered);
  auto done = net::co_spawn(io_, shutdown_via(server_.get(), 50ms), net::use_future);
  wait(done);
  EXPECT_EQ(server_->open_connections(), 0u);
  error_code end;
  EXPECT_EQ(raw.read_to_end(end), "");  // closed without an answer
  auto records = wait_for_records(1);
  EXPECT_EQ(records[0].route, "/hang");
  EXPECT_EQ(records[0].status, 0);
}

TEST_P(ServerTest, OnRequestRecordsRoutePatternsAndStatuses) {
  start();
  get("/v1/items/7");
  get("/nope/at/all");
  send({.method = "POST", .url = url("/hello")});
  get("/boom");
  get("/v1/status/x");
  auto records = wait_for_records(5);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].method, "GET");
  EXPECT_EQ(records[0].route, "/v1/items/{id}");
  EXPECT_EQ(records[0].status, 200);
  EXPECT_EQ(records[1].route, "unmatched");
  EXPECT_EQ(records[1].status, 404);
  EXPECT_EQ(records[2].method, "POST");
  EXPECT_EQ(records[2].route, "/hello");
  EXPECT_EQ(records[2].status, 405);
  EXPECT_EQ(records[3].route, "/boom");
  EXPECT_EQ(records[3].status, 500);
  EXPECT_EQ(records[4].route, "/v1/status/x");
  for (const auto& r : records) EXPECT_GT(r.duration.count(), 0);
}

TEST_P(ServerTest, ManyConcurrentConnections) {
  start();
  std::vector<std::future<http::Response>> responses;
  for (int i = 0; i < 64; ++i)
    responses.push_back(net::co_spawn(client_strand_,
                                      send_via(client_.get(), {.url = url("/echo/w" + std::to_string(i))}),
                                      net::use_future));
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
