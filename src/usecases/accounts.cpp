#include "usecases/accounts.hpp"

#include "usecases/in_tx.hpp"

namespace igb::usecases {

net::awaitable<core::Result<core::User>> Accounts::authenticate(std::string secret) {
  auto lookup = [&] { return d_.accounts.authenticate(secret); };
  auto found = co_await d_.pool.run(lookup);
  co_return found;
}

net::awaitable<core::User> Accounts::ensure_user(core::UserId id, std::string username, std::string language,
                                                 bool private_chat, bool* created) {
  auto upsert = [&] {
    auto user = d_.accounts.ensure_user(id, username, language, created);
    // Writing to the bot again means they unblocked it.
    if (user.blocked_bot && private_chat) {
      auto unblocked = d_.accounts.set_blocked_bot(id, false);
      if (unblocked.ok()) user.blocked_bot = false;
    }
    return user;
  };
  auto user = co_await d_.pool.run(upsert);
  co_return user;
}

net::awaitable<std::string> Accounts::referral_code(core::UserId user) {
  auto make = [&] { return d_.accounts.referral_code(user); };
  auto code = co_await d_.pool.run(make);
  co_return code;
}

net::awaitable<core::ReferralJoin> Accounts::join_by_referral(core::UserId invitee, std::string code,
                                                              bool first_contact) {
  if (d_.referral_bonus_images <= 0) co_return core::ReferralJoin::unknown_code;
  auto join = [&] { return d_.accounts.join_by_referral(invitee, code, first_contact); };
  auto joined = co_await d_.pool.run(join);
  co_return joined;
}

net::awaitable<core::ReferralSummary> Accounts::referral_summary(core::UserId user) {
  auto read = [&] { return d_.accounts.referral_summary(user); };
  auto summary = co_await d_.pool.run(read);
  co_return summary;
}

net::awaitable<core::Result<core::User>> Accounts::user(core::UserId id) {
  auto find = [&] { return d_.accounts.get_user(id); };
  auto user = co_await d_.pool.run(find);
  co_return user;
}

net::awaitable<core::QuotaStatus> Accounts::quota(core::UserId user) {
  auto read = [&] { return d_.quota.status(user); };
  auto q = co_await d_.pool.run(read);
  co_return q;
}

net::awaitable<void> Accounts::set_preferences(core::UserId user, std::string aspect_ratio, std::string style) {
  auto save = [&](core::Tx& tx) { tx.set_user_preferences(user, aspect_ratio, style); };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, save);
}

net::awaitable<core::Status> Accounts::set_language(core::UserId user, std::string language) {
  auto save = [&] { return d_.accounts.set_language(user, language); };
  auto saved = co_await d_.pool.run(save);
  co_return saved;
}

net::awaitable<core::Status> Accounts::set_banned(core::UserId user, bool banned) {
  auto set = [&] { return d_.accounts.set_banned(user, banned); };
  auto done = co_await d_.pool.run(set);
  co_return done;
}

net::awaitable<core::Status> Accounts::set_blocked_bot(core::UserId user, bool blocked) {
  auto set = [&] { return d_.accounts.set_blocked_bot(user, blocked); };
  auto done = co_await d_.pool.run(set);
  co_return done;
}

net::awaitable<core::Result<core::NewApiKey>> Accounts::create_api_key(core::UserId user, std::string name) {
  auto create = [&] { return d_.accounts.create_api_key(user, name); };
  auto key = co_await d_.pool.run(create);
  co_return key;
}

net::awaitable<int> Accounts::active_api_keys(core::UserId user) {
  auto count_keys = [&] {
    int n = 0;
    for (const auto& k : d_.accounts.api_keys(user)) n += !k.revoked_at;
    return n;
  };
  int n = co_await d_.pool.run(count_keys);
  co_return n;
}

net::awaitable<int> Accounts::revoke_api_keys(core::UserId user) {
  auto revoke = [&] {
    int n = 0;
    for (const auto& k : d_.accounts.api_keys(user)) {
      if (!k.revoked_at && d_.accounts.revoke_api_key(user, k.id).ok()) ++n;
    }
    return n;
  };
  int n = co_await d_.pool.run(revoke);
  co_return n;
}

}  // namespace igb::usecases
