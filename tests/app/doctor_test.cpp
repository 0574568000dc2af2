// `imggenbot doctor` as the real binary against fakes on loopback, reached through the settings
// (TELEGRAM_API_BASE, HF_HUB_BASE, the backends' base_url): the spec-checked fake Telegram, a fake
// Hugging Face Hub and a fake LocalAI server. Where the fakes' shapes come from:
//   whoami-v2   huggingface/huggingface.js packages/hub/src/lib/who-am-i.ts (type, name, auth.type,
//               auth.accessToken.{displayName, role, fineGrained.{global, scoped[].permissions}}), and
//               huggingface_hub hf_api.py HfApi.whoami (GET {endpoint}/api/whoami-v2; 401 on a bad token
//               with {"error":"Invalid credentials in Authorization header"}).
//   auth-check  huggingface_hub HfApi.auth_check (GET /api/models/{repo_id}/auth-check: 200, 401/403 for a
//               gated repo whose conditions were not accepted, 404) and huggingface.js check-repo-access.ts.
//   mapping     GET /api/models/{id}?expand[]=inferenceProviderMapping, the object form
//               {"fal-ai": {"status", "providerId", "task"}} (see gen/hf_mapping.hpp for its sources).
//   LocalAI     mudler/LocalAI GET /v1/models: {"object":"list","data":[{"id":…,"object":"model"}]};
//               images as in tests/gen/openai_dialects_test.cpp.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <mutex>

#include "support/test_image.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"
#include "support/process.hpp"
#include "support/service_env.hpp"
#include "support/temp_dir.hpp"
#include "util/crypto.hpp"

namespace igb::testing {
namespace {

constexpr const char* kModel = "black-forest-labs/FLUX.1-schnell";
constexpr const char* kGoodHfToken = "hf_doctorGoodToken12345";
constexpr const char* kLocalKey = "sk-local-DoctorKey987";

struct HubScript {
  std::string role = "fineGrained";
  std::vector<std::string> permissions = {"inference.serverless.write", "repo.content.read"};
  int auth_check_status = 200;
};

FakeHandler fake_hub(HubScript script) {
  return [script](const FakeRequest& r) -> FakeResponse {
    if (r.method != "GET") return FakeResponse::json(R"({"error":"Method Not Allowed"})", 405);
    const bool authorized = r.header("Authorization") == std::string("Bearer ") + kGoodHfToken;
    if (r.path() == "/api/whoami-v2") {
      if (!authorized) return FakeResponse::json(R"({"error":"Invalid credentials in Authorization header"})", 401);
      boost::json::array global;
      for (const auto& p : script.permissions) global.emplace_back(p);
      boost::json::object token{{"displayName", "imggenbot"}, {"role", script.role}};
      if (script.role == "fineGrained") {
        token["fineGrained"] =
            boost::json::object{{"canReadGatedRepos", true}, {"global", global}, {"scoped", boost::json::array{}}};
      }
      boost::json::object body{{"type", "user"},
                               {"id", "64b0c0ffee"},
                               {"name", "alice"},
                               {"fullname", "Alice"},
                               {"isPro", false},
                               {"orgs", boost::json::array{}},
                               {"auth", boost::json::object{{"type", "access_token"}, {"accessToken", token}}}};
      return FakeResponse::json(boost::json::serialize(body));
    }
    if (r.path() == std::string("/api/models/") + kModel + "/auth-check") {
      if (!authorized) return FakeResponse::json(R"({"error":"Invalid credentials in Authorization header"})", 401);
      if (script.auth_check_status == 403) {
        return FakeResponse::json(std::string(R"({"error":"Access to model )") + kModel +
                                      R"( is restricted and you are not in the authorized list."})",
                                  403);
      }
      return FakeResponse{.status = script.auth_check_status};
    }
    if (r.path() == std::string("/api/models/") + kModel) {
      return FakeResponse::json(std::string(R"({"_id":"66aaa","id":")") + kModel +
                                R"(","inferenceProviderMapping":{"fal-ai":{"status":"live","providerId":)"
                                R"("fal-ai/flux/schnell","task":"text-to-image"},"nscale":{"status":"staging",)"
                                R"("providerId":"black-forest-labs/FLUX.1-schnell","task":"text-to-image"}}})");
    }
    return FakeResponse::json(R"({"error":"Not Found"})", 404);
  };
}

FakeHandler fake_localai(std::string model) {
  return [model](const FakeRequest& r) -> FakeResponse {
    if (r.header("Authorization") != std::string("Bearer ") + kLocalKey) {
      return FakeResponse::json(R"({"error":{"code":401,"message":"An authentication key is required","type":""}})",
                                401);
    }
    if (r.method == "GET" && r.path() == "/v1/models") {
      return FakeResponse::json(R"({"object":"list","data":[{"id":")" + model +
                                R"(","object":"model"},{"id":"whisper-1","object":"model"}]})");
    }
    if (r.method == "POST" && r.path() == "/v1/images/generations") {
      return FakeResponse::json(R"({"created":1733300000,"id":"d0c","data":[{"embedding":null,"index":0,"b64_json":")" +
                                util::base64(imaging::make_png(512, 512)) + R"("}]})");
    }
    return FakeResponse::json(R"({"error":{"code":404,"message":"not found","type":""}})", 404);
  };
}

class Doctor : public ::testing::Test {
 protected:
  void write_config(bool with_hf = true) {
    std::ofstream f(dir_.path() / "config.toml");
    if (with_hf) f << "[[backends]]\nname = \"hf\"\nkind = \"hf\"\n\n";
    f << "[[backends]]\nname = \"local\"\nkind = \"openai\"\ndialect = \"localai\"\nbase_url = \"" << local_.base_url()
      << "\"\nmodel = \"flux.1-schnell\"\napi_key_env = \"LOCAL_KEY\"\n";
  }
  ServiceEnv env() const {
    return ServiceEnv({.database_url = "sqlite://" + (dir_.path() / "db" / "igb.db").string(),
                       .dir = dir_.path(),
                       .hf_token = kGoodHfToken,
                       .log_level = "warn",
                       .http = false})
        .with_telegram(tg_)
        .set("IMGGENBOT_CONFIG", (dir_.path() / "config.toml").string())
        .set("HF_HUB_BASE", hub_.base_url())
        .set("HF_MODEL", kModel)
        .set("HF_PROVIDER", "auto")
        .set("LOCAL_KEY", kLocalKey);
  }
  ProcessResult doctor(std::map<std::string, std::string> overrides = {}, std::vector<std::string> args = {}) {
    args.insert(args.begin(), "doctor");
    return run_process(env().merge(overrides).command(args));
  }
  static bool has_line(const std::string& out, const std::string& start, const std::string& part = {}) {
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);) {
      if (line.starts_with(start) && line.find(part) != std::string::npos) return true;
    }
    return false;
  }
  void expect_no_secret(const ProcessResult& r, std::initializer_list<std::string> secrets) {
    for (const auto& s : secrets) {
      EXPECT_EQ(r.out.find(s), std::string::npos) << s << "\n" << r.out;
      EXPECT_EQ(r.err.find(s), std::string::npos) << s << "\n" << r.err;
    }
  }

  TempDir dir_{"igb-doctor-"};
  FakeBotApi tg_;
  FakeHttpServer hub_{fake_hub({})};
  FakeHttpServer local_{fake_localai("flux.1-schnell")};
};

TEST_F(Doctor, AHealthySetupSaysEverythingWorks) {
  write_config();
  auto r = doctor();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ok  Telegram bot token: ", "the bot is @imggen_test_bot")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Hugging Face token: ", "HF_TOKEN works; it belongs to alice (fineGrained token)"))
      << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Model access: ", kModel)) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Inference providers: ", "served live by fal-ai")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Backend local (localai): ", "the key works and it offers flux.1-schnell")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Database: ", "does not exist yet")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Data directory: ", "does not exist yet")) << r.out;
  EXPECT_TRUE(has_line(r.out, "--  Test image: ", "--generate")) << r.out;
  EXPECT_TRUE(has_line(r.out, "Everything needed works.")) << r.out;
  EXPECT_EQ(r.out.find("FIX"), std::string::npos) << r.out;
  // It asked the real things, with the real credentials, and changed nothing.
  EXPECT_EQ(tg_.count_calls("getMe"), 1);
  EXPECT_TRUE(tg_.spec_violations().empty());
  bool whoami = false, auth_check = false, mapping = false;
  for (const auto& q : hub_.requests()) {
    EXPECT_EQ(q.header("Authorization"), std::string("Bearer ") + kGoodHfToken) << q.target;
    whoami |= q.path() == "/api/whoami-v2";
    auth_check |= q.path() == std::string("/api/models/") + kModel + "/auth-check";
    mapping |= q.path() == std::string("/api/models/") + kModel &&
               q.query().find("inferenceProviderMapping") != std::string::npos;
  }
  EXPECT_TRUE(whoami && auth_check && mapping);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "db"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "data"));
  expect_no_secret(r, {tg_.token(), kGoodHfToken, kLocalKey});

  // Once the database and the folder exist, they are checked for real.
  auto m = run_process(env().command({"migrate"}));
  ASSERT_EQ(m.exit_code, 0) << m.err;
  std::filesystem::create_directories(dir_.path() / "data");
  r = doctor();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ok  Database: ", "answers; schema version")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Data directory: ", "is writable")) << r.out;
  EXPECT_TRUE(has_line(r.out, "ok  Payment secret: ", "the first start makes a random one")) << r.out;
  const std::string payload_secret = "doctor-payload-secret-0123456789";
  r = doctor({{"PAYMENT_PAYLOAD_SECRET", payload_secret}});
  EXPECT_TRUE(has_line(r.out, "ok  Payment secret: ", "PAYMENT_PAYLOAD_SECRET signs invoices")) << r.out;
  expect_no_secret(r, {payload_secret});
}

TEST_F(Doctor, ABrokenSetupSaysWhatToFixWithoutShowingSecrets) {
  write_config();
  const std::string bad_tg = "123456789:AAWrongTokenForTheDoctorTest_xyz0123456";
  const std::string bad_hf = "hf_wrongTokenValue77";
  const std::string bad_local = "sk-wrong-LocalKey55";
  FakeHttpServer gone;
  const std::string gone_url = gone.base_url();
  gone.stop();
  {
    std::ofstream f(dir_.path() / "config.toml", std::ios::app);
    f << "\n[[backends]]\nname = \"gone\"\nkind = \"openai\"\ndialect = \"sdcpp\"\nbase_url = \"" << gone_url
      << "\"\nmodel = \"sd-cpp-local\"\n";
  }
  auto r = doctor({{"TELEGRAM_BOT_TOKEN", bad_tg}, {"HF_TOKEN", bad_hf}, {"LOCAL_KEY", bad_local}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "FIX Telegram bot token: ", "401 Unauthorized")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Telegram bot token: ", "@BotFather")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Hugging Face token: ", "Hugging Face refused HF_TOKEN (HTTP 401")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Hugging Face token: ", "https://huggingface.co/settings/tokens")) << r.out;
  EXPECT_TRUE(has_line(r.out, "--  Model access: ", "needs a working token")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Backend local (localai): ", "refused the key in LOCAL_KEY (HTTP 401")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Backend gone (sdcpp): ", "cannot reach " + gone_url)) << r.out;
  EXPECT_TRUE(has_line(r.out, "4 things need fixing")) << r.out;
  expect_no_secret(r, {bad_tg, bad_hf, bad_local, tg_.token()});

  // Nothing set at all: the lines say which variable to set.
  r = doctor({{"TELEGRAM_BOT_TOKEN", ""}, {"HF_TOKEN", ""}, {"LOCAL_KEY", ""}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "FIX Telegram bot token: ", "TELEGRAM_BOT_TOKEN is not set")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Hugging Face token: ", "HF_TOKEN is not set")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Backend local (localai): ", "LOCAL_KEY is not set")) << r.out;
}

TEST_F(Doctor, AGatedModelAndATokenWithoutTheInferencePermissionAreNamed) {
  write_config();
  hub_.set_handler(fake_hub({.auth_check_status = 403}));
  auto r = doctor();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ok  Hugging Face token: ")) << r.out;
  EXPECT_TRUE(has_line(r.out, "FIX Model access: ", std::string("open https://huggingface.co/") + kModel)) << r.out;

  hub_.set_handler(fake_hub({.permissions = {"repo.content.read"}}));
  r = doctor();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "FIX Hugging Face token: ", "\"Make calls to Inference Providers\"")) << r.out;

  // A classic read token has no fine-grained permissions to check.
  hub_.set_handler(fake_hub({.role = "read", .permissions = {}}));
  r = doctor();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ok  Hugging Face token: ", "(read token)")) << r.out;

  // A pinned provider that does not serve the model live.
  r = doctor({{"HF_PROVIDER", "nscale"}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "FIX Inference providers: ", "nscale (staging)")) << r.out;
}

TEST_F(Doctor, GenerateMakesOneSmallImage) {
  write_config(/*with_hf=*/false);
  auto r = doctor({}, {"--generate"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has_line(r.out, "ok  Test image: ", "made a 512x512 image/png")) << r.out;
  std::size_t posts = 0;
  for (const auto& q : local_.requests()) {
    if (q.method != "POST") continue;
    ++posts;
    auto body = boost::json::parse(q.body).as_object();
    EXPECT_EQ(body.at("size").as_string(), "512x512");
    EXPECT_EQ(body.at("model").as_string(), "flux.1-schnell");
  }
  EXPECT_EQ(posts, 1u);
  expect_no_secret(r, {tg_.token(), kLocalKey});
}

}  // namespace
}  // namespace igb::testing
