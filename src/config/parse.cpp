#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>

#include "config/internal.hpp"
#include "util/ip_ranges.hpp"
#include "util/strings.hpp"

namespace igb::config::detail {

using core::Error;
using core::ErrorCode;
using core::Status;

namespace {

// Plain http:// is for hosts on this machine or its private network: loopback, private, shared and
// link-local addresses, "localhost", and single-label names (a Docker service or LAN host such as
// "localai"). Anything else is reached over networks nobody vouches for, and the request carries a
// token: https:// is required there. `url` is known to start with "http://".
bool plain_http_allowed(std::string_view url) {
  auto authority = url.substr(7);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string host;
  if (authority.starts_with('[')) {
    host = std::string(authority.substr(1, authority.find(']') - 1));
  } else {
    host = std::string(authority.substr(0, authority.find(':')));
  }
  host = util::to_lower(host);
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  boost::system::error_code not_an_address;
  const auto address = boost::asio::ip::make_address(host, not_an_address);
  if (!not_an_address) return util::is_local_or_private(address);
  return !host.empty() && host.find('.') == std::string::npos;
}

}  // namespace

Error invalid(std::string name, std::string_view what, const std::string& origin) {
  std::string message = name + ": " + std::string(what);
  if (!origin.empty()) message += " (in " + origin + ")";
  return Error{.code = ErrorCode::invalid_argument,
               .public_message = std::move(message),
               .field_errors = {
                   core::FieldError{.field = std::move(name), .message = std::string(what), .type = "value_error"}}};
}

Error invalid(const Raw& raw, std::string_view what) { return invalid(raw.name, what, raw.origin); }

Error failure(std::string message) { return core::make_error(ErrorCode::invalid_argument, std::move(message)); }

// The value in double quotes for a message, control characters escaped, long values cut.
std::string shown(std::string_view s) {
  constexpr std::size_t kMaxShown = 100;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out + "\"";
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// An http:// (unless https_only) or https:// URL with a host.
bool is_http_url(std::string_view s, bool https_only) {
  std::string_view rest;
  if (s.starts_with("https://")) {
    rest = s.substr(8);
  } else if (!https_only && s.starts_with("http://")) {
    rest = s.substr(7);
  } else {
    return false;
  }
  if (has_space_or_control(s)) return false;
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  return !authority.empty() && authority.front() != ':' && authority.front() != '@';
}

// is_http_url(s, false), and plain http only where plain_http_allowed; "" if fine, else why not.
std::string service_url_problem(std::string_view s) {
  if (!is_http_url(s, false)) return "expected an http:// or https:// URL, got " + shown(s);
  if (s.starts_with("http://") && !plain_http_allowed(s)) {
    return "plain http:// is accepted only for loopback, private addresses and single-label hosts; use https:// for " +
           shown(s);
  }
  return {};
}

std::string without_trailing_slashes(std::string_view s) {
  while (s.ends_with('/')) s.remove_suffix(1);
  return std::string(s);
}

Status parse_int_into(const Raw& raw, long long low, long long high, int& out) {
  auto v = util::parse_int(util::trim(raw.text));
  if (!v || *v < low || *v > high) {
    return invalid(raw, "expected an integer from " + std::to_string(low) + " to " + std::to_string(high) + ", got " +
                            shown(raw.text));
  }
  out = static_cast<int>(*v);
  return core::Ok{};
}

// An http(s) base URL of a service we send tokens to (see service_url_problem), without trailing '/'.
Status parse_service_url_into(const Raw& raw, std::string& out) {
  if (auto problem = service_url_problem(raw.text); !problem.empty()) return invalid(raw, problem);
  out = without_trailing_slashes(raw.text);
  return core::Ok{};
}

bool is_hf_model(std::string_view s) {
  auto slash = s.find('/');
  auto name_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
  };
  return slash != std::string_view::npos && slash > 0 && slash + 1 < s.size() &&
         std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(slash), name_char) &&
         std::all_of(s.begin() + static_cast<std::ptrdiff_t>(slash) + 1, s.end(), name_char);
}
Error unknown_key(std::string_view key, const toml::source_region& where, const std::string& path) {
  return failure("unknown key \"" + std::string(key) + "\" (in " + path + ", line " + std::to_string(where.begin.line) +
                 ")");
}

// Plan ids and backend names.
bool is_short_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-';
  });
}

const std::string* non_empty(const std::map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() || it->second.empty() ? nullptr : &it->second;
}

bool is_env_name(std::string_view s) {
  return !s.empty() && !(s.front() >= '0' && s.front() <= '9') && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
  });
}

}  // namespace igb::config::detail
