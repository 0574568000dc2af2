#pragma once
// Reading the fields of a JSON object against descriptors (name, type, required, bounds), shared by
// the HTTP API's request bodies (api/requests.cpp) and the Telegram codec (telegram/codec.cpp); the
// same descriptors give the JSON Schema of a request body in the OpenAPI document. Unknown fields
// are ignored. Each reader words the problems itself (the API as {loc, msg, type}, the codec as
// "path: expected integer"), so the messages stay where their clients expect them.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace igb::json_fields {

enum class Type { integer, string, boolean };

struct Field {
  std::string_view name;
  Type type = Type::string;
  bool required = false;  // absent: a `missing` problem
  // Checked by the reader.
  std::optional<std::int64_t> minimum;
  std::optional<std::int64_t> maximum;
  std::size_t max_length = 0;            // bytes of a string; 0: no limit
  std::vector<std::string_view> one_of;  // the values a string may take; empty: any
  // For the schema only: JSON Schema members for what is checked after reading (by the core, with
  // limits that may depend on the plan), e.g. R"("minLength":1,"maxLength":2000)".
  std::string_view doc;
};

enum class Problem { missing, type, range, length, choice };

// How strict reading is; the defaults are the API's.
struct Dialect {
  bool null_is_missing = false;  // a required field sent as null is missing (else: absent, no problem)
  bool integral_doubles = true;  // 5.0 reads as the integer 5
};

// The integer in `v`: int64, a uint64 that fits, or (integral_doubles) a double with no fraction
// that fits.
std::optional<std::int64_t> to_integer(const boost::json::value& v, bool integral_doubles);

// One value against its descriptor; `v` null means the field is absent. nullopt: fine (or absent
// and not required).
std::optional<Problem> check(const boost::json::value* v, const Field& field, const Dialect& dialect = {});

// The field named `name` of `object`, or null when absent (or null and !keep_null).
const boost::json::value* find(const boost::json::object& object, std::string_view name, bool keep_null);

struct Issue {
  const Field* field;
  Problem problem;
};

// Reads described fields of one object, recording one Issue per bad field, in the order they are read.
class Reader {
 public:
  Reader(const boost::json::object& object, std::span<const Field> fields, Dialect dialect = {});
  // Absent, null or bad: nullopt (bad ones are in issues()). A name not among the fields is a
  // programming error: std::logic_error.
  std::optional<std::int64_t> integer(std::string_view name);
  std::optional<std::string> string(std::string_view name);
  std::optional<bool> boolean(std::string_view name);
  const std::vector<Issue>& issues() const { return issues_; }
  const boost::json::object& object() const { return object_; }

 private:
  const boost::json::value* read(std::string_view name, Type type);

  const boost::json::object& object_;
  std::span<const Field> fields_;
  Dialect dialect_;
  std::vector<Issue> issues_;
};

// The JSON Schema (as JSON text) of an object with these fields: "required" lists the required
// ones; each property has its type, the bounds the reader checks, then `doc`, in the fields' order.
std::string object_schema(std::span<const Field> fields);

}  // namespace igb::json_fields
