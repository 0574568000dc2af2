#include "config/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <ostream>
#include <sstream>
#include <toml++/toml.h>

#include "config/dotenv.hpp"
#include "util/strings.hpp"

namespace igb::config {

void PrintTo(const Secret& secret, std::ostream* os) { *os << secret.redacted(); }

namespace {

using core::Error;
using core::ErrorCode;
using core::Status;

// One setting's value as text, and where it came from, to name it in errors.
struct Raw {
  std::string text;
  std::string name;    // as written at the source: "HTTP_LISTEN" in the environment, "http_listen" in TOML
  std::string origin;  // the file; empty for the process environment
};

Error invalid(std::string name, std::string_view what, const std::string& origin) {
  std::string message = name + ": " + std::string(what);
  if (!origin.empty()) message += " (in " + origin + ")";
  return Error{.code = ErrorCode::invalid_argument,
               .public_message = std::move(message),
               .field_errors = {core::FieldError{.field = std::move(name), .message = std::string(what),
                                                 .type = "value_error"}}};
}

Error invalid(const Raw& raw, std::string_view what) { return invalid(raw.name, what, raw.origin); }

Error failure(std::string message) { return core::make_error(ErrorCode::invalid_argument, std::move(message)); }

// The value in double quotes for a message, control characters escaped, long values cut.
std::string shown(std::string_view s) {
  constexpr std::size_t kMaxShown = 100;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out + "\"";
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
}

// An http:// (unless https_only) or https:// URL with a host.
bool is_http_url(std::string_view s, bool https_only) {
  std::string_view rest;
  if (s.starts_with("https://")) {
    rest = s.substr(8);
  } else if (!https_only && s.starts_with("http://")) {
    rest = s.substr(7);
  } else {
    return false;
  }
  if (has_space_or_control(s)) return false;
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  return !authority.empty() && authority.front() != ':' && authority.front() != '@';
}

std::string without_trailing_slashes(std::string_view s) {
  while (s.ends_with('/')) s.remove_suffix(1);
  return std::string(s);
}

Status parse_int_into(const Raw& raw, long long low, long long high, int& out) {
  auto v = util::parse_int(util::trim(raw.text));
  if (!v || *v < low || *v > high) {
    return invalid(raw, "expected an integer from " + std::to_string(low) + " to " + std::to_string(high) +
                            ", got " + shown(raw.text));
  }
  out = static_cast<int>(*v);
  return core::Ok{};
}

Status apply_database_url(const Raw& raw, Config& c) {
  // The URL may carry a password: no message shows it.
  const std::string& url = raw.text;
  bool ok = (url.starts_with("sqlite://") && url.size() > 9) || url.starts_with("postgresql://") ||
            url.starts_with("postgres://");
  if (!ok || has_space_or_control(url)) {
    return invalid(raw, "expected a sqlite://PATH, postgresql:// or postgres:// URL (value not shown)");
  }
  c.database_url = url;
  return core::Ok{};
}

Status apply_data_dir(const Raw& raw, Config& c) {
  c.data_dir = raw.text;
  return core::Ok{};
}

Status apply_http_listen(const Raw& raw, Config& c) {
  auto s = util::trim(raw.text);
  auto expected = [&] { return invalid(raw, "expected host:port, got " + shown(raw.text)); };
  std::string_view host;
  std::string_view port;
  if (s.starts_with('[')) {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return expected();
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
    if (host.find(':') == std::string_view::npos) return expected();  // brackets are for IPv6 only
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return expected();
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return invalid(raw, "expected host:port with an IPv6 host in brackets, e.g. [::1]:8080, got " +
                              shown(raw.text));
    }
  }
  if (host.empty() || has_space_or_control(host) || !all_digits(port)) return expected();
  auto number = util::parse_int(port);
  if (!number || *number > 65535) {
    return invalid(raw, "port must be from 0 to 65535 (0: any free port), got " + shown(raw.text));
  }
  c.http_listen = Listen{.host = std::string(host), .port = static_cast<std::uint16_t>(*number)};
  return core::Ok{};
}

Status apply_telegram_bot_token(const Raw& raw, Config& c) {
  constexpr std::size_t kMinSecretPart = 35;
  const std::string& t = raw.text;
  auto colon = t.find(':');
  bool ok = colon != std::string::npos && all_digits(std::string_view(t).substr(0, colon)) &&
            t.size() - colon - 1 >= kMinSecretPart &&
            std::all_of(t.begin() + static_cast<std::ptrdiff_t>(colon) + 1, t.end(), [](char ch) {
              return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-';
            });
  if (!ok) {
    return invalid(raw, "expected <digits>:<35 or more of A-Z a-z 0-9 _ -> as issued by @BotFather (value not shown)");
  }
  c.telegram_bot_token = Secret(t);
  return core::Ok{};
}

Status apply_telegram_api_base(const Raw& raw, Config& c) {
  if (!is_http_url(raw.text, false)) return invalid(raw, "expected an http:// or https:// URL, got " + shown(raw.text));
  c.telegram_api_base = without_trailing_slashes(raw.text);
  return core::Ok{};
}

Status apply_telegram_webhook_url(const Raw& raw, Config& c) {
  if (!is_http_url(raw.text, true)) return invalid(raw, "expected an https:// URL, got " + shown(raw.text));
  c.telegram_webhook_url = raw.text;
  return core::Ok{};
}

Status apply_hf_token(const Raw& raw, Config& c) {
  // It goes into an HTTP header.
  if (has_space_or_control(raw.text)) {
    return invalid(raw, "must not contain whitespace or control characters (value not shown)");
  }
  c.hf_token = Secret(raw.text);
  return core::Ok{};
}

Status apply_hf_api_base(const Raw& raw, Config& c) {
  if (!is_http_url(raw.text, false)) return invalid(raw, "expected an http:// or https:// URL, got " + shown(raw.text));
  c.hf_api_base = without_trailing_slashes(raw.text);
  return core::Ok{};
}

Status apply_hf_model(const Raw& raw, Config& c) {
  auto s = util::trim(raw.text);
  auto slash = s.find('/');
  auto name_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
  };
  bool ok = slash != std::string_view::npos && slash > 0 && slash + 1 < s.size() &&
            std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(slash), name_char) &&
            std::all_of(s.begin() + static_cast<std::ptrdiff_t>(slash) + 1, s.end(), name_char);
  if (!ok) return invalid(raw, "expected owner/name, got " + shown(raw.text));
  c.hf_model = std::string(s);
  return core::Ok{};
}

Status apply_admin_telegram_ids(const Raw& raw, Config& c) {
  std::vector<std::int64_t> ids;
  for (const auto& item : util::split(util::trim(raw.text), ',')) {
    auto v = util::parse_int(util::trim(item));
    if (!v || *v <= 0) return invalid(raw, "expected comma-separated positive integers, got " + shown(raw.text));
    ids.push_back(*v);
  }
  c.admin_telegram_ids = std::move(ids);
  return core::Ok{};
}

Status apply_log_level(const Raw& raw, Config& c) {
  static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  auto level = util::to_lower(util::trim(raw.text));
  if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels)) {
    return invalid(raw, "expected one of trace, debug, info, warn, error, critical, off, got " + shown(raw.text));
  }
  c.log_level = level;
  return core::Ok{};
}

Status apply_db_pool_size(const Raw& raw, Config& c) { return parse_int_into(raw, 1, 256, c.db_pool_size); }
Status apply_worker_concurrency(const Raw& raw, Config& c) { return parse_int_into(raw, 0, 256, c.worker_concurrency); }
Status apply_shutdown_grace_seconds(const Raw& raw, Config& c) {
  return parse_int_into(raw, 1, 3600, c.shutdown_grace_seconds);
}

Status apply_payload_secret(const Raw& raw, Config& c) {
  constexpr std::size_t kMinLength = 16;  // an HMAC key short enough to guess makes invoices forgeable
  if (raw.text.size() < kMinLength) {
    return invalid(raw, "must be at least " + std::to_string(kMinLength) + " characters long (value not shown)");
  }
  c.payload_secret = Secret(raw.text);
  return core::Ok{};
}

Status apply_job_max_attempts(const Raw& raw, Config& c) { return parse_int_into(raw, 1, 20, c.jobs.max_attempts); }

Status apply_job_lease_seconds(const Raw& raw, Config& c) {
  int seconds = 0;
  auto status = parse_int_into(raw, 5, 3600, seconds);
  if (status.ok()) c.jobs.lease = std::chrono::seconds(seconds);
  return status;
}

// How a TOML file must spell the value; the environment always gives text.
enum class TomlType { string, integer, integer_list };

struct Setting {
  std::string_view env;
  TomlType toml_type;
  bool secret;
  Status (*apply)(const Raw&, Config&);
};

// In .env.example and describe() order.
constexpr Setting kSettings[] = {
    {"DATABASE_URL", TomlType::string, true, apply_database_url},
    {"DATA_DIR", TomlType::string, false, apply_data_dir},
    {"HTTP_LISTEN", TomlType::string, false, apply_http_listen},
    {"TELEGRAM_BOT_TOKEN", TomlType::string, true, apply_telegram_bot_token},
    {"TELEGRAM_API_BASE", TomlType::string, false, apply_telegram_api_base},
    {"TELEGRAM_WEBHOOK_URL", TomlType::string, false, apply_telegram_webhook_url},
    {"HF_TOKEN", TomlType::string, true, apply_hf_token},
    {"HF_API_BASE", TomlType::string, false, apply_hf_api_base},
    {"HF_MODEL", TomlType::string, false, apply_hf_model},
    {"ADMIN_TELEGRAM_IDS", TomlType::integer_list, false, apply_admin_telegram_ids},
    {"LOG_LEVEL", TomlType::string, false, apply_log_level},
    {"DB_POOL_SIZE", TomlType::integer, false, apply_db_pool_size},
    {"WORKER_CONCURRENCY", TomlType::integer, false, apply_worker_concurrency},
    {"SHUTDOWN_GRACE_SECONDS", TomlType::integer, false, apply_shutdown_grace_seconds},
    {"PAYMENT_PAYLOAD_SECRET", TomlType::string, true, apply_payload_secret},
    {"JOB_MAX_ATTEMPTS", TomlType::integer, false, apply_job_max_attempts},
    {"JOB_LEASE_SECONDS", TomlType::integer, false, apply_job_lease_seconds},
};

constexpr std::string_view kConfigPathVariable = "IMGGENBOT_CONFIG";

const Setting* find_setting_by_toml_key(std::string_view key) {
  for (const auto& s : kSettings) {
    if (util::to_lower(s.env) == key) return &s;
  }
  return nullptr;
}

// Defence in depth: no message built from a non-secret value may repeat a secret either.
void scrub(std::string& text, const std::vector<std::string>& secrets) {
  constexpr std::size_t kMinScrubbed = 4;
  for (const auto& secret : secrets) {
    if (secret.size() < kMinScrubbed) continue;
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
      text.replace(pos, secret.size(), "(redacted)");
    }
  }
}

Error scrubbed(Error error, const std::vector<std::string>& secrets) {
  scrub(error.public_message, secrets);
  for (auto& f : error.field_errors) scrub(f.message, secrets);
  return error;
}

enum class ReadOutcome { ok, missing, failed };

ReadOutcome read_file(const std::string& path, std::string& out) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) return ReadOutcome::missing;
  if (ec || !std::filesystem::is_regular_file(status)) return ReadOutcome::failed;
  std::ifstream in(path, std::ios::binary);
  if (!in) return ReadOutcome::failed;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return ReadOutcome::failed;
  out = std::move(buffer).str();
  return ReadOutcome::ok;
}

std::string type_name(TomlType t) {
  switch (t) {
    case TomlType::string: return "a string";
    case TomlType::integer: return "an integer";
    case TomlType::integer_list: return "an array of integers";
  }
  return "?";
}

// The TOML value as the text the environment would give, or nullopt if it has the wrong type.
std::optional<std::string> toml_text(const toml::node& node, TomlType type) {
  switch (type) {
    case TomlType::string:
      if (const auto* s = node.as_string()) return s->get();
      break;
    case TomlType::integer:
      if (const auto* i = node.as_integer()) return std::to_string(i->get());
      break;
    case TomlType::integer_list:
      if (const auto* a = node.as_array()) {
        std::string out;
        for (const auto& item : *a) {
          const auto* i = item.as_integer();
          if (i == nullptr) return std::nullopt;
          if (!out.empty()) out += ',';
          out += std::to_string(i->get());
        }
        return out;
      }
      break;
  }
  return std::nullopt;
}

Error unknown_key(std::string_view key, const toml::source_region& where, const std::string& path) {
  return failure("unknown key \"" + std::string(key) + "\" (in " + path + ", line " +
                 std::to_string(where.begin.line) + ")");
}

bool is_plan_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_' || ch == '-';
  });
}

Status apply_plan_fields(core::Plan& plan, const toml::table& table, const std::string& prefix,
                         const std::string& path) {
  static constexpr std::pair<std::string_view, int core::Plan::*> kIntFields[] = {
      {"images_per_period", &core::Plan::images_per_period},
      {"max_pixels", &core::Plan::max_pixels},
      {"max_side", &core::Plan::max_side},
      {"max_concurrent_jobs", &core::Plan::max_concurrent_jobs},
      {"priority", &core::Plan::priority},
      {"images_per_request", &core::Plan::images_per_request},
      {"price_stars", &core::Plan::price_stars},
  };
  for (auto&& [key, node] : table) {
    std::string name = prefix + "." + std::string(key.str());
    if (key.str() == "title") {
      const auto* s = node.as_string();
      if (s == nullptr || util::trim(s->get()).empty()) return invalid(name, "expected a non-empty string", path);
      plan.title = s->get();
      continue;
    }
    if (key.str() == "period") {
      const auto* s = node.as_string();
      if (s != nullptr && s->get() == "daily") {
        plan.period = core::PeriodKind::daily;
      } else if (s != nullptr && s->get() == "30d") {
        plan.period = core::PeriodKind::days30;
      } else {
        return invalid(name, "expected \"daily\" or \"30d\"", path);
      }
      continue;
    }
    auto field = std::find_if(std::begin(kIntFields), std::end(kIntFields),
                              [&](const auto& f) { return f.first == key.str(); });
    if (field == std::end(kIntFields)) return unknown_key(name, key.source(), path);
    const auto* i = node.as_integer();
    if (i == nullptr || i->get() < std::numeric_limits<int>::min() || i->get() > std::numeric_limits<int>::max()) {
      return invalid(name, "expected an integer", path);
    }
    plan.*(field->second) = static_cast<int>(i->get());
  }
  return core::Ok{};
}

// [plans.<id>] tables: an existing id overrides the given fields; a new id adds a plan that starts
// from the (configured) free plan, runs for 30 days (paid plans must) and needs a price.
Status apply_plans(const toml::node& node, const std::string& path, std::vector<core::Plan>& plans) {
  const auto* table = node.as_table();
  if (table == nullptr) return invalid("plans", "expected tables [plans.<id>]", path);
  struct Entry {
    std::string id;
    const toml::table* fields;
    std::uint32_t line;
  };
  std::vector<Entry> overrides;
  std::vector<Entry> additions;
  for (auto&& [key, value] : *table) {
    std::string id(key.str());
    const auto* fields = value.as_table();
    if (fields == nullptr) return invalid("plans." + id, "expected a table [plans." + id + "]", path);
    if (!is_plan_id(id)) return invalid("plans." + id, "a plan id is 1 to 32 of A-Z a-z 0-9 _ -", path);
    bool exists = std::any_of(plans.begin(), plans.end(), [&](const core::Plan& p) { return p.id == id; });
    (exists ? overrides : additions).push_back(Entry{id, fields, key.source().begin.line});
  }
  for (const auto& e : overrides) {
    auto& plan = *std::find_if(plans.begin(), plans.end(), [&](const core::Plan& p) { return p.id == e.id; });
    if (auto s = apply_plan_fields(plan, *e.fields, "plans." + e.id, path); !s) return std::move(s).error();
  }
  // toml++ keeps keys sorted; add new plans in the file's order.
  std::stable_sort(additions.begin(), additions.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
  core::Plan base;
  if (auto free = std::find_if(plans.begin(), plans.end(), [](const core::Plan& p) { return p.id == "free"; });
      free != plans.end()) {
    base = *free;
  }
  for (const auto& e : additions) {
    if (!e.fields->contains("price_stars")) return invalid("plans." + e.id, "a new plan needs price_stars", path);
    core::Plan plan = base;
    plan.id = e.id;
    plan.title = e.id;
    plan.period = core::PeriodKind::days30;
    if (auto s = apply_plan_fields(plan, *e.fields, "plans." + e.id, path); !s) return std::move(s).error();
    plans.push_back(std::move(plan));
  }
  return core::Ok{};
}

const std::string* non_empty(const std::map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() || it->second.empty() ? nullptr : &it->second;
}

}  // namespace

core::Result<Config> load_config(const std::map<std::string, std::string>& environment, const LoadOptions& options) {
  std::map<std::string, std::string> dotenv;
  if (!options.dotenv_path.empty()) {
    std::string text;
    switch (read_file(options.dotenv_path, text)) {
      case ReadOutcome::missing:
        break;
      case ReadOutcome::failed:
        return failure("cannot read " + options.dotenv_path);
      case ReadOutcome::ok: {
        auto parsed = parse_dotenv(text, options.dotenv_path);
        if (!parsed) return std::move(parsed).error();
        dotenv = std::move(parsed).value();
      }
    }
  }

  std::optional<std::string> toml_path = options.toml_path;
  if (!toml_path) {
    if (const auto* p = non_empty(environment, kConfigPathVariable)) {
      toml_path = *p;
    } else if (const auto* q = non_empty(dotenv, kConfigPathVariable)) {
      toml_path = *q;
    }
  }

  // Empty values count as not set, so "${VAR:-}" in a compose file keeps the lower layer's value.
  std::map<std::string_view, Raw> raw;
  std::optional<toml::table> document;
  if (toml_path) {
    std::string text;
    switch (read_file(*toml_path, text)) {
      case ReadOutcome::missing:
        return failure("config file not found: " + *toml_path);
      case ReadOutcome::failed:
        return failure("cannot read config file " + *toml_path);
      case ReadOutcome::ok:
        break;
    }
    try {
      document = toml::parse(text, *toml_path);
    } catch (const toml::parse_error& e) {
      return failure(*toml_path + ":" + std::to_string(e.source().begin.line) + ":" +
                     std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
    }
    for (auto&& [key, node] : *document) {
      if (key.str() == "plans") continue;
      const auto* setting = find_setting_by_toml_key(key.str());
      if (setting == nullptr) return unknown_key(key.str(), key.source(), *toml_path);
      auto text_value = toml_text(node, setting->toml_type);
      if (!text_value) return invalid(std::string(key.str()), "expected " + type_name(setting->toml_type), *toml_path);
      if (!text_value->empty()) raw[setting->env] = Raw{*text_value, std::string(key.str()), *toml_path};
    }
  }
  for (const auto& s : kSettings) {
    if (const auto* v = non_empty(dotenv, s.env)) raw[s.env] = Raw{*v, std::string(s.env), options.dotenv_path};
    if (const auto* v = non_empty(environment, s.env)) raw[s.env] = Raw{*v, std::string(s.env), ""};
  }

  std::vector<std::string> secrets;
  for (const auto& s : kSettings) {
    if (auto it = raw.find(s.env); s.secret && it != raw.end()) secrets.push_back(it->second.text);
  }

  Config config;
  for (const auto& s : kSettings) {
    auto it = raw.find(s.env);
    if (it == raw.end()) continue;
    if (auto status = s.apply(it->second, config); !status) return scrubbed(std::move(status).error(), secrets);
  }
  if (document) {
    if (const auto* plans = document->get("plans")) {
      if (auto status = apply_plans(*plans, *toml_path, config.plans); !status) {
        return scrubbed(std::move(status).error(), secrets);
      }
    }
  }
  auto catalog = core::PlanCatalog::create(config.plans);
  if (!catalog) {
    auto error = std::move(catalog).error();
    error.public_message = "plans: " + error.public_message + (toml_path ? " (in " + *toml_path + ")" : "");
    return scrubbed(std::move(error), secrets);
  }
  config.plans = catalog->all();
  return config;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> out;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(kv.substr(0, eq), kv.substr(eq + 1));  // the first wins, as with getenv
  }
  return out;
}

std::string redact_database_url(std::string_view url) {
  std::string_view scheme;
  for (std::string_view s : {"postgresql://", "postgres://"}) {
    if (url.starts_with(s)) scheme = s;
  }
  if (scheme.empty()) return std::string(url);
  auto rest = url.substr(scheme.size());
  rest = rest.substr(0, rest.find_first_of("?#"));  // query parameters may hold password=
  // The last '@': a password with a stray '/' or '@' must not leak as the "host".
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(scheme) + std::string(rest);
}

std::vector<std::pair<std::string, std::string>> describe(const Config& c) {
  auto or_unset = [](const std::string& s) { return s.empty() ? std::string("(not set)") : s; };
  const auto& h = c.http_listen;
  std::string listen = (h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host) + ":" +
                       std::to_string(h.port);
  std::string admins;
  for (auto id : c.admin_telegram_ids) admins += (admins.empty() ? "" : ",") + std::to_string(id);
  std::string plans;
  for (const auto& p : c.plans) {
    if (!plans.empty()) plans += "; ";
    plans += p.id + ": " + std::to_string(p.images_per_period) +
             (p.period == core::PeriodKind::daily ? "/day" : "/30d");
    if (p.price_stars > 0) plans += ", " + std::to_string(p.price_stars) + " stars";
  }

  std::vector<std::pair<std::string, std::string>> out = {
      {"DATABASE_URL", redact_database_url(c.database_url)},
      {"DATA_DIR", c.data_dir},
      {"HTTP_LISTEN", listen},
      {"TELEGRAM_BOT_TOKEN", std::string(c.telegram_bot_token.redacted())},
      {"TELEGRAM_API_BASE", c.telegram_api_base},
      {"TELEGRAM_WEBHOOK_URL", or_unset(c.telegram_webhook_url)},
      {"HF_TOKEN", std::string(c.hf_token.redacted())},
      {"HF_API_BASE", c.hf_api_base},
      {"HF_MODEL", c.hf_model},
      {"ADMIN_TELEGRAM_IDS", admins.empty() ? std::string("(none)") : admins},
      {"LOG_LEVEL", c.log_level},
      {"DB_POOL_SIZE", std::to_string(c.db_pool_size)},
      {"WORKER_CONCURRENCY", std::to_string(c.worker_concurrency)},
      {"SHUTDOWN_GRACE_SECONDS", std::to_string(c.shutdown_grace_seconds)},
      {"PAYMENT_PAYLOAD_SECRET", std::string(c.payload_secret.redacted())},
      {"JOB_MAX_ATTEMPTS", std::to_string(c.jobs.max_attempts)},
      {"JOB_LEASE_SECONDS",
       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.jobs.lease).count())},
      {"plans", plans},
  };
  // A token pasted into, say, the webhook path must not reach the log through that value.
  std::vector<std::string> secrets = {c.telegram_bot_token.value(), c.hf_token.value(), c.payload_secret.value()};
  for (auto& [name, value] : out) scrub(value, secrets);
  return out;
}

}  // namespace igb::config
