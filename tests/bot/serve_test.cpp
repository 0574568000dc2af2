// `imggenbot serve` and `imggenbot bot` as users run them: the real binary with TELEGRAM_BOT_TOKEN,
// talking to the fake Bot API, generating through a fake Hugging Face server with its own workers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include "support/test_image.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;

class BotProcess : public ::testing::Test {
 protected:
  std::unique_ptr<ChildProcess> run(const std::string& role, std::map<std::string, std::string> extra = {}) {
    auto env =
        ServiceEnv(
            {.database_url = db_->url(), .dir = dir_.path(), .hf_api_base = provider_.base_url(), .log_level = "debug"})
            .with_telegram(tg_)
            .set("WORKER_CONCURRENCY", "2")
            .set("SHUTDOWN_GRACE_SECONDS", "2")
            .merge(extra);
    return std::make_unique<ChildProcess>(env.process(role));
  }

  std::unique_ptr<TestDatabase> db_ = make_test_database(storage::Dialect::sqlite);
  TempDir dir_;
  FakeBotApi tg_;
  FakeHttpServer provider_{[](const FakeRequest&) {
    return FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = imaging::make_png(64, 64, 3)};
  }};
};

TEST_F(BotProcess, ServeAnswersAPromptWithAPhotoAndStopsCleanly) {
  auto p = run("serve");
  ASSERT_TRUE(p->wait_for_output("imggenbot is up")) << p->err_so_far();
  tg_.push_message({.from = {.id = 77, .first_name = "Eve"}, .text = "/start"});
  tg_.push_message({.from = {.id = 77, .first_name = "Eve"}, .text = "a paper boat on a pond"});
  ASSERT_TRUE(tg_.wait_until([&] { return tg_.count_calls("sendPhoto") == 1; }, 60s)) << p->err_so_far();
  auto photo = tg_.calls("sendPhoto").at(0);
  ASSERT_EQ(photo.uploads.size(), 1u);
  EXPECT_EQ(photo.uploads[0].bytes, imaging::make_png(64, 64, 3));
  p->send(SIGTERM);
  auto r = p->wait();
  EXPECT_EQ(r.exit_code, 0);
  // The token is in every Bot API URL; it must not be in the log.
  EXPECT_EQ(r.err.find(tg_.token()), std::string::npos);
  EXPECT_EQ(r.err.find(tg_.token().substr(tg_.token().find(':') + 1)), std::string::npos);
  EXPECT_THAT(tg_.spec_violations(), ::testing::IsEmpty());
}

TEST_F(BotProcess, BotRoleNeedsAToken) {
  auto p = run("bot", {{"TELEGRAM_BOT_TOKEN", ""}});
  auto r = p->wait();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, ::testing::HasSubstr("TELEGRAM_BOT_TOKEN"));
}

TEST_F(BotProcess, ConflictIsLoggedAndBackedOffNotSpun) {
  // Another instance polls with the same token: Telegram answers 409 to every getUpdates.
  tg_.fail_next("getUpdates", 409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
                std::nullopt, 1000);
  auto p = run("bot");
  ASSERT_TRUE(p->wait_for_output("getUpdates conflict")) << p->err_so_far();
  std::this_thread::sleep_for(2500ms);
  // Back-off doubles from 1 s: a handful of attempts in 2.5 s, not hundreds.
  EXPECT_LE(tg_.count_calls("getUpdates"), 4u);
  p->send(SIGTERM);
  EXPECT_EQ(p->wait().exit_code, 0);
}

}  // namespace
}  // namespace igb::testing
