#pragma once
// The one mapping from core errors to HTTP: status codes and problem+json bodies.
#include <boost/json/object.hpp>

#include <chrono>
#include <string>
#include <exception>
#include <optional>
#include <string_view>

#include "core/error.hpp"
#include "server/server.hpp"
#include "util/result.hpp"

namespace igb::api {

int http_status(core::ErrorCode code);
// problem+json; invalid_argument with field errors becomes a 422 listing them as {loc, msg, type}
// (FastAPI's shape); retry_after becomes a Retry-After header.
server::Response error_response(const core::Error& error, std::string_view extra_members = {});
server::Response validation_error(const std::vector<core::FieldError>& errors);
// The request's body as a JSON object, or the answer to give instead: 415 for another content type,
// 422 for malformed JSON or a body that is not an object.
util::Result<boost::json::object, server::Response> json_object_body(const server::Request& req);

// How long a client is asked to wait when a dependency is out of reach (Retry-After).
inline constexpr std::chrono::seconds kUnavailableRetryAfter{2};
// The API's server::ServerOptions::on_exception: a temporary infrastructure failure a handler throws
// (core::InfrastructureError with temporary(): the database down or restarting) is answered 503 with
// Retry-After, not 500; the detail goes to the log with the request id (at most once a second),
// never to the client. Anything else: nullopt, the server's 500.
std::optional<server::Response> answer_exception(const std::exception_ptr& failure, const server::Request& req,
                                                 std::string_view route);

}  // namespace igb::api
