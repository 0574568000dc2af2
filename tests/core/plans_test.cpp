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
}

}  // namespace
}  // namespace igb::core
