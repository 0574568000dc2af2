// [[backends]] tables of the TOML file.
#include <algorithm>

#include "config/internal.hpp"
#include "util/strings.hpp"

namespace igb::config::detail {

using core::Error;
using core::Status;

namespace {

// One [[backends]] table, for reading its fields with errors that name them.
struct BackendItem {
  const toml::table& table;
  std::string prefix;  // "backends[1]"
  const std::string& path;

  std::string field(std::string_view key) const { return prefix + "." + std::string(key); }
  std::string where(const toml::node& node) const {
    return path + ", line " + std::to_string(node.source().begin.line);
  }
  Error bad(std::string_view key, std::string_view what) const {
    const auto* node = table.get(key);
    return invalid(field(key), what, where(node != nullptr ? *node : table));
  }
  Error missing(std::string_view key, std::string_view what) const { return invalid(field(key), what, where(table)); }

  core::Result<std::optional<std::string>> string_at(std::string_view key) const {
    const auto* node = table.get(key);
    if (node == nullptr) return std::optional<std::string>();
    const auto* s = node->as_string();
    if (s == nullptr) return bad(key, "expected a string");
    return std::optional<std::string>(s->get());
  }

  Status int_at(std::string_view key, long long low, long long high, int& out) const {
    const auto* node = table.get(key);
    if (node == nullptr) return core::Ok{};
    const auto* i = node->as_integer();
    auto range = "an integer from " + std::to_string(low) + " to " + std::to_string(high);
    if (i == nullptr) return bad(key, "expected " + range);
    if (i->get() < low || i->get() > high) return bad(key, "expected " + range + ", got " + std::to_string(i->get()));
    out = static_cast<int>(i->get());
    return core::Ok{};
  }
};

// An http(s) base URL that paths can be appended to.
Status check_base_url(const BackendItem& item, const std::string& url) {
  constexpr std::string_view kKey = "base_url";
  if (auto problem = service_url_problem(url); !problem.empty()) return item.bad(kKey, problem);
  auto rest = std::string_view(url).substr(url.find("://") + 3);
  if (rest.substr(0, rest.find_first_of("/?#")).find('@') != std::string_view::npos) {
    return item.bad(kKey, "must not contain credentials; name the key's variable with api_key_env (value not shown)");
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return item.bad(kKey, "expected a URL without query or fragment, got " + shown(url));
  }
  return core::Ok{};
}

core::Result<BackendConfig> read_backend(const BackendItem& item, const Config& config, const KeySources& keys) {
  static constexpr std::string_view kKeys[] = {"name",        "kind",           "base_url", "model",
                                               "api_key_env", "dialect",        "flavor",   "timeout_seconds",
                                               "concurrency", "rate_per_minute"};
  for (auto&& [key, node] : item.table) {
    if (key.str() == "api_key") {
      return invalid(item.field("api_key"),
                     "a key is not written in the file: set api_key_env to the name of the environment variable "
                     "that holds it (value not shown)",
                     item.where(node));
    }
    if (std::find(std::begin(kKeys), std::end(kKeys), key.str()) == std::end(kKeys)) {
      return unknown_key(item.field(key.str()), key.source(), item.path);
    }
  }

  BackendConfig b;
  b.timeout_seconds = config.provider_timeout_seconds;

  auto kind = item.string_at("kind");
  if (!kind) return std::move(kind).error();
  if (!*kind) return item.missing("kind", "required: \"hf\" or \"openai\"");
  if (**kind != "hf" && **kind != "openai")
    return item.bad("kind", "expected \"hf\" or \"openai\", got " + shown(**kind));
  b.kind = **kind;
  const bool hf = b.kind == "hf";

  auto name = item.string_at("name");
  if (!name) return std::move(name).error();
  if (!*name) return item.missing("name", "required: 1 to 32 of A-Z a-z 0-9 _ -");
  if (!is_short_id(**name)) return item.bad("name", "expected 1 to 32 of A-Z a-z 0-9 _ -, got " + shown(**name));
  b.name = **name;

  auto base_url = item.string_at("base_url");
  if (!base_url) return std::move(base_url).error();
  if (*base_url) {
    if (auto s = check_base_url(item, **base_url); !s) return std::move(s).error();
    b.base_url = without_trailing_slashes(**base_url);
  } else if (hf) {
    b.base_url = config.hf_api_base;
  } else {
    return item.missing("base_url", "required for kind \"openai\"");
  }

  auto model = item.string_at("model");
  if (!model) return std::move(model).error();
  if (*model) {
    auto m = util::trim(**model);
    if (hf && !is_hf_model(m)) return item.bad("model", "expected owner/name, got " + shown(**model));
    if (m.empty() || has_space_or_control(m)) {
      return item.bad("model", "expected a model name without spaces, got " + shown(**model));
    }
    b.model = std::string(m);
  } else if (hf) {
    b.model = config.hf_model;
  } else {
    return item.missing("model", "required for kind \"openai\"");
  }

  auto key_env = item.string_at("api_key_env");
  if (!key_env) return std::move(key_env).error();
  b.api_key_env = key_env->value_or(hf ? "HF_TOKEN" : "");
  if (!b.api_key_env.empty()) {
    if (!is_env_name(b.api_key_env)) {
      return item.bad("api_key_env",
                      "expected an environment variable name (A-Z a-z 0-9 _, not starting with a "
                      "digit) or \"\" for no key, got " +
                          shown(b.api_key_env));
    }
    if (is_own_setting(b.api_key_env)) {
      return item.bad("api_key_env", shown(b.api_key_env) + " is a setting of ImgGenBot, not a provider key");
    }
    // HF_TOKEN may also come from the TOML file's hf_token, and has been checked already.
    std::string value = b.api_key_env == "HF_TOKEN" ? config.hf_token.value() : keys.lookup(b.api_key_env);
    if (has_space_or_control(value)) {  // it goes into an HTTP header
      return item.bad("api_key_env", "the value of " + b.api_key_env +
                                         " must not contain whitespace or control characters (value not shown)");
    }
    b.api_key = Secret(std::move(value));
  }

  // The OpenAI-compatible dialect; `flavor` is its older name and still read.
  std::optional<std::string> dialect_key;
  for (std::string_view key : {"flavor", "dialect"}) {
    auto value = item.string_at(key);
    if (!value) return std::move(value).error();
    if (!*value) continue;
    if (hf) return item.bad(key, "only for kind \"openai\"");
    if (**value != "openai" && **value != "together" && **value != "localai" && **value != "sdcpp") {
      return item.bad(key, "expected \"openai\", \"together\", \"localai\" or \"sdcpp\", got " + shown(**value));
    }
    if (dialect_key && b.flavor != **value) {
      return item.bad(key, "says " + shown(**value) + " but " + *dialect_key + " says " + shown(b.flavor) +
                               " (flavor is the old name of dialect: keep one)");
    }
    dialect_key = std::string(key);
    b.flavor = **value;
  }
  // OpenAI and Together refuse every request without a key: a missing api_key_env is a mistake
  // (a key that is named but not set is allowed, as for the other backends).
  if ((b.flavor == "openai" || b.flavor == "together") && dialect_key && b.api_key_env.empty()) {
    return item.missing("api_key_env",
                        "required for dialect " + shown(b.flavor) + ": the name of the variable that holds the key");
  }

  if (auto s = item.int_at("timeout_seconds", 1, 600, b.timeout_seconds); !s) return std::move(s).error();
  if (auto s = item.int_at("concurrency", 1, 256, b.concurrency); !s) return std::move(s).error();
  if (auto s = item.int_at("rate_per_minute", 0, 100000, b.rate_per_minute); !s) return std::move(s).error();
  return b;
}

}  // namespace

// [[backends]] tables, in the file's order, replace the default list.
core::Result<std::vector<BackendConfig>> read_backends(const toml::node& node, const std::string& path,
                                                       const Config& config, const KeySources& keys) {
  const auto* array = node.as_array();
  if (array == nullptr || (!array->empty() && !array->is_array_of_tables())) {
    return invalid("backends", "expected [[backends]] tables", path);
  }
  if (array->empty()) {
    return invalid("backends", "expected at least one [[backends]] table (WORKER_CONCURRENCY=0 runs no generation)",
                   path);
  }
  std::vector<BackendConfig> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    BackendItem item{
        .table = *array->get(i)->as_table(), .prefix = "backends[" + std::to_string(i) + "]", .path = path};
    auto backend = read_backend(item, config, keys);
    if (!backend) return std::move(backend).error();
    for (std::size_t j = 0; j < out.size(); ++j) {
      if (out[j].name == backend->name) {
        return item.bad("name", shown(backend->name) + " is already the name of backends[" + std::to_string(j) + "]");
      }
    }
    out.push_back(std::move(backend).value());
  }
  return out;
}

// The values of the variables the [[backends]] tables name, read before anything is checked so that
// no error message can repeat them.
std::vector<std::string> backend_key_values(const toml::table& document, const KeySources& keys) {
  std::vector<std::string> out;
  const auto* array = document.get_as<toml::array>("backends");
  if (array == nullptr) return out;
  for (const auto& element : *array) {
    const auto* table = element.as_table();
    const auto* env = table != nullptr ? table->get_as<std::string>("api_key_env") : nullptr;
    if (env == nullptr || !is_env_name(env->get()) || is_own_setting(env->get())) continue;
    if (auto value = keys.lookup(env->get()); !value.empty()) out.push_back(std::move(value));
  }
  return out;
}

}  // namespace igb::config::detail
