#include "http/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/system/system_error.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>
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
    case urls::host_type::name:
      t.host = u.host_name();
      break;
    case urls::host_type::ipv4:
    case urls::host_type::ipv6:
      t.host = u.host_address();
      t.host_is_ip = true;
      break;
    default:
      throw std::invalid_argument("http: unsupported host in URL");
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

// Cancellation of the awaiting coroutine is rethrown as is (see client.hpp).
[[noreturn]] void throw_canceled() {
  throw boost::system::system_error(net::error::operation_aborted);
}

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
  }

  ~ClientImpl() override {
    for (auto& [key, conns] : idle_)
      for (auto& c : conns) c->close();
  }

  net::awaitable<Response> send(Request request) override;

 private:
  net::awaitable<std::unique_ptr<Connection>> connect(Target t, Clock::time_point deadline);
  std::unique_ptr<Connection> take_idle(const std::string& origin);
  void put_idle(const std::string& origin, std::unique_ptr<Connection> conn);
  void prune_idle();
  ssl::context& ssl_context();

  net::any_io_executor executor_;
  ClientOptions options_;
  // Made on the first https request: loading the system CA store costs ~30 ms, which every Client
  // of a plain-HTTP test would pay otherwise.
  std::optional<ssl::context> ssl_ctx_;
  // Per origin, oldest first; a request takes the most recently used one.
  std::map<std::string, std::deque<std::unique_ptr<Connection>>> idle_;
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

net::awaitable<std::unique_ptr<Connection>> ClientImpl::connect(Target t, Clock::time_point deadline) {
  using namespace net::experimental::awaitable_operators;
  using Kind = TransportError::Kind;

  tcp::resolver::results_type endpoints;
  if (t.host_is_ip) {
    error_code ec;
    auto address = net::ip::make_address(t.host, ec);
    if (ec) fail(Kind::connect, t, "invalid address", ec);
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, t.port), t.host, std::to_string(t.port));
  } else {
    // The resolver has no deadline of its own. Caveat: a cancelled resolve that is already inside
    // getaddrinfo (a background thread) completes only when getaddrinfo returns.
    tcp::resolver resolver(executor_);
    net::steady_timer timer(executor_, deadline);
    auto raced = co_await (resolver.async_resolve(t.host, std::to_string(t.port), kTok) || timer.async_wait(kTok));
    if (raced.index() == 1) {
      if (std::get<0>(std::get<1>(raced))) throw_canceled();
      fail(Kind::timeout, t, "timed out resolving the host", {});
    }
    auto [ec, results] = std::get<0>(std::move(raced));
    if (ec == net::error::operation_aborted) throw_canceled();
    if (ec) fail(Kind::connect, t, "cannot resolve the host", ec);
    endpoints = std::move(results);
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
  if (cec == beast::error::timeout) fail(Kind::timeout, t, "timed out connecting", {});
  if (cec == net::error::operation_aborted) throw_canceled();
  if (cec) fail(Kind::connect, t, "cannot connect", cec);
  stream.socket().set_option(tcp::no_delay(true));

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

  prune_idle();
  for (int attempt = 0;; ++attempt) {
    // Only the first attempt may use a kept-alive connection; the retry always opens a fresh one.
    std::unique_ptr<Connection> conn = attempt == 0 ? take_idle(t.origin) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) conn = co_await connect(t, deadline);
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
    for (const auto& field : res) out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = std::move(res.body());
    if (res.keep_alive() && !parser.need_eof() && conn->buffer.size() == 0)
      put_idle(t.origin, std::move(conn));
    else
      conn->close();
    co_return out;
  }
}

}  // namespace

std::unique_ptr<Client> make_client(net::any_io_executor executor, ClientOptions options) {
  return std::make_unique<ClientImpl>(std::move(executor), std::move(options));
}

}  // namespace igb::http
