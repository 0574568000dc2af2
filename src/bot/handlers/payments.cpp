// Telegram Stars: plans with buy buttons, invoices (30-day subscriptions), pre-checkout checks,
// crediting payments exactly once (the ledger is keyed by Telegram's charge id), refunds, stopping
// and resuming the monthly renewal (a button in /me, or the user in Telegram: Update.subscription).
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "bot/payload.hpp"

namespace igb::bot {

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
  if (!d_.billing.selling() || plan == nullptr || plan->price_stars <= 0) {
    auto text = t(c, "payments.unavailable");
    co_await answer(q.id, std::move(text), true);
    co_return;
  }
  co_await answer_silently(q.id);
  auto link = co_await d_.billing.invoice_link(c.user.id, plan_id);
  if (!link.ok()) {
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
  auto payload = verify_payload(q.invoice_payload, d_.billing.payload_secret());
  if (!payload || payload->user_id != q.from.id) return d_.texts.text(lang, "payments.error_invoice");
  const auto* plan = d_.plans.find(payload->plan_id);
  if (plan == nullptr || plan->price_stars <= 0) return d_.texts.text(lang, "payments.error_plan");
  if (q.currency != "XTR" || q.total_amount != plan->price_stars) return d_.texts.text(lang, "payments.error_price");
  return {};
}

net::awaitable<void> Bot::on_pre_checkout(const telegram::PreCheckoutQuery& q) {
  auto lang = d_.texts.resolve(q.from.language_code);
  auto problem = pre_checkout_problem(q, lang);
  if (problem.empty()) {
    // A banned user cannot use what they would buy: refuse before Telegram takes the Stars.
    auto find = [&] { return d_.accounts.get_user(q.from.id); };
    auto user = co_await d_.pool.run(find);
    if (user.ok() && user->banned) problem = d_.texts.text(lang, "error.banned");
  }
  if (!problem.empty()) spdlog::warn("bot: pre-checkout {} refused: {}", q.id, problem);
  telegram::AnswerPreCheckoutQuery a{.pre_checkout_query_id = q.id, .ok = problem.empty(), .error_message = problem};
  auto r = co_await d_.api.answer_pre_checkout_query(std::move(a));
  if (!r.ok()) spdlog::error("bot: answerPreCheckoutQuery failed: {}", r.error().description);
}

net::awaitable<void> Bot::on_successful_payment(Ctx& c, const telegram::SuccessfulPayment& p) {
  auto payload = verify_payload(p.invoice_payload, d_.billing.payload_secret());
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
  if (c.user.banned) co_return;  // recorded; a banned user is not written to
  auto sent = co_await send_text(c, std::move(text));
  (void)sent;
}

net::awaitable<void> Bot::on_refunded_payment(Ctx& c, const telegram::RefundedPayment& p) {
  auto refund = [&] { return d_.payments.refund(p.telegram_payment_charge_id); };
  auto outcome = co_await d_.pool.run(refund);
  if (!outcome.ok() || outcome->duplicate || c.user.banned) co_return;
  auto text = t(c, "payments.refunded", {{"stars", std::to_string(p.total_amount)}});
  auto sent = co_await send_text(c, std::move(text));
  (void)sent;
}

std::optional<telegram::InlineKeyboardMarkup> Bot::renewal_button(const Ctx& c, const core::QuotaStatus& q) const {
  const auto& sub = q.subscription;
  if (!sub || sub->source != core::SubscriptionSource::stars || !sub->charge_id) return std::nullopt;
  return sub->auto_renew ? single_button(t(c, "payments.renew_off_button"), "ren:off")
                         : single_button(t(c, "payments.renew_on_button"), "ren:on");
}

net::awaitable<void> Bot::on_renewal_button(Ctx& c, const telegram::CallbackQuery& q, bool on) {
  auto changed = co_await d_.billing.set_auto_renew(c.user.id, on);
  std::string text;
  if (changed.ok()) {
    text = t(c, on ? "payments.renew_on" : "payments.renew_off", {{"until", format_time(changed->period_end)}});
  } else if (changed.error().code == core::ErrorCode::not_found) {
    text = t(c, "button.stale");
  } else {
    text = t(c, "error.busy");
  }
  co_await answer(q.id, std::move(text), changed.ok());
}

// Bot API 10.2: the user canceled or re-enabled the subscription in Telegram, or its renewal failed.
net::awaitable<void> Bot::on_subscription_update(const telegram::SubscriptionUpdate& u) {
  auto payload = verify_payload(u.invoice_payload, d_.billing.payload_secret());
  if (!payload || payload->user_id != u.user.id) {
    spdlog::warn("bot: subscription update for user {} with a payload that does not verify; ignored", u.user.id);
    co_return;
  }
  if (u.state == "canceled" || u.state == "active") {
    // Telegram has already changed the renewal; the ledger follows. The plan stays to the period's end.
    auto change = [&] { return d_.payments.set_auto_renew(u.user.id, u.state == "active"); };
    auto changed = co_await d_.pool.run(change);
    if (!changed.ok()) spdlog::warn("bot: subscription update {} for user {}: {}", u.state, u.user.id, changed.error().public_message);
  } else if (u.state == "failed") {
    auto current = [&] { return d_.payments.current_stars_subscription(u.user.id); };
    auto sub = co_await d_.pool.run(current);
    if (sub && sub->auto_renew) {
      // No renewal is coming: the period ends as paid, and the end-of-period notices apply.
      auto stop = [&] { return d_.payments.set_auto_renew(u.user.id, false); };
      auto stopped = co_await d_.pool.run(stop);
      (void)stopped;
    }
    auto due = [&] { return d_.notices.renewal_failed(u.user.id, sub); };
    auto notice = co_await d_.pool.run(due);
    if (notice) co_await send_notice(*notice);
  } else {
    spdlog::info("bot: subscription update with unknown state '{}' ignored", u.state);
  }
}

}  // namespace igb::bot
