#pragma once
// An HTTP/1.1 client for outgoing calls (providers, the Telegram Bot API): Boost.Beast on Asio
// coroutines, plain HTTP and HTTPS (OpenSSL, certificate and host name verified), per-request timeout,
// a cap on the response size, kept-alive connections reused per host, HTTP and SOCKS5 proxies.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace igb::http {

namespace net = boost::asio;

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;  // http://host[:port]/path?query or https://…
  Headers headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};  // for the whole exchange: connect, send, receive
  std::size_t max_response_bytes = std::size_t{32} * 1024 * 1024;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;
  // Case-insensitive; empty if absent.
  std::string header(std::string_view name) const;
};

// The request did not produce a response. what() never contains the URL's path or query (they can
// carry secrets, e.g. the Bot API token), only scheme, host and port.
//   timeout    Request::timeout ran out (resolve, connect, handshake, send or receive).
//   connect    the host did not resolve, or nothing accepted the connection.
//   tls        the TLS handshake failed (certificate, host name, or the peer does not speak TLS).
//   protocol   the connection broke after it was made (reset, closed mid-response) or the response was
//              not valid HTTP/1.1. The server may have received and acted on the request.
//   too_large  the response body exceeded Request::max_response_bytes, or its header 64 KiB.
//   canceled   not thrown by make_client's client: cancellation of the awaiting coroutine propagates
//              as boost::system::system_error(operation_aborted), which the Supervisor and every loop
//              already read as "shutting down". Kept for wrappers/fakes that need to say it.
class TransportError : public std::runtime_error {
 public:
  enum class Kind { timeout, connect, tls, protocol, too_large, canceled };
  TransportError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class Client {
 public:
  virtual ~Client() = default;
  // Throws TransportError; any HTTP status is a Response. A malformed URL or a scheme other than
  // http/https is a bug: std::invalid_argument (whose message does not quote the URL either).
  // Cancellation (terminal, e.g. Supervisor::cancel_all) throws system_error(operation_aborted).
  virtual net::awaitable<Response> send(Request request) = 0;
};

// Sent headers: Host and User-Agent (the caller's replace ours), Content-Length from the body (a
// caller's Content-Length/Transfer-Encoding is dropped), then the caller's headers as given.
//
// Kept-alive connections: up to max_idle_per_host idle ones per scheme://host:port, dropped after
// idle_timeout (0 disables reuse), when the server said `Connection: close`, or when the server has
// visibly closed them (checked before reuse). If a reused connection fails while sending, or with
// the peer closing before the first byte of the response, the request is sent once more on a fresh
// connection (for any method: a server that closes a kept-alive connection it has read a request
// from, without answering, is what this retry cannot tell apart from an idle close).
//
// Threading: a Client is not thread-safe. Use it from one executor that runs on one thread at a time
// (an io_context with one thread, or a strand); any number of send() calls may be in flight on it.
// The Client must outlive every send() it started.
// Proxies, as URLs: http://[user:password@]host[:port] (default port 80), socks5://… or socks5h://…
// (default port 1080); a value without "://" is taken as http://. Empty: direct.
//   http proxy, https URL    CONNECT host:port tunnel, then TLS with the origin inside it.
//   http proxy, http URL     the request goes to the proxy in absolute form (GET http://host/path).
//   socks5                   RFC 1928 CONNECT with the address resolved here (IPv4 preferred);
//   socks5h                  … with the host name, resolved by the proxy.
// Credentials: Proxy-Authorization: Basic for http proxies, RFC 1929 username/password for SOCKS5.
// They never appear in errors: a TransportError names the proxy by host:port only.
struct ProxyOptions {
  std::string http;   // for http:// URLs
  std::string https;  // for https:// URLs
  // Hosts reached directly: comma-separated names or addresses; "example.com" and ".example.com" both
  // match example.com and its subdomains; "*" matches all. No CIDR ranges, ports are ignored.
  std::string no_proxy;
};

// The usual environment: https_proxy/HTTPS_PROXY, http_proxy/HTTP_PROXY (lower case wins), then
// all_proxy/ALL_PROXY for whichever of the two is unset; no_proxy/NO_PROXY.
ProxyOptions proxy_from_env();

struct ClientOptions {
  std::size_t max_idle_per_host = 8;
  std::chrono::seconds idle_timeout{30};
  std::string user_agent = "imggenbot/0.1";
  // A PEM file of CAs trusted besides the system store (tests, private endpoints). Read by
  // make_client, which throws if it cannot be loaded.
  std::string ca_file;
  // Parsed by make_client: a malformed proxy URL or an unsupported scheme throws
  // std::invalid_argument (without the URL). Connections are pooled per origin and proxy.
  ProxyOptions proxy;
  // Checked against every address a target host resolves to, before connecting; the client connects
  // only to addresses it allows (so a name cannot be re-resolved to another address in between). None
  // allowed: TransportError(connect). Through an http or socks5h proxy, which resolves names itself,
  // only a literal address in the URL is checked. Empty: every address is allowed.
  std::function<bool(const net::ip::address&)> allow_address;
};

std::unique_ptr<Client> make_client(net::any_io_executor executor, ClientOptions options = {});

}  // namespace igb::http
