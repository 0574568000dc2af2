#include "bot/billing.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

#include "bot/payload.hpp"

namespace igb::bot {
namespace {

// Runs `op` on `executor` and gives its result back on the caller's executor.
template <class T>
net::awaitable<T> run_on(net::any_io_executor executor, net::awaitable<T> op) {
  std::optional<T> out;
  auto body = [&]() -> net::awaitable<void> { out.emplace(co_await std::move(op)); };
  auto task = body();
  co_await net::co_spawn(executor, std::move(task), net::use_awaitable);
  co_return std::move(*out);
}

core::Error telegram_refused(const char* method, const telegram::ApiError& e) {
  spdlog::error("billing: {} failed: {} {}", method, telegram::to_string(e.kind), e.description);
  return core::make_error(core::ErrorCode::unavailable, "Telegram did not accept the request; try again later.",
                          std::string(method) + ": " + e.description);
}

}  // namespace

StarsBilling::StarsBilling(net::any_io_executor executor, telegram::BotApi& api, core::Store& store,
                           core::PaymentService& payments, const core::PlanCatalog& plans,
                           runtime::BlockingPool& pool, const Catalogs& texts, std::string payload_secret)
    : executor_(std::move(executor)), api_(api), store_(store), payments_(payments), plans_(plans), pool_(pool),
      texts_(texts), secret_(std::move(payload_secret)) {}

net::awaitable<core::Result<std::string>> StarsBilling::invoice_link(core::UserId user, std::string plan_id) {
  auto op = do_invoice_link(user, std::move(plan_id));
  auto r = co_await run_on(executor_, std::move(op));
  co_return r;
}

net::awaitable<core::Result<core::Subscription>> StarsBilling::set_auto_renew(core::UserId user, bool on) {
  auto op = do_set_auto_renew(user, on);
  auto r = co_await run_on(executor_, std::move(op));
  co_return r;
}

net::awaitable<core::Result<core::RefundOutcome>> StarsBilling::refund(std::string charge_id) {
  auto op = do_refund(std::move(charge_id));
  auto r = co_await run_on(executor_, std::move(op));
  co_return r;
}

net::awaitable<core::Result<std::string>> StarsBilling::do_invoice_link(core::UserId user, std::string plan_id) {
  const auto* plan = plans_.find(plan_id);
  if (plan == nullptr || plan->price_stars <= 0) {
    auto e = core::make_error(core::ErrorCode::invalid_argument, "not a plan on sale");
    e.field_errors.push_back({"plan", "not a plan on sale", "value_error.plan"});
    co_return e;
  }
  if (!selling()) co_return core::make_error(core::ErrorCode::unavailable, "Payments are not set up on this server.");
  auto read_language = [&] {
    auto tx = store_.begin(core::TxMode::read);
    auto u = tx->find_user(user);
    return u ? u->language : std::string();
  };
  auto stored_language = co_await pool_.run(read_language);
  auto lang = texts_.resolve(stored_language);
  telegram::CreateInvoiceLink invoice{
      .title = plan->title,
      .description = texts_.text(lang, "payments.invoice_description", {{"images", std::to_string(plan->images_per_period)}}),
      .payload = sign_payload({.user_id = user, .plan_id = plan->id}, secret_),
      .prices = {{.label = plan->title, .amount = plan->price_stars}},
      .subscription_period = kSubscriptionSeconds};
  auto link = co_await api_.create_invoice_link(std::move(invoice));
  if (!link.ok()) co_return telegram_refused("createInvoiceLink", link.error());
  co_return link.value();
}

net::awaitable<core::Result<core::Subscription>> StarsBilling::do_set_auto_renew(core::UserId user, bool on) {
  auto find = [&] { return payments_.current_stars_subscription(user); };
  auto current = co_await pool_.run(find);
  if (!current || !current->charge_id) {
    co_return core::make_error(core::ErrorCode::not_found, "There is no Stars subscription to change.");
  }
  if (current->auto_renew != on) {
    telegram::EditUserStarSubscription edit{.user_id = user, .telegram_payment_charge_id = *current->charge_id,
                                            .is_canceled = !on};
    auto r = co_await api_.edit_user_star_subscription(std::move(edit));
    if (!r.ok()) co_return telegram_refused("editUserStarSubscription", r.error());
  }
  auto change = [&] { return payments_.set_auto_renew(user, on); };
  auto changed = co_await pool_.run(change);
  co_return changed;
}

net::awaitable<core::Result<core::RefundOutcome>> StarsBilling::do_refund(std::string charge_id) {
  auto find = [&] {
    auto tx = store_.begin(core::TxMode::read);
    return tx->find_payment(charge_id, /*for_update=*/false);
  };
  auto payment = co_await pool_.run(find);
  if (!payment) co_return core::make_error(core::ErrorCode::not_found, "No payment has this charge id.");
  if (!payment->refunded_at) {
    telegram::RefundStarPayment refund{.user_id = payment->user_id, .telegram_payment_charge_id = charge_id};
    auto r = co_await api_.refund_star_payment(std::move(refund));
    // Refunded already (by another operator, or before a crash): the ledger catches up below.
    if (!r.ok() && r.error().description.find("CHARGE_ALREADY_REFUNDED") == std::string::npos) {
      co_return telegram_refused("refundStarPayment", r.error());
    }
  }
  auto apply = [&] { return payments_.refund(charge_id); };
  auto refunded = co_await pool_.run(apply);
  co_return refunded;
}

}  // namespace igb::bot
