#include <gtest/gtest.h>

#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using core::ErrorCode;

using Accounts = ServiceTest;

TEST_P(Accounts, ApiKeyIsShownOnceStoredHashedAndAuthenticates) {
  accounts_->ensure_user(10, "alice", "en");
  auto created = accounts_->create_api_key(10, "laptop");
  ASSERT_TRUE(created.ok());
  const auto& secret = created->secret;
  EXPECT_TRUE(secret.starts_with("igb_"));
  EXPECT_GE(secret.size(), 40u);
  EXPECT_EQ(created->key.key_hash, core::AccountService::hash_secret(secret));
  EXPECT_EQ(created->key.key_hash.size(), 64u);
  EXPECT_EQ(created->key.key_hash.find_first_not_of("0123456789abcdef"), std::string::npos);

  auto listed = accounts_->api_keys(10);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_NE(listed[0].key_hash, secret);  // only the hash is kept
  EXPECT_TRUE(secret.starts_with(listed[0].prefix));

  auto user = accounts_->authenticate(secret);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->id, 10);

  EXPECT_EQ(accounts_->authenticate(secret + "x").error().code, ErrorCode::unauthenticated);
  EXPECT_EQ(accounts_->authenticate("").error().code, ErrorCode::unauthenticated);

  EXPECT_EQ(accounts_->revoke_api_key(11, created->key.id).error().code, ErrorCode::not_found);
  ASSERT_TRUE(accounts_->revoke_api_key(10, created->key.id).ok());
  EXPECT_EQ(accounts_->revoke_api_key(10, created->key.id).error().code, ErrorCode::conflict);
  EXPECT_EQ(accounts_->authenticate(secret).error().code, ErrorCode::unauthenticated);
}

TEST_P(Accounts, IssuedKeysHaveTheShapeTheApiChecksBeforeTheDatabase) {
  accounts_->ensure_user(10, "", "");
  for (int i = 0; i < 20; ++i) {
    auto created = accounts_->create_api_key(10, "");
    ASSERT_TRUE(created.ok());
    EXPECT_TRUE(core::AccountService::looks_like_key(created->secret)) << created->secret;
    EXPECT_FALSE(core::AccountService::looks_like_key(created->secret + "x"));
    EXPECT_FALSE(core::AccountService::looks_like_key(created->secret.substr(1)));
  }
  EXPECT_FALSE(core::AccountService::looks_like_key(""));
  EXPECT_FALSE(core::AccountService::looks_like_key("igb_" + std::string(42, 'a') + "="));
  EXPECT_FALSE(core::AccountService::looks_like_key("xyz_" + std::string(43, 'a')));
  EXPECT_TRUE(core::AccountService::looks_like_key("igb_" + std::string(43, 'a')));
}

TEST_P(Accounts, TwoKeysDiffer) {
  accounts_->ensure_user(10, "", "");
  auto a = accounts_->create_api_key(10, "");
  auto b = accounts_->create_api_key(10, "");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->secret, b->secret);
  EXPECT_NE(a->key.id, b->key.id);
}

TEST_P(Accounts, BannedUsersCannotAuthenticateOrGetKeys) {
  accounts_->ensure_user(10, "", "");
  auto key = accounts_->create_api_key(10, "");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE(accounts_->set_banned(10, true).ok());
  EXPECT_EQ(accounts_->authenticate(key->secret).error().code, ErrorCode::forbidden);
  EXPECT_EQ(accounts_->create_api_key(10, "").error().code, ErrorCode::forbidden);
  ASSERT_TRUE(accounts_->set_banned(10, false).ok());
  EXPECT_TRUE(accounts_->authenticate(key->secret).ok());
}

TEST_P(Accounts, UnknownUsersAndBadInput) {
  EXPECT_EQ(accounts_->get_user(99).error().code, ErrorCode::not_found);
  EXPECT_EQ(accounts_->set_banned(99, true).error().code, ErrorCode::not_found);
  EXPECT_EQ(accounts_->create_api_key(99, "").error().code, ErrorCode::not_found);
  accounts_->ensure_user(10, "", "");
  EXPECT_EQ(accounts_->set_language(10, "").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(accounts_->create_api_key(10, std::string(65, 'x')).error().code, ErrorCode::invalid_argument);
  ASSERT_TRUE(accounts_->set_language(10, "ru").ok());
  ASSERT_TRUE(accounts_->set_blocked_bot(10, true).ok());
  auto u = accounts_->get_user(10);
  EXPECT_EQ(u->language, "ru");
  EXPECT_TRUE(u->blocked_bot);
}

IGB_ON_BOTH_DATABASES(Accounts);

}  // namespace
}  // namespace igb::testing
