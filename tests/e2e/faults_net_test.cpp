// Faults of the network around the service, with the real `imggenbot` binary (issue 15, "Faults"):
//   - a provider that accepts the connection and never answers, or sends its headers and stalls the
//     body: the worker gives up after the backend's timeout, fails over to another backend or fails the
//     job with its quota back, frees its slot, closes the connection (no descriptor left behind), and
//     a cancel of such a running job stops the call at once (SQLite and PostgreSQL);
//   - the Telegram Bot API answering 502 Bad Gateway for over a minute while users write and jobs run:
//     afterwards every prompt is handled once, every photo and failure message sent once, the process
//     stayed up, and it polled with back-off instead of spinning (PostgreSQL).
// The fake provider speaks the hf-inference wire format (see tests/worker/worker_support.hpp, after
// huggingface/huggingface.js packages/inference/src/providers/hf-inference.ts); the fake Bot API's
// outage answers like the nginx in front of Telegram (see FakeBotApi::begin_outage, after
// python-telegram-bot/python-telegram-bot telegram/request/_baserequest.py, which reads 502 as a
// NetworkError and retries).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/quota.hpp"
#include "http/client.hpp"
#include "support/async.hpp"
#include "support/fake_bot_api.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/store_fixture.hpp"
#include "telegram/bot_api.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace std::chrono_literals;
using core::JobStatus;

constexpr core::UserId kUser = 4343;
// Nothing listens there: the provider mapping falls back to hf-inference at once (the Hub is not
// what these tests are about, and a pooled connection to it would blur the descriptor count).
constexpr const char* kNoHub = "http://127.0.0.1:1";

// Open file descriptors of a process (sockets, database files, logs…).
std::size_t fd_count(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Polls until pred() holds or the guard runs out (a hang guard, not a timing check).
bool eventually(const std::function<bool()>& pred, std::chrono::seconds guard = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return pred();
}

// ---- A provider that never answers

// Prompts with "hang" are never answered (the connection accepted, the request read, not one byte
// back); with "stall", the headers and 100 bytes of a 200 come, then nothing; others get a PNG.
FakeHandler stuck_provider() {
  return hf_provider({[](const FakeRequest& r) {
    const auto call = decode_hf_call(r);
    if (contains(call.inputs, "hang")) return FakeResponse{.hang_until_closed = true};
    if (contains(call.inputs, "stall")) {
      auto res = hf_png(r);
      res.stall_body_after = 100;
      return res;
    }
    return hf_png(r);
  }});
}

class ProviderNeverAnswers : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // Several jobs in flight at once (the free plan allows one); the worker does not look at plans.
    auto plans = core::default_plans();
    plans.at(0).max_concurrent_jobs = 100;
    roomy_ = std::make_unique<core::PlanCatalog>(core::PlanCatalog::create(plans).value());
    accounts_ = std::make_unique<core::AccountService>(store(), wall_);
    // The attempts a job gets are fixed when it is queued: two, the first and one retry.
    jobs_ = std::make_unique<core::JobService>(store(), wall_, *roomy_, core::JobOptions{.max_attempts = 2});
    quota_ = std::make_unique<core::QuotaService>(store(), wall_, *roomy_);
    accounts_->ensure_user(kUser, "faults", "en");
  }
  void TearDown() override {
    if (worker_ && worker_->running()) {
      worker_->send(SIGTERM);
      worker_->wait(30s);
    }
  }

  ChildProcess& start_worker(std::map<std::string, std::string> extra) {
    auto env = ServiceEnv({.database_url = db_->url(),
                           .dir = dir_.path(),
                           .hf_api_base = hf_.base_url(),
                           .hf_token = kHfToken,
                           .http = false})
                   .set("HF_HUB_BASE", kNoHub)
                   .set("JOB_LEASE_SECONDS", "5")
                   .set("WORKER_CONCURRENCY", "1")  // one slot: a stuck call would hold it
                   .set("SHUTDOWN_GRACE_SECONDS", "2")
                   .merge(extra);
    worker_ = std::make_unique<ChildProcess>(env.process("worker"));
    EXPECT_TRUE(worker_->wait_for_output("imggenbot is up")) << worker_->err_so_far();
    return *worker_;
  }

  std::string submit(const std::string& prompt) {
    auto r = jobs_->submit(core::SubmitRequest{
        .user = kUser, .params = {.prompt = prompt, .width = 512, .height = 512}, .source = "test"});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().public_message);
    if (!r.ok()) throw std::runtime_error("submit failed");
    return r->jobs.at(0).id;
  }
  core::Job job(const std::string& id) { return jobs_->get(id, kUser).value(); }
  bool wait_for_status(const std::string& id, JobStatus status, std::chrono::seconds guard = 60s) {
    return eventually([&] { return job(id).status == status; }, guard);
  }
  std::size_t provider_calls(const std::string& word) {
    std::size_t n = 0;
    for (const auto& r : hf_.requests()) n += contains(decode_hf_call(r).inputs, word) ? 1 : 0;
    return n;
  }
  // A job that went through, so that the worker's pools (database, the provider's kept-alive
  // connection) are as they stay: the descriptor count to compare with afterwards.
  std::size_t warm_up(ChildProcess& w) {
    const auto id = submit("warm up " + std::to_string(++warm_ups_));
    EXPECT_TRUE(wait_for_status(id, JobStatus::succeeded)) << w.err_so_far();
    EXPECT_TRUE(eventually([&] { return hf_.open_connection_count() == 1; })) << hf_.open_connection_count();
    return fd_count(w.pid());
  }

  TempDir dir_{"igb-faults-"};
  core::SystemClock wall_;
  std::unique_ptr<core::PlanCatalog> roomy_;
  std::unique_ptr<core::AccountService> accounts_;
  std::unique_ptr<core::JobService> jobs_;
  std::unique_ptr<core::QuotaService> quota_;
  FakeHttpServer hf_{stuck_provider()};
  std::unique_ptr<ChildProcess> worker_;
  int warm_ups_ = 0;
};

TEST_P(ProviderNeverAnswers, TheJobFailsWithItsQuotaBackAndTheSlotAndConnectionAreFreed) {
  auto& w = start_worker({{"PROVIDER_TIMEOUT_SECONDS", "1"}});
  const auto fds_before = warm_up(w);

  // One job at a time, so that the order does not depend on how jobs queued in the same millisecond
  // are claimed: the router's circuit opens after 3 failures in a row, and a stuck job tried after
  // that would not reach the provider. One slot: the job after a stuck one runs because its calls
  // were given up.
  const auto hang = submit("a fox, hang");
  ASSERT_TRUE(wait_for_status(hang, JobStatus::failed)) << w.err_so_far();
  const auto after = submit("a fox after the stuck one");
  EXPECT_TRUE(wait_for_status(after, JobStatus::succeeded)) << w.err_so_far();
  const auto stall = submit("a fox, stall");
  ASSERT_TRUE(wait_for_status(stall, JobStatus::failed)) << w.err_so_far();
  for (const auto& id : {hang, stall}) {
    const auto j = job(id);
    EXPECT_EQ(j.attempts, 2) << id;  // retried once, then given up
    EXPECT_EQ(j.quota_state, core::QuotaState::released) << id;
    EXPECT_EQ(j.failure, core::FailureCode::unavailable) << id;
    EXPECT_FALSE(j.lease_owner);
  }
  EXPECT_EQ(provider_calls("hang"), 2u) << w.err_so_far();
  EXPECT_EQ(provider_calls("stall"), 2u) << w.err_so_far();
  auto q = quota_->status(kUser);
  EXPECT_EQ(q.used, 2);  // the warm-up and the job after: the stuck ones cost nothing
  EXPECT_EQ(q.reserved, 0);
  EXPECT_THAT(w.err_so_far(), ::testing::HasSubstr("timed out"));

  // Once more through the kept-alive connection, then count: the stuck connections were closed by
  // the worker (the fake sees them end) and no descriptor stayed behind.
  EXPECT_EQ(warm_up(w), fds_before) << w.err_so_far();
  EXPECT_EQ(hf_.open_connection_count(), 1u);
  EXPECT_TRUE(w.running());
  w.send(SIGTERM);
  auto r = w.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(contains(r.err, kHfToken));
}

TEST_P(ProviderNeverAnswers, ASecondBackendTakesOverWithinTheSameAttempt) {
  FakeHttpServer good{hf_provider({answer_png()})};
  std::ofstream(dir_.path() / "backends.toml")
      << "[[backends]]\nname = \"stuck\"\nkind = \"hf\"\nbase_url = \"" << hf_.base_url()
      << "\"\ntimeout_seconds = 1\n\n"
      << "[[backends]]\nname = \"good\"\nkind = \"hf\"\nbase_url = \"" << good.base_url() << "\"\n";
  auto& w = start_worker({{"IMGGENBOT_CONFIG", (dir_.path() / "backends.toml").string()}});
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(submit("a fox " + std::to_string(i) + ", hang"));
  for (const auto& id : ids) {
    ASSERT_TRUE(wait_for_status(id, JobStatus::succeeded)) << core::to_string(job(id).status) << "\n" << w.err_so_far();
    EXPECT_EQ(job(id).attempts, 1);  // one attempt, within which the router went on to "good" (no retry)
  }
  EXPECT_GE(provider_calls("hang"), 1u);  // the stuck backend was tried (then skipped while its circuit is open)
  EXPECT_EQ(good.request_count(), 3u);
  EXPECT_EQ(quota_->status(kUser).used, 3);
  EXPECT_THAT(w.err_so_far(), ::testing::HasSubstr("backend stuck failed"));
}

TEST_P(ProviderNeverAnswers, ACancelStopsTheCallAtOnceAndFreesTheSlot) {
  // The default timeout (120 s): only the cancel can end this call within the test's guards.
  auto& w = start_worker({});
  const auto fds_before = warm_up(w);

  const auto hang = submit("a fox, hang");
  ASSERT_TRUE(eventually([&] { return provider_calls("hang") == 1; })) << w.err_so_far();
  ASSERT_EQ(job(hang).status, JobStatus::running);
  auto canceled = jobs_->cancel(hang, kUser);
  ASSERT_TRUE(canceled.ok());
  EXPECT_TRUE(*canceled);  // a started call is paid for (docs/security.md, the cancel policy)
  // The worker hears of it at its next look (cancel_check) and drops the call: the connection ends.
  EXPECT_TRUE(eventually([&] { return hf_.open_connection_count() == 0; }, 30s)) << hf_.open_connection_count() << "\n"
                                                                                 << w.err_so_far();
  EXPECT_TRUE(w.wait_for_output("is no longer ours", 30s)) << w.err_so_far();

  const auto next = submit("a fox after the canceled one");
  EXPECT_TRUE(wait_for_status(next, JobStatus::succeeded, 30s)) << w.err_so_far();
  const auto j = job(hang);
  EXPECT_EQ(j.status, JobStatus::canceled);
  EXPECT_EQ(j.quota_state, core::QuotaState::committed);
  EXPECT_FALSE(j.image_id);
  EXPECT_EQ(provider_calls("hang"), 1u);  // not called again
  EXPECT_EQ(warm_up(w), fds_before) << w.err_so_far();
  EXPECT_EQ(quota_->status(kUser).used, 4);  // two warm-ups, the canceled call, the next job
  EXPECT_EQ(quota_->status(kUser).reserved, 0);
}

IGB_ON_BOTH_DATABASES(ProviderNeverAnswers);

// ---- The fake's outage mode, through the real Bot API client

TEST(FakeBotApiOutage, AnswersNginxBadGatewayToEveryCallAndToHeldPolls) {
  FakeBotApi tg;
  net::io_context io;
  auto client = http::make_client(io.get_executor());
  auto api = telegram::make_http_bot_api(*client, {.base_url = tg.base_url(), .token = tg.token()});
  telegram::GetUpdates request{.timeout = 30};
  auto held = net::co_spawn(io, optional_of(api->get_updates(request)), net::use_future);
  std::thread runner([&] { io.run_for(20s); });
  struct Join {
    net::io_context& io;
    std::thread& t;
    void operator()() {
      io.stop();
      if (t.joinable()) t.join();
    }
    ~Join() { (*this)(); }
  } join{io, runner};
  ASSERT_TRUE(tg.wait_until([&] { return tg.waiting_get_updates() == 1; }));
  tg.begin_outage(2s);
  EXPECT_TRUE(tg.in_outage());
  ASSERT_EQ(held.wait_for(10s), std::future_status::ready);
  auto r = *held.get();
  join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, telegram::ApiError::Kind::server);
  EXPECT_EQ(r.error().error_code, 502);
  EXPECT_THAT(r.error().description, ::testing::HasSubstr("text/html"));  // not the Bot API's envelope

  io.restart();
  auto me = run_async(io, api->get_me());
  EXPECT_FALSE(me.ok());
  EXPECT_EQ(me.error().error_code, 502);
  EXPECT_EQ(tg.outage_answered_count(), 2);
  EXPECT_TRUE(eventually([&] { return !tg.in_outage(); }, 10s));
  io.restart();
  EXPECT_TRUE(run_async(io, api->get_me()).ok());
  EXPECT_EQ(tg.calls("getMe").size(), 2u);
  EXPECT_EQ(tg.calls("getMe").at(0).status, 502);
  EXPECT_THAT(tg.spec_violations(), ::testing::IsEmpty());
}

// ---- The Bot API answering 502 for over a minute

class BotApiOutage : public ::testing::Test {
 protected:
  void SetUp() override {
    IGB_REQUIRE_POSTGRES();
    db_ = make_test_database(storage::Dialect::postgres);
    store_ = storage::open_store({.database_url = db_->url(), .pool_size = 2});
    // Room for everyone's prompts: the free plan's limits are not what this test is about.
    std::ofstream(dir_.path() / "config.toml") << "[plans.free]\nimages_per_period = 100\nmax_concurrent_jobs = 100\n";
  }
  void TearDown() override {
    if (bot_ && bot_->running()) {
      bot_->send(SIGTERM);
      bot_->wait(30s);
    }
  }

  std::vector<core::Job> jobs_of(core::UserId user) { return store_->begin(core::TxMode::read)->jobs_of(user, 1000); }
  std::int64_t count(JobStatus s) { return store_->begin(core::TxMode::read)->count_jobs(s); }

  static std::optional<std::int64_t> reply_to(const FakeTgCall& c) {
    auto* rp = c.params.if_contains("reply_parameters");
    if (!rp || !rp->is_object()) return std::nullopt;
    auto* id = rp->as_object().if_contains("message_id");
    if (!id || !id->is_int64()) return std::nullopt;
    return id->as_int64();
  }
  // Successful calls of `method` in `chat` that reply to `message_id`.
  std::size_t replies(const std::string& method, std::int64_t chat, std::int64_t message_id) {
    std::size_t n = 0;
    for (const auto& c : tg_.calls(method)) n += c.status == 200 && c.chat_id == chat && reply_to(c) == message_id;
    return n;
  }
  // The id of the user's message with this text in their private chat.
  std::int64_t message_id_of(std::int64_t chat, const std::string& text) {
    for (const auto& m : tg_.messages(chat))
      if (!m.from_bot && m.text == text) return m.message_id;
    ADD_FAILURE() << "no message " << text << " in chat " << chat;
    return -1;
  }

  TempDir dir_{"igb-faults-"};
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<core::Store> store_;
  FakeBotApi tg_;
  // Each image takes a few seconds: jobs are running when the outage begins, and end during it. A
  // prompt with "refused" is refused (400, as hf-inference answers a bad request): that job fails
  // for good during the outage, and its notice must get through afterwards.
  FakeHttpServer provider_{[](const FakeRequest& r) {
    auto res = contains(decode_hf_call(r).inputs, "refused")
                   ? hf_json_error(400, R"({"error":"Input validation error: refused by the test"})")
                   : hf_png(r);
    res.delay = 3s;
    return res;
  }};
  std::unique_ptr<ChildProcess> bot_;
};

TEST_F(BotApiOutage, AMinuteOf502LosesNothingAndSendsNothingTwice) {
  constexpr auto kOutage = 70s;  // over a minute, and longer than five photo retries 15 s apart
  const std::vector<std::int64_t> users{5101, 5102, 5103, 5104};
  bot_ = std::make_unique<ChildProcess>(
      ServiceEnv(
          {.database_url = db_->url(), .dir = dir_.path(), .hf_api_base = provider_.base_url(), .hf_token = kHfToken})
          .with_telegram(tg_)
          .set("IMGGENBOT_CONFIG", (dir_.path() / "config.toml").string())
          .set("HF_HUB_BASE", kNoHub)
          .set("WORKER_CONCURRENCY", "2")
          .set("SHUTDOWN_GRACE_SECONDS", "2")
          .process("serve"));
  auto& bot = *bot_;
  ASSERT_TRUE(bot.wait_for_output("imggenbot is up")) << bot.err_so_far();

  // Before: everyone asks; the bot takes the prompts and the first jobs start.
  const std::int64_t refused_user = users.back();
  auto before = [&](std::int64_t u) {
    return "a lighthouse at dusk " + std::to_string(u) + (u == refused_user ? " (refused)" : "");
  };
  auto during = [](std::int64_t u) { return "a harbour in fog " + std::to_string(u); };
  for (auto u : users) tg_.push_message({.from = {.id = u, .first_name = "U" + std::to_string(u)}, .text = before(u)});
  ASSERT_TRUE(eventually([&] {
    std::size_t jobs = 0;
    for (auto u : users) jobs += jobs_of(u).size();
    return jobs == users.size() && count(JobStatus::running) >= 1;
  })) << bot.err_so_far();

  // Telegram's front goes down. Users go on writing; the running jobs finish meanwhile.
  const auto outage_began = std::chrono::steady_clock::now();
  tg_.begin_outage(kOutage);
  std::this_thread::sleep_for(1s);
  for (auto u : users) tg_.push_message({.from = {.id = u, .first_name = "U" + std::to_string(u)}, .text = during(u)});
  ASSERT_TRUE(
      eventually([&] { return !tg_.in_outage(); }, std::chrono::duration_cast<std::chrono::seconds>(kOutage) + 10s));
  const auto outage_calls = tg_.calls();
  EXPECT_TRUE(bot.running()) << bot.err_so_far();
  // Done, not yet shown.
  EXPECT_EQ(count(JobStatus::succeeded), static_cast<std::int64_t>(users.size() - 1));
  EXPECT_EQ(count(JobStatus::failed), 1);

  // After: everything arrives, once.
  const auto total = 2 * users.size() - 1;
  EXPECT_TRUE(tg_.wait_until(
      [&] {
        std::size_t photos = 0;
        for (const auto& c : tg_.calls("sendPhoto")) photos += c.status == 200;
        return photos == total;
      },
      180s))
      << bot.err_so_far();
  EXPECT_TRUE(eventually([&] { return count(JobStatus::succeeded) == static_cast<std::int64_t>(total); }));
  EXPECT_TRUE(bot.running());
  bot.send(SIGTERM);
  auto r = bot.wait();
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // Every prompt became exactly one job, answered by one photo (or, refused, by one message saying so;
  // a short wait gets no status message, issue 17).
  for (auto u : users) {
    auto jobs = jobs_of(u);
    std::map<std::string, int> prompts;
    for (const auto& j : jobs) {
      ++prompts[j.params.prompt];
      const bool refused = contains(j.params.prompt, "refused");
      EXPECT_EQ(j.status, refused ? JobStatus::failed : JobStatus::succeeded) << j.id;
    }
    EXPECT_EQ(prompts, (std::map<std::string, int>{{before(u), 1}, {during(u), 1}})) << u;
    for (const auto& text : {before(u), during(u)}) {
      const auto id = message_id_of(u, text);
      const bool refused = contains(text, "refused");
      EXPECT_EQ(replies("sendMessage", u, id), refused ? 1u : 0u) << text << "\n" << tg_.transcript(u);
      EXPECT_EQ(replies("sendPhoto", u, id), refused ? 0u : 1u) << text << "\n" << tg_.transcript(u);
      if (!refused) continue;
      // The failure is told in a reply to the prompt, which the outage kept from going at first.
      std::optional<std::int64_t> status_id;
      for (const auto& c : tg_.calls("sendMessage")) {
        if (c.status == 200 && c.chat_id == u && reply_to(c) == id) status_id = c.result.at("message_id").as_int64();
      }
      ASSERT_TRUE(status_id);
      auto status = tg_.message(u, *status_id);
      ASSERT_TRUE(status);
      EXPECT_THAT(status->text, ::testing::HasSubstr("could not be made")) << tg_.transcript(u);
    }
  }
  EXPECT_EQ(tg_.pending_update_count(), 0u);
  EXPECT_THAT(tg_.spec_violations(), ::testing::IsEmpty());

  // During the outage: photos were tried (and refused), and getUpdates backed off. Doubling from
  // 1 s, 70 s hold about seven polls; a loop without back-off would make hundreds.
  std::size_t polls = 0, photos_tried = 0;
  for (const auto& c : outage_calls) {
    if (c.time < outage_began || c.status != 502) continue;
    polls += c.method == "getUpdates";
    photos_tried += c.method == "sendPhoto";
  }
  EXPECT_GE(photos_tried, 1u);
  EXPECT_GE(polls, 3u);
  EXPECT_LE(polls, 10u);
  EXPECT_THAT(r.err, ::testing::HasSubstr("getUpdates failed: server"));
  EXPECT_FALSE(contains(r.err, tg_.token().substr(tg_.token().find(':') + 1)));
}

}  // namespace
}  // namespace igb::testing
