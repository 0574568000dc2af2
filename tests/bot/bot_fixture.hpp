#pragma once
// The bot with its real dependencies for end-to-end tests: the real Bot API client against the fake
// Bot API server (which checks every call against the Bot API spec), the real database and job
// queue, a manual clock. A test plays the worker (work_one). What a chat saw can be compared with a
// golden transcript in tests/bot/golden (regenerate with UPDATE_GOLDEN=1 and review the diff).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "app/wire_bot.hpp"
#include "bot/billing.hpp"
#include "bot/bot.hpp"
#include "bot/webhook.hpp"
#include "core/admin.hpp"
#include "core/notices.hpp"
#include "http/client.hpp"
#include "support/test_image.hpp"
#include "support/fake_bot_api.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "telegram/bot_api.hpp"
#include "telegram/scheduler.hpp"

namespace igb::testing {

namespace net = boost::asio;
using namespace std::chrono_literals;

const FakeTgUser kAnn{.id = 1001, .first_name = "Ann", .username = "ann", .language_code = "en"};
const FakeTgUser kBoris{.id = 1002, .first_name = "Boris", .username = "boris", .language_code = "ru"};
const FakeTgUser kAdmin{.id = 1009, .first_name = "Olga", .username = "olga", .language_code = "en"};

// The bot with everything it needs, wired as `imggenbot serve` wires it (app::wire_telegram,
// app::wire_bot) and running on its own thread.
struct RunningBot {
  net::io_context io;
  runtime::BlockingPool pool{4};
  runtime::Supervisor supervisor{io.get_executor()};
  std::unique_ptr<app::TelegramSide> telegram;
  std::unique_ptr<app::BotRole> role;
  std::thread thread;
  std::promise<void> idle;

  bot::Bot* bot() const { return role->bot.get(); }

  ~RunningBot() { stop(); }

  void stop() {
    if (!thread.joinable()) return;
    auto done = idle.get_future();
    net::post(io, [this] {
      if (supervisor.running() == 0) {
        idle.set_value();
        return;
      }
      supervisor.on_idle([this] { idle.set_value(); });
      supervisor.cancel_all();
    });
    done.wait_for(20s);
    io.stop();
    thread.join();
    pool.stop();
  }
};

class BotDialogue : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    images_ = imaging::make_file_image_store(dir_.path());
    admin_ = std::make_unique<core::AdminService>(*store_, clock_);
    notices_ = std::make_unique<core::NoticeService>(*store_, clock_, plans_);
    start();
  }

  void TearDown() override {
    running_.reset();
    EXPECT_THAT(tg_.spec_violations(), ::testing::IsEmpty());
  }

  void start(std::string webhook_url = "") {
    running_ = std::make_unique<RunningBot>();
    auto& r = *running_;
    const app::Core core{.store = *store_,
                         .clock = clock_,
                         .plans = plans_,
                         .accounts = *accounts_,
                         .quota = *quota_,
                         .jobs = *jobs_,
                         .payments = *payments_,
                         .admin = *admin_,
                         .notices = *notices_};
    // No group commit given: the bot's use cases make their own.
    const app::Runtime rt{.control = r.io.get_executor(), .pool = r.pool, .supervisor = r.supervisor};
    r.telegram = app::wire_telegram(
        core, rt, {.api_base = tg_.base_url(), .token = tg_.token(), .payload_secret = payload_secret_});
    r.role = app::wire_bot(core, rt, *r.telegram,
                           {.images = images_.get(),
                            .options = bot_options_,
                            // Limits well above the fake's (which are off unless a test turns them on):
                            // tests stay fast.
                            .scheduler = scheduler_options_,
                            .assistant = assistant_options_});
    std::string secret = webhook_url.empty() ? "" : bot::webhook_secret(*store_);
    net::post(r.io, [&r, webhook_url, secret] { r.role->start(r.supervisor, webhook_url, secret); });
    r.thread = std::thread([&r] { r.io.run(); });
  }

  // What a worker does: takes the next job and finishes it with a small image and a fixed seed, or
  // (succeed = false) fails it for good with `failure`.
  std::string work_one(bool succeed = true, core::FailureCode failure = core::FailureCode::unavailable) {
    auto job = jobs_->claim("test-worker");
    EXPECT_TRUE(job) << "no job queued";
    if (!job) return "";
    if (succeed) {
      auto image = images_->put(imaging::make_png(64, 48, 7), clock_.now());
      EXPECT_TRUE(image.ok());
      EXPECT_TRUE(jobs_->succeed(job->id, "test-worker", image.value(), job->params.seed.value_or(1234)).ok());
    } else {
      EXPECT_TRUE(jobs_->fail(job->id, "test-worker", failure, std::nullopt).ok());
    }
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
    return job->id;
  }

  // Until pred() holds, re-checked after each Bot API call the fake answers (20 s at most).
  bool wait(const std::function<bool()>& pred) { return tg_.wait_until(pred, 20s); }
  // Until pred() holds, re-checked every 10 ms: for database state no Bot API call follows.
  static bool eventually(const std::function<bool()>& pred) {
    for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }
  std::size_t count(const std::string& method) { return tg_.count_calls(method); }

  // The transcript with job ids replaced by <job1>, <job2>… in order of appearance.
  std::string transcript(std::int64_t chat) {
    auto text = tg_.transcript(chat);
    std::regex id("j[0-9a-f]{24}");
    std::map<std::string, std::string> names;
    std::string out;
    auto begin = std::sregex_iterator(text.begin(), text.end(), id);
    std::size_t last = 0;
    for (auto it = begin; it != std::sregex_iterator(); ++it) {
      auto& name = names[it->str()];
      if (name.empty()) name = "<job" + std::to_string(names.size()) + ">";
      out += text.substr(last, it->position() - last) + name;
      last = it->position() + it->length();
    }
    return out + text.substr(last);
  }

  void expect_golden(const std::string& name, std::int64_t chat) { expect_golden_text(name, transcript(chat)); }

  void expect_golden_text(const std::string& name, const std::string& actual) {
    const char* src = std::getenv("IMGGENBOT_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    auto path = std::filesystem::path(src) / "tests/bot/golden" / (name + ".txt");
    if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
    std::ifstream in(path);
    std::stringstream expected;
    expected << in.rdbuf();
    EXPECT_EQ(actual, expected.str()) << "what the chat saw changed (" << path
                                      << "): review it, then run with UPDATE_GOLDEN=1";
  }

  std::vector<core::Job> jobs_of(core::UserId user) {
    auto tx = store_->begin(core::TxMode::read);
    return tx->jobs_of(user, 100);
  }

  std::optional<core::Job> only_job(core::UserId user) {
    auto tx = store_->begin(core::TxMode::read);
    auto jobs = tx->jobs_of(user, 10);
    if (jobs.size() != 1) return std::nullopt;
    return jobs[0];
  }

  FakeBotApi tg_;
  TempDir dir_;
  std::unique_ptr<imaging::ImageStore> images_;
  // Delivery passes run when woken (a prompt queued, the fake worker finished a job), not on a timer: a
  // pass between the fake worker's claim and its result would make transcripts vary. Notices and
  // broadcasts likewise run when woken (or at start). Chat actions are not renewed within a test unless it asks (a renewal would make transcripts vary).
  bot::BotOptions bot_options_{.delivery_poll = 1h,
                               .inbox_poll = 100ms,
                               .position_edit_interval = 0s,
                               .chat_action_interval = 1h,
                               .admin_ids = {kAdmin.id},
                               .notice_poll = 1h,
                               .broadcast_poll = 1h};
  telegram::SchedulerOptions scheduler_options_{
      .global_per_second = 1000, .chat_per_second = 200, .chat_burst = 20, .group_per_minute = 1000};
  std::string payload_secret_ = "test-payload-secret-0123456789";
  std::unique_ptr<core::AdminService> admin_;
  std::unique_ptr<core::NoticeService> notices_;
  std::unique_ptr<RunningBot> running_;
  std::optional<assist::AssistantOptions> assistant_options_;  // the prompt assistant: off unless a test sets it
};

}  // namespace igb::testing
