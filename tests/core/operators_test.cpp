// Notices due (each once), operators' figures and broadcasts, on both databases with a manual clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/admin.hpp"
#include "core/notices.hpp"
#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::NoticeKind;

class Operators : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    notices_ = std::make_unique<core::NoticeService>(*store_, clock_, plans_);
    admin_ = std::make_unique<core::AdminService>(*store_, clock_);
  }

  std::vector<std::pair<core::UserId, NoticeKind>> due(core::Timestamp since = {}) {
    std::vector<std::pair<core::UserId, NoticeKind>> out;
    for (const auto& n : notices_->due(since)) out.emplace_back(n.user, n.kind);
    return out;
  }

  // Makes one image for the user, as a worker would.
  void make_image(core::UserId user) {
    accounts_->ensure_user(user, "", "en");
    auto submitted = jobs_->submit(request(user));
    ASSERT_TRUE(submitted.ok()) << submitted.error().public_message << " " << submitted.error().internal_detail;
    auto job = jobs_->claim("w");
    ASSERT_TRUE(job);
    core::Image image{.id = std::string(64, 'a' + static_cast<char>(user % 20)),
                      .mime = "image/png",
                      .size_bytes = 10,
                      .width = 512,
                      .height = 512,
                      .created_at = now()};
    auto done = jobs_->succeed(job->id, "w", image, 1);
    ASSERT_TRUE(done.ok()) << done.error().public_message << " " << done.error().internal_detail;
  }

  std::unique_ptr<core::NoticeService> notices_;
  std::unique_ptr<core::AdminService> admin_;
};

TEST_P(Operators, APeriodThatWillNotRenewIsAnnouncedThreeDaysAndOneDayAheadAndWhenItEnds) {
  ASSERT_TRUE(payments_->grant(7, "basic", 10).ok());
  EXPECT_THAT(due(), ::testing::IsEmpty());
  clock_.advance(std::chrono::days(7) + 1h);  // 2 days 23 h left
  auto first = notices_->due({});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, NoticeKind::ends_in_3_days);
  EXPECT_EQ(first[0].plan_id, "basic");
  EXPECT_TRUE(notices_->mark_sent(first[0]));
  EXPECT_FALSE(notices_->mark_sent(first[0]));  // once
  EXPECT_THAT(due(), ::testing::IsEmpty());
  clock_.advance(std::chrono::days(2));  // 23 h left
  auto second = due();
  ASSERT_THAT(second, ::testing::ElementsAre(std::pair{core::UserId{7}, NoticeKind::ends_in_1_day}));
  EXPECT_TRUE(notices_->mark_sent(notices_->due({}).at(0)));
  clock_.advance(std::chrono::days(1));  // ended an hour ago
  EXPECT_THAT(due(), ::testing::ElementsAre(std::pair{core::UserId{7}, NoticeKind::ended}));
  EXPECT_EQ(quota_->status(7).plan.id, "free");
  EXPECT_TRUE(notices_->mark_sent(notices_->due({}).at(0)));
  EXPECT_THAT(due(), ::testing::IsEmpty());
  clock_.advance(std::chrono::days(3));  // long ended: nothing more
  EXPECT_THAT(due(), ::testing::IsEmpty());
}

TEST_P(Operators, RenewingOrContinuedPeriodsAreNotAnnounced) {
  // Auto-renewing Stars subscription: Telegram renews it.
  ASSERT_TRUE(
      payments_
          ->apply_payment(
              {.charge_id = "c1", .user_id = 8, .plan_id = "basic", .amount = 150, .is_recurring = true, .at = now()})
          .ok());
  // A grant followed by a second grant of the same plan: one continuous plan.
  ASSERT_TRUE(payments_->grant(9, "pro", 5).ok());
  ASSERT_TRUE(payments_->grant(9, "pro", 30).ok());
  clock_.advance(std::chrono::days(4));
  EXPECT_THAT(due(), ::testing::IsEmpty());
  // Auto-renewal stopped: the end is announced.
  ASSERT_TRUE(payments_->set_auto_renew(8, false, core::RenewalStop::bot).ok());
  clock_.advance(std::chrono::days(25) + 1h);  // 23 h left
  EXPECT_THAT(due(), ::testing::ElementsAre(std::pair{core::UserId{8}, NoticeKind::ends_in_1_day}));
}

TEST_P(Operators, QuotaNoticesAt80PercentAndAtTheLimitOncePerPeriod) {
  const auto start = now();
  for (int i = 0; i < 7; ++i) make_image(5);
  EXPECT_THAT(due(start), ::testing::IsEmpty());  // 7 of 10
  make_image(5);
  auto at80 = notices_->due(start);
  ASSERT_EQ(at80.size(), 1u);
  EXPECT_EQ(at80[0].kind, NoticeKind::quota_80);
  EXPECT_EQ(at80[0].used, 8);
  EXPECT_EQ(at80[0].limit, 10);
  EXPECT_TRUE(notices_->mark_sent(at80[0]));
  make_image(5);
  EXPECT_THAT(due(start), ::testing::IsEmpty());  // 9 of 10: 80% was said
  make_image(5);
  EXPECT_THAT(due(start), ::testing::ElementsAre(std::pair{core::UserId{5}, NoticeKind::quota_reached}));
  EXPECT_TRUE(notices_->mark_sent(notices_->due(start).at(0)));
  EXPECT_THAT(due(start), ::testing::IsEmpty());
  // Images of earlier passes are not looked at again.
  EXPECT_THAT(due(now() + 1ms), ::testing::IsEmpty());
  // The next day is a new period: said again when it fills up.
  clock_.advance(std::chrono::days(1));
  const auto next_day = now();
  for (int i = 0; i < 8; ++i) make_image(5);
  EXPECT_THAT(due(next_day), ::testing::ElementsAre(std::pair{core::UserId{5}, NoticeKind::quota_80}));
}

TEST_P(Operators, RenewalFailedIsSaidOncePerPeriod) {
  ASSERT_TRUE(
      payments_
          ->apply_payment(
              {.charge_id = "c1", .user_id = 8, .plan_id = "basic", .amount = 150, .is_recurring = true, .at = now()})
          .ok());
  auto current = payments_->current_stars_subscription(8);
  ASSERT_TRUE(current);
  auto n = notices_->renewal_failed(8, current);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->plan_id, "basic");
  EXPECT_EQ(n->when, current->period_end);
  EXPECT_TRUE(notices_->mark_sent(*n));
  EXPECT_FALSE(notices_->renewal_failed(8, current));
}

TEST_P(Operators, StatsCountWhatHappenedTodayAndThisMonth) {
  clock_.advance(std::chrono::days(14) + 10h);  // 2026-01-15 10:00
  make_image(1);
  make_image(2);
  ASSERT_TRUE(
      payments_
          ->apply_payment(
              {.charge_id = "c1", .user_id = 3, .plan_id = "basic", .amount = 150, .is_recurring = true, .at = now()})
          .ok());
  ASSERT_TRUE(
      payments_
          ->apply_payment(
              {.charge_id = "c2", .user_id = 4, .plan_id = "pro", .amount = 500, .is_recurring = true, .at = now()})
          .ok());
  ASSERT_TRUE(
      payments_
          ->apply_payment(
              {.charge_id = "c3", .user_id = 6, .plan_id = "basic", .amount = 150, .is_recurring = true, .at = now()})
          .ok());
  ASSERT_TRUE(payments_->refund("c3").ok());
  ASSERT_TRUE(accounts_->set_banned(2, true).ok());
  ASSERT_TRUE(jobs_->submit(request(1)).ok());  // queued
  auto s = admin_->stats();
  EXPECT_EQ(s.users, 5);
  EXPECT_EQ(s.reachable_users, 4);
  EXPECT_EQ(s.subscribers_by_plan, (std::vector<std::pair<std::string, std::int64_t>>{{"basic", 1}, {"pro", 1}}));
  EXPECT_EQ(s.images_today, 2);
  EXPECT_EQ(s.stars_this_month, 650);
  EXPECT_EQ(s.queued, 1);
  EXPECT_NE(core::describe(s).find("revenue this month 650 Stars"), std::string::npos) << core::describe(s);
  clock_.advance(std::chrono::days(1));
  EXPECT_EQ(admin_->stats().images_today, 0);
  clock_.advance(std::chrono::days(20));  // February
  EXPECT_EQ(admin_->stats().stars_this_month, 0);
}

TEST_P(Operators, BroadcastsAreCheckedQueuedAndResumable) {
  EXPECT_EQ(admin_->queue_broadcast("  \n", 1).error().code, core::ErrorCode::invalid_argument);
  EXPECT_EQ(admin_->queue_broadcast(std::string(4097, 'x'), 1).error().code, core::ErrorCode::invalid_argument);
  EXPECT_EQ(admin_->queue_broadcast("\xff\xfe", 1).error().code, core::ErrorCode::invalid_argument);
  EXPECT_TRUE(admin_->queue_broadcast(std::string(4096, 'x'), 1).ok());
  auto b = admin_->queue_broadcast("News!", 1);
  ASSERT_TRUE(b.ok());
  for (core::UserId u : {10, 11, 12, 13}) accounts_->ensure_user(u, "", "en");
  ASSERT_TRUE(accounts_->set_blocked_bot(11, true).ok());
  ASSERT_TRUE(accounts_->set_banned(12, true).ok());
  auto tx = write();
  auto first = tx->next_broadcast();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->text.size(), 4096u);  // the oldest first
  first->finished_at = now();
  tx->update_broadcast(*first);
  auto next = tx->next_broadcast();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->text, "News!");
  std::vector<core::UserId> ids;
  for (const auto& u : tx->reachable_users(0, 100)) ids.push_back(u.id);
  EXPECT_EQ(ids, (std::vector<core::UserId>{10, 13}));
  next->cursor = 10;
  next->sent = 1;
  tx->update_broadcast(*next);
  tx->commit();
  auto again = store_->begin(core::TxMode::read)->next_broadcast();
  EXPECT_EQ(again->cursor, 10);
  EXPECT_EQ(again->sent, 1);
  EXPECT_EQ(store_->begin(core::TxMode::read)->reachable_users(again->cursor, 100).size(), 1u);
}

IGB_ON_BOTH_DATABASES(Operators);

}  // namespace
}  // namespace igb::testing
