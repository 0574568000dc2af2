// The operator's margins (issue 17): each new image records its provider, model and cost at the
// configured price, in the transaction that ends the job, with the day's running total per plan;
// stats show images, spend, Stars and margin per day and plan; DAILY_SPEND_LIMIT_USD pauses free
// submissions and claims one admin alert a day. On SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "core/admin.hpp"
#include "core/margins.hpp"
#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using core::PriceUnit;

core::PriceList prices() {
  return core::PriceList({{.provider = "hf-inference", .price = {.micros = 3'000, .unit = PriceUnit::image}},
                          {.provider = "fal-ai", .price = {.micros = 2'500, .unit = PriceUnit::megapixel}}});
}

TEST(PriceList, PerImagePerMegapixelFallbackAndUnknown) {
  auto p = prices();
  EXPECT_EQ(p.cost_micros("hf-inference", 1024, 1024), 3'000);
  // 1024 × 1024 = 1.048576 MP at 0.0025 USD: 2621.44 micros, rounded to the nearest.
  EXPECT_EQ(p.cost_micros("fal-ai", 1024, 1024), 2'621);
  EXPECT_EQ(p.cost_micros("fal-ai", 1000, 1000), 2'500);
  EXPECT_EQ(p.cost_micros("nscale", 512, 512), std::nullopt);
  EXPECT_EQ(p.cost_micros("", 512, 512), std::nullopt);
  core::PriceList with_default({{.provider = "*", .price = {.micros = 10, .unit = PriceUnit::image}},
                                {.provider = "fal-ai", .price = {.micros = 20, .unit = PriceUnit::image}}});
  EXPECT_EQ(with_default.cost_micros("nscale", 512, 512), 10);
  EXPECT_EQ(with_default.cost_micros("fal-ai", 512, 512), 20);  // a named price beats "*" wherever it stands
}

TEST(Money, ParsesAndFormatsUsd) {
  EXPECT_EQ(core::parse_usd_micros("0.003", 1'000'000'000), 3'000);
  EXPECT_EQ(core::parse_usd_micros("12", 1'000'000'000), 12'000'000);
  EXPECT_EQ(core::parse_usd_micros("0.000001", 1'000'000'000), 1);
  EXPECT_EQ(core::parse_usd_micros(".5", 1'000'000'000), 500'000);
  for (const char* bad : {"", ".", "1.", "-1", "+1", "1e3", "0.0000001", "1,5", " 1", "1 ", "abc", "1001"}) {
    EXPECT_EQ(core::parse_usd_micros(bad, 1'000'000'000), std::nullopt) << bad;
  }
  EXPECT_EQ(core::parse_usd_micros("99999999999999999999", 1'000'000'000), std::nullopt);
  EXPECT_EQ(core::format_usd(0), "$0.0000");
  EXPECT_EQ(core::format_usd(2'621), "$0.0026");
  EXPECT_EQ(core::format_usd(1'950'050), "$1.9501");
  EXPECT_EQ(core::format_usd(-13'000), "-$0.0130");
  EXPECT_EQ(core::format_usd(-40), "$0.0000");
  EXPECT_EQ(core::iso_day(core::from_unix_ms(1'767'225'600'000) + 23h), "2026-01-01");
}

class Margins : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    use({});
    for (core::UserId u : {kFree, kOtherFree, kPaid}) accounts_->ensure_user(u, "", "en");
    ASSERT_TRUE(payments_->grant(kPaid, "pro", 30).ok());
  }

  void use(core::JobOptions options) {
    options.prices = prices();
    jobs_ = std::make_unique<core::JobService>(*store_, clock_, plans_, options);
  }

  // Submits one image for `user`, claims it and finishes it as `provider` made it (empty: fails it).
  core::Job make(core::UserId user, const std::string& provider, int side = 512) {
    auto r = request(user);
    r.params.width = r.params.height = side;
    auto submitted = jobs_->submit(r);
    EXPECT_TRUE(submitted.ok()) << (submitted.ok() ? "" : submitted.error().public_message);
    if (!submitted.ok()) return {};
    auto job = jobs_->claim("w");
    EXPECT_TRUE(job);
    if (!job) return {};
    if (provider.empty()) {
      EXPECT_TRUE(jobs_->fail(job->id, "w", core::FailureCode::unavailable, std::nullopt).ok());
    } else {
      core::Image image{.id = "img-" + job->id, .mime = "image/png", .size_bytes = 1, .width = side, .height = side};
      EXPECT_TRUE(jobs_
                      ->succeed(job->id, "w", image, std::nullopt, true,
                                {.provider = provider, .model = "black-forest-labs/FLUX.1-schnell"})
                      .ok());
    }
    return *jobs_->get(job->id, user);
  }

  std::vector<core::MarginRow> spend() {
    auto tx = store_->begin(core::TxMode::read);
    return tx->spend_since(core::Timestamp{});
  }

  static constexpr core::UserId kFree = 701;
  static constexpr core::UserId kOtherFree = 702;
  static constexpr core::UserId kPaid = 703;
};

TEST_P(Margins, SuccessRecordsProviderModelCostAndTheDaysTotalPerPlan) {
  auto fal = make(kFree, "fal-ai", 1024);
  EXPECT_EQ(fal.plan, "free");
  EXPECT_EQ(fal.provider, "fal-ai");
  EXPECT_EQ(fal.served_model, "black-forest-labs/FLUX.1-schnell");
  EXPECT_EQ(fal.cost_micros, 2'621);
  auto hf = make(kPaid, "hf-inference");
  EXPECT_EQ(hf.plan, "pro");
  EXPECT_EQ(hf.cost_micros, 3'000);
  auto unpriced = make(kPaid, "nscale");
  EXPECT_EQ(unpriced.provider, "nscale");
  EXPECT_EQ(unpriced.cost_micros, std::nullopt);
  // A failed call costs nothing here (providers bill the images they deliver).
  auto failed = make(kOtherFree, "");
  EXPECT_EQ(failed.provider, std::nullopt);
  EXPECT_EQ(failed.cost_micros, std::nullopt);

  auto days = spend();
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days[0].plan, "free");
  EXPECT_EQ(days[0].images, 1);
  EXPECT_EQ(days[0].spend_micros, 2'621);
  EXPECT_EQ(days[1].plan, "pro");
  EXPECT_EQ(days[1].images, 2);
  EXPECT_EQ(days[1].spend_micros, 3'000);
  EXPECT_EQ(days[1].unpriced, 1);
  EXPECT_EQ(jobs_->spend_today(), 5'621);
  clock_.advance(24h);
  EXPECT_EQ(jobs_->spend_today(), 0);
}

TEST_P(Margins, AnImageServedFromTheCacheCostsNothing) {
  auto r = request(kPaid);
  r.params.seed = 7;
  ASSERT_TRUE(jobs_->submit(r).ok());
  auto first = jobs_->claim("w");
  ASSERT_TRUE(first);
  core::Image image{.id = "img-a", .mime = "image/png", .size_bytes = 1, .width = 512, .height = 512};
  ASSERT_TRUE(jobs_->succeed(first->id, "w", image, std::nullopt, true, {.provider = "hf-inference"}).ok());
  ASSERT_TRUE(jobs_->submit(r).ok());
  auto repeat = jobs_->claim("w");
  ASSERT_TRUE(repeat);
  ASSERT_TRUE(jobs_->succeed_from_cache(repeat->id, "w", image).ok());
  EXPECT_EQ(jobs_->get(repeat->id, kPaid)->cost_micros, std::nullopt);
  auto days = spend();
  ASSERT_EQ(days.size(), 1u);
  EXPECT_EQ(days[0].images, 1);
  EXPECT_EQ(days[0].spend_micros, 3'000);
}

// DAILY_SPEND_LIMIT_USD: once today's recorded spend reaches it, free submissions are refused until
// 00:00 UTC; paid plans go on; a refusal writes nothing.
TEST_P(Margins, TheDailySpendLimitPausesFreePlansOnly) {
  use({.max_attempts = 1, .daily_spend_limit_micros = 6'000});
  make(kFree, "hf-inference");
  make(kOtherFree, "hf-inference");  // 6000: reached
  clock_.advance(1h);
  auto refused = jobs_->submit(request(kFree));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::spend_paused);
  ASSERT_TRUE(refused.error().retry_after);
  EXPECT_EQ(*refused.error().retry_after, 23h);
  EXPECT_EQ(quota_->status(kFree).reserved, 0);
  EXPECT_TRUE(jobs_->submit(request(kPaid)).ok());  // paid users continue
  clock_.advance(23h);                              // a new UTC day
  EXPECT_TRUE(jobs_->submit(request(kFree)).ok());
}

TEST_P(Margins, BelowTheLimitAndWithoutOneFreeUsersGoOn) {
  use({.daily_spend_limit_micros = 6'001});
  make(kFree, "hf-inference");
  make(kOtherFree, "hf-inference");
  EXPECT_TRUE(jobs_->submit(request(kFree)).ok());
  use({});
  EXPECT_TRUE(jobs_->submit(request(kOtherFree)).ok());
}

// The admins' alert is claimed once a day across services sharing the database (as processes would).
TEST_P(Margins, TheSpendAlertIsClaimedOnceADay) {
  use({.daily_spend_limit_micros = 3'000});
  EXPECT_EQ(jobs_->claim_spend_alert(), std::nullopt);  // nothing spent yet
  make(kPaid, "hf-inference");
  core::JobService other(*store_, clock_, plans_, {.prices = prices(), .daily_spend_limit_micros = 3'000});
  auto alert = jobs_->claim_spend_alert();
  ASSERT_TRUE(alert);
  EXPECT_EQ(alert->spend_micros, 3'000);
  EXPECT_EQ(alert->limit_micros, 3'000);
  EXPECT_EQ(alert->day, clock_.now());
  EXPECT_EQ(other.claim_spend_alert(), std::nullopt);
  EXPECT_EQ(jobs_->claim_spend_alert(), std::nullopt);
  clock_.advance(24h);
  EXPECT_EQ(other.claim_spend_alert(), std::nullopt);  // a new day, nothing spent on it yet
  make(kPaid, "hf-inference");
  EXPECT_TRUE(other.claim_spend_alert());
  EXPECT_EQ(jobs_->claim_spend_alert(), std::nullopt);
}

TEST_P(Margins, StatsShowImagesSpendStarsAndMarginPerDayAndPlan) {
  auto pay = [&](std::string charge, std::string plan, std::int64_t stars, bool refunded) {
    auto tx = store_->begin(core::TxMode::write);
    tx->insert_payment({.charge_id = charge,
                        .user_id = kPaid,
                        .plan_id = plan,
                        .amount = stars,
                        .currency = "XTR",
                        .created_at = clock_.now()});
    if (refunded) tx->mark_payment_refunded(charge, clock_.now());
    tx->commit();
  };
  pay("old", "pro", 999, false);  // outside the window asked for below
  clock_.advance(24h);
  make(kFree, "hf-inference");
  pay("c1", "basic", 150, false);
  clock_.advance(24h);  // day 3 (2026-01-03)
  make(kPaid, "fal-ai", 1024);  // 2621 micros
  make(kPaid, "nscale");
  pay("c2", "pro", 500, false);
  pay("c3", "pro", 500, true);  // refunded: earned nothing

  core::AdminService admin(*store_, clock_, {.usd_micros_per_star = 13'000, .spend_limit_micros = 2'000});
  auto s = admin.stats(2);
  const auto& m = s.margins;
  EXPECT_EQ(m.days, 2);
  EXPECT_EQ(m.spend_today_micros, 2'621);
  ASSERT_EQ(m.rows.size(), 3u);
  EXPECT_EQ(core::iso_day(m.rows[0].day), "2026-01-03");  // newest first
  EXPECT_EQ(m.rows[0].plan, "pro");
  EXPECT_EQ(m.rows[0].images, 2);
  EXPECT_EQ(m.rows[0].spend_micros, 2'621);
  EXPECT_EQ(m.rows[0].unpriced, 1);
  EXPECT_EQ(m.rows[0].stars, 500);
  EXPECT_EQ(core::iso_day(m.rows[1].day), "2026-01-02");
  EXPECT_EQ(m.rows[1].plan, "basic");
  EXPECT_EQ(m.rows[1].images, 0);
  EXPECT_EQ(m.rows[1].stars, 150);
  EXPECT_EQ(m.rows[2].plan, "free");
  EXPECT_EQ(m.rows[2].images, 1);
  EXPECT_EQ(m.rows[2].spend_micros, 3'000);

  const auto text = core::describe(s);
  EXPECT_NE(text.find("margins, last 2 days (UTC; 1 Star = $0.0130):"), std::string::npos) << text;
  EXPECT_NE(text.find("2026-01-03 pro: 2 images, spend $0.0026 (+1 unpriced), 500 Stars = $6.5000, margin $6.4974"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("2026-01-02 free: 1 images, spend $0.0030, 0 Stars = $0.0000, margin -$0.0030"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("total: 3 images, spend $0.0056 (+1 unpriced), 650 Stars = $8.4500, margin $8.4444"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("spend today $0.0026 of $0.0020 (DAILY_SPEND_LIMIT_USD): free generations paused"),
            std::string::npos)
      << text;
  EXPECT_EQ(admin.stats(1).margins.rows.size(), 1u);
  EXPECT_EQ(admin.stats(1000).margins.days, core::kMaxStatsDays);
}

IGB_ON_BOTH_DATABASES(Margins);

}  // namespace
}  // namespace igb::testing
