#include <gtest/gtest.h>

#include "core/plans.hpp"

namespace igb::core {
namespace {

TEST(PlanCatalog, DefaultsAreValidWithFreeFirst) {
  auto catalog = PlanCatalog::create(default_plans());
  ASSERT_TRUE(catalog.ok()) << catalog.error().public_message;
  EXPECT_EQ(catalog->free().id, "free");
  EXPECT_EQ(catalog->free().images_per_period, 10);
  EXPECT_EQ(catalog->free().period, PeriodKind::daily);
  EXPECT_EQ(catalog->paid().size(), 2u);
  ASSERT_NE(catalog->find("pro"), nullptr);
  EXPECT_GT(catalog->find("pro")->priority, catalog->find("basic")->priority);
  EXPECT_EQ(catalog->find("gold"), nullptr);
}

TEST(PlanCatalog, FreeIsMovedFirst) {
  auto plans = default_plans();
  std::swap(plans[0], plans[2]);
  auto catalog = PlanCatalog::create(plans);
  ASSERT_TRUE(catalog.ok());
  EXPECT_EQ(catalog->all().front().id, "free");
}

TEST(PlanCatalog, RejectsBrokenPlansNamingThem) {
  auto expect_error = [](std::vector<Plan> plans, std::string needle) {
    auto c = PlanCatalog::create(std::move(plans));
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().public_message.find(needle), std::string::npos) << c.error().public_message;
  };
  auto plans = default_plans();
  plans.erase(plans.begin());
  expect_error(plans, "free");
  plans = default_plans();
  plans[1].images_per_period = 0;
  expect_error(plans, "basic");
  plans = default_plans();
  plans[2].price_stars = 0;
  expect_error(plans, "pro");
  plans = default_plans();
  plans.push_back(plans[1]);
  expect_error(plans, "twice");
  plans = default_plans();
  plans[0].price_stars = 5;
  expect_error(plans, "free");
  plans = default_plans();
  plans[1].failed_attempts_per_period = -1;
  expect_error(plans, "plan 'basic': failed_attempts_per_period must not be negative");
}

// Telegram refuses a Stars subscription above 10,000 Stars and an invoice title over 32 characters
// (createInvoiceLink in ../shared/telegram/botapi.json): such a plan is a start-up error, not a failed purchase.
TEST(PlanCatalog, PaidPlansStayWithinTelegramsInvoiceLimits) {
  auto plans = default_plans();
  plans[2].price_stars = 10000;
  plans[2].title = std::string(32, 'P');
  EXPECT_TRUE(PlanCatalog::create(plans).ok());
  plans[1].title = "Безлимит на месяц, 32 символа!!!";  // 32 characters, 58 bytes
  EXPECT_TRUE(PlanCatalog::create(plans).ok());

  auto rejected = [](std::vector<Plan> p) {
    auto c = PlanCatalog::create(std::move(p));
    return c.ok() ? std::string("accepted") : c.error().public_message;
  };
  plans = default_plans();
  plans[2].price_stars = 10001;
  EXPECT_EQ(rejected(plans), "plan 'pro': price_stars is at most 10000 (Telegram's limit for a Stars subscription)");
  plans = default_plans();
  plans[1].title = std::string(33, 'B');
  EXPECT_EQ(rejected(plans), "plan 'basic': title must be 1 to 32 characters (Telegram's limit for an invoice title)");
  plans = default_plans();
  plans[1].title = "";
  EXPECT_NE(rejected(plans).find("title must be 1 to 32"), std::string::npos);
  // The free plan is never invoiced: its title may be longer.
  plans = default_plans();
  plans[0].title = std::string(40, 'F');
  EXPECT_TRUE(PlanCatalog::create(plans).ok());
}

TEST(PlanCatalog, FailedAttemptsDefaultToThePlansImages) {
  auto plans = default_plans();
  EXPECT_EQ(failed_attempts_limit(plans[0]), 10);
  EXPECT_EQ(failed_attempts_limit(plans[2]), 1500);
  plans[0].failed_attempts_per_period = 3;
  EXPECT_EQ(failed_attempts_limit(plans[0]), 3);
  plans[0].failed_attempts_per_period = 0;  // no limit
  EXPECT_EQ(failed_attempts_limit(plans[0]), 0);
  EXPECT_TRUE(PlanCatalog::create(plans).ok());
}

}  // namespace
}  // namespace igb::core

#include "core/dimensions.hpp"

namespace igb::core {
namespace {

TEST(Dimensions, AspectRatiosParseAndStayWithinThePlan) {
  EXPECT_EQ(parse_aspect_ratio("16:9"), (std::pair{16, 9}));
  for (auto bad : {"", "16", "16:", ":9", "0:1", "a:b", "22:1", "5:1", "16:9:1", "-1:1"}) {
    EXPECT_FALSE(parse_aspect_ratio(bad)) << bad;
  }
  for (auto [ratio, max_pixels, max_side] :
       std::vector<std::tuple<std::pair<int, int>, int, int>>{{{1, 1}, 1024 * 1024, 1024},
                                                              {{16, 9}, 1024 * 1024, 1024},
                                                              {{9, 16}, 1440 * 1440, 1440},
                                                              {{4, 1}, 1024 * 1024, 1024},
                                                              {{21, 9}, 2048 * 1024, 2048}}) {
    auto d = dimensions_for(ratio, max_pixels, max_side);
    EXPECT_EQ(d.width % 16, 0);
    EXPECT_EQ(d.height % 16, 0);
    EXPECT_LE(static_cast<long long>(d.width) * d.height, max_pixels);
    EXPECT_LE(d.width, max_side);
    EXPECT_LE(d.height, max_side);
    EXPECT_GE(d.width, 256);
    EXPECT_GE(d.height, 256);
    const double want = static_cast<double>(ratio.first) / ratio.second;
    const double got = static_cast<double>(d.width) / d.height;
    if (ratio.first <= 2 * ratio.second && ratio.second <= 2 * ratio.first) {
      EXPECT_NEAR(got, want, 0.05 * want);
    }
  }
  EXPECT_EQ(dimensions_for({1, 1}, 1024 * 1024, 1024).width, 1024);
  auto wide = dimensions_for({16, 9}, 1024 * 1024, 1024);
  EXPECT_GT(wide.width, wide.height);
}

}  // namespace
}  // namespace igb::core
