// The API's JSON bodies (POST /v1/generate, POST /v1/subscription): json_object_body is the one
// decoder both routes use (415 for another media type, 422 for malformed JSON or a non-object).
// Input: the Content-Type value, a "\n--8<--\n" line, then the body. Oracle: a refusal is a
// problem+json whose body is a valid JSON object carrying the same status.
#include <boost/json/parse.hpp>

#include "api/errors.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = igb::fuzz::split_fields(igb::fuzz::as_view(data, size), 2);
  igb::server::Request req;
  req.method = "POST";
  req.target = req.path = "/v1/generate";
  req.headers.emplace_back("Content-Type", std::string(parts[0]));
  req.body = std::string(parts[1]);

  auto decoded = igb::api::json_object_body(req);
  if (const auto* res = std::get_if<igb::server::Response>(&decoded)) {
    IGB_FUZZ_CHECK(res->status == 415 || res->status == 422);
    boost::system::error_code ec;
    auto doc = boost::json::parse(res->body, ec);
    IGB_FUZZ_CHECK(!ec && doc.is_object());
    IGB_FUZZ_CHECK(doc.as_object().at("status").as_int64() == res->status);
  }
  return 0;
}
