// Referrals end to end (issue 17): /invite shows the link, a new user starts through it, their first
// picture gives both the bonus and both are told; an existing user, oneself and an unknown code get a
// plain start. Against the fake Bot API, on SQLite and PostgreSQL.
#include <regex>

#include "bot_fixture.hpp"

namespace igb::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const FakeTgUser kCid{.id = 1004, .first_name = "Cid", .username = "cid", .language_code = "en"};
const FakeTgUser kDasha{.id = 1005, .first_name = "Даша", .username = "dasha", .language_code = "ru"};

class BotReferrals : public BotDialogue {
 protected:
  std::size_t bot_messages(std::int64_t chat) {
    std::size_t n = 0;
    for (const auto& m : tg_.messages(chat)) n += m.from_bot;
    return n;
  }

  // The user says something; returns the bot's messages that follow, once `answers` arrived.
  std::string say(const FakeTgUser& u, std::string text, std::size_t answers = 1) {
    auto before = bot_messages(u.id);
    tg_.push_message({.from = u, .text = std::move(text)});
    EXPECT_TRUE(wait([&] { return bot_messages(u.id) >= before + answers; })) << "no answer";
    return tg_.last_bot_message(u.id)->text;
  }

  // Ann's /invite: her code, read from the link the bot sent.
  std::string invite_code(const FakeTgUser& u) {
    auto text = say(u, "/invite");
    std::smatch m;
    const std::regex link("https://t\\.me/imggen_test_bot\\?start=ref_([A-Za-z0-9]+)");
    EXPECT_TRUE(std::regex_search(text, m, link)) << text;
    return m.size() > 1 ? m[1].str() : "";
  }

  core::ReferralSummary summary(core::UserId user) { return accounts_->referral_summary(user); }

  void wake_notices() {
    net::post(running_->io, [b = running_->bot()] { b->wake_notices(); });
  }

  std::string without(std::string text, const std::string& code) {
    for (auto pos = text.find(code); pos != std::string::npos; pos = text.find(code, pos)) {
      text.replace(pos, code.size(), "<code>");
    }
    return text;
  }
};

TEST_P(BotReferrals, AFriendStartsThroughTheLinkAndTheFirstPictureRewardsBoth) {
  say(kAnn, "/start");
  const auto code = invite_code(kAnn);
  ASSERT_EQ(code.size(), core::kReferralCodeLength);

  // The friend's first contact is the link: greeted, and told what the first picture earns.
  say(kCid, "/start ref_" + code, 2);
  EXPECT_EQ(summary(kAnn.id).joined, 1);

  tg_.push_message({.from = kCid, .text = "a lighthouse at dusk"});
  ASSERT_TRUE(wait([&] { return only_job(kCid.id).has_value() && count("sendChatAction") >= 1; }));
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  EXPECT_EQ(summary(kAnn.id).bonus_images, 5);
  EXPECT_EQ(summary(kCid.id).bonus_images, 5);

  // Both are told (the notices pass), once.
  const auto ann_before = bot_messages(kAnn.id);
  const auto cid_before = bot_messages(kCid.id);
  wake_notices();
  ASSERT_TRUE(wait([&] { return bot_messages(kAnn.id) == ann_before + 1 && bot_messages(kCid.id) == cid_before + 1; }));
  wake_notices();
  say(kAnn, "/me");
  EXPECT_EQ(bot_messages(kCid.id), cid_before + 1);

  expect_golden_text("referral", without(transcript(kAnn.id) + "---- Cid\n" + transcript(kCid.id), code));
}

TEST_P(BotReferrals, ExistingUsersOneselfAndUnknownCodesGetAPlainStart) {
  const auto code = invite_code(kAnn);
  say(kAnn, "/start ref_" + code);  // one's own link
  say(kBoris, "/start");
  EXPECT_THAT(say(kBoris, "/start ref_" + code), Not(HasSubstr("приглас")));  // wrote before: not new
  say(kCid, "/start ref_nosuchcode");                                           // unknown: a plain start
  say(kDasha, "/start ref_" + std::string(60, 'x'));
  EXPECT_EQ(summary(kAnn.id).joined, 0);
  // The greeting alone each time.
  for (const auto& u : {kAnn, kBoris, kCid, kDasha}) {
    for (const auto& m : tg_.messages(u.id)) {
      EXPECT_THAT(m.text, Not(HasSubstr("invited you"))) << u.first_name;
      EXPECT_THAT(m.text, Not(HasSubstr("Вас пригласил"))) << u.first_name;
    }
  }
}

TEST_P(BotReferrals, InRussian) {
  const auto code = invite_code(kAnn);
  say(kDasha, "/start ref_" + code, 2);
  EXPECT_THAT(tg_.last_bot_message(kDasha.id)->text, HasSubstr("Вас пригласил друг"));
  EXPECT_THAT(say(kDasha, "/invite"), HasSubstr("Приглашайте друзей"));
  EXPECT_THAT(say(kDasha, "/me"), HasSubstr("Бонусные картинки: 0"));
}

IGB_ON_BOTH_DATABASES(BotReferrals);

}  // namespace
}  // namespace igb::testing
