// json/fields.hpp: the field reader the API's bodies and the Telegram codec share, and the JSON
// Schema of its descriptors.
#include "json/fields.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include <stdexcept>

namespace igb::json_fields {
namespace {

namespace json = boost::json;

const std::vector<Field> kFields{
    {.name = "count", .type = Type::integer, .required = true, .minimum = 1, .maximum = 10},
    {.name = "name", .type = Type::string, .max_length = 4},
    {.name = "color", .type = Type::string, .one_of = {"red", "green"}},
    {.name = "on", .type = Type::boolean},
    {.name = "size", .type = Type::integer, .doc = R"("multipleOf":16)"},
};

TEST(JsonFields, ReadsValuesAndIgnoresUnknownFields) {
  auto obj = json::parse(R"({"count":3,"name":"abcd","color":"red","on":true,"extra":[1,2]})").as_object();
  Reader in(obj, kFields);
  EXPECT_EQ(in.integer("count"), 3);
  EXPECT_EQ(in.string("name"), "abcd");
  EXPECT_EQ(in.string("color"), "red");
  EXPECT_EQ(in.boolean("on"), true);
  EXPECT_EQ(in.integer("size"), std::nullopt);
  EXPECT_TRUE(in.issues().empty());
}

TEST(JsonFields, EachBadFieldIsOneIssueInReadingOrder) {
  auto obj = json::parse(R"({"count":11,"name":"abcde","color":"blue","on":"yes","size":"x"})").as_object();
  Reader in(obj, kFields);
  EXPECT_EQ(in.boolean("on"), std::nullopt);
  EXPECT_EQ(in.integer("count"), std::nullopt);
  EXPECT_EQ(in.string("name"), std::nullopt);
  EXPECT_EQ(in.string("color"), std::nullopt);
  EXPECT_EQ(in.integer("size"), std::nullopt);
  ASSERT_EQ(in.issues().size(), 5u);
  EXPECT_EQ(in.issues()[0].field->name, "on");
  EXPECT_EQ(in.issues()[0].problem, Problem::type);
  EXPECT_EQ(in.issues()[1].problem, Problem::range);
  EXPECT_EQ(in.issues()[2].problem, Problem::length);
  EXPECT_EQ(in.issues()[3].problem, Problem::choice);
  EXPECT_EQ(in.issues()[4].problem, Problem::type);
}

TEST(JsonFields, MissingAndNullDependOnTheDialect) {
  auto absent = json::parse(R"({})").as_object();
  Reader a(absent, kFields);
  EXPECT_EQ(a.integer("count"), std::nullopt);
  ASSERT_EQ(a.issues().size(), 1u);
  EXPECT_EQ(a.issues()[0].problem, Problem::missing);

  auto null = json::parse(R"({"count":null})").as_object();
  Reader lenient(null, kFields);
  EXPECT_EQ(lenient.integer("count"), std::nullopt);
  EXPECT_TRUE(lenient.issues().empty());
  Reader strict(null, kFields, {.null_is_missing = true});
  EXPECT_EQ(strict.integer("count"), std::nullopt);
  ASSERT_EQ(strict.issues().size(), 1u);
  EXPECT_EQ(strict.issues()[0].problem, Problem::missing);
}

TEST(JsonFields, Integers) {
  auto v = [](const char* text) { return json::parse(text); };
  EXPECT_EQ(to_integer(v("5"), false), 5);
  EXPECT_EQ(to_integer(v("-5"), false), -5);
  EXPECT_EQ(to_integer(v("9223372036854775807"), false), INT64_MAX);
  EXPECT_EQ(to_integer(v("9223372036854775808"), false), std::nullopt);
  EXPECT_EQ(to_integer(v("5.0"), false), std::nullopt);
  EXPECT_EQ(to_integer(v("5.0"), true), 5);
  EXPECT_EQ(to_integer(v("5.5"), true), std::nullopt);
  EXPECT_EQ(to_integer(v("1e300"), true), std::nullopt);
  EXPECT_EQ(to_integer(v("-1e300"), true), std::nullopt);
  EXPECT_EQ(to_integer(v("9223372036854775808.0"), true), std::nullopt);
  EXPECT_EQ(to_integer(v("\"5\""), true), std::nullopt);
  EXPECT_EQ(to_integer(v("true"), true), std::nullopt);

  auto obj = json::parse(R"({"count":5.0})").as_object();
  Reader strict(obj, kFields, {.integral_doubles = false});
  EXPECT_EQ(strict.integer("count"), std::nullopt);
  EXPECT_EQ(strict.issues().size(), 1u);
}

TEST(JsonFields, AFieldNotDescribedIsAProgrammingError) {
  auto obj = json::parse(R"({"count":1})").as_object();
  Reader in(obj, kFields);
  EXPECT_THROW((void)in.integer("nope"), std::logic_error);
  EXPECT_THROW((void)in.string("count"), std::logic_error) << "described as an integer";
}

TEST(JsonFields, SchemaShowsTypesTheCheckedBoundsAndTheDoc) {
  auto schema = json::parse(object_schema(kFields));
  EXPECT_EQ(schema, json::parse(R"({"type":"object","required":["count"],"properties":{)"
                                R"("count":{"type":"integer","minimum":1,"maximum":10},)"
                                R"("name":{"type":"string","maxLength":4},)"
                                R"("color":{"type":"string","enum":["red","green"]},)"
                                R"("on":{"type":"boolean"},)"
                                R"("size":{"type":"integer","multipleOf":16}}})"));
  const std::vector<Field> broken{{.name = "x", .doc = "not json"}};
  EXPECT_THROW(object_schema(broken), std::logic_error);
}

}  // namespace
}  // namespace igb::json_fields
