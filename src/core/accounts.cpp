#include "core/accounts.hpp"

#include <algorithm>

#include "util/crypto.hpp"

namespace igb::core {

std::string AccountService::hash_secret(std::string_view secret) { return util::sha256_hex(secret); }

bool AccountService::looks_like_key(std::string_view secret) {
  constexpr std::string_view kPrefix = "igb_";
  constexpr std::size_t kLength = 4 + 43;  // base64url of 32 bytes, unpadded
  if (secret.size() != kLength || !secret.starts_with(kPrefix)) return false;
  for (char ch : secret.substr(kPrefix.size())) {
    const bool ok =
        (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    if (!ok) return false;
  }
  return true;
}

User AccountService::ensure_user(UserId id, std::string_view username, std::string_view language, bool* created) {
  return transact(store_, TxMode::write, [&](Tx& tx) {
    // One read by primary key, only for callers that ask (the bot, for referrals).
    if (created != nullptr) *created = !tx.find_user(id).has_value();
    return tx.upsert_user(id, username, language, clock_.now());
  });
}

bool looks_like_referral_code(std::string_view code) {
  if (code.size() != kReferralCodeLength) return false;
  return std::all_of(code.begin(), code.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  });
}

std::string AccountService::referral_code(UserId user) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return transact(store_, TxMode::write, [&](Tx& tx) {
    // Random, not derived from the id: a link must not tell who shared it. A clash with another
    // user's code (or a racing /invite of the same user) inserts nothing; the read after it decides.
    for (int attempt = 0; attempt < 8; ++attempt) {
      if (auto code = tx.referral_code_of(user)) return *code;
      std::string code;
      for (unsigned char b : util::random_bytes(kReferralCodeLength)) code += kAlphabet[b % kAlphabet.size()];
      tx.insert_referral_code(user, code, clock_.now());
    }
    throw InfrastructureError("no free referral code after 8 tries");
  });
}

ReferralJoin AccountService::join_by_referral(UserId invitee, std::string_view inviter_code, bool first_contact) {
  if (!looks_like_referral_code(inviter_code)) return ReferralJoin::unknown_code;
  return transact(store_, TxMode::write, [&](Tx& tx) {
    auto inviter = tx.user_by_referral_code(inviter_code);
    if (!inviter) return ReferralJoin::unknown_code;
    if (*inviter == invitee) return ReferralJoin::own_code;
    if (!first_contact) return ReferralJoin::not_new;
    return tx.insert_referral(invitee, *inviter, clock_.now()) ? ReferralJoin::joined : ReferralJoin::already_invited;
  });
}

ReferralSummary AccountService::referral_summary(UserId user) {
  auto tx = store_.begin(TxMode::read);
  return tx->referral_summary(user);
}

Result<User> AccountService::get_user(UserId id) {
  auto tx = store_.begin(TxMode::read);
  auto user = tx->find_user(id);
  if (!user) return make_error(ErrorCode::not_found, "no such user");
  return *user;
}

namespace {
Status found_or_not(bool found) {
  if (!found) return make_error(ErrorCode::not_found, "no such user");
  return Ok{};
}
}  // namespace

Status AccountService::set_banned(UserId id, bool banned) {
  return found_or_not(transact(store_, TxMode::write, [&](Tx& tx) { return tx.set_user_banned(id, banned); }));
}

Status AccountService::set_blocked_bot(UserId id, bool blocked) {
  return found_or_not(transact(store_, TxMode::write, [&](Tx& tx) { return tx.set_user_blocked_bot(id, blocked); }));
}

Status AccountService::set_language(UserId id, std::string_view language) {
  if (language.empty() || language.size() > 16) {
    return make_error(ErrorCode::invalid_argument, "language must be a short language tag");
  }
  return found_or_not(transact(store_, TxMode::write, [&](Tx& tx) { return tx.set_user_language(id, language); }));
}

Result<NewApiKey> AccountService::create_api_key(UserId user, std::string_view name) {
  if (name.size() > 64) return make_error(ErrorCode::invalid_argument, "key name is longer than 64 characters");
  NewApiKey out;
  out.secret = "igb_" + util::base64url(util::random_bytes(32));
  out.key = ApiKey{.id = "k_" + util::random_hex(8),
                   .user_id = user,
                   .key_hash = hash_secret(out.secret),
                   .prefix = out.secret.substr(0, 10),
                   .name = std::string(name),
                   .created_at = clock_.now()};
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<NewApiKey> {
    auto u = tx.find_user(user);
    if (!u) return make_error(ErrorCode::not_found, "no such user");
    if (u->banned) return make_error(ErrorCode::forbidden, "this account is suspended");
    tx.insert_api_key(out.key);
    return out;
  });
}

Result<User> AccountService::authenticate(std::string_view secret) {
  auto unauthenticated = make_error(ErrorCode::unauthenticated, "invalid or missing API key");
  if (secret.empty() || secret.size() > 200) return unauthenticated;
  auto tx = store_.begin(TxMode::read);
  auto key = tx->find_api_key_by_hash(hash_secret(secret));
  if (!key || key->revoked_at) return unauthenticated;
  auto user = tx->find_user(key->user_id);
  if (!user) return unauthenticated;
  if (user->banned) return make_error(ErrorCode::forbidden, "this account is suspended");
  return *user;
}

Status AccountService::revoke_api_key(UserId owner, std::string_view key_id) {
  return transact(store_, TxMode::write, [&](Tx& tx) -> Status {
    for (const auto& k : tx.api_keys_of(owner)) {
      if (k.id != key_id) continue;
      if (k.revoked_at) return make_error(ErrorCode::conflict, "this key is already revoked");
      tx.revoke_api_key(key_id, clock_.now());
      return Ok{};
    }
    return make_error(ErrorCode::not_found, "no such key");
  });
}

std::vector<ApiKey> AccountService::api_keys(UserId user) {
  auto tx = store_.begin(TxMode::read);
  return tx->api_keys_of(user);
}

}  // namespace igb::core
