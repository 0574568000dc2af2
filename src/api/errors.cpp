#include "api/errors.hpp"

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "util/strings.hpp"

namespace igb::api {

namespace json = boost::json;
namespace net = boost::asio;

int http_status(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::invalid_argument: return 422;
    case core::ErrorCode::unauthenticated: return 401;
    case core::ErrorCode::forbidden: return 403;
    case core::ErrorCode::not_found: return 404;
    case core::ErrorCode::conflict: return 409;
    case core::ErrorCode::quota_exhausted: return 402;
    case core::ErrorCode::too_many_jobs:
    case core::ErrorCode::rate_limited: return 429;
    case core::ErrorCode::payment_invalid: return 400;
    case core::ErrorCode::unavailable: return 503;
    case core::ErrorCode::internal: return 500;
    case core::ErrorCode::free_paused: return 503;
    case core::ErrorCode::too_many_failures: return 429;
    case core::ErrorCode::spend_paused: return 503;
  }
  return 500;
}

namespace {

const char* title_of(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
  }
}

}  // namespace

server::Response validation_error(const std::vector<core::FieldError>& errors) {
  json::array list;
  for (const auto& e : errors) {
    json::array loc{"body"};
    for (const auto& part : util::split(e.field, '.')) loc.emplace_back(part);
    list.push_back(json::object{{"loc", std::move(loc)}, {"msg", e.message}, {"type", e.type}});
  }
  return server::Response::problem(422, "Unprocessable Content", "the request has invalid fields",
                                   "\"errors\":" + json::serialize(list));
}

util::Result<json::object, server::Response> json_object_body(const server::Request& req) {
  if (!util::to_lower(req.header("Content-Type")).starts_with("application/json")) {
    return server::Response::problem(415, "Unsupported Media Type", "send the body as application/json");
  }
  boost::system::error_code ec;
  auto doc = json::parse(req.body, ec);
  if (ec) return validation_error({{"", "JSON decode error: " + ec.message(), "value_error.jsondecode"}});
  if (!doc.is_object()) return validation_error({{"", "the body must be a JSON object", "type_error.dict"}});
  return std::move(doc.as_object());
}

server::Response error_response(const core::Error& error, std::string_view extra_members) {
  if (error.code == core::ErrorCode::invalid_argument && !error.field_errors.empty()) {
    return validation_error(error.field_errors);
  }
  const int status = http_status(error.code);
  auto res = server::Response::problem(status, title_of(status), error.public_message, extra_members);
  if (error.retry_after) {
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(*error.retry_after + std::chrono::milliseconds(999));
    res.headers.emplace_back("Retry-After", std::to_string(std::max<long long>(1, secs.count())));
  }
  if (status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer");
  if (status >= 500) res.log_detail = error.internal_detail;  // logged by the server with the request id
  return res;
}

namespace {

// One warning a second at most: an outage under load fails every request.
void log_unavailable(const server::Request& req, std::string_view route, const std::string& detail) {
  static std::atomic<std::int64_t> last_ms{0};
  static std::atomic<std::int64_t> suppressed{0};
  const auto now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  auto last = last_ms.load();
  if (now - last < 1000 || !last_ms.compare_exchange_strong(last, now)) {
    ++suppressed;
    return;
  }
  spdlog::warn(
      "http: {} {}: answered 503 (request {}), a dependency is unavailable: {} ({} more since the last "
      "warning)",
      req.method, route, req.id, detail, suppressed.exchange(0));
}

}  // namespace

std::optional<server::Response> answer_exception(const std::exception_ptr& failure, const server::Request& req,
                                                 std::string_view route) {
  if (!core::is_temporary(failure)) return std::nullopt;
  std::string detail;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    detail = e.what();
  }
  log_unavailable(req, route, detail);
  auto error = core::make_error(core::ErrorCode::unavailable, "the service is briefly unavailable; try again shortly");
  error.retry_after = kUnavailableRetryAfter;
  return error_response(error);  // no internal detail: logged above, at most once a second
}

}  // namespace igb::api
