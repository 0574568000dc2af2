#include "cli/doctor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <set>

#include "cli/generate_command.hpp"
#include "app/generation.hpp"
#include "gen/hf_mapping.hpp"
#include "gen/hf_providers.hpp"
#include "gen/http_util.hpp"
#include "http/client.hpp"
#include "imaging/decode.hpp"
#include "storage/migrations.hpp"
#include "storage/store.hpp"
#include "usecases/billing.hpp"
#include "telegram/bot_api.hpp"

// The Hub endpoints, as the official clients call them:
//   whoami      GET {hub}/api/whoami-v2 with the token as Bearer: huggingface/huggingface_hub
//               src/huggingface_hub/hf_api.py (HfApi.whoami) and huggingface/huggingface.js
//               packages/hub/src/lib/who-am-i.ts. 200: {"type":"user","name":…,"auth":{"type":
//               "access_token","accessToken":{"displayName":…,"role":"read"|"write"|"fineGrained",
//               "fineGrained":{"global":[…],"scoped":[{"permissions":[…]}]}}}}; 401 for a bad token.
//               Calling Inference Providers with a fine-grained token takes the permission
//               "inference.serverless.write" ("Make calls to Inference Providers" in the token form;
//               the Hugging Face docs link to settings/tokens/new?ownUserPermissions=inference.serverless.write).
//   auth-check  GET {hub}/api/models/{repo_id}/auth-check: huggingface_hub HfApi.auth_check (200: the
//               token may read the repo; 401/403: gated and not accepted, GatedRepoError; 404: no such
//               repo). huggingface.js packages/hub/src/lib/check-repo-access.ts reads the same statuses.
//               (The stored copy of hf_api.py predates auth_check; the path and statuses are those the
//               brief and huggingface.js give.)
//   mapping     gen::fetch_provider_mapping (hf_mapping.hpp cites its sources).
// OpenAI-compatible servers: GET {base}/v1/models, which OpenAI, Together, LocalAI and
// stable-diffusion.cpp's server all answer (the last with the one id "sd-cpp-local").

namespace igb::cli {

namespace json = boost::json;
namespace net = boost::asio;

namespace {

// Prints the lines and counts the problems. Every line goes through redact(): whatever a server or a
// library puts into a message, a secret of the configuration never reaches the terminal.
class Report {
 public:
  Report(std::ostream& out, std::vector<std::string> secrets) : out_(out), secrets_(std::move(secrets)) {
    std::erase_if(secrets_, [](const std::string& s) { return s.size() < 4; });
  }
  void ok(std::string_view what, const std::string& text) { line("ok  ", what, text); }
  void fix(std::string_view what, const std::string& text) {
    ++problems_;
    line("FIX ", what, text);
  }
  void skip(std::string_view what, const std::string& text) { line("--  ", what, text); }
  int problems() const { return problems_; }
  std::string redact(std::string text) const {
    for (const auto& s : secrets_) {
      for (auto at = text.find(s); at != std::string::npos; at = text.find(s, at))
        text.replace(at, s.size(), "(secret)");
    }
    for (auto& c : text) {
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return text;
  }

 private:
  void line(std::string_view tag, std::string_view what, const std::string& text) {
    out_ << tag << what << ": " << redact(text) << std::endl;
  }
  std::ostream& out_;
  std::vector<std::string> secrets_;
  int problems_ = 0;
};

struct Fetched {
  std::optional<http::Response> response;
  std::string error;  // when there is no response: why (scheme, host and port only)
};

net::awaitable<Fetched> get(http::Client& client, std::string url, std::string bearer,
                            std::chrono::milliseconds timeout) {
  http::Request req{.url = std::move(url), .timeout = timeout, .max_response_bytes = std::size_t{4} * 1024 * 1024};
  req.headers.emplace_back("Accept", "application/json");
  if (!bearer.empty()) req.headers.emplace_back("Authorization", "Bearer " + bearer);
  Fetched out;
  try {
    auto res = co_await client.send(std::move(req));
    out.response = std::move(res);
  } catch (const http::TransportError& e) {
    out.error = e.what();
  } catch (const std::invalid_argument&) {
    out.error = "not a valid http(s) URL";
  }
  co_return out;
}

std::string json_string(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The message of an error answer ({"error": "…"} or {"error": {"message": "…"}}), else a snippet.
std::string error_text(const http::Response& res) {
  boost::system::error_code ec;
  auto doc = json::parse(res.body, ec);
  if (!ec && doc.is_object()) {
    const auto& o = doc.as_object();
    if (const auto* e = o.if_contains("error"); e != nullptr) {
      if (e->is_string()) return gen::snippet(std::string(e->as_string()));
      if (e->is_object()) return gen::snippet(json_string(e->as_object(), "message"));
    }
  }
  return gen::snippet(res.body);
}

net::awaitable<void> check_telegram(const config::Config& c, std::chrono::milliseconds timeout, Report& report) {
  constexpr std::string_view kWhat = "Telegram bot token";
  if (c.telegram_bot_token.empty()) {
    report.fix(kWhat, "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather (/newbot) and put its token there.");
    co_return;
  }
  const auto executor = co_await net::this_coro::executor;
  auto client = http::make_client(executor);
  auto api = telegram::make_http_bot_api(
      *client, {.base_url = c.telegram_api_base,
                .token = c.telegram_bot_token.value(),
                .request_timeout = std::chrono::duration_cast<std::chrono::seconds>(timeout)});
  auto me = co_await api->get_me();
  if (me) {
    report.ok(kWhat, "works; the bot is @" + me->username + " (id " + std::to_string(me->id) + ")");
    co_return;
  }
  const auto& e = me.error();
  using Kind = telegram::ApiError::Kind;
  switch (e.kind) {
    case Kind::unauthorized:
      report.fix(kWhat,
                 "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): the token is wrong or was revoked. "
                 "Copy it again from @BotFather (/mybots, API Token).");
      break;
    case Kind::not_found:
      report.fix(kWhat,
                 "Telegram does not know this token (404): check TELEGRAM_BOT_TOKEN has the form "
                 "123456789:AA… as @BotFather gives it.");
      break;
    case Kind::network:
      report.fix(kWhat, "cannot reach Telegram at " + c.telegram_api_base + " (" + e.description +
                            "). Check the network, a proxy (HTTPS_PROXY) or TELEGRAM_API_BASE.");
      break;
    default:
      report.fix(kWhat, "Telegram answered " + std::to_string(e.error_code) + " " + e.description +
                            "; try again later, or check TELEGRAM_API_BASE.");
  }
}

// The permissions of a fine-grained token, from whoami-v2's auth.accessToken.fineGrained.
std::set<std::string> fine_grained_permissions(const json::object& access_token) {
  std::set<std::string> out;
  const auto* fg = access_token.if_contains("fineGrained");
  if (fg == nullptr || !fg->is_object()) return out;
  auto add_all = [&](const json::value* list) {
    if (list == nullptr || !list->is_array()) return;
    for (const auto& p : list->as_array()) {
      if (p.is_string()) out.insert(std::string(p.as_string()));
    }
  };
  add_all(fg->as_object().if_contains("global"));
  if (const auto* scoped = fg->as_object().if_contains("scoped"); scoped != nullptr && scoped->is_array()) {
    for (const auto& s : scoped->as_array()) {
      if (s.is_object()) add_all(s.as_object().if_contains("permissions"));
    }
  }
  return out;
}

// The Hugging Face checks of one backend: its token, then (with a working token) the model's access
// and its provider mapping.
net::awaitable<void> check_hf_backend(const config::Config& c, const config::BackendConfig& b,
                                      std::chrono::milliseconds timeout, bool several, Report& report) {
  const std::string suffix = several ? " (" + b.name + ")" : "";
  const std::string token_what = "Hugging Face token" + suffix;
  const std::string model_what = "Model access" + suffix;
  const std::string mapping_what = "Inference providers" + suffix;
  const std::string env = b.api_key_env.empty() ? "HF_TOKEN" : b.api_key_env;
  const std::string tokens_page = "https://huggingface.co/settings/tokens";
  if (b.api_key.empty()) {
    report.fix(token_what, env +
                               " is not set. Make a fine-grained token with \"Make calls to Inference Providers\" at " +
                               tokens_page + " and set " + env + ".");
    report.skip(model_what, "skipped: needs a working token");
    report.skip(mapping_what, "skipped: needs a working token");
    co_return;
  }
  const auto executor = co_await net::this_coro::executor;
  auto client = http::make_client(executor);
  const std::string token = b.api_key.value();

  // Every argument named first: GCC 12 destroys temporaries made inside a co_await expression twice.
  std::string whoami_url = c.hf_hub_base + "/api/whoami-v2";
  std::string bearer = token;
  auto who = co_await get(*client, std::move(whoami_url), std::move(bearer), timeout);
  bool token_ok = false;
  if (!who.response) {
    report.fix(token_what, "cannot reach the Hugging Face Hub at " + c.hf_hub_base + " (" + who.error +
                               "). Check the network, a proxy (HTTPS_PROXY) or HF_HUB_BASE.");
  } else if (who.response->status == 401 || who.response->status == 403) {
    report.fix(token_what, "Hugging Face refused " + env + " (HTTP " + std::to_string(who.response->status) + ": " +
                               error_text(*who.response) + "): the token is wrong or was deleted. Make a new one at " +
                               tokens_page + ".");
  } else if (who.response->status != 200) {
    report.fix(token_what, "the Hub answered HTTP " + std::to_string(who.response->status) + " to whoami (" +
                               error_text(*who.response) + "); try again later.");
  } else {
    boost::system::error_code ec;
    auto doc = json::parse(who.response->body, ec);
    if (ec || !doc.is_object()) {
      report.fix(token_what, "the Hub's whoami answer is not JSON; check HF_HUB_BASE points at the Hub.");
    } else {
      const auto& o = doc.as_object();
      std::string role;
      std::set<std::string> permissions;
      if (const auto* auth = o.if_contains("auth"); auth != nullptr && auth->is_object()) {
        if (const auto* at = auth->as_object().if_contains("accessToken"); at != nullptr && at->is_object()) {
          role = json_string(at->as_object(), "role");
          permissions = fine_grained_permissions(at->as_object());
        }
      }
      const std::string owner = json_string(o, "name");
      if (role == "fineGrained" && !permissions.contains("inference.serverless.write")) {
        report.fix(token_what, env + " (a fine-grained token of " + owner +
                                   ") lacks the permission \"Make calls to Inference Providers\": tick it when editing "
                                   "the token at " +
                                   tokens_page + ".");
      } else {
        token_ok = true;
        report.ok(token_what, env + " works; it belongs to " + (owner.empty() ? "an account" : owner) +
                                  (role.empty() ? "" : " (" + role + " token)"));
      }
    }
  }
  if (!token_ok) {
    report.skip(model_what, "skipped: needs a working token");
    report.skip(mapping_what, "skipped: needs a working token");
    co_return;
  }

  std::string auth_check_url = c.hf_hub_base + "/api/models/" + b.model + "/auth-check";
  bearer = token;
  auto access = co_await get(*client, std::move(auth_check_url), std::move(bearer), timeout);
  if (!access.response) {
    report.fix(model_what, "cannot reach the Hub (" + access.error + ")");
  } else if (access.response->status == 200) {
    report.ok(model_what, "the token may use " + b.model);
  } else if (access.response->status == 401 || access.response->status == 403) {
    report.fix(model_what, b.model +
                               " is gated and this account has not accepted its conditions: open "
                               "https://huggingface.co/" +
                               b.model + ", accept them with the account of " + env + ", then run doctor again.");
  } else if (access.response->status == 404) {
    report.fix(model_what, "the Hub has no model " + b.model + " (or it is private): check HF_MODEL.");
  } else {
    report.fix(model_what, "the Hub answered HTTP " + std::to_string(access.response->status) + " (" +
                               error_text(*access.response) + "); try again later.");
  }

  gen::HubOptions hub{.hub_base = c.hf_hub_base, .token = token, .timeout = timeout};
  std::string model = b.model;
  auto mapping = co_await gen::fetch_provider_mapping(*client, std::move(hub), std::move(model));
  if (!mapping) {
    report.fix(mapping_what, mapping.error().public_message);
    co_return;
  }
  const auto pinned = gen::parse_provider_list(c.hf_provider);
  const auto usable = gen::usable_providers(*mapping, pinned);
  std::string ours, theirs;
  for (const auto& m : usable) {
    if (gen::has_adapter(m.provider)) {
      ours += (ours.empty() ? "" : ", ") + m.provider;
    } else {
      theirs += (theirs.empty() ? "" : ", ") + m.provider;
    }
  }
  std::string listed;
  for (const auto& m : *mapping) listed += (listed.empty() ? "" : ", ") + m.provider + " (" + m.status + ")";
  if (!ours.empty()) {
    report.ok(mapping_what, b.model + " is served live by " + ours +
                                (theirs.empty() ? "" : "; not usable here (no adapter): " + theirs));
  } else if (!pinned.empty()) {
    report.fix(mapping_what, "none of HF_PROVIDER=" + c.hf_provider + " serves " + b.model +
                                 " live for text-to-image. The Hub lists: " + (listed.empty() ? "nothing" : listed) +
                                 ". Set HF_PROVIDER=auto or to one of those.");
  } else {
    report.fix(mapping_what, "no provider serves " + b.model +
                                 " live for text-to-image with an adapter here (the Hub "
                                 "lists: " +
                                 (listed.empty() ? "nothing" : listed) + "). Choose another HF_MODEL.");
  }
}

net::awaitable<void> check_openai_backend(const config::BackendConfig& b, std::chrono::milliseconds timeout,
                                          Report& report) {
  const std::string what = "Backend " + b.name + " (" + b.flavor + ")";
  if (b.api_key.empty() && !b.api_key_env.empty()) {
    report.fix(what, b.api_key_env + " is not set: put the key of " + b.base_url + " there.");
    co_return;
  }
  const auto executor = co_await net::this_coro::executor;
  auto client = http::make_client(executor);
  std::string models_url = b.base_url + "/v1/models";
  std::string key = b.api_key.value();
  auto res = co_await get(*client, std::move(models_url), std::move(key), timeout);
  if (!res.response) {
    report.fix(what, "cannot reach " + b.base_url + " (" + res.error + "). Is the server running? Check base_url.");
    co_return;
  }
  const int status = res.response->status;
  if (status == 401 || status == 403) {
    report.fix(what, b.base_url + " refused the key" + (b.api_key_env.empty() ? "" : " in " + b.api_key_env) +
                         " (HTTP " + std::to_string(status) + ": " + error_text(*res.response) + "). Check the key.");
    co_return;
  }
  if (status == 404) {
    report.ok(what, b.base_url + " answers (it has no /v1/models list to check " + b.model + " against)");
    co_return;
  }
  if (status != 200) {
    report.fix(what, b.base_url + " answered HTTP " + std::to_string(status) + " (" + error_text(*res.response) + ")");
    co_return;
  }
  // {"data":[{"id":…}]} (OpenAI, LocalAI, stable-diffusion.cpp) or a bare list (Together).
  std::vector<std::string> ids;
  boost::system::error_code ec;
  auto doc = json::parse(res.response->body, ec);
  const json::array* list = nullptr;
  if (!ec && doc.is_array()) list = &doc.as_array();
  if (!ec && doc.is_object()) {
    if (const auto* d = doc.as_object().if_contains("data"); d != nullptr && d->is_array()) list = &d->as_array();
  }
  if (list != nullptr) {
    for (const auto& m : *list) {
      if (m.is_object()) {
        if (auto id = json_string(m.as_object(), "id"); !id.empty()) ids.push_back(std::move(id));
      }
    }
  }
  if (b.flavor == "sdcpp") {
    report.ok(what, b.base_url + " answers (stable-diffusion.cpp serves the one model it was started with)");
  } else if (std::find(ids.begin(), ids.end(), b.model) != ids.end()) {
    report.ok(what, b.base_url + " answers, the key works and it offers " + b.model);
  } else if (ids.empty()) {
    report.ok(what, b.base_url + " answers and the key works (its model list could not be read)");
  } else {
    std::string some;
    for (std::size_t i = 0; i < ids.size() && i < 8; ++i) some += (i ? ", " : "") + ids[i];
    report.fix(what, b.base_url + " does not offer " + b.model + " (it lists " + std::to_string(ids.size()) +
                         " models, e.g. " + some + "). Fix model in the [[backends]] table.");
  }
}

void check_database(const config::Config& c, Report& report, bool& stored_payload_secret) {
  constexpr std::string_view kWhat = "Database";
  const std::string shown = config::redact_database_url(c.database_url);
  try {
    auto target = storage::parse_database_url(c.database_url);
    if (target.dialect == storage::Dialect::sqlite && !std::filesystem::exists(target.location)) {
      // Not created here: doctor changes nothing. The first start (or `imggenbot migrate`) creates it.
      auto parent = std::filesystem::absolute(target.location).parent_path();
      while (!parent.empty() && !std::filesystem::exists(parent)) parent = parent.parent_path();
      if (::access(parent.c_str(), W_OK) == 0) {
        report.ok(kWhat, shown + " does not exist yet; imggenbot creates it at start (or run imggenbot migrate)");
      } else {
        report.fix(kWhat, shown + " does not exist and " + parent.string() +
                              " is not writable: fix DATABASE_URL or "
                              "the folder's permissions.");
      }
      return;
    }
    auto conn = storage::open_connection(target);
    const int version = storage::schema_version(*conn);
    const auto& known = storage::embedded_migrations(target.dialect);
    const int latest = known.empty() ? 0 : known.back().version;
    if (version > latest) {
      report.fix(kWhat, shown + " has schema version " + std::to_string(version) + ", newer than this binary knows (" +
                            std::to_string(latest) + "): run the newer imggenbot.");
    } else {
      report.ok(kWhat, shown + " answers; schema version " + std::to_string(version) + " of " + std::to_string(latest) +
                           (version < latest ? " (the rest is applied at start, or by imggenbot migrate)" : ""));
    }
    if (version >= 1) {
      // Whether a generated payload secret is kept there (its value is not read).
      const std::vector<storage::SqlParam> key = {std::string(usecases::kPayloadSecretKey)};
      stored_payload_secret = !conn->query("SELECT 1 FROM settings WHERE key = $1", key).rows.empty();
    }
  } catch (const std::exception& e) {
    report.fix(kWhat, "cannot open " + shown + ": " + e.what() + ". Check DATABASE_URL and that the server is up.");
  }
}

// Which secret signs invoice payloads (usecases::payload_secrets): its source, never its value.
void check_payload_secret(const config::Config& c, bool stored, Report& report) {
  constexpr std::string_view kWhat = "Payment secret";
  if (!c.payload_secret.empty()) {
    report.ok(kWhat, stored ? "PAYMENT_PAYLOAD_SECRET signs invoices; the secret kept in the database still checks "
                              "the ones it signed"
                            : "PAYMENT_PAYLOAD_SECRET signs invoices");
  } else if (stored) {
    report.ok(kWhat, "PAYMENT_PAYLOAD_SECRET is not set; the secret kept in the database signs invoices");
  } else {
    report.ok(kWhat,
              "PAYMENT_PAYLOAD_SECRET is not set; the first start makes a random one and keeps it in the "
              "database");
  }
}

void check_data_dir(const config::Config& c, Report& report) {
  constexpr std::string_view kWhat = "Data directory";
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = c.data_dir;
  if (!fs::exists(dir, ec)) {
    auto parent = fs::absolute(dir, ec).parent_path();
    while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
    if (::access(parent.c_str(), W_OK) == 0) {
      report.ok(kWhat, c.data_dir + " does not exist yet; imggenbot creates it at start");
    } else {
      report.fix(kWhat, c.data_dir + " does not exist and cannot be created (" + parent.string() +
                            " is not writable): fix DATA_DIR or the permissions.");
    }
    return;
  }
  if (!fs::is_directory(dir, ec)) {
    report.fix(kWhat, c.data_dir + " is not a directory: fix DATA_DIR.");
    return;
  }
  const auto probe = dir / (".doctor-" + std::to_string(::getpid()));
  {
    std::ofstream f(probe, std::ios::binary);
    f << "ok";
    if (!f.flush()) {
      report.fix(kWhat, "cannot write in " + c.data_dir + ": fix its permissions (the service stores images there).");
      return;
    }
  }
  fs::remove(probe, ec);
  const auto space = fs::space(dir, ec);
  if (ec) {
    report.ok(kWhat, c.data_dir + " is writable");
    return;
  }
  const double free_gb = static_cast<double>(space.available) / (1024.0 * 1024 * 1024);
  if (space.available < 200ull * 1024 * 1024) {
    report.fix(kWhat,
               fmt::format("{} is writable but only {:.2f} GB are free: images need room.", c.data_dir, free_gb));
  } else {
    report.ok(kWhat, fmt::format("{} is writable, {:.1f} GB free", c.data_dir, free_gb));
  }
}

net::awaitable<void> network_checks(const config::Config& c, DoctorOptions options, Report& report) {
  co_await check_telegram(c, options.timeout, report);
  const auto hf_count =
      std::count_if(c.backends.begin(), c.backends.end(), [](const auto& b) { return b.kind == "hf"; });
  for (const auto& b : c.backends) {
    if (b.kind == "hf") {
      co_await check_hf_backend(c, b, options.timeout, hf_count > 1, report);
    } else {
      co_await check_openai_backend(b, options.timeout, report);
    }
  }
}

}  // namespace

int run_doctor(const config::Config& config, const core::PlanCatalog& plans, const DoctorOptions& options,
               std::ostream& out, std::ostream& progress) {
  std::vector<std::string> secrets = {config.telegram_bot_token.value(), config.hf_token.value(),
                                      config.payload_secret.value()};
  for (const auto& b : config.backends) secrets.push_back(b.api_key.value());
  Report report(out, std::move(secrets));

  {
    net::io_context io;
    auto done = net::co_spawn(io, network_checks(config, options, report), net::use_future);
    io.run();
    done.get();
  }
  bool stored_payload_secret = false;
  check_database(config, report, stored_payload_secret);
  check_payload_secret(config, stored_payload_secret, report);
  check_data_dir(config, report);

  if (options.generate) {
    constexpr std::string_view kWhat = "Test image";
    // The generation side reads only the configuration and the clock: no database is opened.
    app::Services services{.config = config, .plans = plans};
    net::io_context io;
    auto stack = app::build_generation(services, io.get_executor());
    gen::GenerationRequest request{.prompt = "a red apple on a white table, studio photo",
                                   .width = 512,
                                   .height = 512,
                                   .steps = 4,
                                   .seed = static_cast<std::int64_t>(std::random_device{}() % 4294967296ULL)};
    const auto started = std::chrono::steady_clock::now();
    auto future = net::co_spawn(io, generate_with_retries(*stack.router, request, {}, progress), net::use_future);
    io.run();
    auto outcome = future.get();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (const auto* f = std::get_if<gen::GenerationFailure>(&outcome)) {
      report.fix(kWhat, fmt::format("no image ({} via {}: {}). Fix the lines above first.", gen::to_string(f->kind),
                                    f->backend.empty() ? "-" : f->backend, f->detail));
    } else {
      const auto& image = std::get<gen::GeneratedImage>(outcome);
      auto info = imaging::inspect(image.bytes);
      if (!info) {
        report.fix(kWhat, "the answer is not a valid image (" + info.error().internal_detail + ")");
      } else {
        report.ok(kWhat,
                  fmt::format("made a {}x{} {} in {:.1f} s{}", info->width, info->height, imaging::mime_of(info->type),
                              seconds, image.seed_applied ? "" : " (this backend cannot take a seed)"));
      }
    }
  } else {
    report.skip("Test image", "not made; run imggenbot doctor --generate to make one (it may cost a little)");
  }

  if (report.problems() == 0) {
    out << "Everything needed works." << std::endl;
    return 0;
  }
  out << report.problems() << (report.problems() == 1 ? " thing needs" : " things need") << " fixing (the FIX lines)."
      << std::endl;
  return 1;
}

}  // namespace igb::cli
