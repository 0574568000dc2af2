#include "http/client.hpp"
#include "http/tls_test_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/system/system_error.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>
#include <string>
#include <vector>

#include "support/fake_http_server.hpp"

namespace igb::http {
namespace {

using igb::testing::FakeHttpServer;
using igb::testing::FakeRequest;
using igb::testing::FakeResponse;
using namespace std::chrono_literals;
using Kind = TransportError::Kind;
using test::make_cert;
using test::TestCert;
using test::TlsServer;

net::awaitable<Response> send_via(Client* client, Request request) {
  co_return co_await client->send(std::move(request));
}

class HttpClientTest : public ::testing::Test {
 protected:
  // Runs one request to completion on the test's io_context.
  Response send(Request request) {
    auto fut = net::co_spawn(io_, send_via(client_.get(), std::move(request)), net::use_future);
    io_.restart();
    io_.run();
    return fut.get();
  }

  // Runs a request that must fail with a TransportError and returns it.
  TransportError send_fails(Request request) {
    try {
      auto r = send(std::move(request));
      ADD_FAILURE() << "expected a TransportError, got status " << r.status;
    } catch (const TransportError& e) {
      return e;
    }
    return TransportError(Kind::canceled, "no error");
  }

  static std::uint16_t unused_port() {
    net::io_context io;
    net::ip::tcp::acceptor a(io, {net::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();  // closed on return: nothing listens there
  }

  net::io_context io_;
  std::unique_ptr<Client> client_ = make_client(io_.get_executor());
};

TEST_F(HttpClientTest, GetRoundTrip) {
  FakeHttpServer server([](const FakeRequest& r) {
    auto res = FakeResponse::json(R"({"ok":true})");
    res.headers.emplace_back("X-Echo", r.header("x-test"));
    return res;
  });
  auto res = send({.url = server.base_url() + "/v1/items?limit=2&q=a%20b", .headers = {{"X-Test", "hello"}}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"ok":true})");
  EXPECT_EQ(res.header("content-type"), "application/json");
  EXPECT_EQ(res.header("X-ECHO"), "hello");
  EXPECT_EQ(res.header("x-missing"), "");

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].target, "/v1/items?limit=2&q=a%20b");
  EXPECT_EQ(reqs[0].path(), "/v1/items");
  EXPECT_EQ(reqs[0].query(), "limit=2&q=a%20b");
  EXPECT_EQ(reqs[0].header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(reqs[0].header("user-agent"), "imggenbot/0.1");
  EXPECT_EQ(reqs[0].header("X-Test"), "hello");
  EXPECT_EQ(reqs[0].body, "");
}

TEST_F(HttpClientTest, PostBodyAndHeadersRoundTrip) {
  FakeHttpServer server([](const FakeRequest& r) { return FakeResponse::text("got " + r.body, 201); });
  std::string body = R"({"prompt":"a fox in snow","n":1})";
  auto res = send({.method = "POST",
                   .url = server.base_url() + "/generate",
                   .headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer k"}},
                   .body = body});
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.body, "got " + body);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].body, body);
  EXPECT_EQ(reqs[0].header("content-length"), std::to_string(body.size()));
  EXPECT_EQ(reqs[0].header("content-type"), "application/json");
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer k");
}

TEST_F(HttpClientTest, LargeAndChunkedBodies) {
  std::string big(3 * 1024 * 1024 + 17, 'x');
  FakeHttpServer server([&big](const FakeRequest& r) {
    FakeResponse res;
    res.body = r.path() == "/big" ? big : "chunked body";
    res.chunked = r.path() == "/chunked";
    return res;
  });
  EXPECT_EQ(send({.method = "PUT", .url = server.base_url() + "/big", .body = big}).body, big);
  EXPECT_EQ(server.requests().at(0).body, big);
  EXPECT_EQ(send({.url = server.base_url() + "/chunked"}).body, "chunked body");
}

TEST_F(HttpClientTest, ErrorStatusesAreResponses) {
  FakeHttpServer server([](const FakeRequest& r) {
    return r.path() == "/missing" ? FakeResponse::json(R"({"error":"not found"})", 404)
                                  : FakeResponse::text("boom", 500);
  });
  auto r404 = send({.url = server.base_url() + "/missing"});
  EXPECT_EQ(r404.status, 404);
  EXPECT_EQ(r404.body, R"({"error":"not found"})");
  auto r500 = send({.url = server.base_url() + "/fail"});
  EXPECT_EQ(r500.status, 500);
  EXPECT_EQ(r500.body, "boom");
}

TEST_F(HttpClientTest, HeadHasNoBody) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse res;
    res.headers.emplace_back("Content-Length", "1234");  // what a GET would get; no body follows
    return res;
  });
  auto res = send({.method = "HEAD", .url = server.base_url() + "/file"});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "");
  // The connection is still usable after a body-less HEAD answer.
  EXPECT_EQ(send({.method = "HEAD", .url = server.base_url() + "/file"}).status, 200);
  EXPECT_EQ(server.connection_count(), 1u);
}

TEST_F(HttpClientTest, KeepAliveReusesOneConnection) {
  FakeHttpServer server;
  EXPECT_EQ(send({.url = server.base_url() + "/a"}).status, 200);
  EXPECT_EQ(send({.method = "POST", .url = server.base_url() + "/b", .body = "x"}).status, 200);
  EXPECT_EQ(send({.url = server.base_url() + "/c"}).status, 200);
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(server.connection_count(), 1u);
  auto reqs = server.requests();
  EXPECT_EQ(reqs[0].connection, reqs[2].connection);
}

TEST_F(HttpClientTest, ConnectionCloseIsNotReused) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse res;
    res.close = true;
    return res;
  });
  EXPECT_EQ(send({.url = server.base_url() + "/a"}).status, 200);
  EXPECT_EQ(send({.url = server.base_url() + "/b"}).status, 200);
  EXPECT_EQ(server.connection_count(), 2u);
  EXPECT_EQ(server.request_count(), 2u);  // no failed attempt on a closed connection
}

TEST_F(HttpClientTest, ZeroIdleTimeoutDisablesReuse) {
  client_ = make_client(io_.get_executor(), {.idle_timeout = std::chrono::seconds(0)});
  FakeHttpServer server;
  send({.url = server.base_url() + "/a"});
  send({.url = server.base_url() + "/b"});
  EXPECT_EQ(server.connection_count(), 2u);
}

TEST_F(HttpClientTest, ServerClosedIdleConnectionNextRequestSucceeds) {
  FakeHttpServer server;
  EXPECT_EQ(send({.url = server.base_url() + "/a"}).status, 200);
  server.close_idle_connections();
  auto res = send({.method = "POST", .url = server.base_url() + "/b", .body = "once"});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(server.connection_count(), 2u);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].body, "once");
}

// The server closes the kept-alive connection right after reading the next request, without a byte
// of answer (what a server that timed the connection out at that instant looks like): one retry.
TEST_F(HttpClientTest, ReusedConnectionClosedBeforeAnswerIsRetriedOnce) {
  int calls = 0;
  FakeHttpServer server([&calls](const FakeRequest&) {
    FakeResponse res;
    res.close_without_response = ++calls == 2;
    return res;
  });
  EXPECT_EQ(send({.url = server.base_url() + "/a"}).status, 200);
  EXPECT_EQ(send({.url = server.base_url() + "/b"}).status, 200);
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_EQ(server.connection_count(), 2u);
}

TEST_F(HttpClientTest, FreshConnectionClosedBeforeAnswerIsNotRetried) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse res;
    res.close_without_response = true;
    return res;
  });
  auto e = send_fails({.method = "POST", .url = server.base_url() + "/pay", .body = "x"});
  EXPECT_EQ(e.kind(), Kind::protocol) << e.what();
  EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(HttpClientTest, ReusedConnectionFailingTwiceIsRetriedOnlyOnce) {
  int calls = 0;
  FakeHttpServer server([&calls](const FakeRequest&) {
    FakeResponse res;
    res.close_without_response = ++calls > 1;
    return res;
  });
  EXPECT_EQ(send({.url = server.base_url() + "/a"}).status, 200);
  auto e = send_fails({.url = server.base_url() + "/b"});
  EXPECT_EQ(e.kind(), Kind::protocol) << e.what();
  EXPECT_EQ(server.request_count(), 3u);
}

TEST_F(HttpClientTest, TimeoutWhenServerNeverAnswers) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse res;
    res.no_response_hang = true;
    return res;
  });
  auto e = send_fails({.url = server.base_url() + "/slow", .timeout = 200ms});
  EXPECT_EQ(e.kind(), Kind::timeout) << e.what();
}

TEST_F(HttpClientTest, DelayWithinTimeoutSucceeds) {
  FakeHttpServer server([](const FakeRequest&) {
    auto res = FakeResponse::text("late");
    res.delay = 50ms;
    return res;
  });
  EXPECT_EQ(send({.url = server.base_url() + "/", .timeout = 30s}).body, "late");
}

TEST_F(HttpClientTest, ConnectionRefused) {
  auto e = send_fails({.url = "http://127.0.0.1:" + std::to_string(unused_port()) + "/"});
  EXPECT_EQ(e.kind(), Kind::connect) << e.what();
}

TEST_F(HttpClientTest, UnresolvableHost) {
  auto e = send_fails({.url = "http://no-such-host.invalid/", .timeout = 10s});
  EXPECT_TRUE(e.kind() == Kind::connect || e.kind() == Kind::timeout) << e.what();
}

TEST_F(HttpClientTest, TruncatedBodyIsProtocolError) {
  FakeHttpServer server([](const FakeRequest&) {
    auto res = FakeResponse::text(std::string(100, 'a'));
    res.truncate_body_to = 10;
    return res;
  });
  auto e = send_fails({.url = server.base_url() + "/"});
  EXPECT_EQ(e.kind(), Kind::protocol) << e.what();
}

TEST_F(HttpClientTest, MalformedResponseIsProtocolError) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse res;
    res.raw = "HTTP/1.1 two hundred OK\r\n\r\n";
    return res;
  });
  auto e = send_fails({.url = server.base_url() + "/"});
  EXPECT_EQ(e.kind(), Kind::protocol) << e.what();
}

TEST_F(HttpClientTest, ResponseLargerThanLimitIsTooLarge) {
  FakeHttpServer server([](const FakeRequest& r) {
    FakeResponse res;
    res.body = std::string(2000, 'z');
    res.chunked = r.path() == "/chunked";  // no Content-Length to refuse up front
    return res;
  });
  auto e = send_fails({.url = server.base_url() + "/plain", .max_response_bytes = 1000});
  EXPECT_EQ(e.kind(), Kind::too_large) << e.what();
  e = send_fails({.url = server.base_url() + "/chunked", .max_response_bytes = 1000});
  EXPECT_EQ(e.kind(), Kind::too_large) << e.what();
  EXPECT_EQ(send({.url = server.base_url() + "/plain", .max_response_bytes = 2000}).body.size(), 2000u);
}

TEST_F(HttpClientTest, ErrorMessagesNeverContainPathOrQuery) {
  const std::string secret_path = "/bot123:SECRET/getMe?token=SECRET";
  {
    std::string origin = "127.0.0.1:" + std::to_string(unused_port());
    auto e = send_fails({.url = "http://" + origin + secret_path});
    EXPECT_EQ(e.kind(), Kind::connect);
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("http://" + origin), std::string::npos) << e.what();
  }
  FakeHttpServer server([](const FakeRequest& r) {
    FakeResponse res;
    res.no_response_hang = r.path().ends_with("/hang");
    res.truncate_body_to = 1;
    res.body = "0123456789";
    return res;
  });
  for (auto path : {"/bot123:SECRET/hang", "/bot123:SECRET/getMe?x=SECRET"}) {
    auto e = send_fails({.url = server.base_url() + path, .timeout = 200ms});
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
  try {
    send({.url = "ftp://127.0.0.1/bot123:SECRET/x"});
    ADD_FAILURE() << "ftp accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
  try {
    send({.url = "http://127.0.0.1:99999999/bot123:SECRET/x"});
    ADD_FAILURE() << "bad port accepted";
  } catch (const std::exception& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

TEST_F(HttpClientTest, FiftyConcurrentRequestsThroughOneClient) {
  FakeHttpServer server([](const FakeRequest& r) {
    auto res = FakeResponse::text("echo " + r.path());
    res.delay = 20ms;  // keep them overlapping
    return res;
  });
  std::vector<std::future<Response>> futures;
  for (int i = 0; i < 50; ++i)
    futures.push_back(net::co_spawn(
        io_, send_via(client_.get(), {.url = server.base_url() + "/n/" + std::to_string(i)}), net::use_future));
  io_.run();
  for (int i = 0; i < 50; ++i) {
    auto res = futures[i].get();
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "echo /n/" + std::to_string(i));
  }
  EXPECT_EQ(server.request_count(), 50u);
  // Afterwards at most max_idle_per_host (8) stay open, and a new request reuses one of them.
  auto before = server.connection_count();
  send({.url = server.base_url() + "/again"});
  EXPECT_EQ(server.connection_count(), before);
}

TEST_F(HttpClientTest, HttpsToPlainHttpPortIsTlsError) {
  FakeHttpServer server;
  auto e = send_fails({.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x", .timeout = 10s});
  EXPECT_EQ(e.kind(), Kind::tls) << e.what();
}

TEST_F(HttpClientTest, CancellationPropagatesAsOperationAborted) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse res;
    res.no_response_hang = true;
    return res;
  });
  net::cancellation_signal signal;
  auto fut = net::co_spawn(io_, send_via(client_.get(), {.url = server.base_url() + "/", .timeout = 60s}),
                           net::bind_cancellation_slot(signal.slot(), net::use_future));
  // Cancel once the server has the request, from the io thread (cancellation_signal is not thread-safe).
  std::thread waiter([&] {
    server.wait_for_requests(1);
    net::post(io_, [&] { signal.emit(net::cancellation_type::terminal); });
  });
  io_.run();
  waiter.join();
  try {
    fut.get();
    ADD_FAILURE() << "expected cancellation";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), net::error::operation_aborted) << e.what();
  }
}

class HttpsClientTest : public HttpClientTest {
 protected:
  // Trusts `cert` (and the system store).
  void trust(const TestCert& cert) {
    ca_file_ = std::filesystem::temp_directory_path() /
               ("igb_http_ca_" + std::to_string(::getpid()) + "_" + std::to_string(++counter_) + ".pem");
    std::ofstream(ca_file_) << cert.cert_pem;
    client_ = make_client(io_.get_executor(), {.ca_file = ca_file_.string()});
  }
  void TearDown() override {
    if (!ca_file_.empty()) std::filesystem::remove(ca_file_);
  }
  std::filesystem::path ca_file_;
  static inline int counter_ = 0;
};

TEST_F(HttpsClientTest, TrustedCertificateByIpAddress) {
  auto cert = make_cert("IP:127.0.0.1");
  TlsServer server(cert);
  trust(cert);
  auto url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
  EXPECT_EQ(send({.url = url}).body, "secure");
  EXPECT_EQ(send({.url = url}).body, "secure");  // over the kept-alive TLS connection
  EXPECT_EQ(server.sni(), "");                   // no SNI for an address
}

TEST_F(HttpsClientTest, TrustedCertificateByHostNameSendsSni) {
  auto cert = make_cert("DNS:localhost");
  TlsServer server(cert);
  trust(cert);
  EXPECT_EQ(send({.url = "https://localhost:" + std::to_string(server.port()) + "/x"}).body, "secure");
  EXPECT_EQ(server.sni(), "localhost");
}

TEST_F(HttpsClientTest, HostNameMismatchIsTlsError) {
  auto cert = make_cert("DNS:other.example,IP:10.1.2.3");
  TlsServer server(cert);
  trust(cert);
  auto e = send_fails({.url = "https://localhost:" + std::to_string(server.port()) + "/x"});
  EXPECT_EQ(e.kind(), Kind::tls) << e.what();
  e = send_fails({.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x"});
  EXPECT_EQ(e.kind(), Kind::tls) << e.what();
}

TEST_F(HttpsClientTest, UntrustedCertificateIsTlsError) {
  auto cert = make_cert("DNS:localhost,IP:127.0.0.1");
  TlsServer server(cert);
  auto e = send_fails({.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x"});
  EXPECT_EQ(e.kind(), Kind::tls) << e.what();
}

TEST(HttpClientOptions, UnreadableCaFileFailsAtConstruction) {
  net::io_context io;
  EXPECT_ANY_THROW(make_client(io.get_executor(), {.ca_file = "/nonexistent/ca.pem"}));
}

}  // namespace
}  // namespace igb::http
