// End-to-end tests of the HTTP API: the real `imggenbot` binary on real sockets, on SQLite and
// PostgreSQL, with a fake Hugging Face server behind it.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "http/client.hpp"
#include "imaging/decode.hpp"
#include "support/test_image.hpp"
#include "core/jobs.hpp"
#include "core/payments.hpp"
#include "support/async.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/store_fixture.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class Api : public StoreTest {
 protected:
  void TearDown() override {
    if (process_) {
      process_->send(SIGTERM);
      auto r = process_->wait();
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Starts `imggenbot <role>` with a fake provider and returns its base URL.
  void start(std::map<std::string, std::string> extra = {}, std::string role = "serve") {
    std::filesystem::create_directories(dir_);
    auto env = ServiceEnv({.database_url = db_->url(), .dir = dir_, .hf_api_base = provider_.base_url()})
                   .set("WORKER_CONCURRENCY", "2")
                   .set("SHUTDOWN_GRACE_SECONDS", "1")
                   .merge(extra);
    process_ = std::make_unique<ChildProcess>(env.process(role));
    ASSERT_TRUE(process_->wait_for_output("imggenbot is up")) << process_->err_so_far();
    base_ = http_api_base_url(*process_);
    ASSERT_FALSE(base_.empty());
  }

  std::string new_key(core::UserId user) {
    core::AccountService accounts(store(), clock_);
    accounts.ensure_user(user, "u" + std::to_string(user), "en");
    return accounts.create_api_key(user, "test")->secret;
  }

  http::Response call(std::string method, std::string path, std::string key = {}, std::string body = {},
                      http::Headers headers = {}) {
    http::Request req{.method = std::move(method),
                      .url = base_ + path,
                      .headers = std::move(headers),
                      .body = std::move(body),
                      .timeout = 30s};
    if (!key.empty()) req.headers.emplace_back("Authorization", "Bearer " + key);
    if (!req.body.empty() &&
        !std::any_of(req.headers.begin(), req.headers.end(), [](auto& h) { return h.first == "Content-Type"; })) {
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto client = http::make_client(io_.get_executor());
    return run_async(io_, client->send(std::move(req)));
  }
  static json::object body(const http::Response& r) { return json::parse(r.body).as_object(); }

  json::object wait_until_done(const std::string& key, const std::string& job_id) {
    for (int i = 0; i < 600; ++i) {
      auto r = call("GET", "/v1/status/" + job_id, key);
      auto b = body(r);
      auto st = std::string(b.at("status").as_string());
      if (st == "succeeded" || st == "failed" || st == "canceled") return b;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "job " << job_id << " did not finish";
    return {};
  }

  std::filesystem::path dir_ = std::filesystem::temp_directory_path() / ("igb-api-" + util::random_hex(6));
  FakeHttpServer provider_{[](const FakeRequest&) {
    return FakeResponse{.headers = {{"Content-Type", "image/png"}}, .body = imaging::make_png(64, 64)};
  }};
  std::unique_ptr<ChildProcess> process_;
  std::string base_;
  boost::asio::io_context io_;
};

TEST_P(Api, GenerateStatusEventsAndImage) {
  start();
  const auto key = new_key(100);
  auto r = call("POST", "/v1/generate", key, R"({"prompt":"a red fox in the snow","width":512,"height":512,"seed":7})");
  ASSERT_EQ(r.status, 202) << r.body;
  auto b = body(r);
  const std::string job_id(b.at("job_id").as_string());
  EXPECT_EQ(b.at("status_url").as_string(), "/v1/status/" + job_id);
  auto quota = b.at("quota").as_object();
  EXPECT_EQ(quota.at("used").as_int64(), 1);
  EXPECT_EQ(quota.at("limit").as_int64(), 10);
  EXPECT_EQ(quota.at("remaining").as_int64(), 9);
  EXPECT_TRUE(quota.contains("resets_at"));

  // The event stream ends when the job does; every event is a full status document.
  auto events = call("GET", "/v1/status/" + job_id + "/events", key);
  ASSERT_EQ(events.status, 200);
  EXPECT_TRUE(events.header("Content-Type").starts_with("text/event-stream"));
  std::vector<std::string> states;
  std::regex data_line("data: (.*)");
  for (auto it = std::sregex_iterator(events.body.begin(), events.body.end(), data_line); it != std::sregex_iterator();
       ++it) {
    states.emplace_back(json::parse((*it)[1].str()).as_object().at("status").as_string());
  }
  ASSERT_FALSE(states.empty()) << events.body;
  EXPECT_EQ(states.back(), "succeeded");
  EXPECT_NE(events.body.find("event: status"), std::string::npos);

  auto done = wait_until_done(key, job_id);
  EXPECT_EQ(done.at("status").as_string(), "succeeded");
  EXPECT_TRUE(done.at("error").is_null());
  EXPECT_TRUE(done.at("error_code").is_null());
  // The answer has exactly the members the OpenAPI document's Job schema lists.
  auto doc = json::parse(call("GET", "/openapi.json").body).as_object();
  const auto& job_schema = doc.at("components").at("schemas").at("Job").as_object();
  std::set<std::string> documented, answered;
  for (const auto& [k, v] : job_schema.at("properties").as_object()) documented.emplace(k);
  for (const auto& [k, v] : done) answered.emplace(k);
  EXPECT_EQ(answered, documented);
  auto result = done.at("result").as_object();
  EXPECT_EQ(result.at("width").as_int64(), 64);
  EXPECT_EQ(result.at("seed").as_int64(), 7);
  const std::string image_url(result.at("image_url").as_string());

  auto image = call("GET", image_url, key);
  ASSERT_EQ(image.status, 200);
  EXPECT_EQ(image.header("Content-Type"), "image/png");
  EXPECT_TRUE(imaging::inspect(image.body).ok());
  const auto etag = image.header("ETag");
  EXPECT_FALSE(etag.empty());
  EXPECT_NE(image.header("Cache-Control").find("private"), std::string::npos);
  auto again = call("GET", image_url, key, {}, {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());

  auto sub = body(call("GET", "/v1/subscription", key));
  EXPECT_EQ(sub.at("plan").as_object().at("id").as_string(), "free");
  EXPECT_EQ(sub.at("quota").as_object().at("used").as_int64(), 1);

  // The provider saw what the Hugging Face API expects.
  auto sent = provider_.requests().at(0);
  EXPECT_EQ(sent.header("Authorization"), "Bearer hf_test_secret_token");
  EXPECT_EQ(json::parse(sent.body).as_object().at("parameters").as_object().at("seed").as_int64(), 7);
  // The provider token never reaches the log.
  EXPECT_EQ(process_->err_so_far().find("hf_test_secret_token"), std::string::npos);
  EXPECT_EQ(process_->err_so_far().find(key), std::string::npos);
}

TEST_P(Api, AnotherUsersJobIsInvisible) {
  start();
  const auto alice = new_key(1), bob = new_key(2);
  auto job_id = std::string(body(call("POST", "/v1/generate", alice, R"({"prompt":"mine"})")).at("job_id").as_string());
  auto done = wait_until_done(alice, job_id);
  const std::string image_url(done.at("result").as_object().at("image_url").as_string());
  for (const auto& path : {"/v1/status/" + job_id, "/v1/status/" + job_id + "/events", image_url}) {
    auto r = call("GET", path, bob);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  }
  EXPECT_EQ(call("GET", "/v1/status/jnonexistent", alice).status, 404);
}

TEST_P(Api, IdempotencyKeyReturnsTheFirstAnswer) {
  provider_.set_handler([](const FakeRequest&) { return FakeResponse{.no_response_hang = true}; });
  start();
  const auto key = new_key(3);
  auto first = call("POST", "/v1/generate", key, R"({"prompt":"once"})", {{"Idempotency-Key", "abc-123"}});
  ASSERT_EQ(first.status, 202) << first.body;
  auto second = call("POST", "/v1/generate", key, R"({"prompt":"once"})", {{"Idempotency-Key", "abc-123"}});
  ASSERT_EQ(second.status, 202) << second.body;  // not 429, although the plan allows one job at a time
  EXPECT_EQ(body(first).at("job_id"), body(second).at("job_id"));
  EXPECT_EQ(second.header("Idempotent-Replayed"), "true");
}

// Status streams hold a connection each: at most 4 per account (then 429), and a slot comes back
// as soon as its client leaves.
TEST_P(Api, StatusStreamsAreCappedPerAccount) {
  provider_.set_handler([](const FakeRequest&) { return FakeResponse{.no_response_hang = true}; });
  start();
  const auto key = new_key(11);
  auto job = std::string(body(call("POST", "/v1/generate", key, R"({"prompt":"slow"})")).at("job_id").as_string());
  const auto port = static_cast<unsigned short>(std::stoi(base_.substr(base_.rfind(':') + 1)));
  // Opens a stream on a raw socket and returns the socket with the status line read.
  auto open = [&](std::string& status_line) {
    auto s = std::make_unique<boost::asio::ip::tcp::socket>(io_);
    s->connect({boost::asio::ip::make_address("127.0.0.1"), port});
    const std::string req =
        "GET /v1/status/" + job + "/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\n\r\n";
    boost::asio::write(*s, boost::asio::buffer(req));
    boost::asio::streambuf buf;
    boost::asio::read_until(*s, buf, "\r\n");
    std::istream in(&buf);
    std::getline(in, status_line);
    return s;
  };
  std::vector<std::unique_ptr<boost::asio::ip::tcp::socket>> streams;
  for (int i = 0; i < 4; ++i) {
    std::string line;
    streams.push_back(open(line));
    EXPECT_NE(line.find(" 200 "), std::string::npos) << line;
  }
  std::string line;
  auto fifth = open(line);
  EXPECT_NE(line.find(" 429 "), std::string::npos) << line;
  streams.front()->close();
  bool admitted = false;
  for (int i = 0; i < 200 && !admitted; ++i) {  // the server notices the close on its own time
    auto again = open(line);
    admitted = line.find(" 200 ") != std::string::npos;
    if (!admitted)
      std::this_thread::sleep_for(10ms);
    else
      streams.push_back(std::move(again));
  }
  EXPECT_TRUE(admitted);
  EXPECT_EQ(call("GET", "/v1/status/" + job, key).status, 200);  // plain status is not capped
}

// A status stream is woken by its job's changes, not by polling: idle, it reads the database once
// (ApiOptions::events_fallback is 5 s; a 250 ms poll would read about four times a second), and a
// cancel made by another request reaches it at once. Job changes of other processes arrive by
// NOTIFY on PostgreSQL: tests/app/job_wakeup_test.cpp.
TEST_P(Api, StatusStreamsArePushedByTheJobsChanges) {
  start({{"WORKER_CONCURRENCY", "0"}});  // the job stays queued until canceled
  const auto key = new_key(12);
  auto job =
      std::string(body(call("POST", "/v1/generate", key, R"({"prompt":"wait for it"})")).at("job_id").as_string());
  auto stream_reads = [&] {
    std::smatch m;
    const auto text = call("GET", "/metrics").body;
    EXPECT_TRUE(std::regex_search(text, m, std::regex("imggenbot_status_stream_reads_total ([0-9.e+]+)"))) << text;
    return m.empty() ? -1.0 : std::stod(m[1]);
  };
  const auto port = static_cast<unsigned short>(std::stoi(base_.substr(base_.rfind(':') + 1)));
  boost::asio::ip::tcp::socket s(io_);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string req =
      "GET /v1/status/" + job + "/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key + "\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(req));
  boost::asio::streambuf buf;
  boost::asio::read_until(s, buf, "\"status\":\"queued\"");
  std::this_thread::sleep_for(1500ms);
  const double idle_reads = stream_reads();
  EXPECT_GE(idle_reads, 1);
  // The first read, plus at most: one wake when the process's listening connection (re)connects
  // (PostgreSQL; it may connect after the stream started) and one 5 s fallback if a loaded machine held
  // the test up. A 250 ms poll would have read 6 times.
  EXPECT_LE(idle_reads, 3);

  ASSERT_EQ(call("POST", "/v1/jobs/" + job + "/cancel", key).status, 200);
  boost::system::error_code ec;
  boost::asio::read_until(s, buf, "\"status\":\"canceled\"", ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_LE(stream_reads(), idle_reads + 2);
}

// A queued job's cancel gives the quota back (no worker here, so the job stays queued; a running
// job's cancel keeps its charge: tests/core/jobs_test.cpp).
TEST_P(Api, CancelGivesTheQuotaBack) {
  start({{"WORKER_CONCURRENCY", "0"}});
  const auto key = new_key(9), other = new_key(10);
  auto job =
      std::string(body(call("POST", "/v1/generate", key, R"({"prompt":"never mind"})")).at("job_id").as_string());
  EXPECT_EQ(call("POST", "/v1/jobs/" + job + "/cancel", other).status, 404);
  auto r = call("POST", "/v1/jobs/" + job + "/cancel", key);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body(r).at("status").as_string(), "canceled");
  EXPECT_TRUE(body(r).at("error_code").is_null());
  auto again = call("POST", "/v1/jobs/" + job + "/cancel", key);
  EXPECT_EQ(again.status, 409);
  auto quota = body(call("GET", "/v1/subscription", key)).at("quota").as_object();
  EXPECT_EQ(quota.at("used").as_int64(), 0);
  EXPECT_EQ(quota.at("remaining").as_int64(), 10);
}

// A job whose worker stopped answering, out of attempts, ends `interrupted` (the lease reaper's
// code). The test plays the worker that vanished (the process runs none, and allows one attempt); the
// reaper is this test's (its clock moved past the lease) or the process's, whichever comes first.
TEST_P(Api, AJobWhoseWorkerVanishedEndsInterrupted) {
  start({{"WORKER_CONCURRENCY", "0"}, {"JOB_MAX_ATTEMPTS", "1"}});
  const auto key = new_key(11);
  auto r = call("POST", "/v1/generate", key, R"({"prompt":"a lighthouse in fog"})");
  ASSERT_EQ(r.status, 202) << r.body;
  const std::string job_id(body(r).at("job_id").as_string());
  clock_.set(core::SystemClock().now());  // the process queued it at its own time
  core::JobService jobs(store(), clock_, plans_);
  auto claimed = jobs.claim("vanished-worker");
  ASSERT_TRUE(claimed);
  ASSERT_EQ(claimed->id, job_id);
  clock_.advance(jobs.options().lease + 1s);
  jobs.reap_expired_leases();
  auto done = wait_until_done(key, job_id);
  EXPECT_EQ(done.at("status").as_string(), "failed");
  EXPECT_EQ(done.at("error_code").as_string(), "interrupted");
  const std::string error(done.at("error").as_string());
  EXPECT_NE(error.find("did not finish"), std::string::npos) << error;
  auto quota = body(call("GET", "/v1/subscription", key)).at("quota").as_object();
  EXPECT_EQ(quota.at("used").as_int64(), 0);
}

TEST_P(Api, AuthenticationErrorsSayNothingMore) {
  start();
  for (auto key : {std::string(), std::string("igb_wrong")}) {
    auto r = call("GET", "/v1/subscription", key);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
    EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
    auto b = body(r);
    EXPECT_EQ(b.at("status").as_int64(), 401);
    EXPECT_EQ(b.at("detail").as_string(), "invalid or missing API key");
  }
  auto r = call("GET", "/v1/subscription", "", {}, {{"Authorization", "Basic dXNlcjpwYXNz"}});
  EXPECT_EQ(r.status, 401);
}

TEST_P(Api, QuotaExhaustedIs402WithThePlans) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "config.toml") << "[plans.free]\nimages_per_period = 1\nmax_concurrent_jobs = 5\n";
  start({{"IMGGENBOT_CONFIG", (dir_ / "config.toml").string()}});
  const auto key = new_key(4);
  EXPECT_EQ(call("POST", "/v1/generate", key, R"({"prompt":"one"})").status, 202);
  auto r = call("POST", "/v1/generate", key, R"({"prompt":"two"})");
  ASSERT_EQ(r.status, 402) << r.body;
  auto b = body(r);
  EXPECT_EQ(b.at("title").as_string(), "Payment Required");
  auto plans = b.at("plans").as_array();
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].as_object().at("id").as_string(), "basic");
  EXPECT_GT(plans[0].as_object().at("price_stars").as_int64(), 0);
  EXPECT_FALSE(r.header("Retry-After").empty());
}

// Issue 15: prompts the provider refuses cost no quota but do cost provider credit, so they count
// against the plan's failed_attempts_per_period; at the limit, 429 with Retry-After until the period
// ends and a problem+json that names the limit. The fake refuses as the HF router does: 400 with
// {"error": "..."} (huggingface_hub src/huggingface_hub/utils/_http.py, hf_raise_for_status, reads
// the message from that body; our classification is in src/gen/hf_providers.cpp).
TEST_P(Api, RefusedPromptsSpendTheFailedAttemptsBudgetThen429) {
  provider_.set_handler(
      [](const FakeRequest&) { return FakeResponse::json(R"({"error":"NSFW content detected in the prompt"})", 400); });
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "config.toml") << "[plans.free]\nfailed_attempts_per_period = 2\n";
  start({{"IMGGENBOT_CONFIG", (dir_ / "config.toml").string()}});
  const auto key = new_key(8);
  for (int i = 0; i < 2; ++i) {
    auto r = call("POST", "/v1/generate", key, R"({"prompt":"something the provider refuses"})");
    ASSERT_EQ(r.status, 202) << r.body;
    auto done = wait_until_done(key, std::string(body(r).at("job_id").as_string()));
    EXPECT_EQ(done.at("status").as_string(), "failed");
    // The code for programs, an English sentence for people; never the provider's own words.
    EXPECT_EQ(done.at("error_code").as_string(), "content_refused");
    const std::string error(done.at("error").as_string());
    EXPECT_NE(error.find("rephrase"), std::string::npos) << error;
    EXPECT_NE(error.find("quota was not used"), std::string::npos) << error;
    EXPECT_EQ(error.find("NSFW"), std::string::npos) << error;
  }
  auto r = call("POST", "/v1/generate", key, R"({"prompt":"and once more"})");
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  const auto retry_after = std::stoll(r.header("Retry-After"));
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 24 * 3600);  // the free plan's period is the UTC day
  auto b = body(r);
  EXPECT_EQ(b.at("status").as_int64(), 429);
  EXPECT_NE(std::string(b.at("detail").as_string()).find("failed_attempts_per_period"), std::string::npos) << r.body;
  auto limit = b.at("limit").as_object();
  EXPECT_EQ(limit.at("name").as_string(), "failed_attempts_per_period");
  EXPECT_EQ(limit.at("value").as_int64(), 2);
  EXPECT_EQ(limit.at("failed").as_int64(), 2);
  EXPECT_TRUE(limit.at("resets_at").as_string().ends_with("T00:00:00Z")) << r.body;
  EXPECT_EQ(provider_.requests().size(), 2u);  // the refused request never reached the provider
  auto quota = body(call("GET", "/v1/subscription", key)).at("quota").as_object();
  EXPECT_EQ(quota.at("used").as_int64(), 0);  // failures cost no images
}

// The operator's margins (issue 17): a finished image records who made it and its cost at
// PROVIDER_PRICES; once today's spend reaches DAILY_SPEND_LIMIT_USD a free user's generate is a 503
// problem with Retry-After, reason spend_paused and when it lifts; a paid user goes on.
TEST_P(Api, TheDailySpendLimitPausesFreeGenerationsWith503) {
  start({{"PROVIDER_PRICES", "*=0.01/image"}, {"DAILY_SPEND_LIMIT_USD", "0.01"}});
  const auto key = new_key(21);
  auto first = call("POST", "/v1/generate", key, R"({"prompt":"a fox"})");
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string job_id(body(first).at("job_id").as_string());
  EXPECT_EQ(wait_until_done(key, job_id).at("status").as_string(), "succeeded");
  auto job = store().begin(core::TxMode::read)->find_job(job_id, false);
  ASSERT_TRUE(job);
  EXPECT_TRUE(job->provider && !job->provider->empty());
  EXPECT_EQ(job->served_model, "black-forest-labs/FLUX.1-schnell");
  EXPECT_EQ(job->cost_micros, 10'000);
  EXPECT_EQ(job->plan, "free");

  auto r = call("POST", "/v1/generate", key, R"({"prompt":"another fox"})");
  ASSERT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  const auto retry_after = std::stoll(r.header("Retry-After"));
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 24 * 3600);
  auto b = body(r);
  EXPECT_EQ(b.at("reason").as_string(), "spend_paused");
  EXPECT_EQ(b.at("limit").as_object().at("name").as_string(), "daily_spend_limit");
  EXPECT_TRUE(b.at("limit").as_object().at("resets_at").as_string().ends_with("T00:00:00Z")) << r.body;
  EXPECT_EQ(r.body.find("0.01"), std::string::npos) << r.body;  // the operator's figures stay private

  const auto paid = new_key(22);
  core::SystemClock now;  // the process's clock: the grant must be in force for it
  core::PaymentService payments(store(), now, plans_);
  ASSERT_TRUE(payments.grant(22, "pro", 30).ok());
  auto paid_fox = call("POST", "/v1/generate", paid, R"({"prompt":"a paid fox"})");
  EXPECT_EQ(paid_fox.status, 202) << paid_fox.body;
}

TEST_P(Api, TooManyJobsAndTooManyRequestsAre429WithRetryAfter) {
  provider_.set_handler([](const FakeRequest&) { return FakeResponse{.no_response_hang = true}; });
  start({{"API_RATE_PER_MINUTE", "1"}, {"API_RATE_BURST", "2"}});
  const auto key = new_key(5);
  EXPECT_EQ(call("POST", "/v1/generate", key, R"({"prompt":"first"})").status, 202);
  auto busy = call("POST", "/v1/generate", key, R"({"prompt":"second"})");  // the free plan runs one at a time
  EXPECT_EQ(busy.status, 429);
  EXPECT_FALSE(busy.header("Retry-After").empty());
  auto limited = call("GET", "/v1/subscription", key);  // the third request, over the burst of two
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.header("Retry-After").empty());
  EXPECT_EQ(body(limited).at("detail").as_string(), "too many requests for this API key");
}

// The prompt policy's base lists apply to the API (issue 17): a 422 on the field prompt with a clear
// reason, nothing queued; the group lists (safe mode) do not apply here.
TEST_P(Api, APromptTheContentPolicyBlocksIsA422OnPrompt) {
  start();
  const auto key = new_key(6);
  auto r = call("POST", "/v1/generate", key, R"({"prompt":"a L0L1 in a bikini"})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  auto problem = body(r);
  const auto& errors = problem.at("errors").as_array();
  ASSERT_EQ(errors.size(), 1u) << r.body;
  const auto& e = errors.at(0).as_object();
  EXPECT_EQ(e.at("loc").as_array().at(0).as_string(), "body");
  EXPECT_EQ(e.at("loc").as_array().at(1).as_string(), "prompt");
  EXPECT_EQ(e.at("type").as_string(), "value_error.prompt_blocked");
  EXPECT_EQ(e.at("msg").as_string(), "the prompt contains a term the content policy does not allow");
  EXPECT_EQ(r.body.find("loli"), std::string::npos) << "the matched term is for the log, not the client";
  auto quota = body(call("GET", "/v1/subscription", key)).at("quota").as_object();
  EXPECT_EQ(quota.at("used").as_int64(), 0);
  {
    auto tx = store().begin(core::TxMode::read);
    ASSERT_TRUE(tx->prompt_refusals_of(6));
    EXPECT_EQ(tx->prompt_refusals_of(6)->blocked, 1);
  }
  EXPECT_EQ(call("POST", "/v1/generate", key, R"({"prompt":"a nude study in charcoal"})").status, 202);
}

TEST_P(Api, ValidationListsEveryBadField) {
  start();
  const auto key = new_key(6);
  auto r = call("POST", "/v1/generate", key, R"({"width":"wide","height":100,"steps":9,"style":"bogus","seed":-5})");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(r.header("Content-Type"), "application/problem+json");
  std::map<std::string, std::string> by_field;
  auto problem = body(r);
  for (const auto& e : problem.at("errors").as_array()) {
    const auto& loc = e.as_object().at("loc").as_array();
    EXPECT_EQ(loc.at(0).as_string(), "body");
    by_field[std::string(loc.at(1).as_string())] = std::string(e.as_object().at("type").as_string());
    EXPECT_FALSE(e.as_object().at("msg").as_string().empty());
  }
  EXPECT_EQ(by_field["prompt"], "value_error.missing");
  EXPECT_EQ(by_field["width"], "type_error.integer");
  EXPECT_EQ(by_field.size(), 2u);  // type errors first; the values are checked once the types are right

  r = call("POST", "/v1/generate", key, R"({"prompt":"x","height":100,"steps":9,"style":"bogus","seed":-5})");
  ASSERT_EQ(r.status, 422);
  by_field.clear();
  problem = body(r);
  for (const auto& e : problem.at("errors").as_array()) {
    by_field[std::string(e.as_object().at("loc").as_array().at(1).as_string())] = "";
  }
  for (auto f : {"height", "steps", "style", "seed"}) EXPECT_TRUE(by_field.count(f)) << f << " " << r.body;

  EXPECT_EQ(call("POST", "/v1/generate", key, R"({"prompt":"x","aspect_ratio":"16:9","width":512})").status, 422);
  auto wide = call("POST", "/v1/generate", key, R"({"prompt":"x","aspect_ratio":"16:9"})");
  ASSERT_EQ(wide.status, 202) << wide.body;

  auto malformed = call("POST", "/v1/generate", key, R"({"prompt": "x",)");
  EXPECT_EQ(malformed.status, 422);
  EXPECT_NE(malformed.body.find("jsondecode"), std::string::npos);
  EXPECT_EQ(call("POST", "/v1/generate", key, "[1,2]").status, 422);
  auto text = call("POST", "/v1/generate", key, "prompt=x", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(text.status, 415);
  auto bad_utf8 = call("POST", "/v1/generate", key, "{\"prompt\":\"\xff\xfe\"}");
  EXPECT_EQ(bad_utf8.status / 100, 4);
}

TEST_P(Api, SubscriptionIsSoldThroughTelegramAndItsRenewalStopped) {
  FakeBotApi tg;
  // An API-only process sells through the Bot API (no bot runs in it).
  start({{"TELEGRAM_BOT_TOKEN", tg.token()},
         {"TELEGRAM_API_BASE", tg.base_url()},
         {"PAYMENT_PAYLOAD_SECRET", "api-test-payload-secret-0123456789"}},
        "api");
  const auto key = new_key(4242);
  auto loc_of = [&](const http::Response& r) {
    return json::serialize(body(r).at("errors").as_array().at(0).at("loc"));
  };
  auto missing = call("POST", "/v1/subscription", key, "{}");
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(loc_of(missing), R"(["body","plan"])");
  auto free_plan = call("POST", "/v1/subscription", key, R"({"plan":"free"})");
  EXPECT_EQ(free_plan.status, 422);
  EXPECT_NE(free_plan.body.find("value_error.plan"), std::string::npos) << free_plan.body;
  EXPECT_EQ(call("POST", "/v1/subscription", key, R"({"plan":5})").status, 422);
  EXPECT_EQ(call("POST", "/v1/subscription", key, R"({"plan":"basic"})", {{"Content-Type", "text/plain"}}).status, 415);
  EXPECT_EQ(call("POST", "/v1/subscription", "", R"({"plan":"basic"})").status, 401);
  EXPECT_EQ(tg.count_calls("createInvoiceLink"), 0u);

  auto bought = call("POST", "/v1/subscription", key, R"({"plan":"basic"})");
  ASSERT_EQ(bought.status, 201) << bought.body;
  auto b = body(bought);
  EXPECT_EQ(b.at("payment_url").as_string(), "https://t.me/$fake-invoice-1");
  EXPECT_EQ(b.at("price_stars").as_int64(), 150);
  auto invoice = tg.calls("createInvoiceLink").at(0).params;
  EXPECT_EQ(invoice.at("currency").as_string(), "XTR");
  EXPECT_EQ(invoice.at("subscription_period").as_int64(), 2592000);
  EXPECT_EQ(invoice.at("prices").as_array().at(0).at("amount").as_int64(), 150);
  const std::string payload(invoice.at("payload").as_string());
  EXPECT_TRUE(payload.starts_with("p2.4242.basic.150.")) << payload;  // this caller, this plan, its price

  // Nothing to stop yet.
  auto none = call("DELETE", "/v1/subscription", key);
  EXPECT_EQ(none.status, 404) << none.body;

  // The user pays in Telegram; the bot credits it. The API shows it at once.
  tg.push_successful_payment({.from = {.id = 4242, .first_name = "Api"},
                              .total_amount = 150,
                              .invoice_payload = payload,
                              .telegram_payment_charge_id = "stxApi1",
                              .is_recurring = true});
  core::SystemClock wall;  // the server runs on the real clock
  core::PaymentService payments(store(), wall, plans_);
  ASSERT_TRUE(payments
                  .apply_payment({.charge_id = "stxApi1",
                                  .user_id = 4242,
                                  .plan_id = "basic",
                                  .amount = 150,
                                  .is_recurring = true,
                                  .at = wall.now()})
                  .ok());
  auto sub = body(call("GET", "/v1/subscription", key));
  EXPECT_EQ(sub.at("plan").at("id").as_string(), "basic");
  EXPECT_TRUE(sub.at("auto_renew").as_bool());

  auto stopped = call("DELETE", "/v1/subscription", key);
  ASSERT_EQ(stopped.status, 200) << stopped.body;
  EXPECT_FALSE(body(stopped).at("auto_renew").as_bool());
  EXPECT_EQ(body(stopped).at("plan").at("id").as_string(), "basic");  // to the end of the period
  auto edit = tg.calls("editUserStarSubscription").at(0).params;
  EXPECT_EQ(edit.at("user_id").as_int64(), 4242);
  EXPECT_EQ(edit.at("telegram_payment_charge_id").as_string(), "stxApi1");
  EXPECT_TRUE(edit.at("is_canceled").as_bool());
  EXPECT_FALSE(body(call("GET", "/v1/subscription", key)).at("auto_renew").as_bool());
  EXPECT_EQ(call("DELETE", "/v1/subscription", key).status, 200);  // again: nothing more to ask Telegram
  EXPECT_EQ(tg.count_calls("editUserStarSubscription"), 1u);
  // The token never leaks into the log.
  EXPECT_EQ(process_->err_so_far().find(tg.token()), std::string::npos);
}

TEST_P(Api, WithoutABotTokenNothingIsSold) {
  start();
  const auto key = new_key(4243);
  auto r = call("POST", "/v1/subscription", key, R"({"plan":"basic"})");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(call("DELETE", "/v1/subscription", key).status, 503);
}

TEST_P(Api, UnknownRouteWrongMethodAndOversizedBody) {
  start();
  const auto key = new_key(7);
  auto missing = call("GET", "/v1/nope", key);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("Content-Type"), "application/problem+json");
  auto wrong = call("DELETE", "/v1/generate", key);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_NE(wrong.header("Allow").find("POST"), std::string::npos);
  auto big = call("POST", "/v1/generate", key, R"({"prompt":")" + std::string(2 * 1024 * 1024, 'a') + R"("})");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(call("GET", "/healthz").status, 200);  // still serving
}

TEST_P(Api, OperationsEndpoints) {
  start();
  EXPECT_EQ(body(call("GET", "/healthz")).at("status").as_string(), "ok");
  auto ready = call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(body(ready).at("checks").as_object().at("database").as_string(), "ok");
  auto plans = body(call("GET", "/v1/plans"));
  EXPECT_EQ(plans.at("plans").as_array().size(), 3u);
  call("GET", "/v1/nope");
  auto metrics = call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("imggenbot_http_requests_total{"), std::string::npos);
  EXPECT_NE(metrics.body.find("route=\"/v1/plans\""), std::string::npos);
  EXPECT_NE(metrics.body.find("imggenbot_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("imggenbot_jobs{state=\"queued\"}"), std::string::npos);
  EXPECT_EQ(call("GET", "/docs").header("Content-Type"), "text/html; charset=utf-8");
}

// Unknown keys cost a database read each: past a burst from one address they get 429 without one,
// while a known (cached) key from the same address goes on working.
TEST_P(Api, UnknownKeyLookupsAreLimitedPerAddress) {
  start();
  const auto key = new_key(9);
  ASSERT_EQ(call("GET", "/v1/subscription", key).status, 200);
  EXPECT_EQ(call("GET", "/v1/subscription", "not-a-key").status, 401);  // wrong shape: no lookup at all
  int unauthorized = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 60; ++i) {
    auto r = call("GET", "/v1/subscription", "igb_" + util::random_hex(20) + std::string(3, 'x'));
    if (r.status == 401) ++unauthorized;
    if (r.status == 429) {
      ++limited;
      retry_after = r.header("Retry-After");
    }
  }
  // A burst of 30 unknown keys (api::kKeyLookupsBurst), refilled at one a second while the loop runs.
  EXPECT_GE(unauthorized, 30);
  EXPECT_GE(limited, 1);
  EXPECT_EQ(unauthorized + limited, 60);
  EXPECT_FALSE(retry_after.empty());
  EXPECT_EQ(call("GET", "/v1/subscription", key).status, 200);
}

// /readyz needs no key: it must not tell a stranger where the database is.
TEST_P(Api, ReadinessTellsNothingAboutTheDatabase) {
  start();
  auto ready = call("GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body.find("127.0.0.1"), std::string::npos);
  EXPECT_EQ(ready.body.find("sqlite"), std::string::npos);
  EXPECT_EQ(ready.body.find("postgres"), std::string::npos);
  EXPECT_EQ(ready.header("Cache-Control"), "no-store");
}

TEST_P(Api, ReadinessFailsWhenNoBackendIsUsable) {
  provider_.set_handler([](const FakeRequest&) { return FakeResponse::json(R"({"error":"out of credits"})", 402); });
  start();
  const auto key = new_key(8);
  auto job = std::string(body(call("POST", "/v1/generate", key, R"({"prompt":"x"})")).at("job_id").as_string());
  ASSERT_TRUE(provider_.wait_for_requests(1));
  // /readyz answers from a one-second cache: keep asking until the open circuit shows (bounded).
  for (int i = 0; i < 300 && call("GET", "/readyz").status == 200; ++i) std::this_thread::sleep_for(20ms);
  auto ready = call("GET", "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("\"open\""), std::string::npos);
}

IGB_ON_BOTH_DATABASES(Api);

// The OpenAPI document is generated from the route table; this snapshot shows every change to the
// public API in review. Regenerate with UPDATE_GOLDEN=1.
TEST(OpenApi, MatchesTheSnapshot) {
  auto db = make_test_database(storage::Dialect::sqlite);
  const auto dir = std::filesystem::temp_directory_path() / ("igb-openapi-" + util::random_hex(6));
  std::filesystem::create_directories(dir);
  ChildProcess p(ServiceEnv({.database_url = db->url(), .dir = dir, .hf_token = ""}).process("api"));
  ASSERT_TRUE(p.wait_for_output("imggenbot is up")) << p.err_so_far();
  std::smatch m;
  auto err = p.err_so_far();
  ASSERT_TRUE(std::regex_search(err, m, std::regex("HTTP API on (http://127\\.0\\.0\\.1:[0-9]+)")));
  boost::asio::io_context io;
  auto client = http::make_client(io.get_executor());
  auto r = run_async(io, client->send(http::Request{.url = m[1].str() + "/openapi.json"}));
  p.send(SIGTERM);
  EXPECT_EQ(p.wait().exit_code, 0);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(r.status, 200);
  auto doc = json::parse(r.body);
  EXPECT_EQ(doc.at("openapi").as_string(), "3.1.0");

  const auto golden = std::filesystem::path(IMGGENBOT_SOURCE_DIR_PATH) / "tests/api/openapi.golden.json";
  // One member per line, so a diff of the snapshot reads like a diff of the API.
  std::string pretty;
  std::function<void(const json::value&, int)> print = [&](const json::value& v, int depth) {
    const std::string pad(2 * (depth + 1), ' '), close(2 * depth, ' ');
    if (v.is_object() && !v.as_object().empty()) {
      pretty += "{\n";
      bool first = true;
      for (const auto& [k, child] : v.as_object()) {
        pretty += (first ? "" : ",\n") + pad + json::serialize(json::string(k)) + ": ";
        print(child, depth + 1);
        first = false;
      }
      pretty += "\n" + close + "}";
    } else if (v.is_array() && !v.as_array().empty()) {
      pretty += "[\n";
      bool first = true;
      for (const auto& child : v.as_array()) {
        pretty += (first ? "" : ",\n") + pad;
        print(child, depth + 1);
        first = false;
      }
      pretty += "\n" + close + "]";
    } else {
      pretty += json::serialize(v);
    }
  };
  print(doc, 0);
  pretty += "\n";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) std::ofstream(golden) << pretty;
  std::ifstream in(golden);
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(pretty, expected.str()) << "the OpenAPI document changed: review it, then run with UPDATE_GOLDEN=1";
}

}  // namespace
}  // namespace igb::testing
