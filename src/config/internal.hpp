#pragma once
// Internal to src/config (not included from elsewhere): the pieces that config.cpp (settings),
// plans.cpp ([plans.<id>]) and backends.cpp ([[backends]]) share, so that every error names the
// field and the file the same way.
#include <toml++/toml.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/plans.hpp"

namespace igb::config::detail {

// One setting's value as text, and where it came from, to name it in errors.
struct Raw {
  std::string text;
  std::string name;    // as written at the source: "HTTP_LISTEN" in the environment, "http_listen" in TOML
  std::string origin;  // the file; empty for the process environment
};

core::Error invalid(std::string name, std::string_view what, const std::string& origin);
core::Error invalid(const Raw& raw, std::string_view what);
core::Error failure(std::string message);
core::Error unknown_key(std::string_view key, const toml::source_region& where, const std::string& path);

// The value in double quotes for a message, control characters escaped, long values cut.
std::string shown(std::string_view s);
bool all_digits(std::string_view s);
bool has_space_or_control(std::string_view s);
// An http:// (unless https_only) or https:// URL with a host.
bool is_http_url(std::string_view s, bool https_only);
// is_http_url(s, false), and plain http only for local or private hosts; "" if fine, else why not.
std::string service_url_problem(std::string_view s);
std::string without_trailing_slashes(std::string_view s);
core::Status parse_int_into(const Raw& raw, long long low, long long high, int& out);
// An http(s) base URL of a service we send tokens to (see service_url_problem), without trailing '/'.
core::Status parse_service_url_into(const Raw& raw, std::string& out);
bool is_hf_model(std::string_view s);  // owner/name
bool is_short_id(std::string_view id);  // plan ids and backend names

const std::string* non_empty(const std::map<std::string, std::string>& m, std::string_view key);

// A provider key is read from the process environment, then .env; an empty value counts as not set.
struct KeySources {
  const std::map<std::string, std::string>& environment;
  const std::map<std::string, std::string>& dotenv;

  std::string lookup(std::string_view name) const {
    if (const auto* v = non_empty(environment, name)) return *v;
    if (const auto* v = non_empty(dotenv, name)) return *v;
    return {};
  }
};

bool is_env_name(std::string_view s);

// Settings of this service that api_key_env must not name (config.cpp).
bool is_own_setting(std::string_view name);

// [plans.<id>] tables (plans.cpp).
core::Status apply_plans(const toml::node& node, const std::string& path, std::vector<core::Plan>& plans);

// [[backends]] tables (backends.cpp), and the values of the variables they name, read before anything
// is checked so that no error message can repeat them.
core::Result<std::vector<BackendConfig>> read_backends(const toml::node& node, const std::string& path,
                                                       const Config& config, const KeySources& keys);
std::vector<std::string> backend_key_values(const toml::table& document, const KeySources& keys);

}  // namespace igb::config::detail
