#pragma once
// The API's request bodies as field descriptors (json/fields.hpp): the routes read their bodies with
// them, and the OpenAPI document's request schemas are generated from them.
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "json/fields.hpp"
#include "server/server.hpp"
#include "util/result.hpp"

namespace igb::api {

struct RequestFields {
  std::span<const json_fields::Field> fields;
  json_fields::Dialect dialect;
};

// POST /v1/generate: prompt, width, height, aspect_ratio, steps, seed, style, n. Only the types are
// the reader's: the values are checked by the core (JobService::validate), whose limits depend on
// the plan and the configuration; the schema shows the defaults.
const RequestFields& generate_request();
// POST /v1/subscription: plan (null counts as missing).
const RequestFields& subscribe_request();

// A JSON object body read against its descriptors. Problems are collected, in the order the fields
// are read, as the API words them ({loc, msg, type}: "field required" / value_error.missing,
// "value is not a valid integer" / type_error.integer, …); a route adds its own with add().
class RequestBody {
 public:
  RequestBody(std::unique_ptr<const boost::json::object> object, const RequestFields& request);

  std::optional<std::int64_t> integer(std::string_view name) { return reader_.integer(name); }
  std::optional<std::string> string(std::string_view name) { return reader_.string(name); }
  std::optional<bool> boolean(std::string_view name) { return reader_.boolean(name); }
  void add(core::FieldError error) { extra_.push_back(std::move(error)); }
  // The reader's problems, then those added.
  std::vector<core::FieldError> errors() const;

 private:
  std::unique_ptr<const boost::json::object> object_;  // the reader points into it
  json_fields::Reader reader_;
  std::vector<core::FieldError> extra_;
};

// The request's JSON object body, or the answer to give instead (415, 422: api::json_object_body).
util::Result<RequestBody, server::Response> read_body(const server::Request& req, const RequestFields& request);

// The JSON Schema (text) of the body, for RouteDoc::request_schema.
std::string request_schema(const RequestFields& request);

}  // namespace igb::api
