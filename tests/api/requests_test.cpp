// api/requests.cpp: the API's request bodies read against their field descriptors, with the words
// and codes the API has always answered with (api_test pins them through the real binary too), and
// the request schemas of the OpenAPI document generated from the same descriptors.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/errors.hpp"
#include "api/requests.hpp"

namespace igb::api {
namespace {

server::Request post(std::string body, std::string content_type = "application/json") {
  server::Request req{.method = "POST", .path = "/v1/generate"};
  req.headers.emplace_back("Content-Type", std::move(content_type));
  req.body = std::move(body);
  return req;
}

std::vector<core::FieldError> read_generate(const std::string& body) {
  auto read = read_body(post(body), generate_request());
  EXPECT_TRUE(read.ok());
  auto& in = read.value();
  (void)in.string("prompt");
  (void)in.integer("width");
  (void)in.integer("height");
  (void)in.integer("steps");
  (void)in.integer("seed");
  (void)in.integer("n");
  (void)in.string("style");
  (void)in.string("aspect_ratio");
  return in.errors();
}

TEST(RequestBody, NotJsonIs415AndMalformedIs422) {
  auto wrong_type = read_body(post(R"({"prompt":"x"})", "text/plain"), generate_request());
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().status, 415);
  auto malformed = read_body(post(R"({"prompt":)"), generate_request());
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().status, 422);
  EXPECT_NE(malformed.error().body.find("value_error.jsondecode"), std::string::npos);
  auto array = read_body(post("[1]"), generate_request());
  ASSERT_FALSE(array.ok());
  EXPECT_NE(array.error().body.find("type_error.dict"), std::string::npos);
}

TEST(RequestBody, GenerateTypeErrorsInTheOrderRead) {
  auto errors = read_generate(R"({"width":"wide","prompt":7,"style":1,"n":1.5,"unknown":{"x":1}})");
  ASSERT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors[0].field, "prompt");
  EXPECT_EQ(errors[0].message, "value is not a valid string");
  EXPECT_EQ(errors[0].type, "type_error.str");
  EXPECT_EQ(errors[1].field, "width");
  EXPECT_EQ(errors[1].message, "value is not a valid integer");
  EXPECT_EQ(errors[1].type, "type_error.integer");
  EXPECT_EQ(errors[2].field, "n");
  EXPECT_EQ(errors[3].field, "style");
}

TEST(RequestBody, GenerateMissingPromptAndNullsAndIntegralDoubles) {
  auto missing = read_generate(R"({"width":512})");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].field, "prompt");
  EXPECT_EQ(missing[0].message, "field required");
  EXPECT_EQ(missing[0].type, "value_error.missing");
  // null is absent, and for the prompt not "missing" (the core then says it must not be empty).
  EXPECT_TRUE(read_generate(R"({"prompt":null,"width":null})").empty());

  auto read = read_body(post(R"({"prompt":"a cat","width":512.0,"seed":18446744073709551615})"), generate_request());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->string("prompt"), "a cat");
  EXPECT_EQ(read->integer("width"), 512);
  EXPECT_EQ(read->integer("seed"), std::nullopt) << "above int64: not an integer we hold";
  ASSERT_EQ(read->errors().size(), 1u);
  EXPECT_EQ(read->errors()[0].field, "seed");
}

TEST(RequestBody, ARoutesOwnErrorsComeAfterTheReaders) {
  auto read = read_body(post(R"({"prompt":1})"), generate_request());
  ASSERT_TRUE(read.ok());
  (void)read->string("prompt");
  read->add({"aspect_ratio", "must look like 16:9", "value_error.format"});
  auto errors = read->errors();
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "prompt");
  EXPECT_EQ(errors[1].field, "aspect_ratio");
}

TEST(RequestBody, SubscribePlanNullIsMissing) {
  for (const char* body : {R"({})", R"({"plan":null})"}) {
    auto read = read_body(post(body), subscribe_request());
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->string("plan"), std::nullopt);
    ASSERT_EQ(read->errors().size(), 1u) << body;
    EXPECT_EQ(read->errors()[0].message, "field required");
    EXPECT_EQ(read->errors()[0].type, "value_error.missing");
  }
  auto number = read_body(post(R"({"plan":5})"), subscribe_request());
  ASSERT_TRUE(number.ok());
  (void)number->string("plan");
  ASSERT_EQ(number->errors().size(), 1u);
  EXPECT_EQ(number->errors()[0].type, "type_error.str");
}

// The schemas the routes carried by hand before they came from the descriptors; the OpenAPI golden
// (tests/api/openapi.golden.json) pins them through the real binary as well.
TEST(RequestSchema, TheSameAsTheHandWrittenOnes) {
  EXPECT_EQ(boost::json::parse(request_schema(generate_request())),
            boost::json::parse(
                R"({"type":"object","required":["prompt"],"properties":{)"
                R"("prompt":{"type":"string","minLength":1,"maxLength":2000},)"
                R"("width":{"type":"integer","multipleOf":16,"minimum":256},)"
                R"("height":{"type":"integer","multipleOf":16,"minimum":256},)"
                R"("aspect_ratio":{"type":"string","example":"16:9"},)"
                R"("steps":{"type":"integer","minimum":1,"maximum":4},)"
                R"("seed":{"type":"integer","minimum":0,"maximum":4294967295},)"
                R"("style":{"type":"string","enum":["photo","cinematic","anime","watercolor","pixel","3d","sketch"]},)"
                R"("n":{"type":"integer","minimum":1}}})"));
  EXPECT_EQ(
      request_schema(subscribe_request()),
      R"({"type":"object","required":["plan"],"properties":{"plan":{"type":"string","description":"a paid plan id from GET /v1/plans"}}})");
}

}  // namespace
}  // namespace igb::api
