#include "app/serve.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <thread>
#include <vector>

#include "app/job_wakeup.hpp"
#include "app/roles.hpp"
#include "app/wire_api.hpp"
#include "app/wire_bot.hpp"
#include "app/wire_workers.hpp"
#include "bot/webhook.hpp"
#include "core/error.hpp"
#include "http/client.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/supervisor.hpp"
#include "storage/store.hpp"

namespace igb::app {
namespace {

namespace net = boost::asio;

// PROMPT_ASSISTANT_*: off without a model; the key defaults to HF_TOKEN (the router's own).
std::optional<assist::AssistantOptions> assistant_options(const config::Config& c) {
  if (c.prompt_assistant_model.empty()) return std::nullopt;
  const auto& key = c.prompt_assistant_token.empty() ? c.hf_token : c.prompt_assistant_token;
  return assist::AssistantOptions{.chat = {.base_url = c.prompt_assistant_url,
                                           .api_key = key.value(),
                                           .model = c.prompt_assistant_model,
                                           .timeout = std::chrono::milliseconds(c.prompt_assistant_timeout_ms)}};
}
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
  const Core core = core_of(s);
  const Runtime rt{.control = control,
                   .pool = pool,
                   .supervisor = supervisor,
                   .submits = std::make_shared<usecases::SubmitBatcher>(*s.jobs, pool)};

  std::unique_ptr<WorkersRole> workers;
  std::unique_ptr<TelegramSide> telegram;
  std::unique_ptr<BotRole> the_bot;
  std::unique_ptr<ApiRole> api;

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
      workers->worker->drain();
      supervisor.cancel_all_except("worker-slot-");
    } else {
      supervisor.cancel_all();
    }
    if (api) {
      supervisor.spawn("http-shutdown", api->server->shutdown(std::chrono::seconds(s.config.shutdown_grace_seconds)));
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
    workers = wire_workers(s, rt);
    workers->start(supervisor);
    spdlog::info("worker {}: {} generation slot(s) over {} backend(s)", workers->worker->id(),
                 s.config.worker_concurrency, s.config.backends.size());
  }
  imaging::ImageStore* worker_images = workers ? workers->generation.images.get() : nullptr;
  const bool run_bot = options.bot && !s.config.telegram_bot_token.empty();
  if ((run_bot || options.api) && !s.config.telegram_bot_token.empty()) {
    telegram = wire_telegram(core, rt,
                             {.api_base = s.config.telegram_api_base,
                              .token = s.config.telegram_bot_token.value(),
                              .payload_secret = s.config.payload_secret.value(),
                              .proxy = http::proxy_from_env()});
  }
  if (run_bot) {
    the_bot = wire_bot(core, rt, *telegram,
                       {.images = worker_images,
                        .data_dir = s.config.data_dir,
                        .job_queued =
                            [&workers] {
                              if (workers) workers->worker->notify();
                            },
                        .options = bot::BotOptions{.admin_ids = s.config.admin_telegram_ids},
                        .assistant = assistant_options(s.config),
                        .proxy = http::proxy_from_env()});
    std::string secret = s.config.telegram_webhook_url.empty() ? "" : bot::webhook_secret(*s.store);
    the_bot->start(supervisor, s.config.telegram_webhook_url, secret);
    spdlog::info("Telegram bot: {}", s.config.telegram_webhook_url.empty() ? "long polling" : "webhook");
  } else if (options.bot && !options.api) {
    spdlog::warn("TELEGRAM_BOT_TOKEN is not set: the bot does not run");
  }
  if (options.api) {
    std::vector<net::any_io_executor> connection_executors{io.get_executor()};
    for (auto& ctx : http_ios) connection_executors.emplace_back(ctx->get_executor());
    api = wire_api(core, rt, io.get_executor(),
                   {.host = s.config.http_listen.host,
                    .port = s.config.http_listen.port,
                    .max_connections = s.config.http_max_connections,
                    .rate_per_minute = s.config.api_rate_per_minute,
                    .rate_burst = s.config.api_rate_burst,
                    .changes = s.changes,
                    .router = workers ? workers->generation.router.get() : nullptr,
                    .images = worker_images,
                    .data_dir = s.config.data_dir,
                    .job_queued =
                        [&control, &workers] {
                          if (workers) net::post(control, [&workers] { workers->worker->notify(); });
                        },
                    .gateway = telegram ? &telegram->billing->gateway() : nullptr,
                    .check_database = [&s] { return database_problem(s); },
                    .telegram_webhook_url = s.config.telegram_webhook_url,
                    .update_stored =
                        [&control, &the_bot] {
                          if (the_bot) net::post(control, [&the_bot] { the_bot->bot->wake_inbox(); });
                        },
                    .connection_executors = std::move(connection_executors)});
    api->start();
    spdlog::info("HTTP API on http://{}:{}",
                 s.config.http_listen.host.find(':') == std::string::npos ? s.config.http_listen.host
                                                                          : "[" + s.config.http_listen.host + "]",
                 api->server->port());
  }
  // On PostgreSQL other processes' jobs reach this one by NOTIFY: queued ones wake the workers,
  // changed ones the status streams.
  if (storage::parse_database_url(s.config.database_url).dialect == storage::Dialect::postgres && (workers || api)) {
    auto changes = s.changes;
    JobEvents events{.queued =
                         [&workers] {
                           if (workers) workers->worker->notify();
                         },
                     .resync =
                         [&workers, changes] {
                           if (workers) workers->worker->notify();
                           changes->publish_all();
                         }};
    if (api) {
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
