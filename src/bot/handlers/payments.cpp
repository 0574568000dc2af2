// Telegram Stars: plans with buy buttons, invoices (30-day subscriptions), pre-checkout checks,
// crediting payments exactly once (the ledger is keyed by Telegram's charge id), refunds.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "bot/payload.hpp"

namespace igb::bot {

inline constexpr int kSubscriptionSeconds = 2592000;  // 30 days: the only period Telegram offers

telegram::InlineKeyboardMarkup Bot::pay_button(const Ctx& c, const std::string& url, int stars) const {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back({{.text = t(c, "payments.pay_button", {{"stars", std::to_string(stars)}}), .url = url}});
  return kb;
}

std::string Bot::plans_text(const Ctx& c) const {
  std::string text = t(c, "payments.plans_title");
  for (const auto& p : d_.plans.paid()) {
    text += "\n" + t(c, "payments.plan_line", {{"title", p.title},
                                               {"images", std::to_string(p.images_per_period)},
                                               {"stars", std::to_string(p.price_stars)}});
  }
  return text;
}

net::awaitable<void> Bot::cmd_plans(Ctx& c) {
  auto text = plans_text(c);
  auto kb = plan_buttons(c);
  auto sent = co_await send_menu(c, std::move(text), std::move(kb));
  (void)sent;
}

net::awaitable<void> Bot::on_buy(Ctx& c, const telegram::CallbackQuery& q, std::string plan_id) {
  const auto* plan = d_.plans.find(plan_id);
  if (d_.payload_secret.empty() || plan == nullptr || plan->price_stars <= 0) {
    auto text = t(c, "payments.unavailable");
    co_await answer(q.id, std::move(text), true);
    co_return;
  }
  co_await answer_silently(q.id);
  telegram::CreateInvoiceLink invoice{
      .title = plan->title,
      .description = t(c, "payments.invoice_description", {{"images", std::to_string(plan->images_per_period)}}),
      .payload = sign_payload({.user_id = c.user.id, .plan_id = plan->id}, d_.payload_secret),
      .prices = {{.label = plan->title, .amount = plan->price_stars}},
      .subscription_period = kSubscriptionSeconds};
  auto link = co_await d_.api.create_invoice_link(std::move(invoice));
  if (!link.ok()) {
    spdlog::error("bot: createInvoiceLink failed: {}", link.error().description);
    auto text = t(c, "error.internal");
    auto sent = co_await send_text(c, std::move(text));
    (void)sent;
    co_return;
  }
  auto text = t(c, "payments.invoice", {{"title", plan->title}, {"stars", std::to_string(plan->price_stars)}});
  auto kb = pay_button(c, link.value(), plan->price_stars);
  auto sent = co_await send_menu(c, std::move(text), std::move(kb));
  (void)sent;
}

// Telegram waits at most 10 seconds for this answer; everything here is local.
std::string Bot::pre_checkout_problem(const telegram::PreCheckoutQuery& q, const std::string& lang) const {
  auto payload = verify_payload(q.invoice_payload, d_.payload_secret);
  if (!payload || payload->user_id != q.from.id) return d_.texts.text(lang, "payments.error_invoice");
  const auto* plan = d_.plans.find(payload->plan_id);
  if (plan == nullptr || plan->price_stars <= 0) return d_.texts.text(lang, "payments.error_plan");
  if (q.currency != "XTR" || q.total_amount != plan->price_stars) return d_.texts.text(lang, "payments.error_price");
  return {};
}

net::awaitable<void> Bot::on_pre_checkout(const telegram::PreCheckoutQuery& q) {
  auto lang = d_.texts.resolve(q.from.language_code);
  auto problem = pre_checkout_problem(q, lang);
  if (!problem.empty()) spdlog::warn("bot: pre-checkout {} refused: {}", q.id, problem);
  telegram::AnswerPreCheckoutQuery a{.pre_checkout_query_id = q.id, .ok = problem.empty(), .error_message = problem};
  auto r = co_await d_.api.answer_pre_checkout_query(std::move(a));
  if (!r.ok()) spdlog::error("bot: answerPreCheckoutQuery failed: {}", r.error().description);
}

net::awaitable<void> Bot::on_successful_payment(Ctx& c, const telegram::SuccessfulPayment& p) {
  auto payload = verify_payload(p.invoice_payload, d_.payload_secret);
  core::PaymentEvent event{.charge_id = p.telegram_payment_charge_id,
                           .provider_charge_id = p.provider_payment_charge_id,
                           .user_id = c.user.id,
                           // A payload that does not verify buys nothing; the payment is kept for a refund.
                           .plan_id = payload && payload->user_id == c.user.id ? payload->plan_id : "",
                           .amount = p.total_amount,
                           .currency = p.currency,
                           .is_recurring = p.is_recurring,
                           .payload = p.invoice_payload,
                           .at = d_.clock.now()};
  if (p.subscription_expiration_date) {
    event.subscription_expiration = core::from_unix_ms(*p.subscription_expiration_date * 1000);
  }
  auto apply = [&] { return d_.payments.apply_payment(event); };
  auto outcome = co_await d_.pool.run(apply);
  std::string text;
  if (!outcome.ok()) {
    spdlog::error("bot: payment {} not applied: {}", p.telegram_payment_charge_id, outcome.error().internal_detail);
    text = t(c, "payments.problem");
  } else if (outcome->duplicate) {
    co_return;  // delivered again by Telegram: credited the first time, said so then
  } else if (!outcome->problem.empty() || !outcome->subscription) {
    spdlog::error("bot: payment {} buys nothing: {}", p.telegram_payment_charge_id, outcome->problem);
    text = t(c, "payments.problem");
  } else {
    const auto& sub = *outcome->subscription;
    const auto* plan = d_.plans.find(sub.plan_id);
    text = t(c, "payments.activated", {{"plan", plan ? plan->title : sub.plan_id},
                                       {"images", plan ? std::to_string(plan->images_per_period) : "?"},
                                       {"until", format_time(sub.period_end)}});
  }
  auto sent = co_await send_text(c, std::move(text));
  (void)sent;
}

net::awaitable<void> Bot::on_refunded_payment(Ctx& c, const telegram::RefundedPayment& p) {
  auto refund = [&] { return d_.payments.refund(p.telegram_payment_charge_id); };
  auto outcome = co_await d_.pool.run(refund);
  if (!outcome.ok() || outcome->duplicate) co_return;
  auto text = t(c, "payments.refunded", {{"stars", std::to_string(p.total_amount)}});
  auto sent = co_await send_text(c, std::move(text));
  (void)sent;
}

}  // namespace igb::bot
