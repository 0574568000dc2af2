#include "cli/healthcheck.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <future>
#include <istream>
#include <optional>
#include <ostream>

namespace igb::cli {

namespace net = boost::asio;
using net::ip::tcp;

namespace {

struct Target {
  std::string host, port, path;
};

// http://host[:port][/path], host may be [IPv6]. Anything else: nullopt.
std::optional<Target> parse_http_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return std::nullopt;
  std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find('/');
  Target t{.port = "80", .path = slash == std::string::npos ? "/" : rest.substr(slash)};
  std::string authority = rest.substr(0, slash);
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    t.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      t.port = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    t.host = authority.substr(0, colon);
    if (colon != std::string::npos) t.port = authority.substr(colon + 1);
  }
  if (t.host.empty() || t.port.empty()) return std::nullopt;
  return t;
}

net::awaitable<int> fetch_status(Target target) {
  auto executor = co_await net::this_coro::executor;
  tcp::resolver resolver(executor);
  auto endpoints = co_await resolver.async_resolve(target.host, target.port, net::use_awaitable);
  tcp::socket socket(executor);
  co_await net::async_connect(socket, endpoints, net::use_awaitable);
  const std::string host = target.host.find(':') == std::string::npos ? target.host : "[" + target.host + "]";
  const std::string request =
      "GET " + target.path + " HTTP/1.1\r\nHost: " + host + ":" + target.port + "\r\nConnection: close\r\n\r\n";
  co_await net::async_write(socket, net::buffer(request), net::use_awaitable);
  net::streambuf response;
  co_await net::async_read_until(socket, response, "\r\n", net::use_awaitable);
  std::istream line(&response);
  std::string version;
  int status = 0;
  line >> version >> status;
  co_return status;
}

}  // namespace

std::string default_healthcheck_url(const config::Listen& listen) {
  std::string host = listen.host;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::" || host == "[::]") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(listen.port) + "/healthz";
}

int run_healthcheck(const std::string& url, std::chrono::milliseconds timeout, std::ostream& err) {
  auto target = parse_http_url(url);
  if (!target) {
    err << "healthcheck: expected a plain http:// URL\n";
    return 1;
  }
  net::io_context io;
  auto status = net::co_spawn(io, fetch_status(*target), net::use_future);
  io.run_for(timeout);
  if (status.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    err << "healthcheck: no answer from " << url << " within " << timeout.count() << " ms\n";
    return 1;
  }
  try {
    const int code = status.get();
    if (code >= 200 && code < 300) return 0;
    err << "healthcheck: " << url << " answered " << code << "\n";
  } catch (const boost::system::system_error& e) {
    err << "healthcheck: " << url << ": " << e.code().message() << "\n";
  } catch (const std::exception& e) {
    err << "healthcheck: " << url << ": " << e.what() << "\n";
  }
  return 1;
}

}  // namespace igb::cli
