#pragma once
// The one mapping from core errors to HTTP: status codes and problem+json bodies.
#include <boost/json/object.hpp>

#include <variant>

#include "core/error.hpp"
#include "server/server.hpp"

namespace igb::api {

int http_status(core::ErrorCode code);
// problem+json; invalid_argument with field errors becomes a 422 listing them as {loc, msg, type}
// (FastAPI's shape); retry_after becomes a Retry-After header.
server::Response error_response(const core::Error& error, std::string_view extra_members = {});
server::Response validation_error(const std::vector<core::FieldError>& errors);
// The request's body as a JSON object, or the answer to give instead: 415 for another content type,
// 422 for malformed JSON or a body that is not an object.
std::variant<boost::json::object, server::Response> json_object_body(const server::Request& req);

}  // namespace igb::api
