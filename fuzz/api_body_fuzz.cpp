// The API's JSON bodies (POST /v1/generate, POST /v1/subscription): json_object_body is the one
// decoder both routes use (415 for another media type, 422 for malformed JSON or a non-object),
// and read_body reads the object against the routes' field descriptors (api/requests.cpp).
// Input: the Content-Type value, a "\n--8<--\n" line, then the body. Oracles: a refusal is a
// problem+json whose body is a valid JSON object carrying the same status; every field problem
// names a described field and a type, and the 422 listing them is valid JSON.
#include <boost/json/parse.hpp>

#include "api/errors.hpp"
#include "api/requests.hpp"
#include "fuzz_input.hpp"

namespace {

void check_problem(const igb::server::Response& res) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(res.body, ec);
  IGB_FUZZ_CHECK(!ec && doc.is_object());
  IGB_FUZZ_CHECK(doc.as_object().at("status").as_int64() == res.status);
}

bool described(const igb::api::RequestFields& request, const std::string& name) {
  for (const auto& f : request.fields)
    if (f.name == name) return true;
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = igb::fuzz::split_fields(igb::fuzz::as_view(data, size), 2);
  igb::server::Request req;
  req.method = "POST";
  req.target = req.path = "/v1/generate";
  req.headers.emplace_back("Content-Type", std::string(parts[0]));
  req.body = std::string(parts[1]);

  auto decoded = igb::api::json_object_body(req);
  if (!decoded) {
    IGB_FUZZ_CHECK(decoded.error().status == 415 || decoded.error().status == 422);
    check_problem(decoded.error());
    return 0;
  }
  for (const auto* request : {&igb::api::generate_request(), &igb::api::subscribe_request()}) {
    auto body = igb::api::read_body(req, *request);
    IGB_FUZZ_CHECK(body.ok());
    for (const auto& f : request->fields) {
      switch (f.type) {
        case igb::json_fields::Type::integer: (void)body->integer(f.name); break;
        case igb::json_fields::Type::string: (void)body->string(f.name); break;
        case igb::json_fields::Type::boolean: (void)body->boolean(f.name); break;
      }
    }
    auto errors = body->errors();
    for (const auto& e : errors) IGB_FUZZ_CHECK(described(*request, e.field) && !e.type.empty());
    if (!errors.empty()) {
      auto res = igb::api::validation_error(errors);
      IGB_FUZZ_CHECK(res.status == 422);
      check_problem(res);
    }
  }
  return 0;
}
