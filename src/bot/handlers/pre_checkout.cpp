// Telegram asks before taking the Stars: the invoice must be ours, for this user, at today's price,
// and the user not banned. Telegram waits at most 10 seconds for this answer; everything here is local.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

// The catalogue key of why the payment may not go on; empty if it may.
std::string_view problem_key(usecases::Billing::Checkout checkout) {
  using Checkout = usecases::Billing::Checkout;
  switch (checkout) {
    case Checkout::ok: return {};
    case Checkout::bad_invoice: return "payments.error_invoice";
    case Checkout::not_on_sale: return "payments.error_plan";
    case Checkout::wrong_price: return "payments.error_price";
    case Checkout::banned: return "error.banned";
  }
  return "payments.error_invoice";
}

net::awaitable<void> pre_checkout(Context& c) {
  const auto& d = c.deps();
  const auto& q = *c.update().pre_checkout_query;
  auto lang = d.texts.resolve(q.from.language_code);
  auto payload = q.invoice_payload;
  auto currency = q.currency;
  auto checkout = co_await c.billing().pre_checkout(q.from.id, std::move(payload), std::move(currency), q.total_amount);
  const auto key = problem_key(checkout);
  std::string problem = key.empty() ? std::string() : d.texts.text(lang, key);
  if (!problem.empty()) spdlog::warn("bot: pre-checkout {} refused: {}", q.id, problem);
  telegram::AnswerPreCheckoutQuery a{.pre_checkout_query_id = q.id, .ok = problem.empty(), .error_message = problem};
  auto r = co_await d.api.answer_pre_checkout_query(std::move(a));
  if (!r.ok()) spdlog::error("bot: answerPreCheckoutQuery failed: {}", r.error().description);
}

}  // namespace

void register_pre_checkout(Router& r) { r.on(UpdateKind::pre_checkout_query, pre_checkout, "pre-checkout"); }

}  // namespace igb::bot::handlers
