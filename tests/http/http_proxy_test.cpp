#include "http/client.hpp"
#include "http/tls_test_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_http_server.hpp"

// The client through proxies written here: an HTTP proxy (CONNECT tunnels and absolute-form
// requests) and a SOCKS5 proxy (RFC 1928/1929), both on 127.0.0.1 on their own thread, tunnelling to
// a FakeHttpServer or a TLS server. Any host name a proxy is asked for is reached at 127.0.0.1.

namespace igb::http {
namespace {

using igb::testing::FakeHttpServer;
using igb::testing::FakeRequest;
using igb::testing::FakeResponse;
using tcp = net::ip::tcp;
using Kind = TransportError::Kind;
using test::make_cert;
using test::TestCert;
using test::TlsServer;

struct ProxySeen {
  std::string request_line;         // HTTP: "CONNECT 127.0.0.1:443 HTTP/1.1"
  std::string proxy_authorization;  // HTTP
  std::vector<int> methods;         // SOCKS5: offered authentication methods
  int atyp = 0;                     // SOCKS5: 1 IPv4, 3 domain, 4 IPv6
  std::string address;              // SOCKS5: as sent (dotted IPv4 or the name)
  int port = 0;
  std::string username;
  std::string password;
};

class FakeProxy {
 public:
  enum class Mode { http, socks5 };
  struct Options {
    Mode mode = Mode::http;
    int refuse_status = 0;      // HTTP: answer CONNECT/requests with this status instead
    bool socks_refuse = false;  // SOCKS5: answer CONNECT with REP 5 (connection refused)
    std::string username;       // SOCKS5: require these credentials when set
    std::string password;
  };

  explicit FakeProxy(Options options) : options_(std::move(options)) {
    acceptor_.open(tcp::v4());
    acceptor_.bind({net::ip::make_address("127.0.0.1"), 0});
    acceptor_.listen();
    net::co_spawn(io_, accept_loop(this), [](std::exception_ptr) {});
    thread_ = std::thread([this] { io_.run(); });
  }
  ~FakeProxy() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
  std::vector<ProxySeen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  static net::awaitable<void> accept_loop(FakeProxy* self) {
    for (;;) {
      auto socket = co_await self->acceptor_.async_accept(net::use_awaitable);
      if (self->options_.mode == Mode::http)
        net::co_spawn(self->io_, serve_http(self, std::move(socket)), [](std::exception_ptr) {});
      else
        net::co_spawn(self->io_, serve_socks(self, std::move(socket)), [](std::exception_ptr) {});
    }
  }

  void record(ProxySeen s) {
    std::lock_guard lock(mutex_);
    seen_.push_back(std::move(s));
  }

  static net::awaitable<void> pump(tcp::socket* from, tcp::socket* to) {
    std::array<char, 8192> buf;
    for (;;) {
      auto [ec, n] = co_await from->async_read_some(net::buffer(buf), net::as_tuple(net::use_awaitable));
      if (ec) break;
      auto [wec, wn] = co_await net::async_write(*to, net::buffer(buf.data(), n), net::as_tuple(net::use_awaitable));
      if (wec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  static net::awaitable<void> relay(tcp::socket client, std::uint16_t port, std::string first_bytes) {
    using namespace net::experimental::awaitable_operators;
    tcp::socket upstream(client.get_executor());
    co_await upstream.async_connect({net::ip::make_address("127.0.0.1"), port}, net::use_awaitable);
    if (!first_bytes.empty()) co_await net::async_write(upstream, net::buffer(first_bytes), net::use_awaitable);
    co_await (pump(&client, &upstream) && pump(&upstream, &client));
  }

  static net::awaitable<void> serve_http(FakeProxy* self, tcp::socket socket) {
    std::string buf;
    auto n = co_await net::async_read_until(socket, net::dynamic_buffer(buf), "\r\n\r\n", net::use_awaitable);
    const std::string header = buf.substr(0, n);
    std::string rest = buf.substr(n);
    ProxySeen seen;
    seen.request_line = header.substr(0, header.find("\r\n"));
    const std::string auth_name = "\r\nProxy-Authorization: ";
    if (auto at = header.find(auth_name); at != std::string::npos) {
      auto from = at + auth_name.size();
      seen.proxy_authorization = header.substr(from, header.find("\r\n", from) - from);
    }
    self->record(seen);
    if (self->options_.refuse_status != 0) {
      std::string answer = "HTTP/1.1 " + std::to_string(self->options_.refuse_status) +
                           " No\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 2\r\n\r\nno";
      co_await net::async_write(socket, net::buffer(answer), net::use_awaitable);
      co_return;
    }
    // "CONNECT host:port HTTP/1.1" or "GET http://host:port/path HTTP/1.1"
    const std::string target = seen.request_line.substr(seen.request_line.find(' ') + 1);
    const bool is_connect = seen.request_line.starts_with("CONNECT ");
    std::string authority = is_connect ? target.substr(0, target.find(' ')) : target.substr(7);
    if (!is_connect) authority = authority.substr(0, authority.find('/'));
    const auto port = static_cast<std::uint16_t>(std::stoi(authority.substr(authority.rfind(':') + 1)));
    if (is_connect) {
      co_await net::async_write(socket, net::buffer(std::string("HTTP/1.1 200 Connection established\r\n\r\n")),
                                net::use_awaitable);
    } else {
      rest = header + rest;
    }
    co_await relay(std::move(socket), port, rest);
  }

  static net::awaitable<std::string> read_n(tcp::socket* socket, std::size_t n) {
    std::string out(n, '\0');
    co_await net::async_read(*socket, net::buffer(out), net::use_awaitable);
    co_return out;
  }
  static net::awaitable<void> write_all(tcp::socket* socket, std::string bytes) {
    co_await net::async_write(*socket, net::buffer(bytes), net::use_awaitable);
  }

  static net::awaitable<void> serve_socks(FakeProxy* self, tcp::socket socket) {
    auto read = [&socket](std::size_t n) { return read_n(&socket, n); };
    auto write = [&socket](std::string bytes) { return write_all(&socket, std::move(bytes)); };
    ProxySeen seen;
    std::string greeting = co_await read(2);
    std::string methods = co_await read(static_cast<unsigned char>(greeting[1]));
    for (unsigned char m : methods) seen.methods.push_back(m);
    const bool need_auth = !self->options_.username.empty();
    if (need_auth) {
      if (methods.find('\x02') == std::string::npos) {
        self->record(seen);
        co_await write(std::string("\x05\xff", 2));
        co_return;
      }
      co_await write(std::string("\x05\x02", 2));
      std::string ver_ulen = co_await read(2);
      seen.username = co_await read(static_cast<unsigned char>(ver_ulen[1]));
      std::string plen = co_await read(1);
      seen.password = co_await read(static_cast<unsigned char>(plen[0]));
      const bool ok = seen.username == self->options_.username && seen.password == self->options_.password;
      co_await write(std::string(ok ? "\x01\x00" : "\x01\x01", 2));
      if (!ok) {
        self->record(seen);
        co_return;
      }
    } else {
      co_await write(std::string("\x05\x00", 2));
    }
    std::string req = co_await read(4);
    seen.atyp = static_cast<unsigned char>(req[3]);
    if (seen.atyp == 1) {
      std::string a = co_await read(4);
      seen.address = net::ip::make_address_v4(std::array<unsigned char, 4>{
                                                  static_cast<unsigned char>(a[0]), static_cast<unsigned char>(a[1]),
                                                  static_cast<unsigned char>(a[2]), static_cast<unsigned char>(a[3])})
                         .to_string();
    } else if (seen.atyp == 3) {
      std::string len = co_await read(1);
      seen.address = co_await read(static_cast<unsigned char>(len[0]));
    } else {
      seen.address = "(IPv6)";
      co_await read(16);
    }
    std::string port_bytes = co_await read(2);
    seen.port = static_cast<unsigned char>(port_bytes[0]) * 256 + static_cast<unsigned char>(port_bytes[1]);
    self->record(seen);
    if (self->options_.socks_refuse) {
      co_await write(std::string("\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00", 10));
      co_return;
    }
    co_await write(std::string("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x00", 10));
    co_await relay(std::move(socket), static_cast<std::uint16_t>(seen.port), {});
  }

  Options options_;
  net::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<ProxySeen> seen_;
};

net::awaitable<Response> send_via(Client* client, Request request) {
  co_return co_await client->send(std::move(request));
}

class HttpProxyTest : public ::testing::Test {
 protected:
  void use(ClientOptions options) { client_ = make_client(io_.get_executor(), std::move(options)); }

  Response send(Request request) {
    auto fut = net::co_spawn(io_, send_via(client_.get(), std::move(request)), net::use_future);
    io_.restart();
    io_.run();
    return fut.get();
  }

  TransportError send_fails(Request request) {
    try {
      auto r = send(std::move(request));
      ADD_FAILURE() << "expected a TransportError, got status " << r.status;
    } catch (const TransportError& e) {
      return e;
    }
    return TransportError(Kind::canceled, "no error");
  }

  // Trusts `cert` besides the system store.
  std::string ca_file(const TestCert& cert) {
    ca_file_ = std::filesystem::temp_directory_path() / ("igb_proxy_ca_" + std::to_string(::getpid()) + ".pem");
    std::ofstream(ca_file_) << cert.cert_pem;
    return ca_file_.string();
  }
  void TearDown() override {
    if (!ca_file_.empty()) std::filesystem::remove(ca_file_);
  }

  net::io_context io_;
  std::unique_ptr<Client> client_;
  std::filesystem::path ca_file_;
};

TEST_F(HttpProxyTest, HttpsThroughConnectTunnelWithBasicAuth) {
  auto cert = make_cert("IP:127.0.0.1");
  TlsServer server(cert);
  FakeProxy proxy({.mode = FakeProxy::Mode::http});
  use({.ca_file = ca_file(cert), .proxy = {.https = "http://user:secret@" + proxy.address()}});
  const auto url = "https://127.0.0.1:" + std::to_string(server.port()) + "/bot123:abc/getMe";
  EXPECT_EQ(send({.url = url}).body, "secure");
  EXPECT_EQ(send({.url = url}).body, "secure");  // the kept-alive tunnel
  auto seen = proxy.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request_line, "CONNECT 127.0.0.1:" + std::to_string(server.port()) + " HTTP/1.1");
  EXPECT_EQ(seen[0].proxy_authorization, "Basic dXNlcjpzZWNyZXQ=");  // user:secret
}

TEST_F(HttpProxyTest, PlainHttpThroughHttpProxyUsesAbsoluteForm) {
  FakeHttpServer server([](const FakeRequest&) { return FakeResponse::text("via proxy"); });
  FakeProxy proxy({.mode = FakeProxy::Mode::http});
  use({.proxy = {.http = proxy.address()}});  // no scheme: http://
  const auto url = server.base_url() + "/a?b=1";
  auto res = send({.url = url});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "via proxy");
  auto seen = proxy.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].request_line, "GET " + url + " HTTP/1.1");
  EXPECT_EQ(seen[0].proxy_authorization, "");
  ASSERT_EQ(server.request_count(), 1u);
}

TEST_F(HttpProxyTest, Socks5hSendsTheHostNameAndCredentials) {
  FakeHttpServer server([](const FakeRequest& r) { return FakeResponse::text("host " + r.header("host")); });
  FakeProxy proxy({.mode = FakeProxy::Mode::socks5, .username = "u", .password = "p@ss"});
  use({.proxy = {.http = "socks5h://u:p%40ss@" + proxy.address()}});
  // .invalid never resolves: only the proxy may look it up.
  auto res = send({.url = "http://igb-target.invalid:" + std::to_string(server.port()) + "/x"});
  EXPECT_EQ(res.body, "host igb-target.invalid:" + std::to_string(server.port()));
  auto seen = proxy.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].methods, (std::vector<int>{0x00, 0x02}));
  EXPECT_EQ(seen[0].username, "u");
  EXPECT_EQ(seen[0].password, "p@ss");
  EXPECT_EQ(seen[0].atyp, 3);
  EXPECT_EQ(seen[0].address, "igb-target.invalid");
  EXPECT_EQ(seen[0].port, server.port());
}

TEST_F(HttpProxyTest, Socks5ResolvesLocallyAndSendsTheAddress) {
  FakeHttpServer server;
  FakeProxy proxy({.mode = FakeProxy::Mode::socks5});
  use({.proxy = {.http = "socks5://" + proxy.address()}});
  EXPECT_EQ(send({.url = "http://localhost:" + std::to_string(server.port()) + "/x"}).status, 200);
  auto seen = proxy.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].methods, (std::vector<int>{0x00}));
  EXPECT_EQ(seen[0].atyp, 1);
  EXPECT_EQ(seen[0].address, "127.0.0.1");
}

TEST_F(HttpProxyTest, HttpsThroughSocks5h) {
  auto cert = make_cert("DNS:localhost");
  TlsServer server(cert);
  FakeProxy proxy({.mode = FakeProxy::Mode::socks5});
  use({.ca_file = ca_file(cert), .proxy = {.https = "socks5h://" + proxy.address()}});
  EXPECT_EQ(send({.url = "https://localhost:" + std::to_string(server.port()) + "/x"}).body, "secure");
  EXPECT_EQ(server.sni(), "localhost");
  ASSERT_EQ(proxy.seen().size(), 1u);
  EXPECT_EQ(proxy.seen()[0].address, "localhost");
}

TEST_F(HttpProxyTest, NoProxyHostsGoDirect) {
  FakeHttpServer server;
  FakeProxy proxy({.mode = FakeProxy::Mode::http});
  use({.proxy = {.http = "http://" + proxy.address(), .no_proxy = "example.com, .internal,127.0.0.1"}});
  EXPECT_EQ(send({.url = server.base_url() + "/x"}).status, 200);
  EXPECT_EQ(proxy.seen().size(), 0u);
  EXPECT_EQ(server.request_count(), 1u);

  use({.proxy = {.http = "http://" + proxy.address(), .no_proxy = "*"}});
  EXPECT_EQ(send({.url = server.base_url() + "/x"}).status, 200);
  EXPECT_EQ(proxy.seen().size(), 0u);

  use({.proxy = {.http = "http://" + proxy.address(), .no_proxy = "0.0.1,other.example"}});  // no partial match
  EXPECT_EQ(send({.url = server.base_url() + "/x"}).status, 200);
  EXPECT_EQ(proxy.seen().size(), 1u);
}

TEST_F(HttpProxyTest, ConnectRefusedIsConnectErrorWithoutCredentials) {
  for (int status : {407, 403}) {
    FakeProxy proxy({.mode = FakeProxy::Mode::http, .refuse_status = status});
    use({.proxy = {.https = "http://alice:hunter2-secret@" + proxy.address()}});
    auto e = send_fails({.url = "https://127.0.0.1:9/bot123:abc/getMe"});
    const std::string what = e.what();
    EXPECT_EQ(e.kind(), Kind::connect) << what;
    EXPECT_NE(what.find(std::to_string(status)), std::string::npos) << what;
    EXPECT_NE(what.find(proxy.address()), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
    EXPECT_EQ(what.find("alice"), std::string::npos) << what;
    EXPECT_EQ(what.find("bot123"), std::string::npos) << what;
  }
}

TEST_F(HttpProxyTest, SocksFailuresAreConnectErrorsWithoutCredentials) {
  {
    FakeProxy proxy({.mode = FakeProxy::Mode::socks5, .socks_refuse = true});
    use({.proxy = {.http = "socks5h://" + proxy.address()}});
    auto e = send_fails({.url = "http://example.invalid:81/x"});
    EXPECT_EQ(e.kind(), Kind::connect) << e.what();
    EXPECT_NE(std::string(e.what()).find("connection refused"), std::string::npos) << e.what();
  }
  {
    FakeProxy proxy({.mode = FakeProxy::Mode::socks5, .username = "bob", .password = "right"});
    use({.proxy = {.http = "socks5h://bob:wrong-secret@" + proxy.address()}});
    auto e = send_fails({.url = "http://example.invalid:81/x"});
    EXPECT_EQ(e.kind(), Kind::connect) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong-secret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(proxy.address()), std::string::npos) << e.what();
  }
  {
    FakeProxy proxy({.mode = FakeProxy::Mode::socks5, .username = "bob", .password = "right"});
    use({.proxy = {.http = "socks5://" + proxy.address()}});  // no credentials to offer
    auto e = send_fails({.url = "http://127.0.0.1:81/x"});
    EXPECT_EQ(e.kind(), Kind::connect) << e.what();
  }
}

TEST_F(HttpProxyTest, UnreachableProxyIsConnectError) {
  std::uint16_t port;
  {
    net::io_context io;
    tcp::acceptor a(io, {net::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  use({.proxy = {.https = "http://carol:pw-secret@127.0.0.1:" + std::to_string(port)}});
  auto e = send_fails({.url = "https://api.telegram.org/bot1:x/getMe"});
  EXPECT_EQ(e.kind(), Kind::connect) << e.what();
  EXPECT_EQ(std::string(e.what()).find("pw-secret"), std::string::npos) << e.what();
}

TEST(HttpProxyOptions, BadProxyUrlThrowsWithoutTheUrl) {
  net::io_context io;
  try {
    make_client(io.get_executor(), {.proxy = {.https = "ftp://dave:pw-secret@proxy.example:21"}});
    ADD_FAILURE() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("pw-secret"), std::string::npos) << e.what();
  }
}

TEST(HttpProxyOptions, FromEnvironment) {
  for (const char* name :
       {"https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"})
    ::unsetenv(name);
  ::setenv("HTTPS_PROXY", "http://upper:3128", 1);
  ::setenv("https_proxy", "http://lower:3128", 1);
  ::setenv("ALL_PROXY", "socks5h://all:1080", 1);
  ::setenv("NO_PROXY", "localhost,.internal", 1);
  auto o = proxy_from_env();
  EXPECT_EQ(o.https, "http://lower:3128");
  EXPECT_EQ(o.http, "socks5h://all:1080");
  EXPECT_EQ(o.no_proxy, "localhost,.internal");
  for (const char* name : {"https_proxy", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}) ::unsetenv(name);
  o = proxy_from_env();
  EXPECT_EQ(o.https, "");
  EXPECT_EQ(o.http, "");
}

}  // namespace
}  // namespace igb::http
