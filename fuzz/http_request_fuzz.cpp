// The HTTP request parser, as the server runs it: every input is sent over a fresh loopback TCP
// connection to a real server::Server (Beast's request_parser inside the connection coroutine, the
// framing checks, target decoding, routing, the answer), then the client half-closes and reads until
// the server closes. Nothing in server.cpp is bypassed or factored out for the harness.
// Oracles besides the sanitizers: the server answers something that starts like an HTTP/1.1 response
// or nothing at all, and always closes the connection once the client has finished sending.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "fuzz_input.hpp"
#include "server/server.hpp"

namespace net = boost::asio;
namespace srv = igb::server;

namespace {

net::awaitable<srv::Response> echo(srv::Request& req) {
  std::string out = req.method + " " + req.path + " " + std::to_string(req.body.size());
  for (const auto& [k, v] : req.query) out += " " + k + "=" + v;
  co_return srv::Response{.status = 200, .headers = {{"Content-Type", "text/plain"}}, .body = out};
}

net::awaitable<srv::Response> param(srv::Request& req) {
  co_return srv::Response::json(200, "{\"n\":" + std::to_string(req.params.at("id").size()) + "}");
}

net::awaitable<srv::Response> thrower(srv::Request&) {
  throw std::runtime_error("handler failed");
  co_return srv::Response{};
}

net::awaitable<srv::Response> events(srv::Request&) {
  srv::Response res;
  res.stream = [](srv::EventStream& out) -> net::awaitable<void> {
    co_await out.send("tick", "one\ntwo", "1");
    co_await out.comment("ping");
  };
  co_return res;
}

// One server for the whole run, on its own thread.
struct Fixture {
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work = net::make_work_guard(io);
  std::unique_ptr<srv::Server> server;
  std::thread thread;
  sockaddr_in addr{};

  Fixture() {
    spdlog::set_level(spdlog::level::off);  // a 500 from `thrower` logs; keep the fuzzer's output clean
    auto routes = std::make_shared<srv::RouteTable>();
    routes->add("GET", "/", echo);
    routes->add("POST", "/echo", echo);
    routes->add("PUT", "/echo", echo);
    routes->add("GET", "/v1/status/{id}", param);
    routes->add("GET", "/v1/status/{id}/events", events);
    routes->add("POST", "/throw", thrower);
    server = std::make_unique<srv::Server>(io.get_executor(),
                                           srv::ServerOptions{.max_header_bytes = 2048,
                                                              .max_body_bytes = 4096,
                                                              .read_timeout = std::chrono::seconds(5),
                                                              .idle_timeout = std::chrono::seconds(5),
                                                              .write_timeout = std::chrono::seconds(5)},
                                           routes);
    server->start();
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    thread = std::thread([this] { io.run(); });
  }
  // Never destroyed: libFuzzer exits without unwinding, and the server thread runs to the end.
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fx = new Fixture();

  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) igb::fuzz::fail("socket");
  // The client closes first, so each connection leaves a TIME_WAIT behind for a minute: a source
  // address of its own from 127.1.0.0/16 per connection (round robin) keeps millions of them from
  // running out of ports.
  static std::uint32_t next_source = 0;
  sockaddr_in source{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {}, .sin_zero = {}};
  source.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | (next_source++ & 0xffffu));
  int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) != 0) {
    std::perror("bind");
    igb::fuzz::fail("bind");
  }
  // libFuzzer's timers interrupt system calls (EINTR): a connect so interrupted goes on by itself,
  // and its outcome is read once the socket is writable.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&fx->addr), sizeof fx->addr) != 0) {
    if (errno != EINTR) {
      std::perror("connect");
      igb::fuzz::fail("connect");
    }
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    while (::poll(&p, 1, 20'000) < 0 && errno == EINTR) {}
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      errno = err;
      std::perror("connect");
      igb::fuzz::fail("connect");
    }
  }

  std::size_t sent = 0;
  while (sent < size) {
    auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (431, 413, a refused framing)
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);

  std::string answer;
  char buf[16 * 1024];
  while (true) {
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    // Well over the server's timeouts: no answer within this is a server that never closes.
    int ready = ::poll(&p, 1, 20'000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) igb::fuzz::fail("the server did not close the connection after the client finished");
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF, or a reset from a server that closed with input unread
    if (answer.size() < 1 << 20) answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (!answer.empty()) IGB_FUZZ_CHECK(answer.starts_with("HTTP/1.1 "));
  return 0;
}
