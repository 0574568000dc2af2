// The rules the drivers used to write each on their own: a plan on sale, the price Telegram must
// charge for it, and an aspect ratio fitted to the plan.
#include <gtest/gtest.h>

#include "core/dimensions.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"

namespace igb::core {
namespace {

PlanCatalog catalog() {
  auto plans = default_plans();  // free (0 Stars), basic (150), pro (500)
  auto created = PlanCatalog::create(plans);
  EXPECT_TRUE(created.ok());
  return std::move(created).value();
}

TEST(OnSale, OnlyPlansWithAPriceAreOnSale) {
  auto plans = catalog();
  EXPECT_FALSE(on_sale(plans.free()));
  EXPECT_EQ(plans.find_on_sale("free"), nullptr);
  EXPECT_EQ(plans.find_on_sale("nope"), nullptr);
  for (const auto& p : plans.paid()) {
    EXPECT_TRUE(on_sale(p)) << p.id;
    ASSERT_NE(plans.find_on_sale(p.id), nullptr) << p.id;
    EXPECT_EQ(plans.find_on_sale(p.id)->id, p.id);
  }
  Plan odd = plans.paid().front();
  odd.price_stars = -1;  // refused by PlanCatalog::create, and never on sale
  EXPECT_FALSE(on_sale(odd));
}

TEST(CheckPrice, ThePlansExactPriceInStars) {
  auto plans = catalog();
  const Plan basic = plans.paid().front();  // paid() is a copy
  EXPECT_EQ(check_price(plans, basic.id, "XTR", basic.price_stars), PriceCheck::ok);
  EXPECT_EQ(check_price(plans, basic.id, "XTR", basic.price_stars - 1), PriceCheck::wrong_price);
  EXPECT_EQ(check_price(plans, basic.id, "XTR", basic.price_stars + 1), PriceCheck::wrong_price);
  EXPECT_EQ(check_price(plans, basic.id, "USD", basic.price_stars), PriceCheck::wrong_price);
  EXPECT_EQ(check_price(plans, "free", "XTR", 0), PriceCheck::not_on_sale);
  EXPECT_EQ(check_price(plans, "unknown", "XTR", basic.price_stars), PriceCheck::not_on_sale);
}

TEST(FitToPlan, TheLargestSizeOfTheRatioThePlanAllows) {
  auto plans = catalog();
  for (const auto& plan : plans.all()) {
    for (auto ratio : {std::pair{1, 1}, std::pair{16, 9}, std::pair{9, 16}, std::pair{4, 1}}) {
      auto d = fit_to_plan(ratio, plan);
      auto want = dimensions_for(ratio, plan.max_pixels, plan.max_side);
      EXPECT_EQ(d.width, want.width) << plan.id;
      EXPECT_EQ(d.height, want.height) << plan.id;
      EXPECT_LE(static_cast<long long>(d.width) * d.height, plan.max_pixels) << plan.id;
      EXPECT_LE(std::max(d.width, d.height), plan.max_side) << plan.id;
    }
  }
}

}  // namespace
}  // namespace igb::core
