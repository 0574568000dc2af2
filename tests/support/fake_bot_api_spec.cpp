// The fake Bot API: the spec it checks every call against (tests/support/telegram/botapi.json) and
// how form values get the spec's types.
#include "support/fake_bot_api_internal.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifndef IGB_FAKE_BOT_API_SPEC
#define IGB_FAKE_BOT_API_SPEC ""
#endif

namespace igb::testing {

namespace fake_tg {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<SpecField> read_fields(const json::value& v) {
  std::vector<SpecField> out;
  if (!v.is_object() || !v.as_object().contains("fields")) return out;
  for (const auto& f : v.at("fields").as_array()) {
    SpecField sf;
    sf.name = json::value_to<std::string>(f.at("name"));
    for (const auto& t : f.at("types").as_array()) sf.types.push_back(json::value_to<std::string>(t));
    sf.required = f.at("required").as_bool();
    out.push_back(std::move(sf));
  }
  return out;
}

std::shared_ptr<const Spec> load_spec(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const Spec>> cache;
  std::lock_guard lock(mutex);
  if (auto it = cache.find(path); it != cache.end()) return it->second;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("FakeBotApi: cannot read the Bot API spec at " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto doc = json::parse(ss.str());
  auto spec = std::make_shared<Spec>();
  for (const auto& [name, m] : doc.at("methods").as_object()) {
    spec->methods[std::string(name)] = read_fields(m);
    spec->method_by_lower[lower(std::string(name))] = std::string(name);
  }
  for (const auto& [name, t] : doc.at("types").as_object()) {
    SpecType st;
    st.known = true;
    st.fields = read_fields(t);
    if (t.as_object().contains("subtypes"))
      for (const auto& s : t.at("subtypes").as_array()) st.subtypes.push_back(json::value_to<std::string>(s));
    spec->types[std::string(name)] = std::move(st);
  }
  cache[path] = spec;
  return spec;
}

std::string default_spec_path() {
  if (const char* dir = std::getenv("IMGGENBOT_SOURCE_DIR"); dir && *dir)
    return std::string(dir) + "/tests/support/telegram/botapi.json";
  return IGB_FAKE_BOT_API_SPEC;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

void Checker::check_any(const std::vector<std::string>& types, const json::value& v, const std::string& path,
                        std::vector<std::string>& errors) const {
  std::vector<std::string> best;
  bool have_best = false;
  for (const auto& t : types) {
    std::vector<std::string> e;
    check(t, v, path, e);
    if (e.empty()) return;
    if (!have_best && kind_matches(t, v)) {
      best = std::move(e);
      have_best = true;
    }
  }
  if (have_best) {
    errors.insert(errors.end(), best.begin(), best.end());
  } else {
    errors.push_back(path + ": expected " + join(types, " or "));
  }
}

void Checker::check_fields(const std::vector<SpecField>& fields, const json::object& o, const std::string& path,
                           std::vector<std::string>& errors) const {
  const std::string prefix = path.empty() ? "" : path + ".";
  for (const auto& f : fields) {
    auto it = o.find(f.name);
    if (it == o.end()) {
      if (f.required)
        errors.push_back(prefix + f.name + ": missing required " + (path.empty() ? "parameter" : "field"));
      continue;
    }
    check_any(f.types, it->value(), prefix + f.name, errors);
  }
  if (reject_unknown_) {
    for (const auto& kv : o) {
      bool known = std::any_of(fields.begin(), fields.end(), [&](const SpecField& f) { return f.name == kv.key(); });
      if (!known)
        errors.push_back(prefix + std::string(kv.key()) + ": unknown " + (path.empty() ? "parameter" : "field"));
    }
  }
}

bool Checker::kind_matches(const std::string& t, const json::value& v) const {
  if (t.rfind("Array of ", 0) == 0) return v.is_array();
  if (t == "Integer" || t == "Float") return v.is_number();
  if (t == "String") return v.is_string();
  if (t == "Boolean") return v.is_bool();
  return v.is_object();
}

void Checker::check(const std::string& t, const json::value& v, const std::string& path,
                    std::vector<std::string>& errors) const {
  if (t.rfind("Array of ", 0) == 0) {
    if (!v.is_array()) {
      errors.push_back(path + ": expected " + t);
      return;
    }
    const std::string inner = t.substr(9);
    const auto& a = v.as_array();
    for (std::size_t i = 0; i < a.size(); ++i) check_any({inner}, a[i], path + "[" + std::to_string(i) + "]", errors);
    return;
  }
  if (t == "Integer") {
    if (!v.is_int64() && !v.is_uint64()) errors.push_back(path + ": expected Integer");
    return;
  }
  if (t == "Float") {
    if (!v.is_number()) errors.push_back(path + ": expected Float");
    return;
  }
  if (t == "String") {
    if (!v.is_string()) errors.push_back(path + ": expected String");
    return;
  }
  if (t == "Boolean" || t == "True") {
    if (!v.is_bool()) errors.push_back(path + ": expected Boolean");
    return;
  }
  if (t == "InputFile") {
    if (!v.is_object() || !v.as_object().contains("upload"))
      errors.push_back(path + ": expected InputFile (a multipart/form-data part)");
    return;
  }
  auto it = spec_.types.find(t);
  if (it == spec_.types.end()) {
    errors.push_back(path + ": the spec has no type " + t);
    return;
  }
  if (!v.is_object()) {
    errors.push_back(path + ": expected " + t);
    return;
  }
  if (!it->second.subtypes.empty()) {
    check_any(it->second.subtypes, v, path, errors);
    return;
  }
  check_fields(it->second.fields, v.as_object(), path, errors);
}

json::value coerce(const std::vector<std::string>& types, const std::string& s) {
  auto has = [&](const char* t) { return std::find(types.begin(), types.end(), t) != types.end(); };
  if (has("Integer")) {
    try {
      std::size_t pos = 0;
      long long n = std::stoll(s, &pos);
      if (pos == s.size()) return json::value(static_cast<std::int64_t>(n));
    } catch (...) {}
  }
  if (has("Float")) {
    try {
      std::size_t pos = 0;
      double d = std::stod(s, &pos);
      if (pos == s.size()) return json::value(d);
    } catch (...) {}
  }
  if (has("Boolean")) {
    if (s == "true" || s == "1") return json::value(true);
    if (s == "false" || s == "0") return json::value(false);
  }
  bool structured = std::any_of(types.begin(), types.end(), [](const std::string& t) {
    return t != "String" && t != "Integer" && t != "Float" && t != "Boolean" && t != "InputFile";
  });
  if (structured) {
    boost::system::error_code ec;
    auto v = json::parse(s, ec);
    if (!ec && (v.is_object() || v.is_array())) return v;
  }
  return json::value(s);
}

}  // namespace fake_tg

}  // namespace igb::testing
