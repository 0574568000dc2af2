// Faults of the storage underneath, with real processes: `imggenbot api` and `imggenbot worker` on a
// fake Hugging Face provider (the hf-inference wire format of huggingface/huggingface.js
// packages/inference/src/providers/hf-inference.ts, as tests/worker/worker_support.hpp fakes it).
//   - PostgreSQL stopped (fast shutdown) and started again under load, on a server of the test's own
//     (never the shared IMGGENBOT_TEST_PG_URL one): requests meanwhile get 503 with Retry-After,
//     /readyz says unavailable, and afterwards the processes recover by themselves.
//   - The image folder full (a small tmpfs mounted over DATA_DIR/images), on SQLite and PostgreSQL:
//     the job is retried, then failed with its quota back, the processes stay up and the log says why.
// The database is the judge: every accepted job ends once, quota used == jobs done, nothing reserved.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "http/client.hpp"
#include "storage/store.hpp"
#include "support/async.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"
#include "worker/worker_support.hpp"

namespace igb::testing {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using core::JobStatus;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr core::UserId kUser = 5151;
constexpr auto kOutage = 6s;  // longer than the maintenance period of src/app/serve.cpp (5 s)

// One HTTP exchange against the API, synchronously (its own io_context). status -1: no response
// (the client's timeout fired or the connection broke); `error` then says why.
struct Answer {
  int status = -1;
  std::string body;
  std::string retry_after;
  std::string error;
};

net::awaitable<void> exchange(http::Request req, Answer* out) {
  auto executor = co_await net::this_coro::executor;  // named: GCC 12 and co_await temporaries
  auto client = http::make_client(executor);
  try {
    auto res = co_await client->send(std::move(req));
    out->status = res.status;
    out->body = std::move(res.body);
    out->retry_after = res.header("Retry-After");
  } catch (const std::exception& e) {
    out->status = -1;
    out->error = e.what();
  }
}

http::Request api_request(std::string method, std::string url, const std::string& key, std::string body = {}) {
  http::Request req{.method = std::move(method), .url = std::move(url), .body = std::move(body), .timeout = 20s};
  if (!key.empty()) req.headers.emplace_back("Authorization", "Bearer " + key);
  if (!req.body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  return req;
}

Answer call(http::Request req) {
  net::io_context io;
  Answer out;
  net::co_spawn(io, exchange(std::move(req), &out), rethrow);
  io.run();
  return out;
}

std::string generate_body(std::int64_t seed) {
  return R"({"prompt":"a lighthouse in fog","width":512,"height":512,"seed":)" + std::to_string(seed) + "}";
}

std::string job_id_of(const std::string& body) {
  return std::string(json::parse(body).as_object().at("job_id").as_string());
}

// A positive whole number of seconds, as RFC 9110 §10.2.3 allows (the delay-seconds form).
bool valid_retry_after(const std::string& v) {
  return !v.empty() && v.size() < 10 && std::all_of(v.begin(), v.end(), ::isdigit) && std::stol(v) > 0;
}

// Waits for `done` (a hang guard, not a timing check).
template <class F>
bool eventually(F done, std::chrono::seconds guard = 60s) {
  const auto deadline = std::chrono::steady_clock::now() + guard;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

// The real processes on one database, and the test's own view of that database.
class FaultsFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& p : processes_) {
      if (p && p->running()) {
        p->send(SIGTERM);
        p->wait(30s);
      }
    }
  }

  // Opens the test's view of `url` (again: after a restart of the server its connections are gone).
  void open_store() {
    services_.reset();
    store_ = storage::open_store({.database_url = url_, .pool_size = 2});
    services_ = std::make_unique<Services>(*store_, clock_, *plans_);
  }

  // The free plan with `images` per day and no practical limit on jobs in flight, in a TOML file the
  // processes read; the test's services use the same plans.
  void use_free_plan(int images) {
    std::ofstream(dir_.path() / "config.toml")
        << "[plans.free]\nimages_per_period = " << images << "\nmax_concurrent_jobs = 100000\n";
    auto plans = core::default_plans();
    plans.at(0).images_per_period = images;
    plans.at(0).max_concurrent_jobs = 100000;
    plans_ = std::make_unique<core::PlanCatalog>(core::PlanCatalog::create(plans).value());
    open_store();
    services_->accounts.ensure_user(kUser, "faults", "en");
    key_ = services_->accounts.create_api_key(kUser, "faults")->secret;
  }

  ServiceEnv env() const {
    return ServiceEnv({.database_url = url_, .dir = dir_.path(), .hf_api_base = hf_.base_url(), .hf_token = kHfToken})
        .set("IMGGENBOT_CONFIG", (dir_.path() / "config.toml").string())
        .set("WORKER_CONCURRENCY", "4")
        .set("JOB_LEASE_SECONDS", "5")  // the shortest allowed: a job whose worker lost the database comes back soon
        .set("JOB_MAX_ATTEMPTS", std::to_string(max_attempts_))
        .set("API_RATE_PER_MINUTE", "1000000000")
        .set("API_RATE_BURST", "1000000000")
        .set("SHUTDOWN_GRACE_SECONDS", "2");
  }

  ChildProcess& start(const std::string& role) {
    processes_.push_back(std::make_unique<ChildProcess>(env().process(role)));
    auto& p = *processes_.back();
    EXPECT_TRUE(p.wait_for_output("imggenbot is up")) << p.err_so_far();
    return p;
  }
  // SIGTERM, then a clean exit, with no secret in the log.
  void stop_cleanly(ChildProcess& p) {
    p.send(SIGTERM);
    auto r = p.wait(20s);
    EXPECT_EQ(r.signal, 0) << r.err;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find(kHfToken), std::string::npos);
    EXPECT_EQ(r.err.find(key_), std::string::npos);
  }

  std::vector<core::Job> all_jobs() { return store_->begin(core::TxMode::read)->jobs_of(kUser, 100000); }
  std::optional<core::Job> job(const std::string& id) {
    for (auto& j : all_jobs()) {
      if (j.id == id) return j;
    }
    return std::nullopt;
  }
  std::int64_t count(JobStatus s) { return store_->begin(core::TxMode::read)->count_jobs(s); }

  // Provider calls per requested seed.
  std::map<std::int64_t, int> provider_calls_by_seed() const {
    std::map<std::int64_t, int> out;
    for (const auto& r : hf_.requests()) ++out[decode_hf_call(r).seed];
    return out;
  }

  struct Services {
    Services(core::Store& store, const core::Clock& clock, const core::PlanCatalog& plans)
        : quota(store, clock, plans), accounts(store, clock) {}
    core::QuotaService quota;
    core::AccountService accounts;
  };

  TempDir dir_{"igb-faults-"};
  std::string url_;
  int max_attempts_ = 20;
  std::unique_ptr<core::Store> store_;
  core::SystemClock clock_;  // the processes run on the wall clock
  std::unique_ptr<core::PlanCatalog> plans_;
  std::unique_ptr<Services> services_;
  std::string key_;
  FakeHttpServer hf_{hf_provider({answer_png_after(20ms)})};
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

// ---- PostgreSQL restarted under load ----

// A PostgreSQL server of this test's own, started by scripts/pg-test-server.sh (as the postgres user
// when we are root), that the test can stop and start again on the same port with pg_ctl.
class OwnPostgres {
 public:
  OwnPostgres() {
    auto r = run_process({.argv = {IGB_PG_TEST_SERVER, "start", dir_.path().string()}}, 120s);
    if (r.exit_code != 0) {
      error_ = "pg-test-server.sh start failed: " + r.err;
      return;
    }
    url_ = r.out.substr(0, r.out.find('\n'));
    std::smatch m;
    if (!std::regex_search(url_, m, std::regex("@127\\.0\\.0\\.1:([0-9]+)/"))) {
      error_ = "no port in " + url_;
      return;
    }
    port_ = m[1];
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql")) {
      if (fs::exists(e.path() / "bin" / "pg_ctl") && (bin_.empty() || e.path() / "bin" > bin_)) bin_ = e.path() / "bin";
    }
    if (bin_.empty()) error_ = "no pg_ctl under /usr/lib/postgresql";
  }
  ~OwnPostgres() { run_process({.argv = {IGB_PG_TEST_SERVER, "stop", dir_.path().string()}}, 120s); }

  const std::string& error() const { return error_; }
  const std::string& url() const { return url_; }

  // Fast shutdown: open sessions are ended, and the server refuses new ones until start().
  ProcessResult stop() { return pg_ctl({"-m", "fast", "-w", "-t", "60", "stop"}); }
  // The options pg-test-server.sh starts it with, on the same port.
  ProcessResult start() {
    return pg_ctl({"-l", (dir_.path() / "log").string(), "-w", "-t", "60", "-o",
                   "-c listen_addresses=127.0.0.1 -p " + port_ + " -k " + dir_.path().string() +
                       " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                   "start"});
  }

 private:
  ProcessResult pg_ctl(std::vector<std::string> args) {
    std::vector<std::string> argv;
    if (::getuid() == 0) argv = {"/usr/sbin/runuser", "-u", "postgres", "--"};  // PostgreSQL refuses to run as root
    argv.push_back((bin_ / "pg_ctl").string());
    argv.push_back("-D");
    argv.push_back((dir_.path() / "data").string());
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process({.argv = argv, .cwd = dir_.path()}, 120s);
  }

  TempDir dir_{"igb-faults-pg-"};  // the script gives it to the postgres user and removes it on stop
  std::string url_, port_, error_;
  fs::path bin_;
};

// One answer seen by the load clients, with when it was asked and answered.
struct Seen {
  enum Kind { generate, status } kind;
  SteadyTime sent, answered;
  Answer answer;
};

// Clients that submit jobs and read their status continuously, each pausing a little between
// requests, until stopped; every answer is recorded.
class Load {
 public:
  Load(std::string base, std::string key, int clients) : base_(std::move(base)), key_(std::move(key)) {
    for (int i = 0; i < clients; ++i) net::co_spawn(io_, client(this), net::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Load() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::set<std::string> accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  std::size_t accepted_since(SteadyTime t) const {
    std::lock_guard lock(mutex_);
    return std::count_if(seen_.begin(), seen_.end(),
                         [t](const Seen& s) { return s.sent > t && s.answer.status == 202; });
  }
  std::size_t answers_since(SteadyTime t, Seen::Kind kind) const {
    std::lock_guard lock(mutex_);
    return std::count_if(seen_.begin(), seen_.end(), [t, kind](const Seen& s) { return s.sent > t && s.kind == kind; });
  }

 private:
  static net::awaitable<void> client(Load* self) {
    auto executor = co_await net::this_coro::executor;
    net::steady_timer pause(executor);
    std::string last_job;
    while (!self->stopping_) {
      Seen post{.kind = Seen::generate, .sent = std::chrono::steady_clock::now()};
      co_await exchange(api_request("POST", self->base_ + "/v1/generate", self->key_, generate_body(++self->seed_)),
                        &post.answer);
      post.answered = std::chrono::steady_clock::now();
      if (post.answer.status == 202) last_job = job_id_of(post.answer.body);
      self->record(std::move(post), last_job);
      if (!last_job.empty()) {
        Seen read{.kind = Seen::status, .sent = std::chrono::steady_clock::now()};
        co_await exchange(api_request("GET", self->base_ + "/v1/status/" + last_job, self->key_), &read.answer);
        read.answered = std::chrono::steady_clock::now();
        self->record(std::move(read), {});
      }
      pause.expires_after(100ms);
      co_await pause.async_wait(net::use_awaitable);
    }
  }
  void record(Seen s, const std::string& job) {
    std::lock_guard lock(mutex_);
    if (s.kind == Seen::generate && s.answer.status == 202) accepted_.insert(job);
    seen_.push_back(std::move(s));
  }

  std::string base_, key_;
  net::io_context io_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> seed_{0};  // distinct seeds: no job is served from the exact-repeat cache
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::set<std::string> accepted_;
  std::thread thread_;
};

class PostgresRestart : public FaultsFixture {
 protected:
  void SetUp() override {
    IGB_REQUIRE_POSTGRES();  // the test script provides PostgreSQL; this test runs a server of its own
    pg_ = std::make_unique<OwnPostgres>();
    ASSERT_TRUE(pg_->error().empty()) << pg_->error();
    url_ = pg_->url();
  }
  void TearDown() override {
    FaultsFixture::TearDown();
    services_.reset();
    store_.reset();
    pg_.reset();
  }

  // /readyz until it answers `status` (it caches its answer for a second); the last answer.
  Answer readyz_until(const std::string& base, int status) {
    Answer last;
    eventually([&] {
      last = call(api_request("GET", base + "/readyz", ""));
      return last.status == status;
    });
    return last;
  }

  std::unique_ptr<OwnPostgres> pg_;
};

TEST_F(PostgresRestart, RequestsDuringTheOutageGet503WithRetryAfterAndEveryJobEndsOnceAfterwards) {
  use_free_plan(100000);
  auto& api = start("api");
  const auto base = http_api_base_url(api);
  ASSERT_FALSE(base.empty());
  auto& worker = start("worker");
  ASSERT_EQ(readyz_until(base, 200).status, 200);

  Load load(base, key_, 6);
  const auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually([&] { return load.accepted_since(began) >= 10; })) << "no job accepted before the outage";

  // The outage: the server stopped, requests keep coming for a while, then it starts again.
  const auto stop_called = std::chrono::steady_clock::now();
  auto stopped = pg_->stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  const auto down = std::chrono::steady_clock::now();
  const auto during = readyz_until(base, 503);
  EXPECT_EQ(during.status, 503) << during.body;
  EXPECT_NE(during.body.find(R"("database":"unavailable")"), std::string::npos) << during.body;
  // Both kinds of request were answered while the server was down, several times.
  EXPECT_TRUE(eventually(
      [&] { return load.answers_since(down, Seen::generate) >= 12 && load.answers_since(down, Seen::status) >= 6; }));
  // The outage outlasts the processes' periodic work (the lease reaper runs every 5 s): each of them
  // meets the database down in a background task too, not only in requests.
  std::this_thread::sleep_until(down + kOutage);
  const auto start_called = std::chrono::steady_clock::now();
  auto started = pg_->start();
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const auto up = std::chrono::steady_clock::now();

  // Recovered without restarting anything: ready again, and new jobs accepted.
  const auto after = readyz_until(base, 200);
  EXPECT_EQ(after.status, 200) << after.body;
  EXPECT_TRUE(eventually([&] { return load.accepted_since(up) >= 10; })) << "no job accepted after the outage";
  load.stop();
  EXPECT_TRUE(api.running());
  EXPECT_TRUE(worker.running());

  // Every request got an answer (the client's 20 s timeout never fired), and none was a 500: a
  // submit is accepted or refused with 503 + Retry-After; a status read answers or says 503 too.
  int outage_refusals = 0;
  for (const auto& s : load.seen()) {
    const auto& a = s.answer;
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(s.sent - stop_called).count();
    const auto what = std::string(s.kind == Seen::generate ? "POST /v1/generate" : "GET /v1/status") + " sent " +
                      std::to_string(at) + " ms after the stop: " + std::to_string(a.status) + " " + a.error + " " +
                      a.body;
    ASSERT_NE(a.status, -1) << what;
    const int ok = s.kind == Seen::generate ? 202 : 200;
    EXPECT_TRUE(a.status == ok || a.status == 503) << what;
    if (a.status == 503) {
      EXPECT_TRUE(valid_retry_after(a.retry_after)) << "Retry-After '" << a.retry_after << "': " << what;
      EXPECT_EQ(a.body.find("postgres"), std::string::npos) << what;  // names no database
      EXPECT_EQ(a.body.find("127.0.0.1"), std::string::npos) << what;
    }
    // Sent and answered while the server was surely down: no job can have been accepted.
    if (s.kind == Seen::generate && s.sent > down && s.answered < start_called) {
      EXPECT_EQ(a.status, 503) << what;
      ++outage_refusals;
    }
  }
  EXPECT_GT(outage_refusals, 0);

  // The database judges, through a fresh connection: every job ends once, with its image, charged once.
  open_store();
  ASSERT_TRUE(
      eventually([&] { return count(JobStatus::succeeded) == static_cast<std::int64_t>(all_jobs().size()); }, 120s))
      << count(JobStatus::queued) << " queued, " << count(JobStatus::running) << " running, "
      << count(JobStatus::failed) << " failed";
  const auto jobs = all_jobs();
  const auto accepted = load.accepted();
  std::set<std::string> in_db;
  std::set<std::string> images;
  const auto calls = provider_calls_by_seed();
  int retried = 0;
  for (const auto& j : jobs) {
    in_db.insert(j.id);
    EXPECT_EQ(j.status, JobStatus::succeeded) << j.id;
    EXPECT_EQ(j.quota_state, core::QuotaState::committed) << j.id;
    EXPECT_FALSE(j.lease_owner) << j.id;
    ASSERT_TRUE(j.image_id) << j.id;
    images.insert(*j.image_id);
    ASSERT_TRUE(j.params.seed) << j.id;
    // The provider was asked for this job's image once per attempt at most: work is repeated only
    // when an attempt was cut off by the outage and the job ran again.
    const auto n = calls.contains(*j.params.seed) ? calls.at(*j.params.seed) : 0;
    EXPECT_GE(n, 1) << j.id;
    EXPECT_LE(n, j.attempts) << j.id;
    if (j.attempts > 1) ++retried;
  }
  for (const auto& id : accepted) EXPECT_TRUE(in_db.contains(id)) << "accepted job " << id << " is not in the database";
  // A commit cut off by the shutdown may leave a job the client was told 503 about; it still ran once.
  EXPECT_LE(accepted.size(), jobs.size());
  EXPECT_EQ(images.size(), jobs.size());
  auto q = services_->quota.status(kUser);
  EXPECT_EQ(q.used, static_cast<int>(jobs.size()));
  EXPECT_EQ(q.reserved, 0);
  std::cout << "[ faults   ] " << load.seen().size() << " requests, " << outage_refusals
            << " submits refused during the outage, " << jobs.size() << " jobs (" << accepted.size() << " accepted), "
            << retried << " run again, " << hf_.request_count() << " provider calls\n";
  stop_cleanly(worker);
  stop_cleanly(api);
}

// The bot's side of the same outage, in one `imggenbot serve` (API, workers and bot): a message sent
// while the database is down is neither lost nor answered twice, and the process stays up. Before,
// bot-receive / bot-inbox / bot-delivery ended on the first database error and stopped the process.
TEST_F(PostgresRestart, TheBotLosesNoMessageAndAnswersEachOnce) {
  use_free_plan(100);
  FakeBotApi tg;
  auto vars = env().with_telegram(tg).set("HF_HUB_BASE",
                                          "http://127.0.0.1:1");  // no provider mapping look-ups leave the machine
  processes_.push_back(std::make_unique<ChildProcess>(vars.process("serve")));
  auto& serve = *processes_.back();
  ASSERT_TRUE(serve.wait_for_output("imggenbot is up")) << serve.err_so_far();

  auto photos_to = [&](std::int64_t chat) {
    std::size_t n = 0;
    for (const auto& c : tg.calls("sendPhoto")) n += c.status == 200 && c.chat_id == chat;
    return n;
  };
  auto ask = [&](std::int64_t user, const std::string& text) {
    tg.push_message({.from = {.id = user, .first_name = "U" + std::to_string(user)}, .text = text});
  };
  constexpr std::int64_t kBefore = 6001, kDuring = 6002, kAfter = 6003;
  ask(kBefore, "a lighthouse at dusk");
  ASSERT_TRUE(tg.wait_until([&] { return photos_to(kBefore) == 1; }, 60s)) << serve.err_so_far();

  auto stopped = pg_->stop();
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  const auto down = std::chrono::steady_clock::now();
  ask(kDuring, "a harbour in fog");
  std::this_thread::sleep_until(down + kOutage);
  EXPECT_TRUE(serve.running()) << serve.err_so_far();
  auto started = pg_->start();
  ASSERT_EQ(started.exit_code, 0) << started.err;

  ask(kAfter, "a mill by a river");
  EXPECT_TRUE(tg.wait_until([&] { return photos_to(kDuring) >= 1 && photos_to(kAfter) >= 1; }, 120s))
      << serve.err_so_far();
  EXPECT_TRUE(serve.running()) << serve.err_so_far();

  open_store();
  for (auto user : {kBefore, kDuring, kAfter}) {
    EXPECT_EQ(photos_to(user), 1u) << user;
    const auto jobs = store_->begin(core::TxMode::read)->jobs_of(user, 100);
    ASSERT_EQ(jobs.size(), 1u) << user;  // one prompt, one job
    EXPECT_EQ(jobs[0].status, JobStatus::succeeded) << user;
  }
  EXPECT_EQ(tg.pending_update_count(), 0u);
  EXPECT_TRUE(tg.spec_violations().empty());
  stop_cleanly(serve);
}

// ---- the image folder full ----

class DiskFull : public FaultsFixture, public ::testing::WithParamInterface<storage::Dialect> {
 protected:
  void SetUp() override {
    if (GetParam() == storage::Dialect::postgres) IGB_REQUIRE_POSTGRES();
    db_ = make_test_database(GetParam());  // SQLite: a file in a folder of its own, outside the mount
    url_ = db_->url();
    images_ = dir_.path() / "data" / "images";
    fs::create_directories(images_);
    // 1 MiB: room for a few of the fake provider's images, quickly filled.
    if (::mount("tmpfs", images_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0700") != 0) {
      const int e = errno;
      GTEST_SKIP() << "cannot mount a tmpfs over the image folder (" << std::strerror(e)
                   << "): this test needs root or CAP_SYS_ADMIN";
    }
    mounted_ = true;
  }
  void TearDown() override {
    FaultsFixture::TearDown();
    if (mounted_ && ::umount2(images_.c_str(), MNT_DETACH) != 0) ADD_FAILURE() << "umount: " << std::strerror(errno);
  }

  // Writes a file until the file system says it is full.
  void fill() {
    std::FILE* f = std::fopen((images_ / "filler").c_str(), "wb");
    ASSERT_NE(f, nullptr) << std::strerror(errno);
    const std::string block(4096, 'x');
    int error = 0;
    while (error == 0) {
      if (std::fwrite(block.data(), 1, block.size(), f) != block.size() || std::fflush(f) != 0) error = errno;
    }
    std::fclose(f);
    ASSERT_EQ(error, ENOSPC) << std::strerror(error);
  }

  std::unique_ptr<TestDatabase> db_;
  fs::path images_;
  bool mounted_ = false;
};

TEST_P(DiskFull, TheJobIsRetriedThenFailedWithItsQuotaBackAndTheLogSaysWhy) {
  max_attempts_ = 2;
  use_free_plan(10);
  auto& api = start("api");
  const auto base = http_api_base_url(api);
  ASSERT_FALSE(base.empty());
  auto& worker = start("worker");
  fill();

  auto posted = call(api_request("POST", base + "/v1/generate", key_, generate_body(1)));
  ASSERT_EQ(posted.status, 202) << posted.error << posted.body;
  const auto full_job = job_id_of(posted.body);
  ASSERT_TRUE(eventually([&] { return job(full_job)->status == JobStatus::failed; }))
      << core::to_string(job(full_job)->status);

  // Tried again, then given up; the quota came back: the user was not charged for an image never stored.
  const auto failed = *job(full_job);
  EXPECT_EQ(failed.attempts, 2);
  EXPECT_EQ(failed.quota_state, core::QuotaState::released);
  EXPECT_FALSE(failed.image_id);
  EXPECT_EQ(provider_calls_by_seed()[1], 2);
  auto q = services_->quota.status(kUser);
  EXPECT_EQ(q.used, 0);
  EXPECT_EQ(q.reserved, 0);

  // Both processes are up and serving; the client is told the job failed.
  EXPECT_TRUE(api.running());
  EXPECT_TRUE(worker.running());
  EXPECT_EQ(call(api_request("GET", base + "/healthz", "")).status, 200);
  auto status = call(api_request("GET", base + "/v1/status/" + full_job, key_));
  EXPECT_EQ(status.status, 200) << status.body;
  EXPECT_NE(status.body.find(R"("status":"failed")"), std::string::npos) << status.body;
  std::cout << "[ faults   ] the client sees: " << status.body << "\n";

  // The worker's log names the job and the reason, once per attempt, says whether it tries again, and
  // names no secret.
  const auto log = worker.err_so_far();
  std::vector<std::string> why;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(full_job) != std::string::npos && line.find("No space left on device") != std::string::npos) {
      std::cout << "[ faults   ] the worker's log: " << line << "\n";
      why.push_back(line);
    }
  }
  ASSERT_EQ(why.size(), 2u) << log;
  EXPECT_NE(why[0].find("attempt 1/2"), std::string::npos) << why[0];
  EXPECT_NE(why[0].find("cannot store the image"), std::string::npos) << why[0];
  EXPECT_NE(why[0].find("retrying in"), std::string::npos) << why[0];
  EXPECT_NE(why[1].find("attempt 2/2"), std::string::npos) << why[1];
  EXPECT_NE(why[1].find("giving up"), std::string::npos) << why[1];
  EXPECT_EQ(log.find(kHfToken), std::string::npos) << log;
  EXPECT_EQ(log.find(key_), std::string::npos) << log;
  // No half-written image was left behind to fill the disk further.
  for (const auto& f : image_files(dir_.path() / "data")) EXPECT_EQ(f.filename(), "filler") << f;

  // Space freed: new jobs succeed, with no restart.
  fs::remove(images_ / "filler");
  posted = call(api_request("POST", base + "/v1/generate", key_, generate_body(2)));
  ASSERT_EQ(posted.status, 202) << posted.error << posted.body;
  const auto later_job = job_id_of(posted.body);
  ASSERT_TRUE(eventually([&] { return job(later_job)->status == JobStatus::succeeded; }))
      << core::to_string(job(later_job)->status);
  EXPECT_EQ(job(later_job)->attempts, 1);
  EXPECT_EQ(image_files(dir_.path() / "data").size(), 1u);
  q = services_->quota.status(kUser);
  EXPECT_EQ(q.used, 1);
  EXPECT_EQ(q.reserved, 0);
  stop_cleanly(worker);
  stop_cleanly(api);
}

INSTANTIATE_TEST_SUITE_P(Databases, DiskFull, ::testing::Values(storage::Dialect::sqlite, storage::Dialect::postgres),
                         [](const auto& p) { return dialect_name(p.param); });

}  // namespace
}  // namespace igb::testing
