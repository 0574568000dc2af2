// imggenbot-bench-checkout: how long Telegram waits for the answer to a pre-checkout query while the
// same chat is busy. Telegram gives the bot 10 seconds, or the payment fails.
//
//   imggenbot-bench-checkout --rounds 10 --retry-after 5
//
// The real `imggenbot serve` (this build) runs as a child process with SQLite in a temporary folder and
// the tests' fake Bot API (Telegram's rate limits on, FakeRateLimits{}). The user asks for /plans and
// presses "buy" once, which gives a real signed invoice payload. Then, each round: the bot's next
// sendMessage to that user is answered 429 "retry after --retry-after" (the chat is busy sleeping out
// a 429, as under a crowd or a /history of photos), the user sends /help (the message the bot must
// hold back), and once the 429 has been answered the user's pre-checkout query arrives. Measured: from
// pushing the pre-checkout update to the fake's answer of answerPreCheckoutQuery (both times on this
// process's steady clock), and whether the answer came before the held-back /help reply went out.
// The round ends when the /help reply has been delivered.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "report.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"

#ifndef IMGGENBOT_BIN
#error "IMGGENBOT_BIN (the imggenbot executable) must be defined by the build"
#endif

namespace {

using namespace igb;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string imggenbot = IMGGENBOT_BIN;  // another build's, to compare
  int rounds = 10;
  int retry_after = 5;
};

std::string tail(const std::string& s, std::size_t n = 2000) { return s.size() <= n ? s : s.substr(s.size() - n); }

std::size_t count_status(const testing::FakeBotApi& tg, const std::string& method, int status) {
  std::size_t n = 0;
  for (const auto& c : tg.calls(method)) n += c.status == status;
  return n;
}

int run(const Options& o) {
  testing::FakeBotApi tg(testing::FakeBotApiOptions{.rate_limits = testing::FakeRateLimits{}});
  testing::FakeHttpServer provider([](const testing::FakeRequest&) { return testing::FakeResponse{.status = 503}; });
  auto db = testing::make_scratch_database("sqlite", std::filesystem::path());
  testing::TempDir data("igb-bench-checkout-");
  testing::ChildProcess serve({.argv = {o.imggenbot, "--env-file", "", "serve"},
                               .env = {{"DATABASE_URL", db->url()},
                                       {"DATA_DIR", data.path().string()},
                                       {"HF_API_BASE", provider.base_url()},
                                       {"HF_TOKEN", "hf_bench"},
                                       {"TELEGRAM_BOT_TOKEN", tg.token()},
                                       {"TELEGRAM_API_BASE", tg.base_url()},
                                       {"PAYMENT_PAYLOAD_SECRET", "bench-checkout-secret-0123456789abcdef"},
                                       {"SHUTDOWN_GRACE_SECONDS", "2"},
                                       {"HTTP_LISTEN", "127.0.0.1:0"},
                                       {"LOG_LEVEL", "info"}},
                               .cwd = data.path()});
  if (!serve.wait_for_output("imggenbot is up", 60s)) {
    std::fprintf(stderr, "bench: imggenbot serve did not start: %s\n", tail(serve.err_so_far()).c_str());
    return 1;
  }
  if (!tg.wait_until([&] { return tg.waiting_get_updates() > 0 || tg.get_updates_count() > 0; }, 60s)) {
    std::fprintf(stderr, "bench: the bot never called getUpdates: %s\n", tail(serve.err_so_far()).c_str());
    return 1;
  }

  const testing::FakeTgUser ann{.id = 5001, .first_name = "Ann", .language_code = "en"};
  tg.push_message({.from = ann, .text = "/plans"});
  if (!tg.wait_until([&] { return tg.count_calls("sendMessage") == 1; }, 30s)) {
    std::fprintf(stderr, "bench: no answer to /plans: %s\n", tail(serve.err_so_far()).c_str());
    return 1;
  }
  tg.push_callback({.from = ann, .message_id = tg.last_bot_message(ann.id)->message_id, .data = "buy:basic"});
  if (!tg.wait_until([&] { return tg.count_calls("createInvoiceLink") == 1 && tg.count_calls("sendMessage") == 2; },
                     30s)) {
    std::fprintf(stderr, "bench: no invoice: %s\n", tail(serve.err_so_far()).c_str());
    return 1;
  }
  const std::string payload(tg.calls("createInvoiceLink").at(0).params.at("payload").as_string());
  // Let the chat's own limit (a burst of 3, then 1 a second) recover, so each round starts alike.
  std::this_thread::sleep_for(3s);

  std::vector<double> answer_ms;
  int before_help = 0, ok_answers = 0;
  for (int round = 0; round < o.rounds; ++round) {
    const auto limited = count_status(tg, "sendMessage", 429);
    const auto delivered = count_status(tg, "sendMessage", 200);
    const auto answers = tg.count_calls("answerPreCheckoutQuery");
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after " + std::to_string(o.retry_after), o.retry_after);
    tg.push_message({.from = ann, .text = "/help"});
    if (!tg.wait_until([&] { return count_status(tg, "sendMessage", 429) > limited; }, 30s)) {
      std::fprintf(stderr, "bench: round %d: /help never reached Telegram\n", round);
      return 1;
    }
    const auto pushed = Clock::now();
    tg.push_pre_checkout({.from = ann, .total_amount = 150, .invoice_payload = payload});
    if (!tg.wait_until([&] { return tg.count_calls("answerPreCheckoutQuery") > answers; },
                       std::chrono::seconds(o.retry_after + 30))) {
      std::fprintf(stderr, "bench: round %d: no answer to the pre-checkout query\n", round);
      return 1;
    }
    const auto answer = tg.calls("answerPreCheckoutQuery").back();
    answer_ms.push_back(std::chrono::duration<double, std::milli>(answer.time - pushed).count());
    ok_answers += answer.params.contains("ok") && answer.params.at("ok").as_bool();
    before_help += count_status(tg, "sendMessage", 200) == delivered;
    if (!tg.wait_until([&] { return count_status(tg, "sendMessage", 200) > delivered; },
                       std::chrono::seconds(o.retry_after + 30))) {
      std::fprintf(stderr, "bench: round %d: the /help reply was lost\n", round);
      return 1;
    }
    std::this_thread::sleep_for(2s);  // the chat's limit recovers
  }

  serve.send(SIGTERM);
  serve.wait(60s);

  std::sort(answer_ms.begin(), answer_ms.end());
  std::printf(
      "| rounds | chat held by a 429 for | answer time: min | median | max | answered before the held reply "
      "| answered ok |\n|---|---|---|---|---|---|---|\n");
  std::printf("| %d | %d s | %.1f ms | %.1f ms | %.1f ms | %d of %d | %d of %d |\n", o.rounds, o.retry_after,
              answer_ms.front(), bench::percentile(answer_ms, 0.5), answer_ms.back(), before_help, o.rounds, ok_answers,
              o.rounds);
  const auto violations = tg.spec_violations();
  for (std::size_t i = 0; i < violations.size() && i < 5; ++i)
    std::fprintf(stderr, "bench: spec violation: %s\n", violations[i].message.c_str());
  return violations.empty() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App cli{
      "The answer time of a pre-checkout query while the same chat sleeps out a 429 (`imggenbot serve` against "
      "the fake Bot API)",
      "imggenbot-bench-checkout"};
  cli.add_option("--rounds", o.rounds, "payments, one after another")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cli.add_option("--retry-after", o.retry_after, "seconds of the 429 that holds the chat")
      ->check(CLI::Range(1, 60))
      ->capture_default_str();
  cli.add_option("--imggenbot", o.imggenbot, "the imggenbot executable to run (default: this build's)")
      ->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench: %s\n", e.what());
    return 1;
  }
}
