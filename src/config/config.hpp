#pragma once
// Service configuration: built-in defaults < TOML file < .env file < process environment.
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/jobs.hpp"
#include "core/model.hpp"
#include "core/plans.hpp"

namespace igb::config {

// A credential. It has no operator<< and no formatter on purpose: read it with value() where it is
// used, log it with redacted().
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  const std::string& value() const { return value_; }
  bool empty() const { return value_.empty(); }
  std::string_view redacted() const { return value_.empty() ? "(not set)" : "(set)"; }

  // googletest prints a value without operator<< as raw bytes; this keeps test failures redacted.
  friend void PrintTo(const Secret& secret, std::ostream* os);

 private:
  std::string value_;
};

struct Listen {
  std::string host;
  std::uint16_t port = 0;  // 0: any free port
};

// One image-generation provider. Its key is never written in the TOML file: api_key is read from the
// environment variable (process environment, then .env) that api_key_env names.
struct BackendConfig {
  std::string name;         // unique; used in logs and metrics; [A-Za-z0-9_-]{1,32}
  std::string kind;         // "hf" (Hugging Face Inference) or "openai" (OpenAI-compatible images API)
  std::string base_url;     // http(s) URL without trailing '/', query, fragment or credentials
  std::string model;        // non-empty; owner/name for kind "hf"
  Secret api_key;           // empty: none named, or the named variable is not set
  std::string api_key_env;  // empty: the backend needs no key (a self-hosted server)
  // kind "openai" only: the dialect (TOML `dialect`, or its old name `flavor`): "openai" (OpenAI's
  // image models: no steps or seed, their own sizes), "together", "localai" or "sdcpp"
  // (stable-diffusion.cpp's server). See docs/providers.md.
  std::string flavor = "openai";
  int timeout_seconds = 120;  // 1-600; PROVIDER_TIMEOUT_SECONDS unless the backend gives its own
  int concurrency = 4;        // 1-256 requests in flight to this backend from one process
  int rate_per_minute = 0;    // 0: unlimited; else 1-100000
};

struct Config {
  std::string database_url = "sqlite://./data/imggenbot.db";  // may carry a password: log via describe()
  std::string data_dir = "./data";
  Listen http_listen{.host = "127.0.0.1", .port = 8080};

  Secret telegram_bot_token;
  std::string telegram_api_base = "https://api.telegram.org";  // without a trailing '/'
  std::string telegram_webhook_url;                           // empty: long polling

  Secret hf_token;
  std::string hf_api_base = "https://router.huggingface.co";  // without a trailing '/'
  std::string hf_model = "black-forest-labs/FLUX.1-schnell";
  // "auto": the providers of the model's Hub mapping, in its order; or a pinned list, "fal-ai,nscale".
  std::string hf_provider = "auto";
  std::string hf_hub_base = "https://huggingface.co";  // without a trailing '/'
  // Tests only: image URLs a provider answers with may be http:// and on loopback/private addresses.
  bool provider_urls_allow_private = false;
  int provider_timeout_seconds = 120;  // for backends that give no timeout_seconds

  // The optional prompt assistant (docs/providers.md): translates non-English prompts and enriches
  // them on request through an OpenAI-compatible chat completions endpoint. Off while the model is empty.
  std::string prompt_assistant_model;
  std::string prompt_assistant_url = "https://router.huggingface.co/v1";  // with /v1, without a trailing '/'
  Secret prompt_assistant_token;  // empty: HF_TOKEN (the router takes the same token)
  int prompt_assistant_timeout_ms = 4000;  // the time box of one call, 500-30000

  // In order of preference. Without [[backends]] in the TOML file: this one backend, built from the
  // settings above once the environment has been applied (so Config{} matches load_config({})).
  std::vector<BackendConfig> backends = {BackendConfig{.name = "hf",
                                                       .kind = "hf",
                                                       .base_url = hf_api_base,
                                                       .model = hf_model,
                                                       .api_key = hf_token,
                                                       .api_key_env = "HF_TOKEN",
                                                       .timeout_seconds = provider_timeout_seconds}};

  std::vector<std::int64_t> admin_telegram_ids;
  std::string log_level = "info";  // trace, debug, info, warn, error, critical, off
  int db_pool_size = 8;
  int worker_concurrency = 4;  // 0: this process runs no generation
  int api_rate_per_minute = 120;  // per API key (token bucket), 1-1000000000
  int api_rate_burst = 20;        // requests a key may make at once, 1-1000000000
  int http_max_connections = 1000;  // open HTTP connections per process, 1-1000000; past it: 503
  int shutdown_grace_seconds = 20;
  Secret payload_secret;  // HMAC key for invoice payloads

  // jobs.policy: the built-in blocklists, or those of prompt_policy_dir; jobs.prices: PROVIDER_PRICES;
  // jobs.daily_spend_limit_micros: DAILY_SPEND_LIMIT_USD.
  core::JobOptions jobs;
  // What one Telegram Star is taken to be worth in /stats' margins (STARS_USD_RATE), in micro-USD.
  std::int64_t stars_usd_micros = core::kDefaultUsdMicrosPerStar;
  std::string prompt_policy_dir;  // empty: the built-in blocklists (policy/ in the repository)
  std::vector<core::Plan> plans = core::default_plans();  // checked by PlanCatalog::create, free first
};

struct LoadOptions {
  std::optional<std::string> toml_path;  // else IMGGENBOT_CONFIG from the environment or .env
  std::string dotenv_path = ".env";      // a missing file is fine; empty: do not read one
};

// Errors are invalid_argument with a public_message that names the setting (and the file, if the
// value came from one). Values of secret settings never appear in a message.
[[nodiscard]] core::Result<Config> load_config(const std::map<std::string, std::string>& environment,
                                               const LoadOptions& options = {});

std::map<std::string, std::string> process_environment();

// PROVIDER_PRICES: "provider=amount/unit" separated by commas, unit "image" or "mp" (megapixel),
// amount in USD with at most 6 decimals, provider an inference provider or backend name, or "*" for
// any other ("hf-inference=0.003/image,fal-ai=0.0025/mp"). Empty: no prices. The error says what is
// wrong with which entry (the caller names the setting).
[[nodiscard]] core::Result<core::PriceList> parse_provider_prices(std::string_view text);
// "hf-inference=$0.0030/image, fal-ai=$0.0025/mp", or "(none)".
std::string describe_prices(const core::PriceList& prices);

// (setting, printable value) in .env.example order, for a start-up log line. Secrets are redacted
// and DATABASE_URL is shown without credentials or query parameters.
std::vector<std::pair<std::string, std::string>> describe(const Config& config);

// "postgresql://user:pw@host:5432/db?sslmode=require" -> "postgresql://host:5432/db";
// sqlite URLs are returned unchanged.
std::string redact_database_url(std::string_view url);

}  // namespace igb::config
