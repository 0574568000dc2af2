// Telegram refunded a Stars payment (an admin's /refund, or Telegram itself): the ledger follows.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> refunded_payment(Context& c) {
  const auto& p = *c.message()->refunded_payment;
  auto charge = p.telegram_payment_charge_id;
  auto outcome = co_await c.billing().refunded(std::move(charge));
  if (!outcome.ok() || outcome->duplicate || c.user().banned) co_return;
  Args args{{"stars", std::to_string(p.total_amount)}};
  auto sent = co_await c.reply("payments.refunded", args);
  (void)sent;
}

}  // namespace

void register_refunded_payment(Router& r) { r.on(UpdateKind::refunded_payment, refunded_payment, "refunded payment"); }

}  // namespace igb::bot::handlers
