#include "http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <variant>

namespace igb::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
namespace urls = boost::urls;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

namespace {

constexpr auto kTok = net::as_tuple(net::use_awaitable);
// Headers larger than this are refused (too_large) whatever max_response_bytes says.
constexpr std::uint32_t kMaxHeaderBytes = 64 * 1024;

// What a request is sent to. `origin` (scheme://host:port) is all an error message may show.
struct Target {
  bool tls = false;
  std::string host;         // for the resolver / certificate check: no brackets, decoded
  bool host_is_ip = false;  // IPv4/IPv6 literal: no SNI, certificate checked against the address
  std::uint16_t port = 0;
  std::string host_header;  // as sent in Host:
  std::string target;       // path + query, never shown
  std::string origin;
};

Target parse_target(const std::string& url) {
  auto parsed = urls::parse_uri(url);
  // Neither the URL nor the parser's message (which does not quote it) may carry the token.
  if (!parsed) throw std::invalid_argument("http: invalid URL: " + parsed.error().message());
  const urls::url_view& u = *parsed;
  Target t;
  if (u.scheme_id() == urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != urls::scheme::http) {
    throw std::invalid_argument("http: unsupported URL scheme '" + std::string(u.scheme()) + "'");
  }
  switch (u.host_type()) {
    case urls::host_type::name: t.host = u.host_name(); break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      t.host = u.host_address();
      t.host_is_ip = true;
      break;
    default: throw std::invalid_argument("http: unsupported host in URL");
  }
  if (t.host.empty()) throw std::invalid_argument("http: URL has no host");
  const std::uint16_t default_port = t.tls ? 443 : 80;
  t.port = u.has_port() && !u.port().empty() ? u.port_number() : default_port;
  if (u.has_port() && !u.port().empty() && t.port == 0) throw std::invalid_argument("http: invalid port in URL");
  std::string host_text(u.encoded_host());  // keeps the brackets of an IPv6 literal
  t.host_header = t.port == default_port ? host_text : host_text + ":" + std::to_string(t.port);
  t.target = std::string(u.encoded_target());
  if (t.target.empty() || t.target.front() != '/') t.target.insert(0, "/");
  t.origin = std::string(u.scheme()) + "://" + host_text + ":" + std::to_string(t.port);
  return t;
}

struct Proxy {
  enum class Kind { http, socks5, socks5h };
  Kind kind = Kind::http;
  std::string host;  // no brackets
  bool host_is_ip = false;
  std::uint16_t port = 0;
  std::string username;  // decoded; secret
  std::string password;  // decoded; secret
  std::string name;      // host:port, all that errors show
  std::string pool_key;  // includes the credentials: never shown
};

Proxy parse_proxy(std::string url) {
  if (url.find("://") == std::string::npos) url.insert(0, "http://");
  auto parsed = urls::parse_uri(url);
  // Neither the URL nor the parser's message may carry the proxy's password.
  if (!parsed) throw std::invalid_argument("http: invalid proxy URL: " + parsed.error().message());
  const urls::url_view& u = *parsed;
  Proxy p;
  std::uint16_t default_port = 1080;
  if (u.scheme_id() == urls::scheme::http) {
    p.kind = Proxy::Kind::http;
    default_port = 80;
  } else if (beast::iequals(u.scheme(), "socks5")) {
    p.kind = Proxy::Kind::socks5;
  } else if (beast::iequals(u.scheme(), "socks5h")) {
    p.kind = Proxy::Kind::socks5h;
  } else {
    throw std::invalid_argument("http: unsupported proxy scheme '" + std::string(u.scheme()) + "'");
  }
  switch (u.host_type()) {
    case urls::host_type::name: p.host = u.host_name(); break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      p.host = u.host_address();
      p.host_is_ip = true;
      break;
    default: throw std::invalid_argument("http: unsupported host in proxy URL");
  }
  if (p.host.empty()) throw std::invalid_argument("http: proxy URL has no host");
  p.port = u.has_port() && !u.port().empty() ? u.port_number() : default_port;
  if (p.port == 0) throw std::invalid_argument("http: invalid port in proxy URL");
  if (u.has_userinfo()) {
    p.username = u.user();
    p.password = u.password();
  }
  if (p.kind != Proxy::Kind::http && (p.username.size() > 255 || p.password.size() > 255))
    throw std::invalid_argument("http: SOCKS5 proxy credentials longer than 255 bytes");
  p.name = std::string(u.encoded_host()) + ":" + std::to_string(p.port);
  p.pool_key = std::string(u.scheme()) + "://" + p.username + ":" + p.password + "@" + p.name;
  return p;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// curl's rules, less CIDR: "*", an address equal to the entry, or a name equal to the entry or ending
// in "." + entry.
bool bypasses_proxy(const std::string& no_proxy, const std::string& host) {
  const std::string h = lower(host);
  error_code not_ip;
  net::ip::make_address(host, not_ip);
  const bool is_ip = !not_ip;  // addresses match exactly, names also by domain suffix
  std::size_t start = 0;
  while (start <= no_proxy.size()) {
    std::size_t end = no_proxy.find(',', start);
    if (end == std::string::npos) end = no_proxy.size();
    std::string entry = lower(no_proxy.substr(start, end - start));
    start = end + 1;
    auto first = entry.find_first_not_of(" \t");
    auto last = entry.find_last_not_of(" \t");
    if (first == std::string::npos) continue;
    entry = entry.substr(first, last - first + 1);
    if (entry == "*") return true;
    if (!entry.empty() && entry.front() == '[') {  // [v6]:port or [v6]
      auto close = entry.find(']');
      entry = entry.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    } else if (std::count(entry.begin(), entry.end(), ':') == 1) {
      entry.erase(entry.find(':'));  // host:port
    }
    while (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    if (entry.empty()) continue;
    if (h == entry) return true;
    if (!is_ip && h.size() > entry.size() && h.ends_with(entry) && h[h.size() - entry.size() - 1] == '.') return true;
  }
  return false;
}

std::string basic_credentials(const Proxy& p) {
  const std::string plain = p.username + ":" + p.password;
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

const char* socks5_reply_text(unsigned char rep) {
  switch (rep) {
    case 1: return "general failure";
    case 2: return "connection not allowed by ruleset";
    case 3: return "network unreachable";
    case 4: return "host unreachable";
    case 5: return "connection refused";
    case 6: return "TTL expired";
    case 7: return "command not supported";
    case 8: return "address type not supported";
    default: return "unknown reply";
  }
}

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // An idle connection the server has closed (FIN pending) or that has unexpected bytes waiting is
  // not worth a request: checking costs one non-blocking syscall and saves most retries.
  bool looks_alive() {
    auto& sock = tcp().socket();
    if (!sock.is_open()) return false;
    char c;
    ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void close() {
    error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().socket().close(ec);
  }
};

[[noreturn]] void fail(TransportError::Kind kind, const Target& t, std::string_view what, const error_code& ec) {
  std::string msg = t.origin + ": " + std::string(what);
  if (ec) msg += ": " + ec.message();
  throw TransportError(kind, msg);
}

[[noreturn]] void fail_proxy(TransportError::Kind kind, const Target& t, const Proxy& p, std::string_view what,
                             const error_code& ec = {}) {
  std::string msg = t.origin + " via proxy " + p.name + ": " + std::string(what);
  if (ec) msg += ": " + ec.message();
  throw TransportError(kind, msg);
}

// Cancellation of the awaiting coroutine is rethrown as is (see client.hpp).
[[noreturn]] void throw_canceled() { throw boost::system::system_error(net::error::operation_aborted); }

bool peer_closed(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::connection_aborted || ec == ssl::error::stream_truncated;
}

bool too_large(const error_code& ec) {
  return ec == bhttp::error::body_limit || ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow;
}

class ClientImpl final : public Client {
 public:
  ClientImpl(net::any_io_executor executor, ClientOptions options)
      : executor_(std::move(executor)), options_(std::move(options)) {
    if (!options_.ca_file.empty()) ssl_context();  // a bad file fails now, not on the first request
    if (!options_.proxy.http.empty()) http_proxy_ = parse_proxy(options_.proxy.http);
    if (!options_.proxy.https.empty()) https_proxy_ = parse_proxy(options_.proxy.https);
  }

  ~ClientImpl() override {
    for (auto& [key, conns] : idle_)
      for (auto& c : conns) c->close();
  }

  net::awaitable<Response> send(Request request) override;

 private:
  const Proxy* proxy_for(const Target& t) const {
    const auto& proxy = t.tls ? https_proxy_ : http_proxy_;
    if (!proxy || bypasses_proxy(options_.proxy.no_proxy, t.host)) return nullptr;
    return &*proxy;
  }
  // ec is timed_out when the deadline passed first.
  net::awaitable<std::pair<error_code, tcp::resolver::results_type>> resolve(std::string host, bool host_is_ip,
                                                                             std::uint16_t port,
                                                                             Clock::time_point deadline);
  net::awaitable<std::unique_ptr<Connection>> connect(Target t, const Proxy* proxy, Clock::time_point deadline);
  net::awaitable<void> http_connect_tunnel(Connection& conn, const Target& t, const Proxy& p);
  net::awaitable<void> socks5_tunnel(Connection& conn, const Target& t, const Proxy& p, Clock::time_point deadline);
  std::unique_ptr<Connection> take_idle(const std::string& origin);
  void put_idle(const std::string& origin, std::unique_ptr<Connection> conn);
  void prune_idle();
  ssl::context& ssl_context();

  net::any_io_executor executor_;
  ClientOptions options_;
  // Made on the first https request: loading the system CA store costs ~30 ms, which every Client
  // of a plain-HTTP test would pay otherwise.
  std::optional<ssl::context> ssl_ctx_;
  // Per origin and proxy (pool_key in send()), oldest first; a request takes the most recently used one.
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle_;
  std::optional<Proxy> http_proxy_;
  std::optional<Proxy> https_proxy_;
};

ssl::context& ClientImpl::ssl_context() {
  if (!ssl_ctx_) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_default_verify_paths();
    if (!options_.ca_file.empty()) ctx.load_verify_file(options_.ca_file);
    ctx.set_verify_mode(ssl::verify_peer);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    ssl_ctx_.emplace(std::move(ctx));
  }
  return *ssl_ctx_;
}

std::unique_ptr<Connection> ClientImpl::take_idle(const std::string& origin) {
  auto it = idle_.find(origin);
  if (it == idle_.end()) return nullptr;
  auto& conns = it->second;
  std::unique_ptr<Connection> found;
  while (!conns.empty() && !found) {
    auto c = std::move(conns.back());
    conns.pop_back();
    if (c->looks_alive())
      found = std::move(c);
    else
      c->close();
  }
  if (conns.empty()) idle_.erase(it);
  return found;
}

void ClientImpl::put_idle(const std::string& origin, std::unique_ptr<Connection> conn) {
  if (options_.max_idle_per_host == 0 || options_.idle_timeout.count() <= 0) {
    conn->close();
    return;
  }
  conn->tcp().expires_never();
  conn->idle_since = Clock::now();
  auto& conns = idle_[origin];
  while (conns.size() >= options_.max_idle_per_host) {
    conns.front()->close();
    conns.pop_front();
  }
  conns.push_back(std::move(conn));
}

void ClientImpl::prune_idle() {
  const auto now = Clock::now();
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& conns = it->second;
    while (!conns.empty() && now - conns.front()->idle_since >= options_.idle_timeout) {
      conns.front()->close();
      conns.pop_front();
    }
    it = conns.empty() ? idle_.erase(it) : std::next(it);
  }
}

net::awaitable<std::pair<error_code, tcp::resolver::results_type>> ClientImpl::resolve(std::string host,
                                                                                       bool host_is_ip,
                                                                                       std::uint16_t port,
                                                                                       Clock::time_point deadline) {
  using namespace net::experimental::awaitable_operators;
  if (host_is_ip) {
    error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec) co_return std::pair{ec, tcp::resolver::results_type{}};
    co_return std::pair{error_code{},
                        tcp::resolver::results_type::create(tcp::endpoint(address, port), host, std::to_string(port))};
  }
  // The resolver has no deadline of its own. Caveat: a cancelled resolve that is already inside
  // getaddrinfo (a background thread) completes only when getaddrinfo returns.
  tcp::resolver resolver(executor_);
  net::steady_timer timer(executor_, deadline);
  auto raced = co_await (resolver.async_resolve(host, std::to_string(port), kTok) || timer.async_wait(kTok));
  if (raced.index() == 1) {
    if (std::get<0>(std::get<1>(raced))) throw_canceled();
    co_return std::pair{error_code(net::error::timed_out), tcp::resolver::results_type{}};
  }
  auto [ec, results] = std::get<0>(std::move(raced));
  if (ec == net::error::operation_aborted) throw_canceled();
  co_return std::pair{ec, std::move(results)};
}

net::awaitable<std::unique_ptr<Connection>> ClientImpl::connect(Target t, const Proxy* proxy,
                                                                Clock::time_point deadline) {
  using Kind = TransportError::Kind;

  const std::string& host = proxy ? proxy->host : t.host;
  const bool host_is_ip = proxy ? proxy->host_is_ip : t.host_is_ip;
  const std::uint16_t port = proxy ? proxy->port : t.port;
  auto [rec, endpoints] = co_await resolve(host, host_is_ip, port, deadline);
  if (rec == net::error::timed_out) {
    if (proxy) fail_proxy(Kind::timeout, t, *proxy, "timed out resolving the proxy");
    fail(Kind::timeout, t, "timed out resolving the host", {});
  }
  if (rec) {
    if (proxy) fail_proxy(Kind::connect, t, *proxy, "cannot resolve the proxy", rec);
    fail(Kind::connect, t, "cannot resolve the host", rec);
  }

  if (options_.allow_address) {
    if (proxy == nullptr) {
      std::vector<tcp::endpoint> kept;
      for (const auto& entry : endpoints)
        if (options_.allow_address(entry.endpoint().address())) kept.push_back(entry.endpoint());
      if (kept.empty()) fail(Kind::connect, t, "the host's addresses are not allowed", {});
      endpoints = tcp::resolver::results_type::create(kept.begin(), kept.end(), t.host, std::to_string(t.port));
    } else if (t.host_is_ip && !options_.allow_address(net::ip::make_address(t.host))) {
      fail(Kind::connect, t, "the host's address is not allowed", {});
    }
  }

  auto conn = std::make_unique<Connection>();
  if (t.tls) {
    conn->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(executor_, ssl_context());
  } else {
    conn->plain = std::make_unique<beast::tcp_stream>(executor_);
  }
  auto& stream = conn->tcp();
  stream.expires_at(deadline);
  auto [cec, ep] = co_await stream.async_connect(endpoints, kTok);
  if (cec == beast::error::timeout) {
    if (proxy) fail_proxy(Kind::timeout, t, *proxy, "timed out connecting to the proxy");
    fail(Kind::timeout, t, "timed out connecting", {});
  }
  if (cec == net::error::operation_aborted) throw_canceled();
  if (cec) {
    if (proxy) fail_proxy(Kind::connect, t, *proxy, "cannot connect to the proxy", cec);
    fail(Kind::connect, t, "cannot connect", cec);
  }
  stream.socket().set_option(tcp::no_delay(true));
  if (proxy && proxy->kind == Proxy::Kind::http && t.tls) co_await http_connect_tunnel(*conn, t, *proxy);
  if (proxy && proxy->kind != Proxy::Kind::http) co_await socks5_tunnel(*conn, t, *proxy, deadline);

  if (t.tls) {
    SSL* native = conn->tls->native_handle();
    if (t.host_is_ip) {
      // host_name_verification matches DNS names only; an address is checked by OpenSSL itself.
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), t.host.c_str());
    } else {
      if (!SSL_set_tlsext_host_name(native, t.host.c_str()))
        fail(Kind::tls, t, "cannot set SNI",
             error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()));
      conn->tls->set_verify_callback(ssl::host_name_verification(t.host));
    }
    auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kTok);
    if (hec == beast::error::timeout) fail(Kind::timeout, t, "timed out in the TLS handshake", {});
    if (hec == net::error::operation_aborted) throw_canceled();
    if (hec) fail(Kind::tls, t, "TLS handshake failed", hec);
  }
  co_return conn;
}

net::awaitable<void> ClientImpl::http_connect_tunnel(Connection& conn, const Target& t, const Proxy& p) {
  using Kind = TransportError::Kind;
  const bool v6 = t.host_is_ip && t.host.find(':') != std::string::npos;
  const std::string authority = (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.port);
  bhttp::request<bhttp::empty_body> req{bhttp::verb::connect, authority, 11};
  req.set(bhttp::field::host, authority);
  req.set(bhttp::field::user_agent, options_.user_agent);
  if (!p.username.empty() || !p.password.empty()) req.set(bhttp::field::proxy_authorization, basic_credentials(p));
  auto [wec, wn] = co_await bhttp::async_write(conn.tcp(), req, kTok);
  if (wec == beast::error::timeout) fail_proxy(Kind::timeout, t, p, "timed out sending CONNECT");
  if (wec == net::error::operation_aborted) throw_canceled();
  if (wec) fail_proxy(Kind::connect, t, p, "sending CONNECT failed", wec);

  // A 2xx answer to CONNECT has no body whatever its headers say; other answers are not read further.
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.skip(true);
  auto [rec, rn] = co_await bhttp::async_read(conn.tcp(), conn.buffer, parser, kTok);
  if (rec == beast::error::timeout) fail_proxy(Kind::timeout, t, p, "timed out waiting for the CONNECT answer");
  if (rec == net::error::operation_aborted) throw_canceled();
  if (rec) fail_proxy(Kind::connect, t, p, "no valid answer to CONNECT", rec);
  const unsigned status = parser.get().result_int();
  if (status < 200 || status > 299)
    fail_proxy(Kind::connect, t, p, "the proxy refused CONNECT with status " + std::to_string(status));
  // The origin's TLS handshake starts with our ClientHello: nothing may be buffered before it.
  if (conn.buffer.size() != 0) fail_proxy(Kind::connect, t, p, "unexpected bytes after the CONNECT answer");
}

net::awaitable<void> ClientImpl::socks5_tunnel(Connection& conn, const Target& t, const Proxy& p,
                                               Clock::time_point deadline) {
  using Kind = TransportError::Kind;
  auto& stream = conn.tcp();
  auto check = [&](const error_code& ec, std::string_view step) {
    if (ec == beast::error::timeout) fail_proxy(Kind::timeout, t, p, "timed out in the SOCKS5 " + std::string(step));
    if (ec == net::error::operation_aborted) throw_canceled();
    if (ec) fail_proxy(Kind::connect, t, p, "SOCKS5 " + std::string(step) + " failed", ec);
  };
  const bool with_auth = !p.username.empty() || !p.password.empty();

  std::vector<unsigned char> out = {5, 1, 0x00};
  if (with_auth) out = {5, 2, 0x00, 0x02};
  auto [ec1, n1] = co_await net::async_write(stream, net::buffer(out), kTok);
  check(ec1, "greeting");
  std::array<unsigned char, 2> choice{};
  auto [ec2, n2] = co_await net::async_read(stream, net::buffer(choice), kTok);
  check(ec2, "greeting");
  if (choice[0] != 5) fail_proxy(Kind::connect, t, p, "not a SOCKS5 proxy");
  if (choice[1] == 0x02 && with_auth) {
    out = {1, static_cast<unsigned char>(p.username.size())};
    out.insert(out.end(), p.username.begin(), p.username.end());
    out.push_back(static_cast<unsigned char>(p.password.size()));
    out.insert(out.end(), p.password.begin(), p.password.end());
    auto [ec3, n3] = co_await net::async_write(stream, net::buffer(out), kTok);
    std::fill(out.begin(), out.end(), 0);
    check(ec3, "authentication");
    std::array<unsigned char, 2> status{};
    auto [ec4, n4] = co_await net::async_read(stream, net::buffer(status), kTok);
    check(ec4, "authentication");
    if (status[1] != 0) fail_proxy(Kind::connect, t, p, "the SOCKS5 proxy refused the username/password");
  } else if (choice[1] != 0x00) {
    fail_proxy(Kind::connect, t, p,
               with_auth ? "the SOCKS5 proxy accepts none of our authentication methods"
                         : "the SOCKS5 proxy requires authentication");
  }

  out = {5, 1, 0};  // CONNECT
  if (p.kind == Proxy::Kind::socks5h && !t.host_is_ip) {
    if (t.host.size() > 255) fail_proxy(Kind::connect, t, p, "host name too long for SOCKS5");
    out.push_back(3);
    out.push_back(static_cast<unsigned char>(t.host.size()));
    out.insert(out.end(), t.host.begin(), t.host.end());
  } else {
    auto [rec, results] = co_await resolve(t.host, t.host_is_ip, t.port, deadline);
    if (rec == net::error::timed_out) fail(Kind::timeout, t, "timed out resolving the host", {});
    if (rec || results.empty()) fail(Kind::connect, t, "cannot resolve the host", rec);
    net::ip::address address = results.begin()->endpoint().address();
    for (const auto& entry : results)  // IPv4 first: not every SOCKS proxy reaches IPv6
      if (entry.endpoint().address().is_v4()) {
        address = entry.endpoint().address();
        break;
      }
    if (options_.allow_address && !options_.allow_address(address)) {
      fail(Kind::connect, t, "the host's address is not allowed", {});
    }
    if (address.is_v4()) {
      out.push_back(1);
      auto bytes = address.to_v4().to_bytes();
      out.insert(out.end(), bytes.begin(), bytes.end());
    } else {
      out.push_back(4);
      auto bytes = address.to_v6().to_bytes();
      out.insert(out.end(), bytes.begin(), bytes.end());
    }
  }
  out.push_back(static_cast<unsigned char>(t.port >> 8));
  out.push_back(static_cast<unsigned char>(t.port & 0xff));
  auto [ec5, n5] = co_await net::async_write(stream, net::buffer(out), kTok);
  check(ec5, "CONNECT");
  std::array<unsigned char, 5> head{};  // VER REP RSV ATYP and the first byte of BND.ADDR
  auto [ec6, n6] = co_await net::async_read(stream, net::buffer(head), kTok);
  check(ec6, "CONNECT");
  if (head[0] != 5) fail_proxy(Kind::connect, t, p, "not a SOCKS5 answer");
  if (head[1] != 0)
    fail_proxy(Kind::connect, t, p, std::string("SOCKS5 CONNECT refused: ") + socks5_reply_text(head[1]));
  std::size_t rest = 0;  // of BND.ADDR after its first byte, plus BND.PORT
  switch (head[3]) {
    case 1: rest = 3 + 2; break;
    case 4: rest = 15 + 2; break;
    case 3: rest = head[4] + 2u; break;
    default: fail_proxy(Kind::connect, t, p, "SOCKS5 answer with an unknown address type");
  }
  std::vector<unsigned char> tail(rest);
  auto [ec7, n7] = co_await net::async_read(stream, net::buffer(tail), kTok);
  check(ec7, "CONNECT");
}

net::awaitable<Response> ClientImpl::send(Request request) {
  using Kind = TransportError::Kind;
  const Target t = parse_target(request.url);
  const auto deadline = Clock::now() + request.timeout;
  const auto timeout_text = "timed out after " + std::to_string(request.timeout.count()) + " ms";

  bhttp::request<bhttp::string_body> req;
  const auto verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown)
    req.method_string(request.method);
  else
    req.method(verb);
  req.target(t.target);
  req.version(11);
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, options_.user_agent);
  for (auto& [name, value] : request.headers) {
    // Host and User-Agent given by the caller replace ours; the framing is always ours.
    if (beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding")) continue;
    if (beast::iequals(name, "host") || beast::iequals(name, "user-agent"))
      req.set(name, value);
    else
      req.insert(name, value);
  }
  req.body() = std::move(request.body);
  req.prepare_payload();
  const bool head = verb == bhttp::verb::head;

  const Proxy* proxy = proxy_for(t);
  if (proxy && proxy->kind == Proxy::Kind::http && !t.tls) {
    // Plain HTTP through an HTTP proxy: absolute form, no tunnel (proxies often allow CONNECT to 443 only).
    req.target("http://" + t.host_header + t.target);
    if (!proxy->username.empty() || !proxy->password.empty())
      req.set(bhttp::field::proxy_authorization, basic_credentials(*proxy));
  }
  const std::string pool_key = proxy ? t.origin + " " + proxy->pool_key : t.origin;

  prune_idle();
  for (int attempt = 0;; ++attempt) {
    // Only the first attempt may use a kept-alive connection; the retry always opens a fresh one.
    std::unique_ptr<Connection> conn = attempt == 0 ? take_idle(pool_key) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) conn = co_await connect(t, proxy, deadline);
    conn->tcp().expires_at(deadline);

    error_code wec;
    if (conn->tls)
      std::tie(wec, std::ignore) = co_await bhttp::async_write(*conn->tls, req, kTok);
    else
      std::tie(wec, std::ignore) = co_await bhttp::async_write(*conn->plain, req, kTok);
    if (wec) {
      conn->close();
      if (wec == beast::error::timeout) fail(Kind::timeout, t, timeout_text + " (sending)", {});
      if (wec == net::error::operation_aborted) throw_canceled();
      if (reused && peer_closed(wec)) continue;
      fail(Kind::protocol, t, "sending the request failed", wec);
    }

    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(request.max_response_bytes);
    parser.header_limit(kMaxHeaderBytes);
    parser.skip(head);
    error_code rec;
    if (conn->tls)
      std::tie(rec, std::ignore) = co_await bhttp::async_read(*conn->tls, conn->buffer, parser, kTok);
    else
      std::tie(rec, std::ignore) = co_await bhttp::async_read(*conn->plain, conn->buffer, parser, kTok);
    // A TLS peer that ends an until-close body without close_notify: the body is complete anyway.
    if (rec == ssl::error::stream_truncated && parser.is_header_done() && parser.need_eof()) {
      rec = {};
      parser.put_eof(rec);
    }
    if (rec) {
      conn->close();
      if (rec == beast::error::timeout) fail(Kind::timeout, t, timeout_text + " (receiving)", {});
      if (rec == net::error::operation_aborted) throw_canceled();
      if (too_large(rec)) fail(Kind::too_large, t, "response too large", rec);
      // The server closed the kept-alive connection before answering: one retry on a fresh one.
      if (reused && !parser.got_some() && peer_closed(rec)) continue;
      fail(Kind::protocol, t, "receiving the response failed", rec);
    }

    auto res = parser.release();
    Response out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = std::move(res.body());
    if (res.keep_alive() && !parser.need_eof() && conn->buffer.size() == 0)
      put_idle(pool_key, std::move(conn));
    else
      conn->close();
    co_return out;
  }
}

}  // namespace

ProxyOptions proxy_from_env() {
  auto get = [](const char* lower_name, const char* upper_name) -> std::string {
    for (const char* name : {lower_name, upper_name})
      if (const char* v = std::getenv(name); v && *v) return v;
    return {};
  };
  ProxyOptions o;
  o.https = get("https_proxy", "HTTPS_PROXY");
  o.http = get("http_proxy", "HTTP_PROXY");
  const std::string all = get("all_proxy", "ALL_PROXY");
  if (o.https.empty()) o.https = all;
  if (o.http.empty()) o.http = all;
  o.no_proxy = get("no_proxy", "NO_PROXY");
  return o;
}

std::unique_ptr<Client> make_client(net::any_io_executor executor, ClientOptions options) {
  return std::make_unique<ClientImpl>(std::move(executor), std::move(options));
}

}  // namespace igb::http
