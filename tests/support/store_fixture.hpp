#pragma once
// A fixture that runs each test once on SQLite and once on PostgreSQL, with a manual clock and the
// core services wired to a fresh, migrated database.
#include <gtest/gtest.h>

#include "core/accounts.hpp"
#include "core/jobs.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/quota.hpp"
#include "storage/store.hpp"
#include "support/test_db.hpp"

namespace igb::testing {

class StoreTest : public ::testing::TestWithParam<storage::Dialect> {
 protected:
  void SetUp() override {
    if (GetParam() == storage::Dialect::postgres) IGB_REQUIRE_POSTGRES();
    db_ = make_test_database(GetParam());
    store_ = storage::open_store({.database_url = db_->url(), .pool_size = 8});
  }

  core::Store& store() { return *store_; }
  core::Timestamp now() const { return clock_.now(); }
  std::unique_ptr<core::Tx> write() { return store_->begin(core::TxMode::write); }

  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<core::Store> store_;
  core::ManualClock clock_{core::from_unix_ms(1'767'225'600'000)};  // 2026-01-01T00:00:00Z
  core::PlanCatalog plans_ = core::PlanCatalog::create(core::default_plans()).value();
};

// A StoreTest with the services.
class ServiceTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    accounts_ = std::make_unique<core::AccountService>(*store_, clock_);
    quota_ = std::make_unique<core::QuotaService>(*store_, clock_, plans_);
    jobs_ = std::make_unique<core::JobService>(*store_, clock_, plans_, core::JobOptions{});
    payments_ = std::make_unique<core::PaymentService>(*store_, clock_, plans_);
  }

  core::SubmitRequest request(core::UserId user, std::string prompt = "a fox in snow") {
    return core::SubmitRequest{
        .user = user, .params = {.prompt = std::move(prompt), .width = 512, .height = 512}, .source = "test"};
  }

  std::unique_ptr<core::AccountService> accounts_;
  std::unique_ptr<core::QuotaService> quota_;
  std::unique_ptr<core::JobService> jobs_;
  std::unique_ptr<core::PaymentService> payments_;
};

}  // namespace igb::testing

#define IGB_ON_BOTH_DATABASES(Suite)                                                                              \
  INSTANTIATE_TEST_SUITE_P(Db, Suite,                                                                             \
                           ::testing::Values(::igb::storage::Dialect::sqlite, ::igb::storage::Dialect::postgres), \
                           [](const auto& p) { return ::igb::testing::dialect_name(p.param); })
