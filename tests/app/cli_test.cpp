// End-to-end tests of the real `imggenbot` binary: start-up, configuration errors, migrations,
// operator commands and a clean stop on SIGINT/SIGTERM, on SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "core/jobs.hpp"
#include "core/payments.hpp"
#include "storage/migrations.hpp"
#include "support/fake_bot_api.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

ProcessResult imggenbot(std::vector<std::string> args, std::map<std::string, std::string> env,
                        const std::filesystem::path& cwd) {
  args.insert(args.begin(), IMGGENBOT_BIN);
  return run_process({.argv = std::move(args), .env = std::move(env), .cwd = cwd});
}

TEST(Cli, HelpListsEveryRole) {
  TempDir dir;
  auto r = imggenbot({"--help"}, {}, dir.path());
  EXPECT_EQ(r.exit_code, 0);
  for (const char* role :
       {"serve", "api", "bot", "worker", "migrate", "user", "apikey", "stats", "broadcast", "payment"}) {
    EXPECT_NE(r.out.find(std::string("\n  ") + role + " "), std::string::npos) << role << "\n" << r.out;
  }
}

TEST(Cli, InvalidSettingStopsStartUpNamingItWithoutTheSecret) {
  TempDir dir;
  auto r = imggenbot({"serve"}, {{"HTTP_LISTEN", "nonsense"}}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HTTP_LISTEN"), std::string::npos) << r.err;

  const std::string token = "12345:this-is-not-valid because of spaces";
  r = imggenbot({"serve"}, {{"TELEGRAM_BOT_TOKEN", token}}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("TELEGRAM_BOT_TOKEN"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("this-is-not-valid"), std::string::npos) << r.err;

  r = imggenbot({"migrate"}, {{"DATABASE_URL", "mysql://root:hunter2@db/x"}}, dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("DATABASE_URL"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "data"));  // nothing was created
}

TEST(Cli, DotEnvFileIsRead) {
  TempDir dir;
  {
    std::ofstream env(dir.path() / ".env");
    env << "DATABASE_URL=sqlite://./elsewhere/x.db\n";
  }
  auto r = imggenbot({"migrate"}, {}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "elsewhere" / "x.db"));
}

TEST(Cli, ConfigCommandRedactsSecrets) {
  TempDir dir;
  const std::string token = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-secret";
  auto r = imggenbot({"config"}, {{"TELEGRAM_BOT_TOKEN", token}, {"HF_TOKEN", "hf_supersecretvalue"}}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("TELEGRAM_BOT_TOKEN="), std::string::npos);
  EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("supersecret"), std::string::npos) << r.out;
}

class CliOnDatabase : public StoreTest {
 protected:
  ServiceEnv service_env() const {
    return ServiceEnv({.database_url = db_->url(), .dir = dir_.path(), .hf_token = ""});
  }
  std::map<std::string, std::string> env() const { return service_env().vars(); }
  TempDir dir_;
};

TEST_P(CliOnDatabase, MigrateTwiceIsHarmless) {
  auto r = imggenbot({"migrate"}, env(), dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("applied 0 migration(s)"), std::string::npos) << r.out;  // the fixture migrated already
  const auto latest = storage::embedded_migrations(GetParam()).back().version;
  EXPECT_NE(r.out.find("schema version " + std::to_string(latest)), std::string::npos) << r.out;
}

TEST_P(CliOnDatabase, ServeRunsUntilSignalledThenExitsCleanly) {
  for (int signo : {SIGINT, SIGTERM}) {
    ChildProcess p(service_env().process("serve"));
    ASSERT_TRUE(p.wait_for_output("imggenbot is up")) << p.err_so_far();
    EXPECT_TRUE(p.running());
    p.send(signo);
    auto r = p.wait();
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("stopped"), std::string::npos) << r.err;
  }
}

TEST_P(CliOnDatabase, ServeRequeuesJobsOfACrashedWorker) {
  core::JobService jobs(store(), clock_, plans_);
  {
    auto tx = write();
    tx->upsert_user(5, "", "", now());
    tx->commit();
  }
  // Queued and claimed long ago by a worker that never came back: its lease has run out.
  core::ManualClock past(core::from_unix_ms(1'000'000'000'000));
  core::JobService old_jobs(store(), past, plans_);
  auto job = old_jobs.submit(core::SubmitRequest{.user = 5, .params = {.prompt = "x", .width = 512, .height = 512}});
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(old_jobs.claim("gone-worker"));

  // Nobody takes the job again: it stays queued for the check.
  ChildProcess p(service_env().set("WORKER_CONCURRENCY", "0").process("serve"));
  ASSERT_TRUE(p.wait_for_output("requeued or failed 1 job")) << p.err_so_far();
  p.send(SIGTERM);
  EXPECT_EQ(p.wait().exit_code, 0);
  auto after = jobs.get(job->jobs[0].id, 5);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->status, core::JobStatus::queued);
  EXPECT_FALSE(after->lease_owner);
}

TEST_P(CliOnDatabase, OperatorCommands) {
  {
    auto tx = write();
    tx->upsert_user(77, "carol", "en", now());
    tx->commit();
  }
  auto created = imggenbot({"apikey", "create", "--telegram-id", "77", "--name", "ci"}, env(), dir_.path());
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string secret = created.out.substr(0, created.out.find('\n'));
  EXPECT_TRUE(secret.starts_with("igb_")) << created.out;
  EXPECT_EQ(created.err.find(secret), std::string::npos);  // the log side never shows it

  core::AccountService accounts(store(), clock_);
  auto user = accounts.authenticate(secret);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->id, 77);

  auto listed = imggenbot({"apikey", "list", "--telegram-id", "77"}, env(), dir_.path());
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_EQ(listed.out.find(secret), std::string::npos);
  const std::string key_id = listed.out.substr(0, listed.out.find(' '));
  EXPECT_TRUE(key_id.starts_with("k_")) << listed.out;
  auto revoked = imggenbot({"apikey", "revoke", "--telegram-id", "77", "--key-id", key_id}, env(), dir_.path());
  EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
  EXPECT_FALSE(accounts.authenticate(secret).ok());

  auto granted =
      imggenbot({"user", "grant", "--telegram-id", "77", "--plan", "pro", "--days", "10"}, env(), dir_.path());
  EXPECT_EQ(granted.exit_code, 0) << granted.err;
  auto shown = imggenbot({"user", "show", "--telegram-id", "77"}, env(), dir_.path());
  EXPECT_NE(shown.out.find("plan pro"), std::string::npos) << shown.out;

  auto bad_plan = imggenbot({"user", "grant", "--telegram-id", "77", "--plan", "gold"}, env(), dir_.path());
  EXPECT_EQ(bad_plan.exit_code, 1);
  EXPECT_NE(bad_plan.err.find("gold"), std::string::npos);

  EXPECT_EQ(imggenbot({"user", "ban", "--telegram-id", "77"}, env(), dir_.path()).exit_code, 0);
  EXPECT_TRUE(accounts.get_user(77)->banned);
  EXPECT_EQ(imggenbot({"user", "show", "--telegram-id", "78"}, env(), dir_.path()).exit_code, 1);

  auto stats = imggenbot({"stats"}, env(), dir_.path());
  EXPECT_NE(stats.out.find("users 1 (0 reachable)"), std::string::npos) << stats.out;  // 77 is banned
  EXPECT_NE(stats.out.find("subscribers pro=1"), std::string::npos) << stats.out;
  EXPECT_NE(stats.out.find("referrals 0 invited, 0 converted"), std::string::npos) << stats.out;

  auto queued = imggenbot({"broadcast", "--text", "Maintenance tonight at 22:00 UTC"}, env(), dir_.path());
  EXPECT_EQ(queued.exit_code, 0) << queued.err;
  EXPECT_NE(queued.out.find("broadcast #1 queued"), std::string::npos) << queued.out;
  auto pending = store().begin(core::TxMode::read)->next_broadcast();
  ASSERT_TRUE(pending);
  EXPECT_EQ(pending->text, "Maintenance tonight at 22:00 UTC");
  auto blank = imggenbot({"broadcast", "--text", "   "}, env(), dir_.path());
  EXPECT_EQ(blank.exit_code, 1);
  EXPECT_NE(blank.err.find("empty"), std::string::npos) << blank.err;
}

TEST_P(CliOnDatabase, RefundGivesTheStarsBackThroughTelegramOnce) {
  auto no_token = imggenbot({"payment", "refund", "--charge-id", "stx1"}, env(), dir_.path());
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_NE(no_token.err.find("TELEGRAM_BOT_TOKEN"), std::string::npos) << no_token.err;

  FakeBotApi tg;
  tg.push_successful_payment({.from = {.id = 88},
                              .total_amount = 150,
                              .invoice_payload = "p",
                              .telegram_payment_charge_id = "stx1",
                              .is_recurring = true});
  core::PaymentService payments(store(), clock_, plans_);
  ASSERT_TRUE(payments
                  .apply_payment({.charge_id = "stx1",
                                  .user_id = 88,
                                  .plan_id = "basic",
                                  .amount = 150,
                                  .is_recurring = true,
                                  .at = now()})
                  .ok());
  auto with_tg = env();
  with_tg["TELEGRAM_BOT_TOKEN"] = tg.token();
  with_tg["TELEGRAM_API_BASE"] = tg.base_url();
  auto unknown = imggenbot({"payment", "refund", "--charge-id", "nope"}, with_tg, dir_.path());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("No payment has this charge id"), std::string::npos) << unknown.err;
  auto refunded = imggenbot({"payment", "refund", "--charge-id", "stx1"}, with_tg, dir_.path());
  EXPECT_EQ(refunded.exit_code, 0) << refunded.err;
  EXPECT_NE(refunded.out.find("payment stx1 refunded; the period it bought is revoked"), std::string::npos)
      << refunded.out;
  EXPECT_EQ(tg.refunded_charges(), std::vector<std::string>{"stx1"});
  EXPECT_TRUE(store().begin(core::TxMode::read)->find_payment("stx1", false)->refunded_at);
  auto again = imggenbot({"payment", "refund", "--charge-id", "stx1"}, with_tg, dir_.path());
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("refunded before"), std::string::npos) << again.out;
  EXPECT_EQ(tg.count_calls("refundStarPayment"), 1u);
  EXPECT_EQ((refunded.out + refunded.err).find(tg.token()), std::string::npos);
}

// `imggenbot stats` shows the margins per UTC day and plan (issue 17): images and their recorded
// cost, Stars and their value at STARS_USD_RATE, and today's spend against DAILY_SPEND_LIMIT_USD;
// --days bounds the window and is checked.
TEST_P(CliOnDatabase, StatsShowTheMarginsPerDayAndPlan) {
  core::SystemClock clock;  // the process reads today's rows by its own clock
  {
    auto tx = write();
    tx->upsert_user(91, "", "", clock.now());
    tx->commit();
  }
  core::PaymentService payments(store(), clock, plans_);
  ASSERT_TRUE(payments
                  .apply_payment({.charge_id = "stx-m",
                                  .user_id = 91,
                                  .plan_id = "basic",
                                  .amount = 150,
                                  .invoiced_price = 150,
                                  .payload = "p",
                                  .at = clock.now()})
                  .ok());
  core::JobOptions options;
  options.prices = core::PriceList({{.provider = "fal-ai", .price = {.micros = 3'000}}});
  core::JobService jobs(store(), clock, plans_, options);
  auto submitted = jobs.submit({.user = 91, .params = {.prompt = "x", .width = 512, .height = 512}});
  ASSERT_TRUE(submitted.ok()) << submitted.error().public_message;
  auto job = jobs.claim("w");
  ASSERT_TRUE(job);
  ASSERT_TRUE(jobs.succeed(job->id, "w", {.id = "i", .mime = "image/png", .size_bytes = 1, .width = 512, .height = 512},
                           std::nullopt, true, {.provider = "fal-ai", .model = "m"})
                  .ok());

  auto vars = env();
  vars["STARS_USD_RATE"] = "0.01";
  vars["DAILY_SPEND_LIMIT_USD"] = "5";
  auto r = imggenbot({"stats", "--days", "3"}, vars, dir_.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("margins, last 3 days (UTC; 1 Star = $0.0100):"), std::string::npos) << r.out;
  const auto today = core::iso_day(clock.now());
  EXPECT_NE(r.out.find(today + " basic: 1 images, spend $0.0030, 150 Stars = $1.5000, margin $1.4970"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("spend today $0.0030 of $5.0000 (DAILY_SPEND_LIMIT_USD)"), std::string::npos) << r.out;

  auto too_many = imggenbot({"stats", "--days", "91"}, vars, dir_.path());
  EXPECT_NE(too_many.exit_code, 0);
  EXPECT_NE((too_many.out + too_many.err).find("--days"), std::string::npos) << too_many.err;
  vars["PROVIDER_PRICES"] = "fal-ai=3";
  auto bad = imggenbot({"stats"}, vars, dir_.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("PROVIDER_PRICES"), std::string::npos) << bad.err;
}

IGB_ON_BOTH_DATABASES(CliOnDatabase);

}  // namespace
}  // namespace igb::testing
