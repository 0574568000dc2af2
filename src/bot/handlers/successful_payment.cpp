// A Stars payment went through: credited exactly once (the ledger is keyed by Telegram's charge id),
// even for a banned user (Telegram has taken their Stars too; an admin's /refund must find it).
#include <spdlog/spdlog.h>

#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> successful_payment(Context& c) {
  const auto& d = c.deps();
  const auto& p = *c.message()->successful_payment;
  const auto user = c.user().id;
  auto payload = c.billing().verify(p.invoice_payload);
  const bool ours = payload && payload->user == user;
  core::PaymentEvent event{.charge_id = p.telegram_payment_charge_id,
                           .provider_charge_id = p.provider_payment_charge_id,
                           .user_id = user,
                           // A payload that does not verify buys nothing; the payment is kept for a refund.
                           .plan_id = ours ? payload->plan_id : "",
                           .amount = p.total_amount,
                           .currency = p.currency,
                           .is_recurring = p.is_recurring,
                           // Credited at the price the invoice was made for, not today's (a renewal).
                           .invoiced_price = ours ? payload->price_stars : std::nullopt,
                           .payload = p.invoice_payload,
                           .at = d.clock.now()};
  if (p.subscription_expiration_date) {
    event.subscription_expiration = core::from_unix_ms(*p.subscription_expiration_date * 1000);
  }
  auto outcome = co_await c.billing().apply_payment(std::move(event));
  std::string text;
  if (!outcome.ok()) {
    spdlog::error("bot: payment {} not applied: {}", p.telegram_payment_charge_id, outcome.error().internal_detail);
    text = c.t("payments.problem");
  } else if (outcome->duplicate) {
    co_return;  // delivered again by Telegram: credited the first time, said so then
  } else if (!outcome->problem.empty() || !outcome->subscription) {
    spdlog::error("bot: payment {} buys nothing: {}", p.telegram_payment_charge_id, outcome->problem);
    text = c.t("payments.problem");
  } else {
    const auto& sub = *outcome->subscription;
    const auto* plan = d.plans.find(sub.plan_id);
    text = c.t("payments.activated", {{"plan", plan ? plan->title : sub.plan_id},
                                      {"images", plan ? std::to_string(plan->images_per_period) : "?"},
                                      {"until", format_time(sub.period_end)}});
  }
  if (c.user().banned) co_return;  // recorded; a banned user is not written to
  auto sent = co_await c.reply_text(std::move(text));
  (void)sent;
}

}  // namespace

void register_successful_payment(Router& r) {
  r.on(UpdateKind::successful_payment, successful_payment, "successful payment");
}

}  // namespace igb::bot::handlers
