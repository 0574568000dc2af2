#include "billing/stars_billing.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

#include "billing/payload.hpp"

namespace igb::billing {
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

StarsBilling::StarsBilling(net::any_io_executor executor, telegram::BotApi& api, StarsOptions options)
    : executor_(std::move(executor)), api_(api), o_(std::move(options)) {}

net::awaitable<core::Result<std::string>> StarsBilling::invoice_link(core::UserId user, core::Plan plan,
                                                                     std::string language) {
  auto op = do_invoice_link(user, std::move(plan), std::move(language));
  auto r = co_await run_on(executor_, std::move(op));
  co_return r;
}

net::awaitable<core::Status> StarsBilling::set_renewal(core::UserId user, std::string charge_id, bool on) {
  auto op = do_set_renewal(user, std::move(charge_id), on);
  auto r = co_await run_on(executor_, std::move(op));
  co_return r;
}

net::awaitable<core::Status> StarsBilling::refund(core::UserId user, std::string charge_id) {
  auto op = do_refund(user, std::move(charge_id));
  auto r = co_await run_on(executor_, std::move(op));
  co_return r;
}

std::optional<usecases::InvoiceFor> StarsBilling::verify(std::string_view payload) const {
  if (!selling()) return std::nullopt;
  auto p = verify_payload(payload, o_.payload_secret);
  if (!p) p = verify_payload(payload, o_.older_secrets);
  if (!p) return std::nullopt;
  return usecases::InvoiceFor{.user = p->user_id, .plan_id = std::move(p->plan_id), .price_stars = p->price_stars};
}

net::awaitable<core::Result<std::string>> StarsBilling::do_invoice_link(core::UserId user, core::Plan plan,
                                                                        std::string language) {
  telegram::CreateInvoiceLink invoice{
      .title = plan.title,
      .description = o_.describe ? o_.describe(language, plan) : plan.title,
      .payload =
          sign_payload({.user_id = user, .plan_id = plan.id, .price_stars = plan.price_stars}, o_.payload_secret),
      .prices = {{.label = plan.title, .amount = plan.price_stars}},
      .subscription_period = kSubscriptionSeconds};
  auto link = co_await api_.create_invoice_link(std::move(invoice));
  if (!link.ok()) co_return telegram_refused("createInvoiceLink", link.error());
  co_return link.value();
}

net::awaitable<core::Status> StarsBilling::do_set_renewal(core::UserId user, std::string charge_id, bool on) {
  telegram::EditUserStarSubscription edit{
      .user_id = user, .telegram_payment_charge_id = std::move(charge_id), .is_canceled = !on};
  auto r = co_await api_.edit_user_star_subscription(std::move(edit));
  if (!r.ok()) co_return telegram_refused("editUserStarSubscription", r.error());
  co_return core::Ok{};
}

net::awaitable<core::Status> StarsBilling::do_refund(core::UserId user, std::string charge_id) {
  telegram::RefundStarPayment refund{.user_id = user, .telegram_payment_charge_id = std::move(charge_id)};
  auto r = co_await api_.refund_star_payment(std::move(refund));
  // Refunded already (by another operator, or before a crash): the ledger catches up.
  if (!r.ok() && r.error().description.find("CHARGE_ALREADY_REFUNDED") == std::string::npos) {
    co_return telegram_refused("refundStarPayment", r.error());
  }
  co_return core::Ok{};
}

}  // namespace igb::billing
