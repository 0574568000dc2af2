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
#include "util/ip_ranges.hpp"
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

// Plain http:// is for hosts on this machine or its private network: loopback, private, shared and
// link-local addresses, "localhost", and single-label names (a Docker service or LAN host such as
// "localai"). Anything else is reached over networks nobody vouches for, and the request carries a
// token: https:// is required there. `url` is known to start with "http://".
bool plain_http_allowed(std::string_view url) {
  auto authority = url.substr(7);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
  std::string host;
  if (authority.starts_with('[')) {
    host = std::string(authority.substr(1, authority.find(']') - 1));
  } else {
    host = std::string(authority.substr(0, authority.find(':')));
  }
  host = util::to_lower(host);
  if (host == "localhost" || host.ends_with(".localhost")) return true;
  boost::system::error_code not_an_address;
  const auto address = boost::asio::ip::make_address(host, not_an_address);
  if (!not_an_address) return util::is_local_or_private(address);
  return !host.empty() && host.find('.') == std::string::npos;
}

// is_http_url(s, false), and plain http only where plain_http_allowed; "" if fine, else why not.
std::string service_url_problem(std::string_view s) {
  if (!is_http_url(s, false)) return "expected an http:// or https:// URL, got " + shown(s);
  if (s.starts_with("http://") && !plain_http_allowed(s)) {
    return "plain http:// is accepted only for loopback, private addresses and single-label hosts; use https:// for " +
           shown(s);
  }
  return {};
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

// An http(s) base URL of a service we send tokens to (see service_url_problem), without trailing '/'.
Status parse_service_url_into(const Raw& raw, std::string& out) {
  if (auto problem = service_url_problem(raw.text); !problem.empty()) return invalid(raw, problem);
  out = without_trailing_slashes(raw.text);
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

Status apply_telegram_api_base(const Raw& raw, Config& c) { return parse_service_url_into(raw, c.telegram_api_base); }

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

Status apply_hf_api_base(const Raw& raw, Config& c) { return parse_service_url_into(raw, c.hf_api_base); }

bool is_hf_model(std::string_view s) {
  auto slash = s.find('/');
  auto name_char = [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
  };
  return slash != std::string_view::npos && slash > 0 && slash + 1 < s.size() &&
         std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(slash), name_char) &&
         std::all_of(s.begin() + static_cast<std::ptrdiff_t>(slash) + 1, s.end(), name_char);
}

Status apply_hf_model(const Raw& raw, Config& c) {
  auto s = util::trim(raw.text);
  if (!is_hf_model(s)) return invalid(raw, "expected owner/name, got " + shown(raw.text));
  c.hf_model = std::string(s);
  return core::Ok{};
}

Status apply_hf_provider(const Raw& raw, Config& c) {
  auto value = util::to_lower(util::trim(raw.text));
  std::string list;
  for (const auto& item : util::split(value, ',')) {
    auto name = util::trim(item);
    auto ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
    });
    if (!ok || (name == "auto" && value != "auto")) {
      return invalid(raw, "expected \"auto\" or provider names separated by commas (e.g. fal-ai,nscale), got " +
                              shown(raw.text));
    }
    list += (list.empty() ? "" : ",") + std::string(name);
  }
  c.hf_provider = list;
  return core::Ok{};
}

Status apply_hf_hub_base(const Raw& raw, Config& c) { return parse_service_url_into(raw, c.hf_hub_base); }

Status apply_provider_urls_allow_private(const Raw& raw, Config& c) {
  int value = 0;
  auto status = parse_int_into(raw, 0, 1, value);
  if (status.ok()) c.provider_urls_allow_private = value == 1;
  return status;
}

Status apply_provider_timeout_seconds(const Raw& raw, Config& c) {
  return parse_int_into(raw, 1, 600, c.provider_timeout_seconds);
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
Status apply_api_rate(const Raw& raw, Config& c) { return parse_int_into(raw, 1, 1'000'000'000, c.api_rate_per_minute); }
Status apply_api_burst(const Raw& raw, Config& c) { return parse_int_into(raw, 1, 1'000'000'000, c.api_rate_burst); }
Status apply_http_max_connections(const Raw& raw, Config& c) {
  return parse_int_into(raw, 1, 1'000'000, c.http_max_connections);
}
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
Status apply_free_daily_images(const Raw& raw, Config& c) {
  return parse_int_into(raw, 0, 1'000'000'000, c.jobs.free_daily_images);
}

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
    {"HF_PROVIDER", TomlType::string, false, apply_hf_provider},
    {"HF_HUB_BASE", TomlType::string, false, apply_hf_hub_base},
    {"PROVIDER_TIMEOUT_SECONDS", TomlType::integer, false, apply_provider_timeout_seconds},
    {"PROVIDER_URLS_ALLOW_PRIVATE", TomlType::integer, false, apply_provider_urls_allow_private},
    {"ADMIN_TELEGRAM_IDS", TomlType::integer_list, false, apply_admin_telegram_ids},
    {"LOG_LEVEL", TomlType::string, false, apply_log_level},
    {"DB_POOL_SIZE", TomlType::integer, false, apply_db_pool_size},
    {"WORKER_CONCURRENCY", TomlType::integer, false, apply_worker_concurrency},
    {"API_RATE_PER_MINUTE", TomlType::integer, false, apply_api_rate},
    {"API_RATE_BURST", TomlType::integer, false, apply_api_burst},
    {"HTTP_MAX_CONNECTIONS", TomlType::integer, false, apply_http_max_connections},
    {"SHUTDOWN_GRACE_SECONDS", TomlType::integer, false, apply_shutdown_grace_seconds},
    {"PAYMENT_PAYLOAD_SECRET", TomlType::string, true, apply_payload_secret},
    {"JOB_MAX_ATTEMPTS", TomlType::integer, false, apply_job_max_attempts},
    {"FREE_DAILY_IMAGES", TomlType::integer, false, apply_free_daily_images},
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

// Plan ids and backend names.
bool is_short_id(std::string_view id) {
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
    if (key.str() == "failed_attempts_per_period") {  // optional: unset means images_per_period
      const auto* i = node.as_integer();
      if (i == nullptr || i->get() < 0 || i->get() > std::numeric_limits<int>::max()) {
        return invalid(name, "expected an integer, 0 or more (0: no limit)", path);
      }
      plan.failed_attempts_per_period = static_cast<int>(i->get());
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
    if (!is_short_id(id)) return invalid("plans." + id, "a plan id is 1 to 32 of A-Z a-z 0-9 _ -", path);
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

bool is_env_name(std::string_view s) {
  return !s.empty() && !(s.front() >= '0' && s.front() <= '9') && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '_';
  });
}

// Settings of this service that api_key_env must not name: sending, say, the bot token to an image
// provider would leak it. HF_TOKEN is the one that is meant to be sent.
bool is_own_setting(std::string_view name) {
  if (name == "HF_TOKEN") return false;
  if (name == kConfigPathVariable) return true;
  return std::any_of(std::begin(kSettings), std::end(kSettings), [&](const Setting& s) { return s.env == name; });
}

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
  static constexpr std::string_view kKeys[] = {"name",    "kind",   "base_url",        "model",
                                               "api_key_env", "dialect", "flavor", "timeout_seconds",
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
  if (**kind != "hf" && **kind != "openai") return item.bad("kind", "expected \"hf\" or \"openai\", got " + shown(**kind));
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
      return item.bad("api_key_env", "expected an environment variable name (A-Z a-z 0-9 _, not starting with a "
                                     "digit) or \"\" for no key, got " + shown(b.api_key_env));
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
    return item.missing("api_key_env", "required for dialect " + shown(b.flavor) +
                                           ": the name of the variable that holds the key");
  }

  if (auto s = item.int_at("timeout_seconds", 1, 600, b.timeout_seconds); !s) return std::move(s).error();
  if (auto s = item.int_at("concurrency", 1, 256, b.concurrency); !s) return std::move(s).error();
  if (auto s = item.int_at("rate_per_minute", 0, 100000, b.rate_per_minute); !s) return std::move(s).error();
  return b;
}

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
    BackendItem item{.table = *array->get(i)->as_table(), .prefix = "backends[" + std::to_string(i) + "]", .path = path};
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
      if (key.str() == "plans" || key.str() == "backends") continue;
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
  const KeySources keys{.environment = environment, .dotenv = dotenv};
  if (document) {
    for (auto& value : backend_key_values(*document, keys)) secrets.push_back(std::move(value));
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

  // After the environment: the default backend and the defaults of "hf" ones follow HF_* and
  // PROVIDER_TIMEOUT_SECONDS.
  const toml::node* backends = document ? document->get("backends") : nullptr;
  if (backends != nullptr) {
    auto list = read_backends(*backends, *toml_path, config, keys);
    if (!list) return scrubbed(std::move(list).error(), secrets);
    config.backends = std::move(list).value();
  } else {
    config.backends = {BackendConfig{.name = "hf",
                                     .kind = "hf",
                                     .base_url = config.hf_api_base,
                                     .model = config.hf_model,
                                     .api_key = config.hf_token,
                                     .api_key_env = "HF_TOKEN",
                                     .timeout_seconds = config.provider_timeout_seconds}};
  }
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
  std::string backends;
  for (const auto& b : c.backends) {
    if (!backends.empty()) backends += "; ";
    std::string kind = b.kind == "openai" && b.flavor != "openai" ? b.kind + "/" + b.flavor : b.kind;
    std::string key = !b.api_key.empty()      ? "key set"
                      : b.api_key_env.empty() ? "no key"
                                              : "key " + b.api_key_env + " (not set)";
    backends += b.name + "(" + kind + ", " + b.base_url + ", " + b.model + ", " + key + ")";
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
      {"HF_PROVIDER", c.hf_provider},
      {"HF_HUB_BASE", c.hf_hub_base},
      {"PROVIDER_TIMEOUT_SECONDS", std::to_string(c.provider_timeout_seconds)},
      {"PROVIDER_URLS_ALLOW_PRIVATE", c.provider_urls_allow_private ? "1" : "0"},
      {"backends", backends.empty() ? std::string("(none)") : backends},
      {"ADMIN_TELEGRAM_IDS", admins.empty() ? std::string("(none)") : admins},
      {"LOG_LEVEL", c.log_level},
      {"DB_POOL_SIZE", std::to_string(c.db_pool_size)},
      {"WORKER_CONCURRENCY", std::to_string(c.worker_concurrency)},
      {"API_RATE_PER_MINUTE", std::to_string(c.api_rate_per_minute)},
      {"API_RATE_BURST", std::to_string(c.api_rate_burst)},
      {"HTTP_MAX_CONNECTIONS", std::to_string(c.http_max_connections)},
      {"SHUTDOWN_GRACE_SECONDS", std::to_string(c.shutdown_grace_seconds)},
      {"PAYMENT_PAYLOAD_SECRET", std::string(c.payload_secret.redacted())},
      {"JOB_MAX_ATTEMPTS", std::to_string(c.jobs.max_attempts)},
      {"FREE_DAILY_IMAGES", std::to_string(c.jobs.free_daily_images)},
      {"JOB_LEASE_SECONDS",
       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.jobs.lease).count())},
      {"plans", plans},
  };
  // A token pasted into, say, the webhook path must not reach the log through that value.
  std::vector<std::string> secrets = {c.telegram_bot_token.value(), c.hf_token.value(), c.payload_secret.value()};
  for (const auto& b : c.backends) secrets.push_back(b.api_key.value());
  for (auto& [name, value] : out) scrub(value, secrets);
  return out;
}

}  // namespace igb::config
