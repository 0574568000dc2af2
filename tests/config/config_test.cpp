#include "config/config.hpp"

#include "config_fixture.hpp"

namespace igb::config {
namespace {

TEST_F(ConfigTest, DefaultsWithoutAnySource) {
  auto r = load({});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  expect_defaults(*r);
}

TEST(ConfigDefaults, DefaultConstructedMatchesLoadedDefaults) { expect_defaults(Config{}); }

TEST_F(ConfigTest, EnvironmentOverridesDotenvOverridesToml) {
  auto toml = dir_.write("config.toml",
                         "log_level = \"debug\"\n"
                         "db_pool_size = 3\n"
                         "worker_concurrency = 2\n"
                         "hf_model = \"toml/model\"\n");
  dir_.write(".env",
             "DB_POOL_SIZE=5\n"
             "WORKER_CONCURRENCY=6\n"
             "HF_MODEL=dotenv/model\n");
  auto r = load({{"WORKER_CONCURRENCY", "7"}, {"UNRELATED", "x"}}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->log_level, "debug");       // only in TOML
  EXPECT_EQ(r->db_pool_size, 5);          // .env over TOML
  EXPECT_EQ(r->hf_model, "dotenv/model");  // .env over TOML
  EXPECT_EQ(r->worker_concurrency, 7);    // environment over both
  EXPECT_EQ(r->shutdown_grace_seconds, 20);
}

TEST_F(ConfigTest, EmptyValueCountsAsNotSet) {
  dir_.write(".env", "HTTP_LISTEN=0.0.0.0:9000\n");
  auto r = load({{"HTTP_LISTEN", ""}, {"LOG_LEVEL", ""}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->http_listen.host, "0.0.0.0");
  EXPECT_EQ(r->http_listen.port, 9000);
  EXPECT_EQ(r->log_level, "info");
}

TEST_F(ConfigTest, EverySettingFromTheEnvironment) {
  auto r = load({
      {"DATABASE_URL", "postgresql://bot:pw@db.internal:5432/imggen"},
      {"DATA_DIR", "/var/lib/imggenbot"},
      {"HTTP_LISTEN", "0.0.0.0:0"},
      {"TELEGRAM_BOT_TOKEN", kToken},
      {"TELEGRAM_API_BASE", "http://127.0.0.1:8081/"},
      {"TELEGRAM_WEBHOOK_URL", "https://bot.example.com/telegram"},
      {"HF_TOKEN", kHfToken},
      {"HF_API_BASE", "http://127.0.0.1:9999"},
      {"HF_MODEL", "stabilityai/sdxl-turbo"},
      {"ADMIN_TELEGRAM_IDS", "42"},
      {"LOG_LEVEL", "WARN"},
      {"DB_POOL_SIZE", "256"},
      {"WORKER_CONCURRENCY", "0"},
      {"SHUTDOWN_GRACE_SECONDS", "3600"},
      {"PAYMENT_PAYLOAD_SECRET", kPayloadSecret},
      {"JOB_MAX_ATTEMPTS", "20"},
      {"JOB_LEASE_SECONDS", "5"},
      {"REFERRAL_BONUS_IMAGES", "0"},
  });
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->database_url, "postgresql://bot:pw@db.internal:5432/imggen");
  EXPECT_EQ(r->data_dir, "/var/lib/imggenbot");
  EXPECT_EQ(r->http_listen.host, "0.0.0.0");
  EXPECT_EQ(r->http_listen.port, 0);
  EXPECT_EQ(r->telegram_bot_token.value(), kToken);
  EXPECT_EQ(r->telegram_api_base, "http://127.0.0.1:8081");  // trailing '/' dropped
  EXPECT_EQ(r->telegram_webhook_url, "https://bot.example.com/telegram");
  EXPECT_EQ(r->hf_token.value(), kHfToken);
  EXPECT_EQ(r->hf_api_base, "http://127.0.0.1:9999");
  EXPECT_EQ(r->hf_model, "stabilityai/sdxl-turbo");
  EXPECT_EQ(r->admin_telegram_ids, std::vector<std::int64_t>{42});
  EXPECT_EQ(r->log_level, "warn");
  EXPECT_EQ(r->db_pool_size, 256);
  EXPECT_EQ(r->worker_concurrency, 0);
  EXPECT_EQ(r->shutdown_grace_seconds, 3600);
  EXPECT_EQ(r->payload_secret.value(), kPayloadSecret);
  EXPECT_EQ(r->jobs.max_attempts, 20);
  EXPECT_EQ(r->jobs.lease, std::chrono::seconds(5));
  EXPECT_EQ(r->jobs.referral_bonus_images, 0);
}

TEST_F(ConfigTest, InvalidValueMessageNamesSettingAndValue) {
  EXPECT_EQ(error_of({{"HTTP_LISTEN", "abc"}}), "HTTP_LISTEN: expected host:port, got \"abc\"");
}

struct BadValue {
  std::string name;
  std::string value;
  bool secret = false;
};

void PrintTo(const BadValue& b, std::ostream* os) { *os << b.name << (b.secret ? "=<secret>" : "=" + b.value); }

class InvalidValueTest : public ConfigTest, public ::testing::WithParamInterface<BadValue> {};

TEST_P(InvalidValueTest, IsRejectedNamingTheSetting) {
  const auto& bad = GetParam();
  auto message = error_of({{bad.name, bad.value}});
  EXPECT_THAT(message, ::testing::StartsWith(bad.name + ": "));
  if (bad.secret) {
    EXPECT_THAT(message, Not(HasSubstr(bad.value)));
  } else {
    EXPECT_THAT(message, HasSubstr("\"" + bad.value + "\""));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllKinds, InvalidValueTest,
    ::testing::Values(
        BadValue{"DATABASE_URL", "mysql://root:hunter2hunter2@db/imggen", true},
        BadValue{"DATABASE_URL", "hunter2hunter2", true}, BadValue{"DATABASE_URL", "sqlite://", true},
        BadValue{"HTTP_LISTEN", "8080"}, BadValue{"HTTP_LISTEN", "localhost:"}, BadValue{"HTTP_LISTEN", ":8080"},
        BadValue{"HTTP_LISTEN", "localhost:65536"}, BadValue{"HTTP_LISTEN", "localhost:-1"},
        BadValue{"HTTP_LISTEN", "::1:8080"}, BadValue{"HTTP_LISTEN", "[::1]"},
        BadValue{"HTTP_LISTEN", "[localhost]:80"}, BadValue{"TELEGRAM_BOT_TOKEN", "123456:tooShortForAToken", true},
        BadValue{"TELEGRAM_BOT_TOKEN", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x", true},
        BadValue{"TELEGRAM_BOT_TOKEN", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw!x", true},
        BadValue{"TELEGRAM_API_BASE", "api.telegram.org"}, BadValue{"TELEGRAM_API_BASE", "ftp://api.telegram.org"},
        BadValue{"TELEGRAM_API_BASE", "https://"}, BadValue{"TELEGRAM_WEBHOOK_URL", "http://bot.example.com/hook"},
        BadValue{"HF_TOKEN", "hf_secret with space", true}, BadValue{"HF_API_BASE", "router.huggingface.co"},
        // Plain http only to this machine or its private network: a token must not cross the internet in clear.
        BadValue{"HF_API_BASE", "http://router.huggingface.co"}, BadValue{"HF_API_BASE", "http://8.8.8.8:80"},
        BadValue{"TELEGRAM_API_BASE", "http://api.telegram.org"},
        BadValue{"TELEGRAM_API_BASE", "http://[2001:db8::1]/"},
        BadValue{"TELEGRAM_API_BASE", "http://[::ffff:8.8.8.8]/"}, BadValue{"HF_HUB_BASE", "http://huggingface.co"},
        BadValue{"HTTP_MAX_CONNECTIONS", "0"}, BadValue{"HTTP_MAX_CONNECTIONS", "1000001"},
        BadValue{"PROVIDER_TIMEOUT_SECONDS", "0"}, BadValue{"PROVIDER_TIMEOUT_SECONDS", "601"},
        BadValue{"HF_MODEL", "FLUX.1-schnell"}, BadValue{"HF_MODEL", "a/b/c"}, BadValue{"HF_MODEL", "/name"},
        BadValue{"ADMIN_TELEGRAM_IDS", "1,x"}, BadValue{"ADMIN_TELEGRAM_IDS", "0"},
        BadValue{"ADMIN_TELEGRAM_IDS", "-5"}, BadValue{"ADMIN_TELEGRAM_IDS", "1,,2"}, BadValue{"LOG_LEVEL", "verbose"},
        BadValue{"DB_POOL_SIZE", "0"}, BadValue{"DB_POOL_SIZE", "257"}, BadValue{"DB_POOL_SIZE", "eight"},
        BadValue{"WORKER_CONCURRENCY", "-1"}, BadValue{"WORKER_CONCURRENCY", "257"},
        BadValue{"SHUTDOWN_GRACE_SECONDS", "0"}, BadValue{"SHUTDOWN_GRACE_SECONDS", "3601"},
        BadValue{"PAYMENT_PAYLOAD_SECRET", "short-secret", true}, BadValue{"JOB_MAX_ATTEMPTS", "0"},
        BadValue{"JOB_MAX_ATTEMPTS", "21"}, BadValue{"JOB_LEASE_SECONDS", "4"}, BadValue{"JOB_LEASE_SECONDS", "3601"},
        BadValue{"REFERRAL_BONUS_IMAGES", "-1"}, BadValue{"REFERRAL_BONUS_IMAGES", "1001"},
        // The margins (issue 17): each bad price entry is quoted in the message.
        BadValue{"PROVIDER_PRICES", "fal-ai"}, BadValue{"PROVIDER_PRICES", "fal-ai=0.003"},
        BadValue{"PROVIDER_PRICES", "fal-ai=0.003/second"}, BadValue{"PROVIDER_PRICES", "fal-ai=-1/image"},
        BadValue{"PROVIDER_PRICES", "fal-ai=$0.003/image"}, BadValue{"PROVIDER_PRICES", "fal-ai=0.0000001/image"},
        BadValue{"PROVIDER_PRICES", "fal-ai=1001/image"}, BadValue{"PROVIDER_PRICES", "fal ai=0.003/image"},
        BadValue{"PROVIDER_PRICES", "=0.003/image"}, BadValue{"STARS_USD_RATE", "0"},
        BadValue{"STARS_USD_RATE", "0,013"}, BadValue{"STARS_USD_RATE", "11"}, BadValue{"DAILY_SPEND_LIMIT_USD", "-5"},
        BadValue{"DAILY_SPEND_LIMIT_USD", "5 USD"}, BadValue{"DAILY_SPEND_LIMIT_USD", "1000001"}));

TEST_F(ConfigTest, ProviderPricesStarsRateAndDailySpendLimit) {
  auto r =
      load({{"PROVIDER_PRICES", " hf-inference=0.003/image, fal-ai = 0.0025/MP,openai-direct=0.04/image,*=0.01/image"},
            {"STARS_USD_RATE", "0.0125"},
            {"DAILY_SPEND_LIMIT_USD", "2.50"}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  const auto& p = r->jobs.prices;
  ASSERT_EQ(p.entries().size(), 4u);
  EXPECT_EQ(p.cost_micros("hf-inference", 1024, 1024), 3'000);
  EXPECT_EQ(p.cost_micros("fal-ai", 1024, 1024), 2'621);  // 1.048576 MP
  EXPECT_EQ(p.cost_micros("openai-direct", 1024, 1024), 40'000);
  EXPECT_EQ(p.cost_micros("nscale", 1024, 1024), 10'000);  // "*"
  EXPECT_EQ(r->stars_usd_micros, 12'500);
  EXPECT_EQ(r->jobs.daily_spend_limit_micros, 2'500'000);
  std::map<std::string, std::string> d;
  for (const auto& [name, value] : describe(*r)) d[name] = value;
  EXPECT_EQ(d["PROVIDER_PRICES"], "hf-inference=0.003/image,fal-ai=0.0025/mp,openai-direct=0.04/image,*=0.01/image");
  EXPECT_EQ(d["STARS_USD_RATE"], "$0.0125");
  EXPECT_EQ(d["DAILY_SPEND_LIMIT_USD"], "$2.5000");
  auto defaults = describe(Config{});
  std::map<std::string, std::string> dd(defaults.begin(), defaults.end());
  EXPECT_EQ(dd["PROVIDER_PRICES"], "(none)");
  EXPECT_EQ(dd["DAILY_SPEND_LIMIT_USD"], "(none)");

  // The same from a TOML file (strings, like the environment's).
  auto toml = dir_.write("config.toml",
                         "provider_prices = \"nscale=0.004/image\"\n"
                         "daily_spend_limit_usd = \"0\"\n");
  auto t = load({}, toml);
  ASSERT_TRUE(t.ok()) << t.error().public_message;
  EXPECT_EQ(t->jobs.prices.cost_micros("nscale", 512, 512), 4'000);
  EXPECT_EQ(t->jobs.daily_spend_limit_micros, 0);
}

TEST_F(ConfigTest, ProviderPricesErrorsSayWhatIsWrong) {
  EXPECT_THAT(error_of({{"PROVIDER_PRICES", "fal-ai=0.003/image,fal-ai=0.004/image"}}),
              HasSubstr("names a provider priced before"));
  EXPECT_THAT(error_of({{"PROVIDER_PRICES", "fal-ai=0.003"}}), HasSubstr("has no unit (/image or /mp)"));
  EXPECT_THAT(error_of({{"PROVIDER_PRICES", "fal-ai=0.003/image,"}}), HasSubstr("the entry \"\" has no '='"));
  EXPECT_THAT(error_of({{"PROVIDER_PRICES", "fal-ai=0.003/image"}, {"STARS_USD_RATE", "abc"}}),
              ::testing::StartsWith("STARS_USD_RATE: "));
  ASSERT_TRUE(parse_provider_prices("").ok());
  EXPECT_TRUE(parse_provider_prices("  ")->empty());
}

TEST_F(ConfigTest, PlainHttpIsAcceptedForLocalAndPrivateHosts) {
  for (const std::string& base : std::initializer_list<std::string>{
           "http://127.0.0.1:8081", "http://localhost:9000", "http://10.1.2.3", "http://172.20.0.5:8080",
           "http://192.168.1.10", "http://169.254.1.1", "http://[::1]:8081", "http://[fd00::5]", "http://fakes:8080",
           "http://localai", "https://router.huggingface.co", "https://8.8.8.8"}) {
    auto r = load({{"HF_API_BASE", base}, {"TELEGRAM_API_BASE", base}});
    ASSERT_TRUE(r.ok()) << base << ": " << r.error().public_message;
    EXPECT_EQ(r->hf_api_base, base);
  }
}

TEST_F(ConfigTest, InvalidValueFromDotenvNamesTheFileButNotTheSecret) {
  auto path = dir_.write(".env", "HF_TOKEN=\"hf_has a space\"\n");
  auto message = error_of({});
  EXPECT_THAT(message, HasSubstr("HF_TOKEN"));
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, Not(HasSubstr("hf_has")));
}

TEST_F(ConfigTest, SecretsDoNotLeakThroughOtherSettingsErrors) {
  // A token pasted into the webhook URL of an otherwise wrong value.
  auto message = error_of({{"TELEGRAM_BOT_TOKEN", kToken}, {"TELEGRAM_WEBHOOK_URL", "http://x.example/" + kToken}});
  EXPECT_THAT(message, HasSubstr("TELEGRAM_WEBHOOK_URL"));
  EXPECT_THAT(message, Not(HasSubstr(kToken)));
}

TEST_F(ConfigTest, DescribeRedactsSecrets) {
  auto r = load({
      {"DATABASE_URL", "postgresql://bot:db-pass-123@db.internal:5432/imggen?sslmode=require&password=q-pass-456"},
      {"TELEGRAM_BOT_TOKEN", kToken},
      {"TELEGRAM_WEBHOOK_URL", "https://bot.example.com/hook/" + kToken},
      {"HF_TOKEN", kHfToken},
      {"PAYMENT_PAYLOAD_SECRET", kPayloadSecret},
  });
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  std::map<std::string, std::string> described;
  for (const auto& [name, value] : describe(*r)) {
    described[name] = value;
    for (const std::string& secret :
         {kToken, kHfToken, kPayloadSecret, std::string("db-pass-123"), std::string("q-pass-456")}) {
      EXPECT_THAT(value, Not(HasSubstr(secret))) << name;
    }
  }
  EXPECT_EQ(described["DATABASE_URL"], "postgresql://db.internal:5432/imggen");
  EXPECT_EQ(described["TELEGRAM_BOT_TOKEN"], "(set)");
  EXPECT_EQ(described["HF_TOKEN"], "(set)");
  EXPECT_EQ(described["PAYMENT_PAYLOAD_SECRET"], "(set)");

  auto defaults = describe(Config{});
  std::map<std::string, std::string> d(defaults.begin(), defaults.end());
  EXPECT_EQ(d["TELEGRAM_BOT_TOKEN"], "(not set)");
  EXPECT_EQ(d["DATABASE_URL"], "sqlite://./data/imggenbot.db");
  EXPECT_EQ(d["HTTP_LISTEN"], "127.0.0.1:8080");
  EXPECT_EQ(d["JOB_LEASE_SECONDS"], "60");
  EXPECT_EQ(d["REFERRAL_BONUS_IMAGES"], "5");
}

TEST_F(ConfigTest, PromptAssistantSettings) {
  const std::string key = "sk-AssistantKeyThatMustNotLeak9";
  auto r = load({{"PROMPT_ASSISTANT_MODEL", " Qwen/Qwen2.5-7B-Instruct:fastest "},
                 {"PROMPT_ASSISTANT_URL", "http://127.0.0.1:8000/v1/"},
                 {"PROMPT_ASSISTANT_TOKEN", key},
                 {"PROMPT_ASSISTANT_TIMEOUT_MS", "2500"}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->prompt_assistant_model, "Qwen/Qwen2.5-7B-Instruct:fastest");
  EXPECT_EQ(r->prompt_assistant_url, "http://127.0.0.1:8000/v1");  // trailing '/' dropped
  EXPECT_EQ(r->prompt_assistant_token.value(), key);
  EXPECT_EQ(r->prompt_assistant_timeout_ms, 2500);
  std::map<std::string, std::string> d;
  for (const auto& [name, value] : describe(*r)) {
    d[name] = value;
    EXPECT_THAT(value, Not(HasSubstr(key))) << name;
  }
  EXPECT_EQ(d["PROMPT_ASSISTANT_TOKEN"], "(set)");
  EXPECT_EQ(d["PROMPT_ASSISTANT_MODEL"], "Qwen/Qwen2.5-7B-Instruct:fastest");
  EXPECT_EQ(describe(Config{}).size(), describe(*r).size());

  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"PROMPT_ASSISTANT_MODEL", "two words"},
           {"PROMPT_ASSISTANT_MODEL", std::string(201, 'm')},
           {"PROMPT_ASSISTANT_URL", "ftp://example.com/v1"},
           {"PROMPT_ASSISTANT_URL", "http://example.com/v1"},  // plain http to a public host: no token over it
           {"PROMPT_ASSISTANT_TIMEOUT_MS", "499"},
           {"PROMPT_ASSISTANT_TIMEOUT_MS", "30001"},
           {"PROMPT_ASSISTANT_TOKEN", key + " x"}}) {
    auto bad = load({{name, value}});
    ASSERT_FALSE(bad.ok()) << name << "=" << value;
    EXPECT_THAT(bad.error().public_message, HasSubstr(name));
    EXPECT_THAT(bad.error().public_message, Not(HasSubstr(key)));
  }
}

TEST(RedactDatabaseUrl, KeepsSchemeHostAndDatabaseOnly) {
  EXPECT_EQ(redact_database_url("postgres://u:p@h/db"), "postgres://h/db");
  EXPECT_EQ(redact_database_url("postgresql://u:p/a@ss@h:5432/db?password=x"), "postgresql://h:5432/db");
  EXPECT_EQ(redact_database_url("postgresql://h/db"), "postgresql://h/db");
  EXPECT_EQ(redact_database_url("sqlite:///var/lib/x.db"), "sqlite:///var/lib/x.db");
}

TEST(SecretTest, PrintsOnlyRedacted) {
  Secret s("very-secret-value");
  EXPECT_EQ(s.value(), "very-secret-value");
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.redacted(), "(set)");
  EXPECT_EQ(::testing::PrintToString(s), "(set)");
  EXPECT_EQ(Secret{}.redacted(), "(not set)");
  EXPECT_TRUE(Secret{}.empty());
}

TEST_F(ConfigTest, DotenvQuotingCommentsAndExport) {
  dir_.write(".env",
             "# a comment\n"
             "\n"
             "   # an indented comment\n"
             "export LOG_LEVEL=debug\n"
             "DATA_DIR = /srv/data # trailing comment\n"
             "TELEGRAM_WEBHOOK_URL=\"https://h.example/a\\\"b\"  # comment after quotes\n"
             "PAYMENT_PAYLOAD_SECRET=\"line one\\nline two \\\\ end\"\r\n"
             "HF_API_BASE=http://127.0.0.1:1/#fragment\n"
             "DB_POOL_SIZE=1\n"
             "DB_POOL_SIZE=2\n"
             "ADMIN_TELEGRAM_IDS=\n");
  auto r = load({});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->log_level, "debug");
  EXPECT_EQ(r->data_dir, "/srv/data");
  EXPECT_EQ(r->telegram_webhook_url, "https://h.example/a\"b");
  EXPECT_EQ(r->payload_secret.value(), "line one\nline two \\ end");
  EXPECT_EQ(r->hf_api_base, "http://127.0.0.1:1/#fragment");
  EXPECT_EQ(r->db_pool_size, 2);  // the last assignment wins
  EXPECT_TRUE(r->admin_telegram_ids.empty());
}

TEST_F(ConfigTest, DotenvSingleQuotesAreLiteral) {
  // HF_MODEL rejects spaces and '#', so read the literal back through an accepted value instead.
  dir_.write(".env", "PAYMENT_PAYLOAD_SECRET='no \\n escapes # here'\n");
  auto r = load({});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->payload_secret.value(), "no \\n escapes # here");
}

TEST_F(ConfigTest, MalformedDotenvLineNamesFileAndLine) {
  auto path = dir_.write(".env", "LOG_LEVEL=debug\n# fine\nHF_TOKEN hf_NoEqualsSign\n");
  auto message = error_of({});
  EXPECT_THAT(message, HasSubstr(path + ":3:"));
  EXPECT_THAT(message, Not(HasSubstr("hf_NoEqualsSign")));
}

TEST_F(ConfigTest, MalformedDotenvValues) {
  for (std::string line : {"A=\"unterminated", "A='unterminated", "A=\"x\" junk", "1A=x", "=x", "BAD-KEY=x"}) {
    auto path = dir_.write(".env", "\n" + line + "\n");
    EXPECT_THAT(error_of({}), HasSubstr(path + ":2:")) << line;
  }
}

TEST_F(ConfigTest, TomlPlanOverrideAndNewPlan) {
  auto toml = dir_.write("config.toml",
                         "[plans.basic]\n"
                         "price_stars = 200\n"
                         "images_per_period = 350\n"
                         "failed_attempts_per_period = 40\n"
                         "\n"
                         "[plans.ultra]\n"
                         "title = \"Ultra\"\n"
                         "price_stars = 900\n"
                         "images_per_period = 5000\n"
                         "max_side = 2048\n"
                         "\n"
                         "[plans.mega]\n"
                         "price_stars = 700\n");
  auto r = load({}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  auto expected = core::default_plans();
  expected[1].price_stars = 200;
  expected[1].images_per_period = 350;
  expected[1].failed_attempts_per_period = 40;
  core::Plan ultra = expected[0];
  ultra.id = "ultra";
  ultra.title = "Ultra";
  ultra.period = core::PeriodKind::days30;
  ultra.price_stars = 900;
  ultra.images_per_period = 5000;
  ultra.max_side = 2048;
  core::Plan mega = expected[0];
  mega.id = "mega";
  mega.title = "mega";
  mega.period = core::PeriodKind::days30;
  mega.price_stars = 700;
  expected.push_back(ultra);  // in the file's order, not toml++'s sorted order
  expected.push_back(mega);
  expect_plans_equal(r->plans, expected);
}

TEST_F(ConfigTest, NewPlanStartsFromTheConfiguredFreePlan) {
  auto toml = dir_.write("config.toml",
                         "[plans.free]\nmax_side = 512\nmax_pixels = 262144\n"
                         "[plans.cheap]\nprice_stars = 10\n");
  auto r = load({}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->plans.size(), 4u);
  EXPECT_EQ(r->plans[3].id, "cheap");
  EXPECT_EQ(r->plans[3].max_side, 512);
  EXPECT_EQ(r->plans[3].max_pixels, 262144);
}

TEST_F(ConfigTest, TomlPlanErrors) {
  struct Case {
    std::string toml;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{
           {"[plans.ultra]\nimages_per_period = 10\n", "plans.ultra: a new plan needs price_stars"},
           {"[plans.basic]\nperiod = \"weekly\"\n", "plans.basic.period"},
           {"[plans.basic]\nmax_side = \"big\"\n", "plans.basic.max_side"},
           {"[plans.basic]\nmax_side = 99999999999\n", "plans.basic.max_side"},
           {"[plans.basic]\nimages_per_period = 0\n", "plan 'basic': images_per_period must be positive"},
           {"[plans.basic]\nperiod = \"daily\"\n", "plan 'basic': paid plans run for 30-day periods"},
           {"[plans.free]\nprice_stars = 5\n", "plan 'free'"},
           {"[plans.basic]\nprise_stars = 100\n", "\"plans.basic.prise_stars\""},
           {"[plans.basic]\nfailed_attempts_per_period = -1\n", "plans.basic.failed_attempts_per_period"},
           {"[plans.basic]\nfailed_attempts_per_period = \"many\"\n", "plans.basic.failed_attempts_per_period"},
           {"[plans.pro]\nprice_stars = 20000\n", "plan 'pro': price_stars is at most 10000"},
           {"[plans.basic]\ntitle = \"Basic: three hundred images a month\"\n", "plan 'basic': title must be 1 to 32"},
           {"plans = 3\n", "plans: expected tables"},
           {"[plans]\nbasic = 3\n", "plans.basic"},
           {"[plans.\"bad id\"]\nprice_stars = 1\n", "plans.bad id"},
       }) {
    auto toml = dir_.write("config.toml", c.toml);
    auto message = error_of({}, toml);
    EXPECT_THAT(message, HasSubstr(c.expected)) << c.toml;
    EXPECT_THAT(message, HasSubstr(toml)) << c.toml;
  }
}

TEST_F(ConfigTest, UnknownTomlKeyIsNamed) {
  auto toml = dir_.write("config.toml", "log_level = \"info\"\ndatabse_url = \"sqlite://x.db\"\n");
  auto message = error_of({}, toml);
  EXPECT_THAT(message, HasSubstr("\"databse_url\""));
  EXPECT_THAT(message, HasSubstr("line 2"));
}

TEST_F(ConfigTest, TomlValueOfWrongTypeOrInvalid) {
  auto toml = dir_.write("config.toml", "db_pool_size = \"8\"\n");
  EXPECT_THAT(error_of({}, toml), HasSubstr("db_pool_size: expected an integer"));
  toml = dir_.write("config.toml", "admin_telegram_ids = [1, \"2\"]\n");
  EXPECT_THAT(error_of({}, toml), HasSubstr("admin_telegram_ids: expected an array of integers"));
  toml = dir_.write("config.toml", "http_listen = \"nope\"\n");
  EXPECT_EQ(error_of({}, toml), "http_listen: expected host:port, got \"nope\" (in " + toml + ")");
  toml = dir_.write("config.toml", "hf_token = \"bad token value\"\n");
  auto message = error_of({}, toml);
  EXPECT_THAT(message, HasSubstr("hf_token"));
  EXPECT_THAT(message, Not(HasSubstr("bad token value")));
}

TEST_F(ConfigTest, TomlSyntaxErrorNamesFileAndLine) {
  auto toml = dir_.write("config.toml", "log_level = \"info\"\nthis is not toml\n");
  EXPECT_THAT(error_of({}, toml), HasSubstr(toml + ":2:"));
}

TEST_F(ConfigTest, TomlSetsEverySettingKind) {
  auto toml = dir_.write("config.toml",
                         "database_url = \"postgres://db/imggen\"\n"
                         "http_listen = \"[::]:9090\"\n"
                         "admin_telegram_ids = [1, 2]\n"
                         "job_lease_seconds = 120\n"
                         "telegram_bot_token = \"" +
                             kToken + "\"\n");
  auto r = load({}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->database_url, "postgres://db/imggen");
  EXPECT_EQ(r->http_listen.host, "::");
  EXPECT_EQ(r->http_listen.port, 9090);
  EXPECT_EQ(r->admin_telegram_ids, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(r->jobs.lease, std::chrono::seconds(120));
  EXPECT_EQ(r->telegram_bot_token.value(), kToken);
}

TEST_F(ConfigTest, MissingExplicitTomlFileIsAnError) {
  auto missing = dir_.file("nope.toml");
  EXPECT_THAT(error_of({}, missing), HasSubstr(missing));
  EXPECT_THAT(error_of({{"IMGGENBOT_CONFIG", missing}}), HasSubstr(missing));
}

TEST_F(ConfigTest, TomlPathFromImggenbotConfig) {
  auto from_env = dir_.write("env.toml", "log_level = \"error\"\n");
  auto from_dotenv = dir_.write("dotenv.toml", "log_level = \"trace\"\n");
  dir_.write(".env", "IMGGENBOT_CONFIG=" + from_dotenv + "\n");

  auto r = load({});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->log_level, "trace");

  r = load({{"IMGGENBOT_CONFIG", from_env}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->log_level, "error");

  auto explicit_path = dir_.write("explicit.toml", "log_level = \"critical\"\n");
  r = load({{"IMGGENBOT_CONFIG", from_env}}, explicit_path);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->log_level, "critical");
}

TEST_F(ConfigTest, AdminIdsParsing) {
  auto r = load({{"ADMIN_TELEGRAM_IDS", " 1, 22 ,333 ,9007199254740993"}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->admin_telegram_ids, (std::vector<std::int64_t>{1, 22, 333, 9007199254740993}));
  auto message = error_of({{"ADMIN_TELEGRAM_IDS", "1,2,"}});
  EXPECT_THAT(message, HasSubstr("ADMIN_TELEGRAM_IDS"));
}

TEST_F(ConfigTest, HttpListenIpv6AndAnyPort) {
  auto r = load({{"HTTP_LISTEN", "[::1]:8080"}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->http_listen.host, "::1");
  EXPECT_EQ(r->http_listen.port, 8080);
  std::map<std::string, std::string> d;
  for (auto& [k, v] : describe(*r)) d[k] = v;
  EXPECT_EQ(d["HTTP_LISTEN"], "[::1]:8080");

  r = load({{"HTTP_LISTEN", "localhost:0"}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->http_listen.host, "localhost");
  EXPECT_EQ(r->http_listen.port, 0);
}

TEST_F(ConfigTest, EnvExampleLoadsAsDefaultsAndDocumentsEverySetting) {
  auto example = source_dir() / ".env.example";
  ASSERT_TRUE(fs::exists(example)) << example;
  auto r = load_config({}, LoadOptions{.dotenv_path = example.string()});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  expect_defaults(*r);

  auto text = read_text(example);
  for (const auto& [name, value] : describe(*r)) {
    EXPECT_THAT(text, HasSubstr(name)) << name << " is not documented in .env.example";
    bool is_variable = name.find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string::npos;
    if (is_variable) {
      EXPECT_THAT(text, HasSubstr("# " + name + "=")) << name;
    }
  }
}

TEST_F(ConfigTest, EnvExampleDefaultsMatchTheBuiltInOnes) {
  // Uncommenting every assignment must not change anything.
  auto text = read_text(source_dir() / ".env.example");
  std::string uncommented;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# ") && line.find('=') != std::string::npos && line.find(' ', 2) == std::string::npos &&
        !line.starts_with("# IMGGENBOT_CONFIG")) {
      uncommented += line.substr(2) + "\n";
    }
  }
  dir_.write(".env", uncommented);
  auto r = load({});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  expect_defaults(*r);
}

TEST_F(ConfigTest, ExampleTomlYieldsDefaultPlans) {
  auto example = source_dir() / "config.example.toml";
  ASSERT_TRUE(fs::exists(example)) << example;
  auto r = load({}, example.string());
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  expect_defaults(*r);
}

TEST(ProcessEnvironment, ReadsEnviron) {
  ASSERT_EQ(setenv("IGB_CONFIG_TEST_VAR", "a=b", 1), 0);
  auto env = process_environment();
  EXPECT_EQ(env["IGB_CONFIG_TEST_VAR"], "a=b");
  unsetenv("IGB_CONFIG_TEST_VAR");
}

}  // namespace
}  // namespace igb::config

namespace igb::config {
namespace {

TEST_F(ConfigTest, PromptPolicyDirReplacesTheBuiltInLists) {
  auto defaults = load({});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->jobs.policy, core::PromptPolicy::builtin());

  dir_.write("blocklist.en.txt", "# mine\nzebra\n");
  dir_.write("blocklist.group.en.txt", "giraffe*\n");
  dir_.write("notes.txt", "not a list\n");
  auto r = load({{"PROMPT_POLICY_DIR", dir_.file("")}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->jobs.policy->terms(core::PolicyLevel::base), 1u);
  EXPECT_EQ(r->jobs.policy->terms(core::PolicyLevel::strict), 2u);
  EXPECT_TRUE(r->jobs.policy->check("a z.e.b.r.a", core::PolicyLevel::base));
  EXPECT_FALSE(r->jobs.policy->check("giraffes", core::PolicyLevel::base));
  EXPECT_TRUE(r->jobs.policy->check("giraffes", core::PolicyLevel::strict));
  EXPECT_FALSE(r->jobs.policy->check("loli", core::PolicyLevel::base));  // the built-in lists are replaced
}

TEST_F(ConfigTest, ABrokenPromptPolicyStopsTheStartWithItsFileAndLine) {
  dir_.write("blocklist.en.txt", "fine\n  ***  \n");
  EXPECT_THAT(error_of({{"PROMPT_POLICY_DIR", dir_.file("")}}), HasSubstr("blocklist.en.txt:2: a term needs letters"));
  EXPECT_THAT(error_of({{"PROMPT_POLICY_DIR", dir_.file("missing")}}), HasSubstr("PROMPT_POLICY_DIR"));
}

}  // namespace
}  // namespace igb::config
