#include "server/wire.hpp"

#include <algorithm>

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>

namespace igb::server::wire {

namespace urls = boost::urls;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `in` was validated by Boost.URL: every '%' is followed by two hex digits.
bool percent_decode_path(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = hex_value(in[i + 1]);
      int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    out.push_back(c);
  }
  return true;
}

// Appends `s` without CR, LF and NUL (they would end or corrupt an SSE field).
void append_field_text(std::string& out, std::string_view s) {
  for (char c : s)
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
}

// Calls f(line) for each line of `text`, lines ending at CRLF, LF or CR; "" gives one empty line.
template <class F>
void for_each_line(std::string_view text, F f) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' || text[i] == '\r') {
      f(text.substr(start, i - start));
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  f(text.substr(start));
}

}  // namespace

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    std::uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte first, C0/C1 (overlong), or F5..FF
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)) return false;  // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                                 // surrogate
    if (cp > 0x10FFFF) return false;
    p += extra + 1;
  }
  return true;
}

// RFC 3986 pchar without pct-encoded, plus '/': a target made only of these is an origin-form
// path that decodes to itself.
bool plain_path_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) != std::string_view::npos;
}

bool decode_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query) {
  path.clear();
  query.clear();
  if (target.empty()) return false;
  // Most targets are a plain path ("/v1/status/j01…"): no need for the URL parser.
  if (target.front() == '/' && std::all_of(target.begin(), target.end(), [](char c) { return plain_path_char(c); })) {
    path.assign(target);
    return true;
  }
  auto parsed = target.front() == '/' ? urls::parse_origin_form(target) : urls::parse_absolute_uri(target);
  if (!parsed) return false;
  const urls::url_view& u = *parsed;
  auto encoded = u.encoded_path();
  if (!percent_decode_path(std::string_view(encoded.data(), encoded.size()), path)) return false;
  if (path.empty()) path = "/";  // absolute-form without a path
  if (path.front() != '/') return false;
  if (path.find('\0') != std::string::npos || !valid_utf8(path)) return false;
  if (u.has_query()) {
    for (auto param : u.params()) {  // decoded, '+' as space
      if (!valid_utf8(param.key) || !valid_utf8(param.value)) return false;
      if (param.key.empty()) continue;
      query.insert_or_assign(std::move(param.key), std::move(param.value));
    }
  }
  return true;
}

std::string_view http_date() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t cached = -1;
  thread_local char text[32];
  thread_local std::size_t length = 0;
  const std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm t{};
    gmtime_r(&now, &t);
    // IMF-fixdate is fixed-width: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
    int n = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[t.tm_wday % 7], t.tm_mday,
                          kMonths[t.tm_mon % 12], t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
    length = n > 0 ? static_cast<std::size_t>(n) : 0;
    cached = now;
  }
  return {text, length};
}

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

bool valid_header_value(std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void append_sse_event(std::string& out, std::string_view event, std::string_view data, std::string_view id) {
  if (!id.empty()) {
    out += "id: ";
    append_field_text(out, id);
    out += '\n';
  }
  if (!event.empty()) {
    out += "event: ";
    append_field_text(out, event);
    out += '\n';
  }
  for_each_line(data, [&out](std::string_view line) {
    out += "data: ";
    out += line;
    out += '\n';
  });
  out += '\n';
}

void append_sse_comment(std::string& out, std::string_view text) {
  for_each_line(text, [&out](std::string_view line) {
    out += ": ";
    out += line;
    out += '\n';
  });
  out += '\n';
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

void new_request_id(std::string& out) {
  static const std::string prefix = [] {
    std::random_device device;
    const std::uint64_t bits = (static_cast<std::uint64_t>(device()) << 32) ^ device();
    char text[16];
    std::snprintf(text, sizeof text, "%012llx", static_cast<unsigned long long>(bits & 0xffffffffffffULL));
    return std::string(text) + "-";
  }();
  static std::atomic<std::uint64_t> counter{0};
  const auto n = counter.fetch_add(1, std::memory_order_relaxed) + 1;
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, n, 16).ptr;
  out.assign(prefix);
  out.append(digits, end);
}

bool add_json_member(std::string& body, std::string_view name, std::string_view value) {
  if (body.empty() || body.back() != '}') return false;
  std::string member;
  auto quoted = [&member](std::string_view s) {
    member += '"';
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        member += '\\';
        member += c;
      } else if (u < 0x20) {
        char esc[8];
        std::snprintf(esc, sizeof esc, "\\u%04x", u);
        member += esc;
      } else {
        member += c;
      }
    }
    member += '"';
  };
  body.pop_back();
  const bool empty_object = !body.empty() && body.back() == '{';
  if (!empty_object) member += ',';
  quoted(name);
  member += ':';
  quoted(value);
  member += '}';
  body += member;
  return true;
}

}  // namespace igb::server::wire
