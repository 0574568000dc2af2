#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "core/store.hpp"

namespace igb::core {

struct NewApiKey {
  ApiKey key;
  std::string secret;  // shown to the owner once; only its hash is stored
};

inline constexpr std::size_t kReferralCodeLength = 10;  // 59 bits of [A-Za-z0-9]
// A string that may be a referral code (the /start payload after "ref_" comes from anyone).
bool looks_like_referral_code(std::string_view code);

enum class ReferralJoin { joined, unknown_code, own_code, not_new, already_invited };

class AccountService {
 public:
  AccountService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Creates the user on first contact; refreshes username and language afterwards. *created (when
  // given): whether this call made the user (their first contact with the service).
  User ensure_user(UserId id, std::string_view username, std::string_view language, bool* created = nullptr);
  Result<User> get_user(UserId id);
  Status set_banned(UserId id, bool banned);
  Status set_blocked_bot(UserId id, bool blocked);
  Status set_language(UserId id, std::string_view language);

  Result<NewApiKey> create_api_key(UserId user, std::string_view name);
  // The user a secret belongs to: unauthenticated if unknown or revoked, forbidden if banned.
  Result<User> authenticate(std::string_view secret);
  // Revokes one of `owner`'s keys; not_found for a key that is not theirs.
  Status revoke_api_key(UserId owner, std::string_view key_id);
  std::vector<ApiKey> api_keys(UserId user);

  // Referrals. The user's code for their invite link, made on first use (kReferralCodeLength
  // characters of [A-Za-z0-9]).
  std::string referral_code(UserId user);
  // Records `inviter_code`'s owner as the inviter of `invitee`, who must be new (`first_contact`:
  // their account was made by the update that carries the link), not the owner, and not invited yet.
  ReferralJoin join_by_referral(UserId invitee, std::string_view inviter_code, bool first_contact);
  ReferralSummary referral_summary(UserId user);

  static std::string hash_secret(std::string_view secret);
  // The shape of the keys create_api_key issues: "igb_" and 43 base64url characters (32 bytes).
  static bool looks_like_key(std::string_view secret);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace igb::core
