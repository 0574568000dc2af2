// The billing use cases over a real ledger (SQLite and PostgreSQL) and a scripted payment provider:
// the provider is asked first and the ledger changed only after it agreed; the pre-checkout check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <latch>
#include <optional>
#include <thread>

#include "core/accounts.hpp"
#include "support/async.hpp"
#include "support/store_fixture.hpp"
#include "usecases/billing.hpp"

namespace igb::testing {
namespace {

namespace net = boost::asio;
using usecases::Billing;

// A provider that records what it was asked and answers as scripted. Its payloads are "user:plan".
class ScriptedGateway final : public usecases::PaymentGateway {
 public:
  struct Call {
    std::string method;
    core::UserId user = 0;
    std::string arg;  // the plan, or the charge id
    std::string detail;  // the language, or "on"/"off"
  };
  bool selling_ = true;
  bool refuse_ = false;
  std::vector<Call> calls;

  bool selling() const override { return selling_; }
  net::awaitable<core::Result<std::string>> invoice_link(core::UserId user, core::Plan plan,
                                                         std::string language) override {
    calls.push_back({"invoice_link", user, plan.id, language});
    if (refuse_) co_return refused();
    co_return "https://t.me/$invoice-" + plan.id;
  }
  net::awaitable<core::Status> set_renewal(core::UserId user, std::string charge_id, bool on) override {
    calls.push_back({"set_renewal", user, charge_id, on ? "on" : "off"});
    if (refuse_) co_return refused();
    co_return core::Ok{};
  }
  net::awaitable<core::Status> refund(core::UserId user, std::string charge_id) override {
    calls.push_back({"refund", user, charge_id, ""});
    if (refuse_) co_return refused();
    co_return core::Ok{};
  }
  std::optional<usecases::InvoiceFor> verify(std::string_view payload) const override {
    auto colon = payload.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    return usecases::InvoiceFor{.user = std::stoll(std::string(payload.substr(0, colon))),
                                .plan_id = std::string(payload.substr(colon + 1))};
  }

 private:
  static core::Error refused() { return core::make_error(core::ErrorCode::unavailable, "Telegram did not accept"); }
};

class BillingUseCases : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    billing_ = std::make_unique<Billing>(usecases::BillingDeps{
        .payments = *payments_, .plans = plans_, .store = *store_, .pool = pool_, .gateway = &gateway_});
  }

  // Runs one use case to its end on an io_context of the test's own.
  template <class T>
  T run(net::awaitable<T> op) {
    net::io_context io;
    return run_async(io, std::move(op));
  }

  // A recurring Stars payment for `plan` by `user`; its charge id.
  std::string pay(core::UserId user, const std::string& plan, const std::string& charge) {
    const auto* p = plans_.find(plan);
    auto credited = run(billing_->apply_payment({.charge_id = charge,
                                                 .user_id = user,
                                                 .plan_id = plan,
                                                 .amount = p->price_stars,
                                                 .currency = "XTR",
                                                 .is_recurring = true,
                                                 .at = now()}));
    EXPECT_TRUE(credited.ok());
    EXPECT_TRUE(credited.ok() && credited->subscription);
    return charge;
  }

  const std::string paid_plan_ = core::PlanCatalog::create(core::default_plans()).value().paid().front().id;
  runtime::BlockingPool pool_{2};
  ScriptedGateway gateway_;
  std::unique_ptr<Billing> billing_;
};

TEST_P(BillingUseCases, StoppingRenewalAsksTelegramFirstAndTheLedgerFollowsOnlyIfItAgreed) {
  const auto charge = pay(42, paid_plan_, "ch-1");
  gateway_.refuse_ = true;
  auto refused = run(billing_->set_auto_renew(42, false));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::unavailable);
  ASSERT_EQ(gateway_.calls.size(), 1u);
  EXPECT_EQ(gateway_.calls[0].method, "set_renewal");
  EXPECT_EQ(gateway_.calls[0].arg, charge);
  EXPECT_EQ(gateway_.calls[0].detail, "off");
  EXPECT_TRUE(payments_->current_stars_subscription(42)->auto_renew) << "the ledger changed without Telegram";

  gateway_.refuse_ = false;
  auto stopped = run(billing_->set_auto_renew(42, false));
  ASSERT_TRUE(stopped.ok());
  EXPECT_FALSE(stopped->auto_renew);
  EXPECT_FALSE(payments_->current_stars_subscription(42)->auto_renew);
  // Already off: the ledger says so, Telegram is not asked again.
  auto again = run(billing_->set_auto_renew(42, false));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(gateway_.calls.size(), 2u);

  auto nothing = run(billing_->set_auto_renew(7, false));
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().code, core::ErrorCode::not_found);
  EXPECT_EQ(gateway_.calls.size(), 2u);
}

// Telegram lets a bot re-enable only a subscription the bot cancelled: one the user cancelled in
// Telegram (or whose renewal failed) is not resumed here, and the provider is not asked.
TEST_P(BillingUseCases, OnlyARenewalTheBotStoppedIsResumedHere) {
  pay(42, paid_plan_, "ch-3");
  ASSERT_TRUE(run(billing_->set_auto_renew(42, false)).ok());
  EXPECT_EQ(payments_->current_stars_subscription(42)->renewal_stopped_by, core::RenewalStop::bot);
  auto resumed = run(billing_->set_auto_renew(42, true));
  ASSERT_TRUE(resumed.ok());
  EXPECT_TRUE(resumed->auto_renew);
  EXPECT_EQ(resumed->renewal_stopped_by, core::RenewalStop::none);
  ASSERT_EQ(gateway_.calls.size(), 2u);

  ASSERT_TRUE(run(billing_->renewal_changed(42, false)).ok());  // the user, in Telegram
  EXPECT_EQ(payments_->current_stars_subscription(42)->renewal_stopped_by, core::RenewalStop::user);
  auto refused = run(billing_->set_auto_renew(42, true));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::ErrorCode::conflict);
  EXPECT_EQ(gateway_.calls.size(), 2u) << "Telegram asked to re-enable what the user cancelled";
  EXPECT_FALSE(payments_->current_stars_subscription(42)->auto_renew);

  ASSERT_TRUE(run(billing_->renewal_changed(42, true)).ok());  // the user turned it back on there
  run(billing_->renewal_failed(42));
  EXPECT_EQ(payments_->current_stars_subscription(42)->renewal_stopped_by, core::RenewalStop::failed);
  EXPECT_EQ(run(billing_->set_auto_renew(42, true)).error().code, core::ErrorCode::conflict);
  EXPECT_EQ(gateway_.calls.size(), 2u);
}

TEST_P(BillingUseCases, ARefundGivesTheStarsBackOnceThenRevokes) {
  const auto charge = pay(42, paid_plan_, "ch-2");
  gateway_.refuse_ = true;
  auto refused = run(billing_->refund(charge));
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(payments_->current_stars_subscription(42).has_value()) << "revoked though Telegram refused";

  gateway_.refuse_ = false;
  auto refunded = run(billing_->refund(charge));
  ASSERT_TRUE(refunded.ok());
  EXPECT_FALSE(refunded->duplicate);
  EXPECT_TRUE(refunded->revoked.has_value());
  EXPECT_FALSE(payments_->current_stars_subscription(42).has_value());
  ASSERT_EQ(gateway_.calls.size(), 2u);
  EXPECT_EQ(gateway_.calls[1].method, "refund");
  EXPECT_EQ(gateway_.calls[1].user, 42);

  auto twice = run(billing_->refund(charge));
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(twice->duplicate);
  EXPECT_EQ(gateway_.calls.size(), 2u) << "Telegram asked again for a refunded payment";

  auto unknown = run(billing_->refund("no-such-charge"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, core::ErrorCode::not_found);
  EXPECT_EQ(gateway_.calls.size(), 2u);
}

TEST_P(BillingUseCases, PreCheckoutWantsOurPayloadForThePayerAndTheExactPrice) {
  const auto* plan = plans_.find(paid_plan_);
  const std::string payload = "42:" + paid_plan_;
  EXPECT_EQ(run(billing_->pre_checkout(42, payload, "XTR", plan->price_stars)), Billing::Checkout::ok);
  EXPECT_EQ(run(billing_->pre_checkout(43, payload, "XTR", plan->price_stars)), Billing::Checkout::bad_invoice);
  EXPECT_EQ(run(billing_->pre_checkout(42, "garbage", "XTR", plan->price_stars)), Billing::Checkout::bad_invoice);
  EXPECT_EQ(run(billing_->pre_checkout(42, payload, "XTR", plan->price_stars - 1)), Billing::Checkout::wrong_price);
  EXPECT_EQ(run(billing_->pre_checkout(42, payload, "USD", plan->price_stars)), Billing::Checkout::wrong_price);
  EXPECT_EQ(run(billing_->pre_checkout(42, "42:free", "XTR", 0)), Billing::Checkout::not_on_sale);
  accounts_->ensure_user(42, "someone", "en");
  ASSERT_TRUE(accounts_->set_banned(42, true).ok());
  EXPECT_EQ(run(billing_->pre_checkout(42, payload, "XTR", plan->price_stars)), Billing::Checkout::banned);
}

TEST_P(BillingUseCases, AnInvoiceIsForAPlanOnSaleInTheUsersLanguage) {
  accounts_->ensure_user(42, "someone", "ru");
  auto free = run(billing_->invoice_link(42, "free"));
  ASSERT_FALSE(free.ok());
  EXPECT_EQ(free.error().code, core::ErrorCode::invalid_argument);
  ASSERT_EQ(free.error().field_errors.size(), 1u);
  EXPECT_EQ(free.error().field_errors[0].field, "plan");
  EXPECT_TRUE(gateway_.calls.empty());

  auto link = run(billing_->invoice_link(42, paid_plan_));
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(*link, "https://t.me/$invoice-" + paid_plan_);
  ASSERT_EQ(gateway_.calls.size(), 1u);
  EXPECT_EQ(gateway_.calls[0].user, 42);
  EXPECT_EQ(gateway_.calls[0].arg, paid_plan_);
  EXPECT_EQ(gateway_.calls[0].detail, "ru");

  gateway_.selling_ = false;
  auto closed = run(billing_->invoice_link(42, paid_plan_));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, core::ErrorCode::unavailable);
  EXPECT_EQ(gateway_.calls.size(), 1u);
}

// Without PAYMENT_PAYLOAD_SECRET the first instance makes one and stores it; instances starting at
// once agree on it. An operator's secret set later signs, and the stored one still checks.
TEST_P(BillingUseCases, APayloadSecretIsMadeOnceSharedAndStillAcceptedAfterRotation) {
  auto second_instance = storage::open_store({.database_url = db_->url(), .pool_size = 2});
  std::vector<usecases::PayloadSecrets> got(6);
  std::latch go(6);
  std::vector<std::thread> starts;
  for (int i = 0; i < 6; ++i) {
    starts.emplace_back([&, i] {
      go.arrive_and_wait();
      got[i] = usecases::payload_secrets(i % 2 == 0 ? *store_ : *second_instance, "");
    });
  }
  for (auto& t : starts) t.join();
  const std::string made = got[0].signing;
  EXPECT_THAT(made, ::testing::MatchesRegex("[0-9a-f]{64}"));
  int generated = 0;
  for (const auto& g : got) {
    EXPECT_EQ(g.signing, made);
    EXPECT_TRUE(g.older.empty());
    if (g.source == usecases::PayloadSecrets::Source::generated) ++generated;
  }
  EXPECT_EQ(generated, 1) << "one instance made it, the others read it";
  auto again = usecases::payload_secrets(*store_, "");
  EXPECT_EQ(again.signing, made);
  EXPECT_EQ(again.source, usecases::PayloadSecrets::Source::stored);
  EXPECT_EQ(usecases::describe(again).find(made), std::string::npos);

  const std::string configured = "operator-secret-0123456789";
  auto rotated = usecases::payload_secrets(*store_, configured);
  EXPECT_EQ(rotated.source, usecases::PayloadSecrets::Source::configured);
  EXPECT_EQ(rotated.signing, configured);
  EXPECT_EQ(rotated.older, std::vector<std::string>{made});
  EXPECT_EQ(usecases::describe(rotated).find(made), std::string::npos);
  EXPECT_EQ(usecases::describe(rotated).find(configured), std::string::npos);
  EXPECT_EQ(usecases::payload_secrets(*store_, made).older, std::vector<std::string>{}) << "the same one twice";
}

IGB_ON_BOTH_DATABASES(BillingUseCases);

}  // namespace
}  // namespace igb::testing
