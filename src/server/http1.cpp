// HTTP/1.1 rules on Beast's types: the framing check of a request header, the method label, the
// response header, and the server's log lines.
#include "server/server_impl.hpp"

namespace igb::server {

bool is_http_error(const error_code& ec) {
  static const auto& category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == category;
}

// What RFC 9112 says the server must refuse once the header is read, before any body: a
// Transfer-Encoding other than exactly "chunked" (§6.3: the length cannot be known; Beast would read
// such a request as bodiless and the body as the next request), any Transfer-Encoding in HTTP/1.0
// (§6.1), and an HTTP/1.1 request without exactly one Host (§3.2). Empty: the framing is fine.
std::string_view framing_problem(const bhttp::request_parser<bhttp::string_body>::value_type& msg) {
  int hosts = 0;
  int encodings = 0;
  bool chunked_only = true;
  for (const auto& field : msg) {
    if (field.name() == bhttp::field::host) {
      ++hosts;
    } else if (field.name() == bhttp::field::transfer_encoding) {
      ++encodings;
      const auto v = field.value();
      std::string_view value(v.data(), v.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
      if (!wire::iequals(value, "chunked")) chunked_only = false;
    }
  }
  if (encodings > 0 && msg.version() < 11) return "Transfer-Encoding is not allowed in HTTP/1.0";
  if (encodings > 1 || !chunked_only) return "the only Transfer-Encoding accepted is \"chunked\"";
  if (msg.version() >= 11 && hosts == 0) return "an HTTP/1.1 request needs a Host header";
  if (hosts > 1) return "more than one Host header";
  return {};
}

// Metrics and logs see the method as one of the standard ones, or "OTHER": a client picks the
// method freely, and each distinct value would otherwise become a label kept for good.
std::string_view method_label(std::string_view method) {
  static constexpr std::string_view kKnown[] = {"GET",   "HEAD",    "POST",    "PUT",  "DELETE",
                                                "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (auto known : kKnown)
    if (method == known) return known;
  return "OTHER";
}

namespace {

void append_number(std::string& out, std::uint64_t value) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// Headers the server writes itself; a handler's copy is dropped.
bool server_owned_header(std::string_view name, bool stream) {
  using wire::iequals;
  if (iequals(name, "content-length") || iequals(name, "transfer-encoding") || iequals(name, "connection") ||
      iequals(name, "date") || iequals(name, "server") || iequals(name, "x-request-id"))
    return true;
  return stream && (iequals(name, "content-type") || iequals(name, "cache-control"));
}

}  // namespace

bool asks_to_close(const Headers& headers) {
  for (const auto& [name, value] : headers)
    if (wire::iequals(name, "connection") && wire::iequals(value, "close")) return true;
  return false;
}

void build_head(std::string& out, int status, const Headers& headers, bool stream,
                std::optional<std::size_t> content_length, bool keep_alive, bool http10, std::string_view request_id) {
  out.clear();
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::uint64_t>(status));
  out += ' ';
  const auto code = bhttp::int_to_status(static_cast<unsigned>(status));
  if (code != bhttp::status::unknown) {
    const auto reason = bhttp::obsolete_reason(code);
    out.append(reason.data(), reason.size());
  }
  out += "\r\nServer: imggenbot\r\nDate: ";
  out += wire::http_date();
  out += "\r\n";
  if (stream) out += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n";
  if (!request_id.empty()) {
    out += "X-Request-Id: ";
    out += request_id;
    out += "\r\n";
  }
  for (const auto& [name, value] : headers) {
    if (server_owned_header(name, stream)) continue;
    if (!wire::valid_header_name(name) || !wire::valid_header_value(value)) {
      spdlog::warn("http: dropped an invalid response header (name or value has forbidden characters)");
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (content_length) {
    out += "Content-Length: ";
    append_number(out, *content_length);
    out += "\r\n";
  }
  if (!keep_alive)
    out += "Connection: close\r\n";
  else if (http10)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
}

void log_unexpected(std::string_view what, std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const boost::system::system_error& ex) {
    if (ex.code() == net::error::operation_aborted) return;  // the server closed it
    spdlog::error("http server: {}: {}", what, ex.what());
  } catch (const std::exception& ex) {
    spdlog::error("http server: {}: {}", what, ex.what());
  } catch (...) {
    spdlog::error("http server: {}: unknown exception", what);
  }
}

// Method and route only: never the target (it can carry tokens), the body or the headers.
void log_handler_failure(std::string_view what, std::string_view method, std::string_view route,
                         std::string_view request_id, std::exception_ptr e) {
  try {
    std::rethrow_exception(std::move(e));
  } catch (const std::exception& ex) {
    spdlog::error("http: {} {}: {} threw (request {}): {}", method, route, what, request_id, ex.what());
  } catch (...) {
    spdlog::error("http: {} {}: {} threw a non-standard exception (request {})", method, route, what, request_id);
  }
}

namespace {

bool is_problem(const Response& res) {
  for (const auto& [name, value] : res.headers)
    if (wire::iequals(name, "content-type")) return value.starts_with("application/problem+json");
  return false;
}

}  // namespace

// A 5xx answer: its problem body names the request id, and what went wrong inside (log_detail) goes
// to the log under the same id, never to the client.
void mark_server_error(Response& res, std::string_view method, std::string_view route, std::string_view request_id) {
  if (res.status < 500) return;
  if (is_problem(res)) wire::add_json_member(res.body, "request_id", request_id);
  if (!res.log_detail.empty())
    spdlog::error("http: {} {}: answered {} (request {}): {}", method, route, res.status, request_id, res.log_detail);
}

}  // namespace igb::server
