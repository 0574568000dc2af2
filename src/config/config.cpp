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
#include "config/internal.hpp"
#include "util/ip_ranges.hpp"
#include "util/strings.hpp"

namespace igb::config {

void PrintTo(const Secret& secret, std::ostream* os) { *os << secret.redacted(); }

namespace {

using core::Error;
using core::Status;
using namespace detail;

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
      return invalid(raw, "expected host:port with an IPv6 host in brackets, e.g. [::1]:8080, got " + shown(raw.text));
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
      return invalid(
          raw, "expected \"auto\" or provider names separated by commas (e.g. fal-ai,nscale), got " + shown(raw.text));
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

// A model id as the endpoint names it: "Qwen/Qwen2.5-7B-Instruct", "…:fastest" (the router's policy
// suffix), "gpt-4o-mini". It goes into a JSON body, so only its length and characters are checked.
Status apply_prompt_assistant_model(const Raw& raw, Config& c) {
  auto s = util::trim(raw.text);
  if (s.size() > 200 || has_space_or_control(s)) {
    return invalid(raw, "expected a model id of at most 200 characters without spaces, got " + shown(raw.text));
  }
  c.prompt_assistant_model = std::string(s);
  return core::Ok{};
}

Status apply_prompt_assistant_url(const Raw& raw, Config& c) {
  return parse_service_url_into(raw, c.prompt_assistant_url);
}

Status apply_prompt_assistant_token(const Raw& raw, Config& c) {
  if (has_space_or_control(raw.text)) {
    return invalid(raw, "must not contain whitespace or control characters (value not shown)");
  }
  c.prompt_assistant_token = Secret(raw.text);
  return core::Ok{};
}

Status apply_prompt_assistant_timeout_ms(const Raw& raw, Config& c) {
  return parse_int_into(raw, 500, 30000, c.prompt_assistant_timeout_ms);
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
Status apply_api_rate(const Raw& raw, Config& c) {
  return parse_int_into(raw, 1, 1'000'000'000, c.api_rate_per_minute);
}
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

// The folder's blocklist.<lang>.txt files are the base lists, its blocklist.group.<lang>.txt files the
// group (safe mode) lists; read and checked now, so a broken list is a start-up error.
Status apply_prompt_policy_dir(const Raw& raw, Config& c) {
  namespace fs = std::filesystem;
  c.prompt_policy_dir = raw.text;
  if (raw.text.empty()) {
    c.jobs.policy = core::PromptPolicy::builtin();
    return core::Ok{};
  }
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(raw.text, ec)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("blocklist.") && name.ends_with(".txt")) files.push_back(entry.path());
  }
  if (ec) return invalid(raw, "cannot read the folder " + shown(raw.text) + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<core::PolicyList> base;
  std::vector<core::PolicyList> strict;
  constexpr std::uintmax_t kMaxListBytes = 1 << 20;
  for (const auto& f : files) {
    const auto size = fs::file_size(f, ec);
    if (ec || size > kMaxListBytes) return invalid(raw, shown(f.string()) + " is unreadable or larger than 1 MiB");
    std::ifstream in(f, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return invalid(raw, "cannot read " + shown(f.string()));
    auto name = f.filename().string();
    (name.starts_with("blocklist.group.") ? strict : base).push_back({std::move(name), text.str()});
  }
  if (base.empty() && strict.empty()) return invalid(raw, "no blocklist.*.txt files in " + shown(raw.text));
  auto policy = core::PromptPolicy::parse(base, strict);
  if (!policy) return invalid(raw, policy.error().public_message);
  c.jobs.policy = std::make_shared<const core::PromptPolicy>(std::move(policy).value());
  return core::Ok{};
}

Status apply_referral_bonus_images(const Raw& raw, Config& c) {
  return parse_int_into(raw, 0, 1000, c.jobs.referral_bonus_images);
}

Status apply_provider_prices(const Raw& raw, Config& c) {
  auto prices = parse_provider_prices(raw.text);
  if (!prices) return invalid(raw, prices.error().public_message);
  c.jobs.prices = std::move(prices).value();
  return core::Ok{};
}

constexpr std::int64_t kMaxStarUsdMicros = 10 * core::kMicrosPerUsd;
constexpr std::int64_t kMaxSpendLimitMicros = 1'000'000 * core::kMicrosPerUsd;

Status apply_stars_usd_rate(const Raw& raw, Config& c) {
  auto micros = core::parse_usd_micros(util::trim(raw.text), kMaxStarUsdMicros);
  if (!micros || *micros == 0) {
    return invalid(raw,
                   "expected the USD value of one Star, above 0 and at most 10 with at most 6 decimals "
                   "(e.g. 0.013), got " +
                       shown(raw.text));
  }
  c.stars_usd_micros = *micros;
  return core::Ok{};
}

Status apply_daily_spend_limit_usd(const Raw& raw, Config& c) {
  auto micros = core::parse_usd_micros(util::trim(raw.text), kMaxSpendLimitMicros);
  if (!micros) {
    return invalid(raw,
                   "expected an amount of US dollars, 0 (no limit) to 1000000 with at most 6 decimals "
                   "(e.g. 5 or 2.50), got " +
                       shown(raw.text));
  }
  c.jobs.daily_spend_limit_micros = *micros;
  return core::Ok{};
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
    {"PROMPT_ASSISTANT_MODEL", TomlType::string, false, apply_prompt_assistant_model},
    {"PROMPT_ASSISTANT_URL", TomlType::string, false, apply_prompt_assistant_url},
    {"PROMPT_ASSISTANT_TOKEN", TomlType::string, true, apply_prompt_assistant_token},
    {"PROMPT_ASSISTANT_TIMEOUT_MS", TomlType::integer, false, apply_prompt_assistant_timeout_ms},
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
    {"PROMPT_POLICY_DIR", TomlType::string, false, apply_prompt_policy_dir},
    {"REFERRAL_BONUS_IMAGES", TomlType::integer, false, apply_referral_bonus_images},
    {"PROVIDER_PRICES", TomlType::string, false, apply_provider_prices},
    {"STARS_USD_RATE", TomlType::string, false, apply_stars_usd_rate},
    {"DAILY_SPEND_LIMIT_USD", TomlType::string, false, apply_daily_spend_limit_usd},
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

}  // namespace

// Settings of this service that api_key_env must not name: sending, say, the bot token to an image
// provider would leak it. HF_TOKEN is the one that is meant to be sent.
bool detail::is_own_setting(std::string_view name) {
  if (name == "HF_TOKEN") return false;
  if (name == kConfigPathVariable) return true;
  return std::any_of(std::begin(kSettings), std::end(kSettings), [&](const Setting& s) { return s.env == name; });
}

core::Result<Config> load_config(const std::map<std::string, std::string>& environment, const LoadOptions& options) {
  std::map<std::string, std::string> dotenv;
  if (!options.dotenv_path.empty()) {
    std::string text;
    switch (read_file(options.dotenv_path, text)) {
      case ReadOutcome::missing: break;
      case ReadOutcome::failed: return failure("cannot read " + options.dotenv_path);
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
      case ReadOutcome::missing: return failure("config file not found: " + *toml_path);
      case ReadOutcome::failed: return failure("cannot read config file " + *toml_path);
      case ReadOutcome::ok: break;
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

core::Result<core::PriceList> parse_provider_prices(std::string_view text) {
  constexpr std::int64_t kMaxPriceMicros = 1000 * core::kMicrosPerUsd;
  constexpr std::string_view kShape =
      "expected provider=price/image or provider=price/mp (per megapixel), separated by commas, e.g. "
      "hf-inference=0.003/image,fal-ai=0.0025/mp";
  auto bad = [&](std::string_view entry, std::string_view why) {
    return core::make_error(core::ErrorCode::invalid_argument,
                            std::string(kShape) + "; the entry " + shown(entry) + " " + std::string(why));
  };
  std::vector<core::ProviderPrice> entries;
  if (util::trim(text).empty()) return core::PriceList{};
  for (const auto& item : util::split(text, ',')) {
    const auto entry = util::trim(item);
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) return bad(entry, "has no '='");
    const auto provider = util::trim(entry.substr(0, eq));
    const auto price = util::trim(entry.substr(eq + 1));
    const bool name_ok =
        provider == "*" ||
        (!provider.empty() && provider.size() <= 64 && std::all_of(provider.begin(), provider.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) != 0 || ch == '-' || ch == '_' || ch == '.';
        }));
    if (!name_ok) return bad(entry, "does not start with a provider name (letters, digits, - _ .) or *");
    const auto slash = price.rfind('/');
    if (slash == std::string_view::npos) return bad(entry, "has no unit (/image or /mp)");
    const auto unit_text = util::to_lower(util::trim(price.substr(slash + 1)));
    core::PriceUnit unit{};
    if (unit_text == "image") {
      unit = core::PriceUnit::image;
    } else if (unit_text == "mp" || unit_text == "megapixel") {
      unit = core::PriceUnit::megapixel;
    } else {
      return bad(entry, "has a unit other than image or mp");
    }
    auto amount = core::parse_usd_micros(util::trim(price.substr(0, slash)), kMaxPriceMicros);
    if (!amount) return bad(entry, "has no amount of USD from 0 to 1000 with at most 6 decimals");
    for (const auto& e : entries) {
      if (e.provider == provider) return bad(entry, "names a provider priced before");
    }
    entries.push_back({.provider = std::string(provider), .price = {.micros = *amount, .unit = unit}});
  }
  return core::PriceList(std::move(entries));
}

std::string describe_prices(const core::PriceList& prices) {
  // As written: whole dollars, then the six decimals without trailing zeros (0.0025, 1, 0.000125).
  auto amount = [](std::int64_t micros) {
    std::string fraction = std::to_string(micros % core::kMicrosPerUsd);
    fraction.insert(0, 6 - fraction.size(), '0');
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    return std::to_string(micros / core::kMicrosPerUsd) + (fraction.empty() ? "" : "." + fraction);
  };
  std::string out;
  for (const auto& e : prices.entries()) {
    if (!out.empty()) out += ",";
    out += e.provider + "=" + amount(e.price.micros) + (e.price.unit == core::PriceUnit::image ? "/image" : "/mp");
  }
  return out.empty() ? std::string("(none)") : out;
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
  std::string listen =
      (h.host.find(':') != std::string::npos ? "[" + h.host + "]" : h.host) + ":" + std::to_string(h.port);
  std::string admins;
  for (auto id : c.admin_telegram_ids) admins += (admins.empty() ? "" : ",") + std::to_string(id);
  std::string plans;
  for (const auto& p : c.plans) {
    if (!plans.empty()) plans += "; ";
    plans +=
        p.id + ": " + std::to_string(p.images_per_period) + (p.period == core::PeriodKind::daily ? "/day" : "/30d");
    if (p.price_stars > 0) plans += ", " + std::to_string(p.price_stars) + " stars";
  }
  std::string backends;
  for (const auto& b : c.backends) {
    if (!backends.empty()) backends += "; ";
    std::string kind = b.kind == "openai" && b.flavor != "openai" ? b.kind + "/" + b.flavor : b.kind;
    std::string key = !b.api_key.empty()      ? "key set"
                      : b.api_key_env.empty() ? "no key"
                                              : "key " + b.api_key_env + " (not set)";
    backends.append(b.name).append("(").append(kind).append(", ").append(b.base_url).append(", ");
    backends.append(b.model).append(", ").append(key).append(")");
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
      {"PROMPT_ASSISTANT_MODEL", c.prompt_assistant_model.empty() ? std::string("(off)") : c.prompt_assistant_model},
      {"PROMPT_ASSISTANT_URL", c.prompt_assistant_url},
      {"PROMPT_ASSISTANT_TOKEN", c.prompt_assistant_token.empty() ? std::string("(HF_TOKEN)") : std::string("(set)")},
      {"PROMPT_ASSISTANT_TIMEOUT_MS", std::to_string(c.prompt_assistant_timeout_ms)},
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
      {"JOB_LEASE_SECONDS", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(c.jobs.lease).count())},
      {"PROMPT_POLICY_DIR", c.prompt_policy_dir.empty() ? std::string("(built in)") : c.prompt_policy_dir},
      {"REFERRAL_BONUS_IMAGES", std::to_string(c.jobs.referral_bonus_images)},
      {"PROVIDER_PRICES", describe_prices(c.jobs.prices)},
      {"STARS_USD_RATE", core::format_usd(c.stars_usd_micros)},
      {"DAILY_SPEND_LIMIT_USD",
       c.jobs.daily_spend_limit_micros > 0 ? core::format_usd(c.jobs.daily_spend_limit_micros) : std::string("(none)")},
      {"plans", plans},
  };
  // A token pasted into, say, the webhook path must not reach the log through that value.
  std::vector<std::string> secrets = {c.telegram_bot_token.value(), c.hf_token.value(), c.payload_secret.value(),
                                      c.prompt_assistant_token.value()};
  for (const auto& b : c.backends) secrets.push_back(b.api_key.value());
  for (auto& [name, value] : out) scrub(value, secrets);
  return out;
}

}  // namespace igb::config
