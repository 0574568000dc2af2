// Configuration of the generation backends: the default Hugging Face one, [[backends]] in TOML,
// their keys from the environment, and their errors.
#include "config/config.hpp"
#include "config_fixture.hpp"

namespace igb::config {
namespace {

const std::string kTogetherKey = "tgp_v1_TogetherSecretKeyValue99";
const std::string kLocalKey = "sk-local-SecretKeyValue77";

std::map<std::string, std::string> described(const Config& c) {
  auto d = describe(c);
  return {d.begin(), d.end()};
}

TEST_F(ConfigTest, DefaultBackendReflectsHfSettingsFromEnvironmentAndDotenv) {
  auto toml = dir_.write("config.toml", "hf_model = \"toml/model\"\nprovider_timeout_seconds = 30\n");
  dir_.write(".env", "HF_TOKEN=" + kHfToken + "\nHF_MODEL=dotenv/model\n");
  auto r = load({{"HF_API_BASE", "http://127.0.0.1:9999/"}, {"PROVIDER_TIMEOUT_SECONDS", "45"}}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->provider_timeout_seconds, 45);
  ASSERT_EQ(r->backends.size(), 1u);
  const auto& b = r->backends[0];
  EXPECT_EQ(b.name, "hf");
  EXPECT_EQ(b.kind, "hf");
  EXPECT_EQ(b.base_url, "http://127.0.0.1:9999");
  EXPECT_EQ(b.model, "dotenv/model");
  EXPECT_EQ(b.api_key.value(), kHfToken);
  EXPECT_EQ(b.api_key_env, "HF_TOKEN");
  EXPECT_EQ(b.timeout_seconds, 45);

  auto d = described(*r);
  EXPECT_EQ(d["backends"], "hf(hf, http://127.0.0.1:9999, dotenv/model, key set)");
  EXPECT_EQ(d["PROVIDER_TIMEOUT_SECONDS"], "45");
  EXPECT_EQ(described(Config{})["backends"],
            "hf(hf, https://router.huggingface.co, black-forest-labs/FLUX.1-schnell, key HF_TOKEN (not set))");
}

TEST_F(ConfigTest, TomlBackendsReplaceTheDefaultInTheFilesOrder) {
  auto toml = dir_.write("config.toml",
                         "[[backends]]\n"
                         "name = \"together\"\n"
                         "kind = \"openai\"\n"
                         "flavor = \"together\"\n"
                         "base_url = \"https://api.together.xyz/\"\n"
                         "model = \"black-forest-labs/FLUX.1-schnell-Free\"\n"
                         "api_key_env = \"TOGETHER_API_KEY\"\n"
                         "rate_per_minute = 6\n"
                         "\n"
                         "[[backends]]\n"
                         "name = \"local\"\n"
                         "kind = \"openai\"\n"
                         "base_url = \"http://127.0.0.1:8081\"\n"
                         "model = \"flux\"\n"
                         "concurrency = 1\n"
                         "timeout_seconds = 600\n"
                         "\n"
                         "[[backends]]\n"
                         "name = \"HF-2\"\n"
                         "kind = \"hf\"\n");
  dir_.write(".env", "TOGETHER_API_KEY=" + kTogetherKey + "\n");
  auto r = load({{"HF_TOKEN", kHfToken},
                 {"HF_API_BASE", "http://127.0.0.1:7000"},
                 {"HF_MODEL", "stabilityai/sdxl-turbo"},
                 {"PROVIDER_TIMEOUT_SECONDS", "90"}},
                toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->backends.size(), 3u);

  const auto& together = r->backends[0];
  EXPECT_EQ(together.name, "together");
  EXPECT_EQ(together.kind, "openai");
  EXPECT_EQ(together.flavor, "together");
  EXPECT_EQ(together.base_url, "https://api.together.xyz");  // trailing '/' dropped
  EXPECT_EQ(together.model, "black-forest-labs/FLUX.1-schnell-Free");
  EXPECT_EQ(together.api_key_env, "TOGETHER_API_KEY");
  EXPECT_EQ(together.api_key.value(), kTogetherKey);  // from .env
  EXPECT_EQ(together.timeout_seconds, 90);            // PROVIDER_TIMEOUT_SECONDS
  EXPECT_EQ(together.concurrency, 4);
  EXPECT_EQ(together.rate_per_minute, 6);

  const auto& local = r->backends[1];
  EXPECT_EQ(local.name, "local");
  EXPECT_EQ(local.flavor, "openai");
  EXPECT_EQ(local.api_key_env, "");
  EXPECT_TRUE(local.api_key.empty());
  EXPECT_EQ(local.timeout_seconds, 600);
  EXPECT_EQ(local.concurrency, 1);
  EXPECT_EQ(local.rate_per_minute, 0);

  // kind "hf" takes what it does not give from the effective HF_* settings.
  const auto& hf = r->backends[2];
  EXPECT_EQ(hf.name, "HF-2");
  EXPECT_EQ(hf.base_url, "http://127.0.0.1:7000");
  EXPECT_EQ(hf.model, "stabilityai/sdxl-turbo");
  EXPECT_EQ(hf.api_key_env, "HF_TOKEN");
  EXPECT_EQ(hf.api_key.value(), kHfToken);
  EXPECT_EQ(hf.timeout_seconds, 90);

  EXPECT_EQ(described(*r)["backends"],
            "together(openai/together, https://api.together.xyz, black-forest-labs/FLUX.1-schnell-Free, key set); "
            "local(openai, http://127.0.0.1:8081, flux, no key); "
            "HF-2(hf, http://127.0.0.1:7000, stabilityai/sdxl-turbo, key set)");
}

TEST_F(ConfigTest, BackendDialectsAndTheOldFlavorName) {
  auto toml =
      dir_.write("config.toml",
                 "[[backends]]\nname = \"oa\"\nkind = \"openai\"\ndialect = \"openai\"\n"
                 "base_url = \"https://api.openai.com\"\nmodel = \"gpt-image-1\"\napi_key_env = \"OPENAI_API_KEY\"\n"
                 "[[backends]]\nname = \"la\"\nkind = \"openai\"\ndialect = \"localai\"\n"
                 "base_url = \"http://127.0.0.1:8080\"\nmodel = \"flux.1-schnell\"\n"
                 "[[backends]]\nname = \"sd\"\nkind = \"openai\"\ndialect = \"sdcpp\"\n"
                 "base_url = \"http://127.0.0.1:1234\"\nmodel = \"sd-cpp-local\"\n"
                 "[[backends]]\nname = \"tg\"\nkind = \"openai\"\nflavor = \"together\"\ndialect = \"together\"\n"
                 "base_url = \"https://api.together.xyz\"\nmodel = \"black-forest-labs/FLUX.1-schnell\"\n"
                 "api_key_env = \"TOGETHER_API_KEY\"\n");
  auto r = load({{"OPENAI_API_KEY", kLocalKey}}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->backends.size(), 4u);
  EXPECT_EQ(r->backends[0].flavor, "openai");
  EXPECT_EQ(r->backends[1].flavor, "localai");
  EXPECT_TRUE(r->backends[1].api_key_env.empty());  // a self-hosted server needs no key
  EXPECT_EQ(r->backends[2].flavor, "sdcpp");
  EXPECT_EQ(r->backends[3].flavor, "together");  // both names, the same value: fine
  EXPECT_EQ(described(*r)["backends"],
            "oa(openai, https://api.openai.com, gpt-image-1, key set); "
            "la(openai/localai, http://127.0.0.1:8080, flux.1-schnell, no key); "
            "sd(openai/sdcpp, http://127.0.0.1:1234, sd-cpp-local, no key); "
            "tg(openai/together, https://api.together.xyz, black-forest-labs/FLUX.1-schnell, key TOGETHER_API_KEY (not "
            "set))");
}

TEST_F(ConfigTest, BackendKeyFromTheEnvironmentOverDotenvAndUnsetIsAllowed) {
  auto toml = dir_.write("config.toml",
                         "[[backends]]\nname = \"a\"\nkind = \"openai\"\nbase_url = \"http://h\"\nmodel = \"m\"\n"
                         "api_key_env = \"A_KEY\"\n"
                         "[[backends]]\nname = \"b\"\nkind = \"openai\"\nbase_url = \"http://h\"\nmodel = \"m\"\n"
                         "api_key_env = \"B_KEY\"\n"
                         "[[backends]]\nname = \"c\"\nkind = \"hf\"\napi_key_env = \"OTHER_HF_TOKEN\"\n");
  dir_.write(".env", "A_KEY=from-dotenv-value\nB_KEY=\n");
  auto r = load({{"A_KEY", kLocalKey}, {"B_KEY", ""}, {"HF_TOKEN", kHfToken}}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->backends.size(), 3u);
  EXPECT_EQ(r->backends[0].api_key.value(), kLocalKey);
  EXPECT_TRUE(r->backends[1].api_key.empty());  // named but not set: allowed
  EXPECT_TRUE(r->backends[2].api_key.empty());  // not HF_TOKEN: it names another variable
  auto d = described(*r)["backends"];
  EXPECT_THAT(d, HasSubstr("a(openai, http://h, m, key set)"));
  EXPECT_THAT(d, HasSubstr("b(openai, http://h, m, key B_KEY (not set))"));
  EXPECT_THAT(d, HasSubstr("c(hf, https://router.huggingface.co, black-forest-labs/FLUX.1-schnell, "
                           "key OTHER_HF_TOKEN (not set))"));
}

TEST_F(ConfigTest, HfBackendUsesTheTomlHfTokenAndEmptyApiKeyEnvMeansNoKey) {
  auto toml =
      dir_.write("config.toml", "hf_token = \"" + kHfToken +
                                    "\"\n"
                                    "[[backends]]\nname = \"hf\"\nkind = \"hf\"\n"
                                    "[[backends]]\nname = \"fake\"\nkind = \"hf\"\nbase_url = \"http://127.0.0.1:1\"\n"
                                    "api_key_env = \"\"\n");
  auto r = load({}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->backends.size(), 2u);
  EXPECT_EQ(r->backends[0].api_key.value(), kHfToken);
  EXPECT_EQ(r->backends[1].api_key_env, "");
  EXPECT_TRUE(r->backends[1].api_key.empty());
  EXPECT_THAT(described(*r)["backends"],
              HasSubstr("fake(hf, http://127.0.0.1:1, black-forest-labs/FLUX.1-schnell, no key)"));
}

TEST_F(ConfigTest, TomlBackendErrorsNameTheItemAndField) {
  const std::string ok_openai = "kind = \"openai\"\nbase_url = \"http://h\"\nmodel = \"m\"\n";
  const std::string first = "[[backends]]\nname = \"first\"\nkind = \"hf\"\n";
  struct Case {
    std::string toml;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{
           {first + "[[backends]]\nname = \"x\"\nkind = \"dalle\"\n",
            "backends[1].kind: expected \"hf\" or \"openai\", got \"dalle\""},
           {"[[backends]]\nname = \"x\"\n", "backends[0].kind: required"},
           {"[[backends]]\nkind = \"hf\"\n", "backends[0].name: required"},
           {"[[backends]]\nname = \"has space\"\nkind = \"hf\"\n", "backends[0].name: expected 1 to 32"},
           {"[[backends]]\nname = \"" + std::string(33, 'n') + "\"\nkind = \"hf\"\n", "backends[0].name"},
           {"[[backends]]\nname = 1\nkind = \"hf\"\n", "backends[0].name: expected a string"},
           {"[[backends]]\nname = \"x\"\nkind = \"openai\"\nmodel = \"m\"\n",
            "backends[0].base_url: required for kind \"openai\""},
           {"[[backends]]\nname = \"x\"\nkind = \"openai\"\nbase_url = \"http://h\"\n",
            "backends[0].model: required for kind \"openai\""},
           {"[[backends]]\nname = \"x\"\nkind = \"openai\"\nbase_url = \"http://h\"\nmodel = \" \"\n",
            "backends[0].model"},
           {"[[backends]]\nname = \"x\"\nkind = \"hf\"\nmodel = \"no-owner\"\n",
            "backends[0].model: expected owner/name"},
           {"[[backends]]\nname = \"x\"\nkind = \"hf\"\nbase_url = \"ftp://h\"\n",
            "backends[0].base_url: expected an http:// or https:// URL, got \"ftp://h\""},
           {"[[backends]]\nname = \"x\"\nkind = \"hf\"\nbase_url = \"http://h/?a=1\"\n",
            "backends[0].base_url: expected a URL without query or fragment"},
           {first + "[[backends]]\nname = \"x\"\n" + ok_openai + "flavor = \"dalle\"\n",
            "backends[1].flavor: expected \"openai\", \"together\", \"localai\" or \"sdcpp\", got \"dalle\""},
           {first + "[[backends]]\nname = \"x\"\n" + ok_openai + "dialect = \"automatic1111\"\n",
            "backends[1].dialect: expected \"openai\", \"together\", \"localai\" or \"sdcpp\", got \"automatic1111\""},
           {"[[backends]]\nname = \"x\"\nkind = \"hf\"\nflavor = \"together\"\n",
            "backends[0].flavor: only for kind \"openai\""},
           {"[[backends]]\nname = \"x\"\nkind = \"hf\"\ndialect = \"sdcpp\"\n",
            "backends[0].dialect: only for kind \"openai\""},
           {"[[backends]]\nname = \"x\"\n" + ok_openai +
                "api_key_env = \"K\"\nflavor = \"together\"\ndialect = \"localai\"\n",
            "backends[0].dialect: says \"localai\" but flavor says \"together\""},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "dialect = \"openai\"\n",
            "backends[0].api_key_env: required for dialect \"openai\""},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "dialect = \"together\"\napi_key_env = \"\"\n",
            "backends[0].api_key_env: required for dialect \"together\""},
           {first + "[[backends]]\nname = \"x\"\n" + ok_openai + "timeout_seconds = 0\n",
            "backends[1].timeout_seconds: expected an integer from 1 to 600, got 0"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "timeout_seconds = 601\n",
            "backends[0].timeout_seconds: expected an integer from 1 to 600, got 601"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "timeout_seconds = \"60\"\n",
            "backends[0].timeout_seconds: expected an integer from 1 to 600"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "concurrency = 0\n",
            "backends[0].concurrency: expected an integer from 1 to 256, got 0"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "concurrency = 257\n",
            "backends[0].concurrency: expected an integer from 1 to 256, got 257"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "rate_per_minute = -1\n",
            "backends[0].rate_per_minute: expected an integer from 0 to 100000, got -1"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "rate_per_minute = 100001\n",
            "backends[0].rate_per_minute: expected an integer from 0 to 100000, got 100001"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "api_key_env = \"1BAD\"\n",
            "backends[0].api_key_env: expected an environment variable name"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "api_key_env = \"TELEGRAM_BOT_TOKEN\"\n",
            "backends[0].api_key_env: \"TELEGRAM_BOT_TOKEN\" is a setting of ImgGenBot"},
           {"[[backends]]\nname = \"x\"\n" + ok_openai + "modle = \"m\"\n", "unknown key \"backends[0].modle\""},
           {first + "[[backends]]\nname = \"first\"\n" + ok_openai,
            "backends[1].name: \"first\" is already the name of backends[0]"},
           {"backends = []\n", "backends: expected at least one [[backends]] table"},
           {"backends = 3\n", "backends: expected [[backends]] tables"},
           {"[backends]\nname = \"x\"\n", "backends: expected [[backends]] tables"},
           {"backends = [1, 2]\n", "backends: expected [[backends]] tables"},
       }) {
    auto toml = dir_.write("config.toml", c.toml);
    auto message = error_of({}, toml);
    EXPECT_THAT(message, HasSubstr(c.expected)) << c.toml;
    EXPECT_THAT(message, HasSubstr(toml)) << c.toml;
  }
}

TEST_F(ConfigTest, BackendFieldErrorGivesTheLine) {
  auto toml = dir_.write("config.toml",
                         "[[backends]]\nname = \"a\"\nkind = \"hf\"\n"
                         "[[backends]]\nname = \"b\"\nkind = \"openai\"\nmodel = \"m\"\n");
  EXPECT_EQ(error_of({}, toml), "backends[1].base_url: required for kind \"openai\" (in " + toml + ", line 4)");
  toml = dir_.write("config.toml", "[[backends]]\nname = \"a\"\nkind = \"hf\"\nconcurrency = 0\n");
  EXPECT_EQ(error_of({}, toml),
            "backends[0].concurrency: expected an integer from 1 to 256, got 0 (in " + toml + ", line 4)");
}

TEST_F(ConfigTest, BackendKeysNeverAppearInErrorsOrDescribe) {
  const std::string openai =
      "[[backends]]\nname = \"t\"\nkind = \"openai\"\nmodel = \"m\"\n"
      "api_key_env = \"TOGETHER_API_KEY\"\n";
  Env env = {{"TOGETHER_API_KEY", kTogetherKey}};

  // A key pasted into another field of the backend, or into another setting, is redacted.
  auto toml = dir_.write("config.toml", openai + "base_url = \"ftp://h/" + kTogetherKey + "\"\n");
  auto message = error_of(env, toml);
  EXPECT_THAT(message, HasSubstr("backends[0].base_url"));
  EXPECT_THAT(message, Not(HasSubstr(kTogetherKey)));
  toml = dir_.write("config.toml", "log_level = \"" + kTogetherKey + "\"\n" + openai + "base_url = \"http://h\"\n");
  message = error_of(env, toml);
  EXPECT_THAT(message, HasSubstr("log_level"));
  EXPECT_THAT(message, Not(HasSubstr(kTogetherKey)));

  // Credentials in the URL are refused without showing them.
  toml = dir_.write("config.toml", openai + "base_url = \"https://user:pass-word-1@h\"\n");
  message = error_of(env, toml);
  EXPECT_THAT(message, HasSubstr("backends[0].base_url: must not contain credentials"));
  EXPECT_THAT(message, Not(HasSubstr("pass-word-1")));

  // A key that cannot go into a header is refused without showing it, from the environment or .env.
  toml = dir_.write("config.toml", openai + "base_url = \"http://h\"\n");
  message = error_of({{"TOGETHER_API_KEY", "tgp secret with spaces"}}, toml);
  EXPECT_THAT(message, HasSubstr("backends[0].api_key_env: the value of TOGETHER_API_KEY must not contain whitespace"));
  EXPECT_THAT(message, Not(HasSubstr("secret with")));
  dir_.write(".env", "TOGETHER_API_KEY=\"tgp secret\\nnewline\"\n");
  message = error_of({}, toml);
  EXPECT_THAT(message, HasSubstr("backends[0].api_key_env"));
  EXPECT_THAT(message, Not(HasSubstr("tgp secret")));
  std::filesystem::remove(dir_.file(".env"));

  // A key written in the file is refused, and not repeated.
  toml = dir_.write("config.toml", openai + "base_url = \"http://h\"\napi_key = \"" + kLocalKey + "\"\n");
  message = error_of(env, toml);
  EXPECT_THAT(message, HasSubstr("backends[0].api_key: a key is not written in the file"));
  EXPECT_THAT(message, Not(HasSubstr(kLocalKey)));

  // describe() shows that a key is set, never the key, even where it was pasted into another value.
  toml = dir_.write("config.toml", openai + "base_url = \"http://h\"\n");
  auto r =
      load({{"TOGETHER_API_KEY", kTogetherKey}, {"DATA_DIR", "/srv/" + kTogetherKey}, {"HF_TOKEN", kHfToken}}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->backends[0].api_key.value(), kTogetherKey);
  for (const auto& [name, value] : describe(*r)) {
    EXPECT_THAT(value, Not(HasSubstr(kTogetherKey))) << name;
    EXPECT_THAT(value, Not(HasSubstr(kHfToken))) << name;
  }
  EXPECT_EQ(described(*r)["backends"], "t(openai, http://h, m, key set)");
  EXPECT_EQ(::testing::PrintToString(r->backends[0].api_key), "(set)");
}

TEST_F(ConfigTest, ExampleTomlBackendsLoadWhenUncommented) {
  // The commented [[backends]] example must stay valid: uncomment "# [[...]]" and "# key = value" lines.
  auto text = read_text(source_dir() / "config.example.toml");
  std::string uncommented;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool assignment = line.size() > 2 && std::islower(static_cast<unsigned char>(line[2])) != 0 &&
                      line.find(" = ") != std::string::npos;
    uncommented += (line.starts_with("# [[") || (line.starts_with("# ") && assignment) ? line.substr(2) : line) + "\n";
  }
  auto toml = dir_.write("config.toml", uncommented);
  auto r = load({{"TOGETHER_API_KEY", kTogetherKey}}, toml);
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  ASSERT_EQ(r->backends.size(), 4u);
  EXPECT_EQ(r->backends[0].kind, "hf");
  EXPECT_EQ(r->backends[1].kind, "openai");
  EXPECT_EQ(r->backends[1].flavor, "localai");
  EXPECT_TRUE(r->backends[1].api_key_env.empty());
  EXPECT_EQ(r->backends[2].flavor, "together");
  EXPECT_EQ(r->backends[2].api_key.value(), kTogetherKey);
  EXPECT_EQ(r->backends[3].flavor, "openai");
  EXPECT_EQ(r->backends[3].api_key_env, "OPENAI_API_KEY");
}

TEST_F(ConfigTest, HfProviderHubBaseAndPrivateUrls) {
  auto r = load({{"HF_PROVIDER", " Fal-AI , nscale "},
                 {"HF_HUB_BASE", "http://127.0.0.1:9/"},
                 {"PROVIDER_URLS_ALLOW_PRIVATE", "1"}});
  ASSERT_TRUE(r.ok()) << r.error().public_message;
  EXPECT_EQ(r->hf_provider, "fal-ai,nscale");
  EXPECT_EQ(r->hf_hub_base, "http://127.0.0.1:9");
  EXPECT_TRUE(r->provider_urls_allow_private);
  auto d = described(*r);
  EXPECT_EQ(d["HF_PROVIDER"], "fal-ai,nscale");
  EXPECT_EQ(d["PROVIDER_URLS_ALLOW_PRIVATE"], "1");

  EXPECT_EQ(load({{"HF_PROVIDER", "AUTO"}})->hf_provider, "auto");
  for (const char* bad : {"fal-ai,,nscale", "auto,fal-ai", "fal ai", "fal_ai"}) {
    EXPECT_THAT(error_of({{"HF_PROVIDER", bad}}), HasSubstr("HF_PROVIDER")) << bad;
  }
  EXPECT_THAT(error_of({{"HF_HUB_BASE", "ftp://hub"}}), HasSubstr("HF_HUB_BASE"));
  EXPECT_THAT(error_of({{"PROVIDER_URLS_ALLOW_PRIVATE", "yes"}}), HasSubstr("PROVIDER_URLS_ALLOW_PRIVATE"));
}

}  // namespace
}  // namespace igb::config
