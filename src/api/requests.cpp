#include "api/requests.hpp"

#include <boost/json.hpp>

#include "api/errors.hpp"

namespace igb::api {

namespace json = boost::json;
using json_fields::Field;
using json_fields::Type;

namespace {

const std::vector<Field> kGenerate{
    {.name = "prompt", .type = Type::string, .required = true, .doc = R"("minLength":1,"maxLength":2000)"},
    {.name = "width", .type = Type::integer, .doc = R"("multipleOf":16,"minimum":256)"},
    {.name = "height", .type = Type::integer, .doc = R"("multipleOf":16,"minimum":256)"},
    {.name = "aspect_ratio", .type = Type::string, .doc = R"("example":"16:9")"},
    {.name = "steps", .type = Type::integer, .doc = R"("minimum":1,"maximum":4)"},
    {.name = "seed", .type = Type::integer, .doc = R"("minimum":0,"maximum":4294967295)"},
    {.name = "style",
     .type = Type::string,
     .doc = R"("enum":["photo","cinematic","anime","watercolor","pixel","3d","sketch"])"},
    {.name = "n", .type = Type::integer, .doc = R"("minimum":1)"},
};

const std::vector<Field> kSubscribe{
    {.name = "plan",
     .type = Type::string,
     .required = true,
     .doc = R"("description":"a paid plan id from GET /v1/plans")"},
};

std::string join(const std::vector<std::string_view>& items) {
  std::string out;
  for (auto item : items) out += (out.empty() ? "" : ", ") + std::string(item);
  return out;
}

core::FieldError worded(const json_fields::Issue& issue) {
  const Field& f = *issue.field;
  std::string name(f.name);
  switch (issue.problem) {
    case json_fields::Problem::missing: return {name, "field required", "value_error.missing"};
    case json_fields::Problem::type:
      switch (f.type) {
        case Type::integer: return {name, "value is not a valid integer", "type_error.integer"};
        case Type::string: return {name, "value is not a valid string", "type_error.str"};
        case Type::boolean: return {name, "value is not a valid boolean", "type_error.bool"};
      }
      break;
    case json_fields::Problem::range:
      return {name,
              "must be between " + (f.minimum ? std::to_string(*f.minimum) : std::string("-inf")) + " and " +
                  (f.maximum ? std::to_string(*f.maximum) : std::string("inf")),
              "value_error.range"};
    case json_fields::Problem::length:
      return {name, "must be at most " + std::to_string(f.max_length) + " bytes", "value_error.too_long"};
    case json_fields::Problem::choice: return {name, "must be one of: " + join(f.one_of), "value_error.enum"};
  }
  return {name, "value is not valid", "value_error"};
}

}  // namespace

const RequestFields& generate_request() {
  static const RequestFields r{.fields = kGenerate, .dialect = {}};
  return r;
}

const RequestFields& subscribe_request() {
  static const RequestFields r{.fields = kSubscribe, .dialect = {.null_is_missing = true}};
  return r;
}

RequestBody::RequestBody(std::unique_ptr<const json::object> object, const RequestFields& request)
    : object_(std::move(object)), reader_(*object_, request.fields, request.dialect) {}

std::vector<core::FieldError> RequestBody::errors() const {
  std::vector<core::FieldError> out;
  for (const auto& issue : reader_.issues()) out.push_back(worded(issue));
  out.insert(out.end(), extra_.begin(), extra_.end());
  return out;
}

util::Result<RequestBody, server::Response> read_body(const server::Request& req, const RequestFields& request) {
  auto parsed = json_object_body(req);
  if (!parsed) return std::move(parsed).error();
  return RequestBody(std::make_unique<const json::object>(std::move(parsed).value()), request);
}

std::string request_schema(const RequestFields& request) { return json_fields::object_schema(request.fields); }

}  // namespace igb::api
