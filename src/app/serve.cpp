#include "app/serve.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>

#include <unistd.h>

#include <optional>

#include <thread>

#include "api/api.hpp"
#include "api/auth.hpp"
#include "api/errors.hpp"
#include "api/metrics.hpp"
#include "api/submit_batcher.hpp"
#include "bot/bot.hpp"
#include "bot/webhook.hpp"
#include "http/client.hpp"
#include "app/generation.hpp"
#include "app/job_wakeup.hpp"
#include "core/error.hpp"
#include "server/server.hpp"
#include "storage/store.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/scheduler.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/supervisor.hpp"
#include "util/crypto.hpp"
#include "worker/worker.hpp"

namespace igb::app {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// Puts jobs of crashed workers back in the queue. Also watches its own timer: waking up much later
// than asked means something blocked the I/O thread.
net::awaitable<void> maintenance_loop(core::JobService& jobs, runtime::BlockingPool& pool,
                                      std::chrono::milliseconds period) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (true) {
    auto reap = [&jobs] { return jobs.reap_expired_leases(); };
    // The database out of reach for a while (restarting, say) must not stop the process (a failed
    // task does): the next round tries again. tests/e2e/faults_db_test.cpp holds it down 6 s.
    try {
      int reaped = co_await pool.run(reap);
      if (reaped > 0) spdlog::info("requeued or failed {} job(s) whose worker stopped", reaped);
    } catch (...) {
      spdlog::warn("maintenance: {}; trying again in {} ms", core::temporary_or_rethrow(), period.count());
    }
    timer.expires_after(period);
    const auto due = std::chrono::steady_clock::now() + period;
    co_await timer.async_wait(net::use_awaitable);
    const auto late = std::chrono::steady_clock::now() - due;
    if (late > 200ms) {
      spdlog::warn("maintenance timer fired {} ms late: the I/O thread was blocked",
                   std::chrono::duration_cast<std::chrono::milliseconds>(late).count());
    }
  }
}

// For /readyz: a read through the store's own pool (no connection of its own per call). The schema
// was migrated when the store was opened.
std::string database_problem(Services& s) {
  auto tx = s.store->begin(core::TxMode::read);
  (void)tx->get_setting("readyz");
  return "";
}

std::string worker_id() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + util::random_hex(3);
}

}  // namespace

int serve(Services& s, const ServeOptions& options) {
  // With workers in the process everything stays on one thread (the router and the worker are
  // single-threaded). An API-only process uses every core: HTTP connections are spread over this
  // thread's io_context and one more io_context per extra thread, each run by its one thread, so a
  // connection needs no strand and the threads share no queue. Declared before `io`: a handler
  // abandoned in `io` at a hard stop may still hold a connection of theirs.
  const bool has_workers = options.workers && s.config.worker_concurrency > 0;
  const unsigned threads = has_workers ? 1 : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<net::io_context>> http_ios;
  for (unsigned i = 1; i < threads; ++i) http_ios.push_back(std::make_unique<net::io_context>(1));
  net::io_context io(1);  // run by this thread only
  // Supervision, signals, workers, the bot and the provider router live on one strand.
  auto control = net::make_strand(io);
  runtime::BlockingPool pool(static_cast<std::size_t>(s.config.db_pool_size));
  runtime::Supervisor supervisor(control);
  int exit_code = 0;

  std::optional<GenerationStack> generation;
  std::optional<worker::Worker> workers;
  std::unique_ptr<api::Metrics> metrics;
  std::unique_ptr<imaging::ImageStore> api_images;  // an API-only process reads images too
  std::optional<api::ApiContext> api_ctx;
  std::unique_ptr<server::Server> http_server;
  // The bot: its own HTTP client (proxies from the environment), Bot API client, send scheduler.
  std::unique_ptr<http::Client> tg_http;
  std::unique_ptr<telegram::BotApi> tg_api;
  std::optional<telegram::SendScheduler> tg_scheduler;
  std::optional<bot::Catalogs> texts;
  std::optional<bot::StarsBilling> billing;  // selling plans: the bot and POST/DELETE /v1/subscription
  std::unique_ptr<imaging::ImageStore> bot_images;
  std::unique_ptr<bot::Bot> the_bot;
  std::optional<bot::WebhookContext> webhook;

  net::signal_set signals(control, SIGINT, SIGTERM);
  net::steady_timer grace_timer(control);
  bool stopping = false;
  auto shutdown = [&](const std::string& why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("shutting down ({})", why);
    signals.cancel();
    if (workers) {
      // Workers finish the job in hand (within the grace period) and claim nothing new; the other
      // tasks stop now.
      workers->drain();
      supervisor.cancel_all_except("worker-slot-");
    } else {
      supervisor.cancel_all();
    }
    if (http_server) {
      supervisor.spawn("http-shutdown", http_server->shutdown(std::chrono::seconds(s.config.shutdown_grace_seconds)));
    }
    // Whatever has not finished when the grace period ends is canceled; a worker hands its job
    // back to the queue.
    grace_timer.expires_after(std::chrono::seconds(s.config.shutdown_grace_seconds));
    grace_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      spdlog::warn("{} task(s) still running after the grace period; handing their jobs back", supervisor.running());
      supervisor.cancel_all();
      // A task that ignores cancellation cannot hold the process: stop hard shortly after.
      grace_timer.expires_after(std::chrono::seconds(2));
      grace_timer.async_wait([&](const boost::system::error_code& ec2) {
        if (!ec2) io.stop();
      });
    });
  };
  supervisor.on_idle([&] {
    if (stopping) grace_timer.cancel();
  });
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (!ec) shutdown(signo == SIGINT ? "SIGINT" : "SIGTERM");
  });
  supervisor.on_failure([&](const std::string& task) {
    exit_code = 1;
    shutdown("task " + task + " failed");
  });

  supervisor.spawn("maintenance", maintenance_loop(*s.jobs, pool, 5s));

  if (has_workers) {
    generation = build_generation(s, control);
    // On PostgreSQL other processes' jobs arrive by NOTIFY; polling is only the fallback there.
    const bool listen = storage::parse_database_url(s.config.database_url).dialect == storage::Dialect::postgres;
    workers.emplace(*s.jobs, pool, *generation->router, *generation->images, s.clock,
                    worker::WorkerOptions{.id = worker_id(), .idle_poll = listen ? 2s : 500ms});
    for (int i = 0; i < s.config.worker_concurrency; ++i) {
      supervisor.spawn("worker-slot-" + std::to_string(i), workers->run_slot());
    }
    // Reads each Hugging Face backend's provider mapping now (logging the providers it resolves),
    // then keeps it fresh in the background.
    if (generation->refresh_providers) supervisor.spawn("hf-providers", generation->refresh_providers(), false);
    spdlog::info("worker {}: {} generation slot(s) over {} backend(s)", workers->id(), s.config.worker_concurrency,
                 s.config.backends.size());
  }
  // One group commit for the API's and the bot's submissions.
  auto submits = std::make_shared<api::SubmitBatcher>(*s.jobs, pool);
  const bool run_bot = options.bot && !s.config.telegram_bot_token.empty();
  if ((run_bot || options.api) && !s.config.telegram_bot_token.empty()) {
    tg_http = http::make_client(control, {.proxy = http::proxy_from_env()});
    tg_api = telegram::make_http_bot_api(
        *tg_http, {.base_url = s.config.telegram_api_base, .token = s.config.telegram_bot_token.value()});
    texts.emplace(bot::Catalogs::embedded());
    // Start-up, before the loop runs: one transaction (like the webhook secret below). Never logged.
    auto secrets = usecases::payload_secrets(*s.store, s.config.payload_secret.value());
    spdlog::info("payments: invoice payloads signed with {}", usecases::describe(secrets));
    billing.emplace(control, *tg_api, *s.store, *s.payments, s.plans, pool, *texts, std::move(secrets));
  }
  if (run_bot) {
    tg_scheduler.emplace(control, telegram::SchedulerOptions{});
    if (!generation) bot_images = imaging::make_file_image_store(s.config.data_dir);
    the_bot = std::make_unique<bot::Bot>(bot::BotDeps{.executor = control,
                                                      .api = *tg_api,
                                                      .scheduler = *tg_scheduler,
                                                      .store = *s.store,
                                                      .accounts = *s.accounts,
                                                      .quota = *s.quota,
                                                      .jobs = *s.jobs,
                                                      .plans = s.plans,
                                                      .images = generation ? *generation->images : *bot_images,
                                                      .pool = pool,
                                                      .supervisor = supervisor,
                                                      .clock = s.clock,
                                                      .texts = *texts,
                                                      .payments = *s.payments,
                                                      .billing = *billing,
                                                      .admin = *s.admin,
                                                      .notices = *s.notices,
                                                      .job_queued =
                                                          [&workers] {
                                                            if (workers) workers->notify();
                                                          },
                                                      .submits = submits},
                                         bot::BotOptions{.admin_ids = s.config.admin_telegram_ids});
    std::string secret = s.config.telegram_webhook_url.empty() ? "" : bot::webhook_secret(*s.store);
    supervisor.spawn("bot-receive", the_bot->run_receiving(s.config.telegram_webhook_url, secret));
    supervisor.spawn("bot-inbox", the_bot->run_inbox());
    supervisor.spawn("bot-delivery", the_bot->run_delivery());
    supervisor.spawn("bot-notices", the_bot->run_notices());
    supervisor.spawn("bot-broadcasts", the_bot->run_broadcasts());
    spdlog::info("Telegram bot: {}", s.config.telegram_webhook_url.empty() ? "long polling" : "webhook");
  } else if (options.bot && !options.api) {
    spdlog::warn("TELEGRAM_BOT_TOKEN is not set: the bot does not run");
  }
  if (options.api) {
    metrics = std::make_unique<api::Metrics>();
    if (!generation) api_images = imaging::make_file_image_store(s.config.data_dir);
    if (generation) {
      generation->router->observe(
          [m = metrics.get()](const std::string& backend, const std::string& outcome, std::chrono::nanoseconds took) {
            m->record_provider_call(backend, outcome, took);
          });
    }
    api_ctx.emplace(api::ApiContext{
        .accounts = *s.accounts,
        .jobs = *s.jobs,
        .quota = *s.quota,
        .payments = *s.payments,
        .plans = s.plans,
        .store = *s.store,
        .clock = s.clock,
        .pool = pool,
        .images = generation ? *generation->images : *api_images,
        .metrics = *metrics,
        .router = generation ? generation->router.get() : nullptr,
        .job_queued =
            [&control, &workers] {
              if (workers) net::post(control, [&workers] { workers->notify(); });
            },
        .gateway = billing ? &billing->gateway() : nullptr,
        .keys = std::make_shared<api::KeyCache>(),
        .limiter = std::make_shared<api::RateLimiter>(s.config.api_rate_per_minute, s.config.api_rate_burst),
        .lookup_limiter = std::make_shared<api::RateLimiter>(api::kKeyLookupsPerMinute, api::kKeyLookupsBurst),
        .submits = submits,
        .changes = s.changes});
    auto routes = api::build_routes(*api_ctx, [&s] { return database_problem(s); });
    if (!s.config.telegram_webhook_url.empty()) {
      webhook.emplace(
          bot::WebhookContext{.store = *s.store, .pool = pool, .clock = s.clock, .stored = [&control, &the_bot] {
                                if (the_bot) net::post(control, [&the_bot] { the_bot->wake_inbox(); });
                              }});
      bot::add_webhook_route(*routes, *webhook);
    }
    std::vector<net::any_io_executor> connection_executors{io.get_executor()};
    for (auto& ctx : http_ios) connection_executors.emplace_back(ctx->get_executor());
    http_server = std::make_unique<server::Server>(
        io.get_executor(),
        server::ServerOptions{
            .host = s.config.http_listen.host,
            .port = s.config.http_listen.port,
            .max_connections = static_cast<std::size_t>(s.config.http_max_connections),
            .on_request = [m = metrics.get()](const server::RequestRecord& r) { m->record_request(r); },
            .on_exception = api::answer_exception},
        routes, std::move(connection_executors));
    http_server->start();
    spdlog::info("HTTP API on http://{}:{}",
                 s.config.http_listen.host.find(':') == std::string::npos ? s.config.http_listen.host
                                                                          : "[" + s.config.http_listen.host + "]",
                 http_server->port());
  }
  // On PostgreSQL other processes' jobs reach this one by NOTIFY: queued ones wake the workers,
  // changed ones the status streams.
  if (storage::parse_database_url(s.config.database_url).dialect == storage::Dialect::postgres &&
      (workers || http_server)) {
    auto changes = s.changes;
    JobEvents events{.queued =
                         [&workers] {
                           if (workers) workers->notify();
                         },
                     .resync =
                         [&workers, changes] {
                           if (workers) workers->notify();
                           changes->publish_all();
                         }};
    if (http_server) {
      events.changed = [changes](std::string_view id) {
        changes->publish(id);
        changes->publish(runtime::ChangeFeed::kQueue);
      };
    }
    supervisor.spawn("job-wakeup", listen_for_jobs({.database_url = s.config.database_url}, pool, std::move(events)),
                     /*critical=*/false);
  }
  spdlog::info("imggenbot is up (database {}); Ctrl-C to stop", config::redact_database_url(s.config.database_url));

  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::vector<std::thread> extra;
  for (auto& ctx : http_ios) {
    keep_running.emplace_back(ctx->get_executor());
    extra.emplace_back([&ctx] { ctx->run(); });
  }
  io.run();
  // The server has shut down (or the grace period ran out): nothing of theirs is worth waiting for.
  keep_running.clear();
  for (auto& ctx : http_ios) ctx->stop();
  for (auto& t : extra) t.join();
  pool.stop();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace igb::app
