#pragma once
// The settings of an `imggenbot` process under test, written once: its database and data folder, the
// API on a free loopback port, a fake provider (Hugging Face's router on loopback) and, when a test
// talks to the bot, the fake Bot API. Each test then says what it is about with set():
//
//   auto env = ServiceEnv({.database_url = db_->url(), .dir = dir_.path(), .hf_api_base = hf_.base_url()})
//                  .with_telegram(tg_)
//                  .set("WORKER_CONCURRENCY", "2");
//   ChildProcess p(env.process("serve"));
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/fake_bot_api.hpp"
#include "support/process.hpp"

namespace igb::testing {

struct ServiceEnvOptions {
  std::string database_url;
  std::filesystem::path dir;  // the process's working directory; DATA_DIR is dir/data
  std::string hf_api_base;    // the fake provider; empty: HF_API_BASE is not set
  std::string hf_token = "hf_test_secret_token";
  std::string log_level = "info";
  bool http = true;  // HTTP_LISTEN on 127.0.0.1:0 (the port is in the log: http_api_base_url)
};

class ServiceEnv {
 public:
  explicit ServiceEnv(const ServiceEnvOptions& o) : dir_(o.dir) {
    vars_ = {{"DATABASE_URL", o.database_url}, {"DATA_DIR", (o.dir / "data").string()}, {"LOG_LEVEL", o.log_level}};
    if (o.http) vars_["HTTP_LISTEN"] = "127.0.0.1:0";
    if (!o.hf_api_base.empty()) vars_["HF_API_BASE"] = o.hf_api_base;
    if (!o.hf_token.empty()) vars_["HF_TOKEN"] = o.hf_token;
  }

  // The bot talks to `tg` (its token and address).
  ServiceEnv& with_telegram(const FakeBotApi& tg) {
    vars_["TELEGRAM_BOT_TOKEN"] = tg.token();
    vars_["TELEGRAM_API_BASE"] = tg.base_url();
    return *this;
  }
  ServiceEnv& set(const std::string& key, std::string value) {
    vars_[key] = std::move(value);
    return *this;
  }
  // Each of `more` replaces or adds a setting.
  ServiceEnv& merge(const std::map<std::string, std::string>& more) {
    for (const auto& [k, v] : more) vars_[k] = v;
    return *this;
  }

  const std::map<std::string, std::string>& vars() const { return vars_; }
#ifdef IMGGENBOT_BIN
  // `imggenbot <role>` (serve, api, bot, worker) of this build with these settings, in the folder.
  ChildProcess::Options process(const std::string& role) const { return command({role}); }
  // `imggenbot <args…>` (an operator command, say) likewise.
  ChildProcess::Options command(const std::vector<std::string>& args) const {
    ChildProcess::Options o{.argv = {IMGGENBOT_BIN}, .env = vars_, .cwd = dir_};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    return o;
  }
#endif

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::string> vars_;
};

}  // namespace igb::testing
