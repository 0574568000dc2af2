// Referrals (issue 17): a new user who starts the bot through another user's code is recorded as
// invited; their first image that succeeds gives both the bonus, once, whatever races; bonus images
// are spent after the period's quota and given back when their job fails. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "core/admin.hpp"
#include "core/notices.hpp"
#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using core::ErrorCode;
using core::ReferralJoin;

constexpr core::UserId kInviter = 501;
constexpr core::UserId kFriend = 502;

class Referrals : public ServiceTest {
 protected:
  // The friend arrives: their first contact makes their account.
  core::ReferralJoin friend_starts_with(const std::string& code, core::UserId who = kFriend) {
    bool created = false;
    accounts_->ensure_user(who, "friend", "en", &created);
    return accounts_->join_by_referral(who, code, created);
  }

  // Submits one image for `user` and finishes it (succeed or fail for good); the job.
  core::Job make_image(core::UserId user, bool succeed) {
    auto submitted = jobs_->submit(request(user));
    EXPECT_TRUE(submitted.ok()) << (submitted.ok() ? "" : submitted.error().public_message);
    if (!submitted.ok()) return {};
    auto job = jobs_->claim("w");
    EXPECT_TRUE(job);
    if (!job) return {};
    if (succeed) {
      core::Image image{.id = "img-" + job->id, .mime = "image/png", .size_bytes = 1, .width = 512, .height = 512};
      EXPECT_TRUE(jobs_->succeed(job->id, "w", image).ok());
    } else {
      EXPECT_TRUE(jobs_->fail(job->id, "w", core::FailureCode::unavailable, std::nullopt).ok());
    }
    return *jobs_->get(job->id, user);
  }

  int bonus(core::UserId user) { return accounts_->referral_summary(user).bonus_images; }
};

TEST_P(Referrals, EnsureUserTellsFirstContact) {
  bool created = false;
  accounts_->ensure_user(kFriend, "friend", "en", &created);
  EXPECT_TRUE(created);
  accounts_->ensure_user(kFriend, "friend", "en", &created);
  EXPECT_FALSE(created);
}

TEST_P(Referrals, CodeIsMadeOnceAndLooksLikeACode) {
  accounts_->ensure_user(kInviter, "ann", "en");
  auto code = accounts_->referral_code(kInviter);
  EXPECT_TRUE(core::looks_like_referral_code(code)) << code;
  EXPECT_EQ(accounts_->referral_code(kInviter), code);
  accounts_->ensure_user(kFriend, "bob", "en");
  EXPECT_NE(accounts_->referral_code(kFriend), code);
}

TEST_P(Referrals, FirstSucceededImageGivesBothTheBonusOnceAndFailuresDoNotCount) {
  accounts_->ensure_user(kInviter, "ann", "en");
  const auto code = accounts_->referral_code(kInviter);
  ASSERT_EQ(friend_starts_with(code), ReferralJoin::joined);
  EXPECT_EQ(accounts_->referral_summary(kInviter).joined, 1);
  EXPECT_EQ(accounts_->referral_summary(kInviter).converted, 0);

  make_image(kFriend, /*succeed=*/false);  // a failed generation earns nothing
  EXPECT_EQ(bonus(kInviter), 0);
  EXPECT_EQ(bonus(kFriend), 0);

  clock_.advance(std::chrono::seconds(1));
  make_image(kFriend, /*succeed=*/true);
  EXPECT_EQ(bonus(kInviter), 5);
  EXPECT_EQ(bonus(kFriend), 5);
  EXPECT_EQ(accounts_->referral_summary(kInviter).converted, 1);

  make_image(kFriend, /*succeed=*/true);  // only the first image counts
  make_image(kInviter, /*succeed=*/true);  // and the inviter's own images are not a referral
  EXPECT_EQ(bonus(kInviter), 5);
  EXPECT_EQ(bonus(kFriend), 5);

  core::AdminService admin(*store_, clock_);
  auto stats = admin.stats();
  EXPECT_EQ(stats.referrals_invited, 1);
  EXPECT_EQ(stats.referrals_converted, 1);
  EXPECT_NE(core::describe(stats).find("referrals 1 invited, 1 converted"), std::string::npos);

  // Both are told, once each (the notice log).
  core::NoticeService notices(*store_, clock_, plans_);
  auto due = notices.due(clock_.now() - std::chrono::hours(1));
  std::vector<std::pair<core::UserId, core::NoticeKind>> told;
  for (const auto& n : due) {
    if (n.kind == core::NoticeKind::referral_inviter || n.kind == core::NoticeKind::referral_invitee) {
      told.emplace_back(n.user, n.kind);
      EXPECT_EQ(n.bonus, 5);
      EXPECT_TRUE(notices.mark_sent(n));
    }
  }
  EXPECT_EQ(told, (std::vector<std::pair<core::UserId, core::NoticeKind>>{
                      {kInviter, core::NoticeKind::referral_inviter}, {kFriend, core::NoticeKind::referral_invitee}}));
  for (const auto& n : notices.due(clock_.now() - std::chrono::hours(1))) {
    EXPECT_NE(n.kind, core::NoticeKind::referral_inviter);
    EXPECT_NE(n.kind, core::NoticeKind::referral_invitee);
  }
}

TEST_P(Referrals, NeverForOneselfAnExistingUserOrASecondInviter) {
  accounts_->ensure_user(kInviter, "ann", "en");
  const auto code = accounts_->referral_code(kInviter);
  EXPECT_EQ(accounts_->join_by_referral(kInviter, code, /*first_contact=*/true), ReferralJoin::own_code);

  accounts_->ensure_user(kFriend, "bob", "en");  // wrote to the bot before
  EXPECT_EQ(friend_starts_with(code), ReferralJoin::not_new);

  constexpr core::UserId kThird = 503;
  ASSERT_EQ(friend_starts_with(code, kThird), ReferralJoin::joined);
  accounts_->ensure_user(kFriend, "bob", "en");
  const auto other = accounts_->referral_code(kFriend);
  EXPECT_EQ(accounts_->join_by_referral(kThird, other, /*first_contact=*/true), ReferralJoin::already_invited);

  EXPECT_EQ(friend_starts_with("nosuchcode", 504), ReferralJoin::unknown_code);
  EXPECT_EQ(friend_starts_with("../'; DROP", 505), ReferralJoin::unknown_code);
  EXPECT_EQ(friend_starts_with(std::string(200, 'A'), 506), ReferralJoin::unknown_code);

  make_image(kInviter, true);
  make_image(kFriend, true);
  EXPECT_EQ(bonus(kInviter), 0);
  EXPECT_EQ(bonus(kFriend), 0);
  EXPECT_EQ(accounts_->referral_summary(kInviter).joined, 1);  // the third user only
}

// The period's images first; then bonus images, one per job, given back when the job fails.
TEST_P(Referrals, BonusImagesAreSpentAfterThePeriodQuota) {
  accounts_->ensure_user(kFriend, "bob", "en");
  {
    auto tx = write();
    tx->add_bonus_images(kFriend, 2);
    tx->commit();
  }
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(make_image(kFriend, true).bonus);  // the free plan's 10 a day
  EXPECT_EQ(bonus(kFriend), 2);
  EXPECT_EQ(quota_->status(kFriend).remaining(), 0);

  auto failed = make_image(kFriend, false);
  EXPECT_TRUE(failed.bonus);
  EXPECT_EQ(bonus(kFriend), 2);  // given back

  EXPECT_TRUE(make_image(kFriend, true).bonus);
  EXPECT_EQ(bonus(kFriend), 1);
  // A queued bonus job holds its image: nothing more is left, then cancelling gives it back.
  auto queued = jobs_->submit(request(kFriend));
  ASSERT_TRUE(queued.ok());
  EXPECT_TRUE(queued->jobs[0].bonus);
  EXPECT_EQ(bonus(kFriend), 0);
  ASSERT_TRUE(jobs_->cancel(queued->jobs[0].id, kFriend).ok());
  EXPECT_EQ(bonus(kFriend), 1);
  EXPECT_TRUE(make_image(kFriend, true).bonus);
  EXPECT_EQ(bonus(kFriend), 0);

  auto refused = jobs_->submit(request(kFriend));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::quota_exhausted);
  auto q = quota_->status(kFriend);
  EXPECT_EQ(q.used, 10);  // bonus images are not the period's
  EXPECT_EQ(q.reserved, 0);
}

// Several workers finishing the invited user's first images at once, through two stores (two
// instances on one database): the bonus is given exactly once.
TEST_P(Referrals, ConcurrentFirstImagesGiveTheBonusOnce) {
  auto plans = core::default_plans();
  plans[0].max_concurrent_jobs = 100;
  const auto catalog = core::PlanCatalog::create(std::move(plans)).value();
  auto second = storage::open_store({.database_url = db_->url(), .pool_size = 8});
  core::JobService jobs_a(*store_, clock_, catalog, {});
  core::JobService jobs_b(*second, clock_, catalog, {});

  accounts_->ensure_user(kInviter, "ann", "en");
  ASSERT_EQ(friend_starts_with(accounts_->referral_code(kInviter)), ReferralJoin::joined);
  constexpr int kJobs = 8;
  std::vector<std::string> ids;
  for (int i = 0; i < kJobs; ++i) {
    ASSERT_TRUE(jobs_a.submit(request(kFriend, "picture " + std::to_string(i))).ok());
    auto job = jobs_a.claim("w" + std::to_string(i));
    ASSERT_TRUE(job);
    ids.push_back(job->id);
  }
  std::latch go(kJobs);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kJobs; ++i) {
    threads.emplace_back([&, i] {
      auto& jobs = i % 2 == 0 ? jobs_a : jobs_b;
      core::Image image{.id = "img" + std::to_string(i), .mime = "image/png", .size_bytes = 1, .width = 1, .height = 1};
      go.arrive_and_wait();
      if (jobs.succeed(ids[static_cast<std::size_t>(i)], "w" + std::to_string(i), image).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kJobs);
  EXPECT_EQ(bonus(kInviter), 5);
  EXPECT_EQ(bonus(kFriend), 5);
  EXPECT_EQ(accounts_->referral_summary(kInviter).converted, 1);
}

TEST_P(Referrals, OffWhenTheBonusIsZero) {
  core::JobService jobs(*store_, clock_, plans_, {.referral_bonus_images = 0});
  accounts_->ensure_user(kInviter, "ann", "en");
  ASSERT_EQ(friend_starts_with(accounts_->referral_code(kInviter)), ReferralJoin::joined);
  ASSERT_TRUE(jobs.submit(request(kFriend)).ok());
  auto job = jobs.claim("w");
  ASSERT_TRUE(job);
  ASSERT_TRUE(
      jobs.succeed(job->id, "w", {.id = "x", .mime = "image/png", .size_bytes = 1, .width = 1, .height = 1}).ok());
  EXPECT_EQ(bonus(kInviter), 0);
  EXPECT_EQ(bonus(kFriend), 0);
}

IGB_ON_BOTH_DATABASES(Referrals);

}  // namespace
}  // namespace igb::testing
