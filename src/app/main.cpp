// imggenbot: the one executable. Parses the command line, loads configuration, wires the services
// and runs the chosen role or operator command. Exceptions end here (exit 1) with a log line.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include <sys/stat.h>

#include "cli/admin.hpp"
#include "cli/doctor.hpp"
#include "cli/generate_command.hpp"
#include "cli/healthcheck.hpp"
#include "app/serve.hpp"
#include "app/wiring.hpp"
#include "core/admin.hpp"
#include "storage/migrations.hpp"
#include "storage/store.hpp"

namespace {

using namespace igb;

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("imggenbot");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
}

}  // namespace

int main(int argc, char** argv) {
  // What this process creates (the SQLite database and its journal, images, their folders) is for
  // its own user only: users' images and the ledger are not for every account on the host.
  ::umask(0077);
  CLI::App cli{"ImgGenBot: text-to-image generation through a Telegram bot and an HTTP API", "imggenbot"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", "imggenbot 0.1.0");
  std::string config_file;
  std::string env_file = ".env";
  cli.add_option("--config", config_file, "TOML configuration file (else IMGGENBOT_CONFIG)");
  cli.add_option("--env-file", env_file, "File of KEY=value settings read before the environment")
      ->capture_default_str();

  auto* serve_cmd = cli.add_subcommand("serve", "Run every role in one process: HTTP API, Telegram bot, workers");
  auto* api_cmd = cli.add_subcommand("api", "Run the HTTP API only");
  auto* bot_cmd = cli.add_subcommand("bot", "Run the Telegram bot only");
  auto* worker_cmd = cli.add_subcommand("worker", "Run generation workers only");
  cli::GenerateCommand gen_cmd_opts;
  auto* generate_cmd = cli.add_subcommand("generate", "Make one image through the configured backends, to a file");
  generate_cmd->add_option("prompt", gen_cmd_opts.prompt, "What to draw")->required();
  generate_cmd->add_option("-o,--output", gen_cmd_opts.output, "Output file")->capture_default_str();
  generate_cmd->add_option("--width", gen_cmd_opts.width, "Width in pixels (multiple of 16)")->capture_default_str();
  generate_cmd->add_option("--height", gen_cmd_opts.height, "Height in pixels (multiple of 16)")->capture_default_str();
  generate_cmd->add_option("--steps", gen_cmd_opts.steps, "Inference steps (FLUX.1-schnell: 1-4)")
      ->capture_default_str();
  generate_cmd->add_option("--seed", gen_cmd_opts.seed, "Seed (random if not given)");
  generate_cmd->add_option("--style", gen_cmd_opts.style, "Style preset");
  cli::DoctorOptions doctor_opts;
  auto* doctor_cmd = cli.add_subcommand(
      "doctor", "Check the settings against the real services: what works, what to fix (exit 0: all needed works)");
  doctor_cmd->add_flag("--generate", doctor_opts.generate, "Also make one small image through the backends");
  auto* migrate_cmd = cli.add_subcommand("migrate", "Apply pending database migrations and exit");
  auto* config_cmd = cli.add_subcommand("config", "Print the effective configuration (secrets redacted)");
  auto* stats_cmd = cli.add_subcommand(
      "stats", "Print users, subscribers, images today, revenue this month, queue, and the margins per day and plan");
  int stats_days = core::kStatsDays;
  stats_cmd
      ->add_option("--days", stats_days,
                   "UTC days of margins to show, today included (1-" + std::to_string(core::kMaxStatsDays) + ")")
      ->check(CLI::Range(1, core::kMaxStatsDays))
      ->capture_default_str();
  std::string broadcast_text, charge_id;
  auto* broadcast_cmd = cli.add_subcommand("broadcast", "Queue a message to every user; the running bot sends it");
  broadcast_cmd->add_option("--text", broadcast_text, "The message (up to 4096 characters)")->required();
  auto* payment_cmd = cli.add_subcommand("payment", "Operator commands on payments")->require_subcommand(1);
  auto* payment_refund = payment_cmd->add_subcommand("refund", "Give a Stars payment back and revoke what it bought");
  payment_refund->add_option("--charge-id", charge_id, "telegram_payment_charge_id of the payment")->required();
  std::string health_url;
  auto* health_cmd = cli.add_subcommand("healthcheck", "Exit 0 if the HTTP API's /healthz answers (container checks)");
  health_cmd->add_option("--url", health_url, "URL to check (default: /healthz on HTTP_LISTEN)");

  std::int64_t telegram_id = 0;
  std::string plan, name, key_id;
  int days = 30;
  auto* user_cmd = cli.add_subcommand("user", "Operator commands on a user")->require_subcommand(1);
  auto* user_show = user_cmd->add_subcommand("show", "Plan, quota and flags of a user");
  auto* user_ban = user_cmd->add_subcommand("ban", "Ban a user from generating");
  auto* user_unban = user_cmd->add_subcommand("unban", "Lift a ban");
  auto* user_grant = user_cmd->add_subcommand("grant", "Give a user a paid plan for some days");
  for (auto* c : {user_show, user_ban, user_unban, user_grant}) {
    c->add_option("--telegram-id", telegram_id, "The user's Telegram id")->required();
  }
  user_grant->add_option("--plan", plan, "Plan id, e.g. basic or pro")->required();
  user_grant->add_option("--days", days, "Length of the grant")->capture_default_str();

  auto* key_cmd = cli.add_subcommand("apikey", "Issue, revoke and list HTTP API keys")->require_subcommand(1);
  auto* key_create = key_cmd->add_subcommand("create", "Print a new API key for a user (shown once)");
  auto* key_revoke = key_cmd->add_subcommand("revoke", "Revoke one of a user's keys");
  auto* key_list = key_cmd->add_subcommand("list", "List a user's keys (never the secrets)");
  for (auto* c : {key_create, key_revoke, key_list}) {
    c->add_option("--telegram-id", telegram_id, "The owner's Telegram id")->required();
  }
  key_create->add_option("--name", name, "A label for the key");
  key_revoke->add_option("--key-id", key_id, "The key's id (k_…)")->required();

  CLI11_PARSE(cli, argc, argv);

  auto loaded = config::load_config(
      config::process_environment(),
      {.toml_path = config_file.empty() ? std::nullopt : std::optional(config_file), .dotenv_path = env_file});
  if (!loaded) {
    std::cerr << "imggenbot: configuration error: " << loaded.error().public_message << "\n";
    return 2;
  }
  auto plans = core::PlanCatalog::create(loaded->plans);
  if (!plans) {
    std::cerr << "imggenbot: configuration error: " << plans.error().public_message << "\n";
    return 2;
  }
  setup_logging(loaded->log_level);

  if (config_cmd->parsed()) {
    for (const auto& [k, v] : config::describe(*loaded)) std::cout << k << "=" << v << "\n";
    return 0;
  }
  if (health_cmd->parsed()) {
    return cli::run_healthcheck(health_url.empty() ? cli::default_healthcheck_url(loaded->http_listen) : health_url,
                                std::chrono::seconds(5), std::cerr);
  }
  if (doctor_cmd->parsed()) {
    try {
      return cli::run_doctor(*loaded, *plans, doctor_opts, std::cout, std::cerr);
    } catch (const std::exception& e) {
      spdlog::critical("doctor: {}", e.what());
      return 1;
    }
  }
  if (bot_cmd->parsed() && loaded->telegram_bot_token.empty()) {
    std::cerr << "imggenbot bot: TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)\n";
    return 2;
  }

  try {
    if (migrate_cmd->parsed()) {
      auto conn = storage::open_connection(storage::parse_database_url(loaded->database_url));
      int applied = storage::migrate(*conn);
      std::cout << "applied " << applied << " migration(s); schema version " << storage::schema_version(*conn) << "\n";
      return 0;
    }
    for (const auto& [k, v] : config::describe(*loaded)) spdlog::debug("setting {}={}", k, v);
    auto services = app::wire(std::move(*loaded), std::move(*plans));
    if (serve_cmd->parsed()) return app::serve(*services, {});
    if (worker_cmd->parsed()) return app::serve(*services, {.api = false, .bot = false, .workers = true});
    if (api_cmd->parsed()) return app::serve(*services, {.api = true, .bot = false, .workers = false});
    if (bot_cmd->parsed()) return app::serve(*services, {.api = false, .bot = true, .workers = false});
    if (generate_cmd->parsed()) return cli::run_generate(*services, gen_cmd_opts);
    if (stats_cmd->parsed()) return cli::admin_stats(*services, stats_days, std::cout);
    if (broadcast_cmd->parsed()) return cli::admin_broadcast(*services, broadcast_text, std::cout, std::cerr);
    if (payment_refund->parsed()) return cli::admin_refund(*services, charge_id, std::cout, std::cerr);
    if (user_show->parsed()) return cli::admin_user_show(*services, telegram_id, std::cout, std::cerr);
    if (user_ban->parsed()) return cli::admin_user_ban(*services, telegram_id, true, std::cout, std::cerr);
    if (user_unban->parsed()) return cli::admin_user_ban(*services, telegram_id, false, std::cout, std::cerr);
    if (user_grant->parsed()) return cli::admin_user_grant(*services, telegram_id, plan, days, std::cout, std::cerr);
    if (key_create->parsed()) return cli::admin_apikey_create(*services, telegram_id, name, std::cout, std::cerr);
    if (key_revoke->parsed()) return cli::admin_apikey_revoke(*services, telegram_id, key_id, std::cout, std::cerr);
    if (key_list->parsed()) return cli::admin_apikey_list(*services, telegram_id, std::cout, std::cerr);
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  return 0;
}
