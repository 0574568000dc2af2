#include "json/fields.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace igb::json_fields {

namespace json = boost::json;

std::optional<std::int64_t> to_integer(const json::value& v, bool integral_doubles) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    if (v.as_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(v.as_uint64());
  }
  if (integral_doubles && v.is_double()) {
    // Within ±2^63 (exclusive above), the cast is defined; out of it, not an integer we can hold.
    const double d = v.as_double();
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return std::nullopt;
    const auto n = static_cast<std::int64_t>(d);
    if (static_cast<double>(n) == d) return n;
  }
  return std::nullopt;
}

const json::value* find(const json::object& object, std::string_view name, bool keep_null) {
  const auto* v = object.if_contains(json::string_view(name.data(), name.size()));
  if (v == nullptr || (v->is_null() && !keep_null)) return nullptr;
  return v;
}

std::optional<Problem> check(const json::value* v, const Field& field, const Dialect& dialect) {
  if (v == nullptr) return field.required ? std::optional(Problem::missing) : std::nullopt;
  if (v->is_null()) {
    return field.required && dialect.null_is_missing ? std::optional(Problem::missing) : std::nullopt;
  }
  switch (field.type) {
    case Type::integer: {
      auto n = to_integer(*v, dialect.integral_doubles);
      if (!n) return Problem::type;
      if ((field.minimum && *n < *field.minimum) || (field.maximum && *n > *field.maximum)) return Problem::range;
      return std::nullopt;
    }
    case Type::string: {
      if (!v->is_string()) return Problem::type;
      const auto& s = v->as_string();
      if (field.max_length > 0 && s.size() > field.max_length) return Problem::length;
      if (!field.one_of.empty() && std::find(field.one_of.begin(), field.one_of.end(),
                                             std::string_view(s.data(), s.size())) == field.one_of.end())
        return Problem::choice;
      return std::nullopt;
    }
    case Type::boolean:
      if (!v->is_bool()) return Problem::type;
      return std::nullopt;
  }
  return Problem::type;
}

Reader::Reader(const json::object& object, std::span<const Field> fields, Dialect dialect)
    : object_(object), fields_(fields), dialect_(dialect) {}

const json::value* Reader::read(std::string_view name, Type type) {
  const auto it = std::find_if(fields_.begin(), fields_.end(), [name](const Field& f) { return f.name == name; });
  if (it == fields_.end() || it->type != type) {
    throw std::logic_error("json_fields: the field " + std::string(name) + " is not described with this type");
  }
  const auto* v = find(object_, name, true);
  if (auto problem = check(v, *it, dialect_)) {
    issues_.push_back({&*it, *problem});
    return nullptr;
  }
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<std::int64_t> Reader::integer(std::string_view name) {
  const auto* v = read(name, Type::integer);
  if (v == nullptr) return std::nullopt;
  return to_integer(*v, dialect_.integral_doubles);
}

std::optional<std::string> Reader::string(std::string_view name) {
  const auto* v = read(name, Type::string);
  if (v == nullptr) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<bool> Reader::boolean(std::string_view name) {
  const auto* v = read(name, Type::boolean);
  if (v == nullptr) return std::nullopt;
  return v->as_bool();
}

std::string object_schema(std::span<const Field> fields) {
  auto quoted = [](std::string_view s) { return json::serialize(json::string_view(s.data(), s.size())); };
  std::string required;
  std::string properties;
  for (const auto& f : fields) {
    if (f.required) required += (required.empty() ? "" : ",") + quoted(f.name);
    std::string p = "\"type\":";
    p += f.type == Type::integer ? "\"integer\"" : f.type == Type::string ? "\"string\"" : "\"boolean\"";
    if (f.minimum) p += ",\"minimum\":" + std::to_string(*f.minimum);
    if (f.maximum) p += ",\"maximum\":" + std::to_string(*f.maximum);
    if (f.max_length > 0) p += ",\"maxLength\":" + std::to_string(f.max_length);
    if (!f.one_of.empty()) {
      p += ",\"enum\":[";
      for (std::size_t i = 0; i < f.one_of.size(); ++i) p += (i == 0 ? "" : ",") + quoted(f.one_of[i]);
      p += "]";
    }
    if (!f.doc.empty()) {
      p += ',';
      p += f.doc;
    }
    properties += (properties.empty() ? "" : ",") + quoted(f.name) + ":{" + p + "}";
  }
  std::string out = "{\"type\":\"object\"";
  if (!required.empty()) out += ",\"required\":[" + required + "]";
  out += ",\"properties\":{" + properties + "}}";
  // A doc fragment that is not valid JSON members is a bug in a descriptor: fail loudly, at start.
  boost::system::error_code ec;
  json::parse(out, ec);
  if (ec) throw std::logic_error("json_fields: the schema of a request is not valid JSON: " + out);
  return out;
}

}  // namespace igb::json_fields
