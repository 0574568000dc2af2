#pragma once
// Account use cases, shared by the HTTP API and the bot: who a key or a Telegram user is, their
// preferences and language, API keys, ban and "blocked the bot" flags. Each call is one transaction
// run on the blocking pool; the caller resumes on its own executor.
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "core/accounts.hpp"
#include "core/quota.hpp"
#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::usecases {

namespace net = boost::asio;

struct AccountsDeps {
  core::AccountService& accounts;
  core::QuotaService& quota;
  core::Store& store;
  runtime::BlockingPool& pool;
  int referral_bonus_images = 0;  // core::JobOptions::referral_bonus_images; 0: referrals off
};

class Accounts {
 public:
  explicit Accounts(AccountsDeps deps) : d_(deps) {}

  // The user an API key belongs to (unauthenticated, or forbidden for a banned user).
  net::awaitable<core::Result<core::User>> authenticate(std::string secret);
  // The Telegram user, recorded or refreshed from what their client says; writing to the bot in a
  // private chat means they unblocked it. *created (when given): this call made the user.
  net::awaitable<core::User> ensure_user(core::UserId id, std::string username, std::string language, bool private_chat,
                                         bool* created = nullptr);
  net::awaitable<core::Result<core::User>> user(core::UserId id);
  // The user's plan, quota and period.
  net::awaitable<core::QuotaStatus> quota(core::UserId user);

  // Default aspect ratio and style (empty: none).
  net::awaitable<void> set_preferences(core::UserId user, std::string aspect_ratio, std::string style);
  net::awaitable<core::Status> set_language(core::UserId user, std::string language);
  net::awaitable<core::Status> set_banned(core::UserId user, bool banned);
  net::awaitable<core::Status> set_blocked_bot(core::UserId user, bool blocked);

  // Referrals (off when referral_bonus_images is 0): the user's code, made on first use; joining
  // through someone's code (off: unknown_code); how many joined and the bonus balance.
  int referral_bonus_images() const { return d_.referral_bonus_images; }
  net::awaitable<std::string> referral_code(core::UserId user);
  net::awaitable<core::ReferralJoin> join_by_referral(core::UserId invitee, std::string code, bool first_contact);
  net::awaitable<core::ReferralSummary> referral_summary(core::UserId user);

  net::awaitable<core::Result<core::NewApiKey>> create_api_key(core::UserId user, std::string name);
  // Keys not revoked.
  net::awaitable<int> active_api_keys(core::UserId user);
  // Revokes every active key; how many.
  net::awaitable<int> revoke_api_keys(core::UserId user);

 private:
  AccountsDeps d_;
};

}  // namespace igb::usecases
