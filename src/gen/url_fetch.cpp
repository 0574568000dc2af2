#include "gen/url_fetch.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <array>

#include "gen/http_util.hpp"
#include "util/crypto.hpp"
#include "util/ip_ranges.hpp"
#include "util/strings.hpp"

namespace igb::gen {

namespace {

bool is_public_v4(const boost::asio::ip::address_v4& a) {
  if (util::is_local_or_private(boost::asio::ip::address(a))) return false;
  const std::uint32_t x = a.to_uint();
  auto in = [x](std::array<unsigned char, 4> net, int prefix) {
    std::uint32_t n =
        (std::uint32_t(net[0]) << 24) | (std::uint32_t(net[1]) << 16) | (std::uint32_t(net[2]) << 8) | net[3];
    std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t(0) << (32 - prefix);
    return (x & mask) == (n & mask);
  };
  // The other RFC 6890 special-purpose ranges, multicast and reserved.
  return !(in({0, 0, 0, 0}, 8) || in({192, 0, 0, 0}, 24) || in({192, 0, 2, 0}, 24) || in({192, 88, 99, 0}, 24) ||
           in({198, 18, 0, 0}, 15) || in({198, 51, 100, 0}, 24) || in({203, 0, 113, 0}, 24) || in({224, 0, 0, 0}, 4) ||
           in({240, 0, 0, 0}, 4));
}

bool is_public_v6(const boost::asio::ip::address_v6& a) {
  const auto b = a.to_bytes();
  auto embedded_v4 = [&](std::size_t at) {
    return boost::asio::ip::address_v4({b[at], b[at + 1], b[at + 2], b[at + 3]});
  };
  if (a.is_v4_mapped()) return is_public_v4(embedded_v4(12));
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
      std::all_of(b.begin() + 4, b.begin() + 12, [](unsigned char c) { return c == 0; })) {
    return is_public_v4(embedded_v4(12));
  }
  // 6to4 (2002::/16) likewise.
  if (b[0] == 0x20 && b[1] == 0x02) return is_public_v4(embedded_v4(2));
  // Teredo (2001::/32) and documentation (2001:db8::/32).
  if (b[0] == 0x20 && b[1] == 0x01 && ((b[2] == 0 && b[3] == 0) || (b[2] == 0x0d && b[3] == 0xb8))) return false;
  // Only global unicast (2000::/3) is public; this excludes ::, ::1, v4-compatible, ULA (fc00::/7),
  // link-local (fe80::/10), site-local (fec0::/10) and multicast (ff00::/8).
  return (b[0] & 0xe0) == 0x20;
}

GenerationFailure broken(const std::string& backend, std::string detail) {
  return GenerationFailure{.kind = FailureKind::retry_later, .detail = std::move(detail), .backend = backend};
}

// data:[<media type>][;base64],<data>
GenerationOutcome decode_data_url(std::string_view url, std::size_t max_bytes, const std::string& backend) {
  auto comma = url.find(',');
  if (comma == std::string_view::npos) return broken(backend, "image data URL without ','");
  auto meta = url.substr(5, comma - 5);
  auto payload = url.substr(comma + 1);
  if (!meta.ends_with(";base64")) return broken(backend, "image data URL is not base64");
  if (payload.size() / 4 * 3 > max_bytes) return broken(backend, "image data URL larger than the cap");
  auto bytes = util::base64_decode(payload);
  if (!bytes || bytes->empty()) return broken(backend, "image data URL with malformed base64");
  std::string type(meta.substr(0, meta.size() - 7));
  return GeneratedImage{.bytes = std::move(*bytes), .content_type = type.empty() ? "application/octet-stream" : type};
}

bool acceptable_content_type(const std::string& content_type) {
  auto t = util::to_lower(content_type);
  return t.empty() || t.starts_with("image/") || t.starts_with("application/octet-stream") ||
         t.starts_with("binary/octet-stream");
}

}  // namespace

bool is_public_address(const boost::asio::ip::address& address) {
  return address.is_v4() ? is_public_v4(address.to_v4()) : is_public_v6(address.to_v6());
}

std::string url_for_log(std::string_view url) {
  if (url.starts_with("data:")) return "data:…";
  return std::string(url.substr(0, url.find_first_of("?#")));
}

UrlFetcher::UrlFetcher(boost::asio::any_io_executor executor, UrlFetchOptions options) : options_(options) {
  http::ClientOptions client_options;
  client_options.max_idle_per_host = 2;
  if (!options_.allow_private) client_options.allow_address = is_public_address;
  client_ = http::make_client(std::move(executor), std::move(client_options));
}

UrlFetcher::UrlFetcher(std::unique_ptr<http::Client> client, UrlFetchOptions options)
    : client_(std::move(client)), options_(options) {}

net::awaitable<GenerationOutcome> UrlFetcher::fetch(std::string url, std::string backend) {
  for (int hop = 0;; ++hop) {
    if (url.starts_with("data:")) co_return decode_data_url(url, options_.max_bytes, backend);
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) co_return broken(backend, "image URL is not a URL");
    const auto scheme = parsed->scheme_id();
    const bool https = scheme == boost::urls::scheme::https;
    if (!https && !(options_.allow_private && scheme == boost::urls::scheme::http)) {
      co_return broken(backend, "image URL is not https: " + url_for_log(url));
    }
    if (parsed->has_userinfo() || parsed->host().empty()) {
      co_return broken(backend, "image URL with credentials or without a host");
    }
    if (!options_.allow_private) {
      const auto kind = parsed->host_type();
      if (kind == boost::urls::host_type::ipv4 &&
          !is_public_address(boost::asio::ip::address_v4(parsed->host_ipv4_address().to_bytes()))) {
        co_return broken(backend, "image URL points at a non-public address: " + url_for_log(url));
      }
      if (kind == boost::urls::host_type::ipv6 &&
          !is_public_address(boost::asio::ip::address_v6(parsed->host_ipv6_address().to_bytes()))) {
        co_return broken(backend, "image URL points at a non-public address: " + url_for_log(url));
      }
      if (kind == boost::urls::host_type::ipvfuture) co_return broken(backend, "image URL with an unusable host");
      auto host = util::to_lower(parsed->encoded_host().decode());
      if (host == "localhost" || host.ends_with(".localhost")) {
        co_return broken(backend, "image URL points at localhost: " + url_for_log(url));
      }
    }

    http::Request req{.method = "GET",
                      .url = std::string(parsed->buffer()),
                      .headers = {{"Accept", "image/*"}},
                      .timeout = options_.timeout,
                      .max_response_bytes = options_.max_bytes};
    http::Response res;
    try {
      res = co_await client_->send(std::move(req));
    } catch (const http::TransportError& e) {
      if (e.kind() == http::TransportError::Kind::canceled) throw;
      auto f = transport_failure(backend, e);
      f.detail = "fetching the image: " + f.detail;
      co_return f;
    }
    if (res.status >= 300 && res.status < 400 && res.status != 304) {
      auto location = res.header("Location");
      if (location.empty() || hop >= options_.max_redirects) {
        co_return broken(backend, "image URL redirects too often or without a Location");
      }
      auto ref = boost::urls::parse_uri_reference(location);
      if (!ref) co_return broken(backend, "image URL redirects to a malformed Location");
      boost::urls::url next;
      if (auto r = boost::urls::resolve(*parsed, *ref, next); !r)
        co_return broken(backend, "image URL redirect unresolvable");
      url = std::string(next.buffer());
      continue;
    }
    if (res.status != 200) {
      co_return broken(backend, "fetching the image: HTTP " + std::to_string(res.status) + " from " + url_for_log(url));
    }
    auto content_type = res.header("Content-Type");
    if (!acceptable_content_type(content_type) || res.body.empty()) {
      co_return broken(backend, "fetching the image: not an image (Content-Type '" + content_type + "')");
    }
    co_return GeneratedImage{.bytes = std::move(res.body), .content_type = content_type};
  }
}

}  // namespace igb::gen
