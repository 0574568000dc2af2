// The payments ledger: each charge applied once, renewals extend, refunds revoke.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;

class Payments : public ServiceTest {
 protected:
  core::PaymentEvent basic(std::string charge, bool recurring = true) {
    return core::PaymentEvent{.charge_id = std::move(charge),
                              .user_id = 7,
                              .plan_id = "basic",
                              .amount = 150,
                              .currency = "XTR",
                              .is_recurring = recurring,
                              .at = now()};
  }
  std::string plan_of(core::UserId user) { return quota_->status(user).plan.id; }
};

TEST_P(Payments, PaymentActivatesThePlanAtOnce) {
  EXPECT_EQ(plan_of(7), "free");
  auto r = payments_->apply_payment(basic("ch-1"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->duplicate);
  EXPECT_TRUE(r->problem.empty());
  ASSERT_TRUE(r->subscription);
  EXPECT_EQ(r->subscription->period_start, now());
  EXPECT_EQ(r->subscription->period_end, now() + std::chrono::days(30));
  EXPECT_TRUE(r->subscription->auto_renew);
  EXPECT_EQ(r->subscription->charge_id, "ch-1");
  auto st = quota_->status(7);
  EXPECT_EQ(st.plan.id, "basic");
  EXPECT_EQ(st.limit, 300);
  EXPECT_EQ(st.resets_at, now() + std::chrono::days(30));
}

TEST_P(Payments, TheSamePaymentTwiceCreditsOnce) {
  ASSERT_TRUE(payments_->apply_payment(basic("ch-1")).ok());
  auto again = payments_->apply_payment(basic("ch-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  EXPECT_FALSE(again->subscription);
  auto subs = store().begin(core::TxMode::read)->subscriptions_of(7);
  EXPECT_EQ(subs.size(), 1u);
}

TEST_P(Payments, ConcurrentDeliveriesOfOnePaymentCreditOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> credited{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = payments_->apply_payment(basic("ch-race"));
      if (r.ok() && !r->duplicate) ++credited;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(credited.load(), 1);
  EXPECT_EQ(store().begin(core::TxMode::read)->subscriptions_of(7).size(), 1u);
}

// Telegram renews at the price the subscription was bought at: a renewal is credited by the plan
// and price its signed invoice names, whatever the plan costs today (or whether it is still sold).
TEST_P(Payments, APriceChangeBetweenPurchaseAndRenewalStillCreditsTheRenewal) {
  auto first = basic("ch-1");
  first.invoiced_price = 150;
  ASSERT_TRUE(payments_->apply_payment(first)->problem.empty());
  auto changed = core::default_plans();
  for (auto& p : changed) {
    if (p.id == "basic") p.price_stars = 200;
  }
  plans_ = core::PlanCatalog::create(std::move(changed)).value();  // payments_ reads this catalog
  ASSERT_EQ(plans_.find("basic")->price_stars, 200);
  clock_.advance(std::chrono::days(30));
  auto renewal = basic("ch-2");
  renewal.invoiced_price = 150;
  renewal.at = now();
  auto r = payments_->apply_payment(renewal);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->problem.empty()) << r->problem;
  ASSERT_TRUE(r->subscription);
  EXPECT_EQ(r->subscription->plan_id, "basic");
  EXPECT_EQ(plan_of(7), "basic");
  // An amount that is not the invoice's price buys nothing (it is kept for a refund).
  auto short_paid = basic("ch-3");
  short_paid.invoiced_price = 150;
  short_paid.amount = 100;
  auto s = payments_->apply_payment(short_paid);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->subscription);
  EXPECT_NE(s->problem.find("invoice's price of 150"), std::string::npos) << s->problem;
  // A payload from before prices were signed: a renewal at the amount paid before still credits;
  // a first purchase at yesterday's price does not.
  auto legacy = basic("ch-4");
  auto l = payments_->apply_payment(legacy);
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->problem.empty()) << l->problem;
  auto legacy_first = basic("ch-5", /*recurring=*/false);
  legacy_first.user_id = 8;
  auto f = payments_->apply_payment(legacy_first);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->subscription);
}

TEST_P(Payments, RenewalExtendsFromTheEndOfTheCurrentPeriod) {
  ASSERT_TRUE(payments_->apply_payment(basic("ch-1")).ok());
  clock_.advance(std::chrono::days(29));
  auto renewal = basic("ch-2");
  renewal.at = now();
  renewal.subscription_expiration = now() + std::chrono::days(31);
  auto r = payments_->apply_payment(renewal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->subscription->period_start, now() + std::chrono::days(1));
  EXPECT_EQ(r->subscription->period_end, now() + std::chrono::days(31));
  clock_.advance(std::chrono::days(2));  // into the renewed period
  auto st = quota_->status(7);
  EXPECT_EQ(st.plan.id, "basic");
  EXPECT_EQ(st.period_start, r->subscription->period_start);
}

TEST_P(Payments, RefundRevokesWhatThePaymentBought) {
  ASSERT_TRUE(payments_->apply_payment(basic("ch-1")).ok());
  auto r = payments_->refund("ch-1");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->duplicate);
  ASSERT_TRUE(r->revoked);
  EXPECT_EQ(r->revoked->status, core::SubscriptionStatus::refunded);
  EXPECT_EQ(plan_of(7), "free");
  auto again = payments_->refund("ch-1");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate);
  auto payment = store().begin(core::TxMode::read)->find_payment("ch-1", false);
  EXPECT_EQ(payment->refunded_at, now());
  EXPECT_EQ(payments_->refund("unknown").error().code, ErrorCode::not_found);
}

TEST_P(Payments, WrongAmountIsRecordedButBuysNothing) {
  auto e = basic("ch-cheap");
  e.amount = 1;
  auto r = payments_->apply_payment(e);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->problem.empty());
  EXPECT_FALSE(r->subscription);
  EXPECT_EQ(plan_of(7), "free");
  EXPECT_TRUE(store().begin(core::TxMode::read)->find_payment("ch-cheap", false));
  e = basic("ch-usd");
  e.currency = "USD";
  EXPECT_FALSE(payments_->apply_payment(e)->problem.empty());
  e = basic("ch-gold");
  e.plan_id = "gold";
  EXPECT_FALSE(payments_->apply_payment(e)->problem.empty());
  e.charge_id = "";
  EXPECT_EQ(payments_->apply_payment(e).error().code, ErrorCode::invalid_argument);
}

TEST_P(Payments, AdminGrantAndAutoRenewSwitch) {
  auto g = payments_->grant(7, "pro", 3);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->source, core::SubscriptionSource::admin);
  EXPECT_EQ(plan_of(7), "pro");
  clock_.advance(std::chrono::days(3));
  EXPECT_EQ(plan_of(7), "free");
  EXPECT_EQ(payments_->grant(7, "free", 3).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(payments_->grant(7, "pro", 0).error().code, ErrorCode::invalid_argument);

  EXPECT_EQ(payments_->set_auto_renew(7, false, core::RenewalStop::bot).error().code, ErrorCode::not_found);
  ASSERT_TRUE(payments_->apply_payment(basic("ch-1")).ok());
  auto off = payments_->set_auto_renew(7, false, core::RenewalStop::bot);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->auto_renew);
  EXPECT_EQ(off->charge_id, "ch-1");
  EXPECT_EQ(plan_of(7), "basic");  // kept to the end of the period
  clock_.advance(std::chrono::days(30));
  EXPECT_EQ(plan_of(7), "free");
}

TEST_P(Payments, HigherPlanWinsWhilePeriodsOverlap) {
  ASSERT_TRUE(payments_->apply_payment(basic("ch-1")).ok());
  ASSERT_TRUE(payments_->grant(7, "pro", 5).ok());
  EXPECT_EQ(plan_of(7), "pro");
  clock_.advance(std::chrono::days(6));
  EXPECT_EQ(plan_of(7), "basic");
}

IGB_ON_BOTH_DATABASES(Payments);

}  // namespace
}  // namespace igb::testing
