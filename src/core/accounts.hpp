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

class AccountService {
 public:
  AccountService(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Creates the user on first contact; refreshes username and language afterwards.
  User ensure_user(UserId id, std::string_view username, std::string_view language);
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

  static std::string hash_secret(std::string_view secret);
  // The shape of the keys create_api_key issues: "igb_" and 43 base64url characters (32 bytes).
  static bool looks_like_key(std::string_view secret);

 private:
  Store& store_;
  const Clock& clock_;
};

}  // namespace igb::core
