#pragma once
// What the config tests share: a temporary folder, the secrets they plant, and a fixture that loads
// a configuration from an environment map, this test's .env and an optional TOML file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace igb::config {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Env = std::map<std::string, std::string>;

// A valid token shape: <digits>:<35+ of [A-Za-z0-9_-]>.
inline const std::string kToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x";
inline const std::string kHfToken = "hf_SuperSecretTokenValue42";
inline const std::string kPayloadSecret = "payload-secret-0123456789";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "igb_config_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string write(const std::string& name, const std::string& content) const {
    auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline fs::path source_dir() {
  const char* dir = std::getenv("IMGGENBOT_SOURCE_DIR");
  return dir != nullptr ? fs::path(dir) : fs::path(IMGGENBOT_FALLBACK_SOURCE_DIR);
}

inline void expect_plans_equal(const std::vector<core::Plan>& actual, const std::vector<core::Plan>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const auto& a = actual[i];
    const auto& e = expected[i];
    SCOPED_TRACE("plan " + e.id);
    EXPECT_EQ(a.id, e.id);
    EXPECT_EQ(a.title, e.title);
    EXPECT_EQ(a.images_per_period, e.images_per_period);
    EXPECT_EQ(a.period, e.period);
    EXPECT_EQ(a.max_pixels, e.max_pixels);
    EXPECT_EQ(a.max_side, e.max_side);
    EXPECT_EQ(a.max_concurrent_jobs, e.max_concurrent_jobs);
    EXPECT_EQ(a.priority, e.priority);
    EXPECT_EQ(a.images_per_request, e.images_per_request);
    EXPECT_EQ(a.price_stars, e.price_stars);
    EXPECT_EQ(a.failed_attempts_per_period, e.failed_attempts_per_period);
  }
}

inline void expect_defaults(const Config& c) {
  EXPECT_EQ(c.database_url, "sqlite://./data/imggenbot.db");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.http_listen.host, "127.0.0.1");
  EXPECT_EQ(c.http_listen.port, 8080);
  EXPECT_TRUE(c.telegram_bot_token.empty());
  EXPECT_EQ(c.telegram_api_base, "https://api.telegram.org");
  EXPECT_EQ(c.telegram_webhook_url, "");
  EXPECT_TRUE(c.hf_token.empty());
  EXPECT_EQ(c.hf_api_base, "https://router.huggingface.co");
  EXPECT_EQ(c.hf_model, "black-forest-labs/FLUX.1-schnell");
  EXPECT_TRUE(c.admin_telegram_ids.empty());
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.db_pool_size, 8);
  EXPECT_EQ(c.worker_concurrency, 4);
  EXPECT_EQ(c.shutdown_grace_seconds, 20);
  EXPECT_TRUE(c.payload_secret.empty());
  EXPECT_EQ(c.jobs.max_attempts, 3);
  EXPECT_EQ(c.jobs.lease, std::chrono::seconds(60));
  expect_plans_equal(c.plans, core::default_plans());
  EXPECT_EQ(c.provider_timeout_seconds, 120);
  EXPECT_EQ(c.hf_provider, "auto");
  EXPECT_EQ(c.hf_hub_base, "https://huggingface.co");
  EXPECT_FALSE(c.provider_urls_allow_private);
  EXPECT_EQ(c.prompt_assistant_model, "");  // off
  EXPECT_EQ(c.prompt_assistant_url, "https://router.huggingface.co/v1");
  EXPECT_TRUE(c.prompt_assistant_token.empty());
  EXPECT_EQ(c.prompt_assistant_timeout_ms, 4000);
  EXPECT_TRUE(c.jobs.prices.empty());
  EXPECT_EQ(c.jobs.daily_spend_limit_micros, 0);  // no ceiling
  EXPECT_EQ(c.stars_usd_micros, 13'000);         // 0.013 USD a Star
  ASSERT_EQ(c.backends.size(), 1u);
  const auto& b = c.backends[0];
  EXPECT_EQ(b.name, "hf");
  EXPECT_EQ(b.kind, "hf");
  EXPECT_EQ(b.base_url, "https://router.huggingface.co");
  EXPECT_EQ(b.model, "black-forest-labs/FLUX.1-schnell");
  EXPECT_TRUE(b.api_key.empty());
  EXPECT_EQ(b.api_key_env, "HF_TOKEN");
  EXPECT_EQ(b.flavor, "openai");
  EXPECT_EQ(b.timeout_seconds, 120);
  EXPECT_EQ(b.concurrency, 4);
  EXPECT_EQ(b.rate_per_minute, 0);
}

class ConfigTest : public ::testing::Test {
 protected:
  // Loads with this test's .env (which may not exist) and no TOML unless given.
  core::Result<Config> load(const Env& env, std::optional<std::string> toml = std::nullopt) {
    return load_config(env, LoadOptions{.toml_path = std::move(toml), .dotenv_path = dir_.file(".env")});
  }
  std::string error_of(const Env& env, std::optional<std::string> toml = std::nullopt) {
    auto r = load(env, std::move(toml));
    EXPECT_FALSE(r.ok());
    if (r.ok()) return {};
    EXPECT_EQ(r.error().code, core::ErrorCode::invalid_argument);
    return r.error().public_message;
  }

  TempDir dir_;
};

}  // namespace igb::config
