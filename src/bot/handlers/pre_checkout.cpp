// Telegram asks before taking the Stars: the invoice must be ours, for this user, at today's price,
// and the user not banned. Telegram waits at most 10 seconds for this answer; everything here is local.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "bot/payload.hpp"

namespace igb::bot::handlers {
namespace {

// Empty if the query may go on; otherwise why not, in `lang`.
std::string problem_of(const BotDeps& d, const telegram::PreCheckoutQuery& q, const std::string& lang) {
  auto payload = verify_payload(q.invoice_payload, d.billing.payload_secret());
  if (!payload || payload->user_id != q.from.id) return d.texts.text(lang, "payments.error_invoice");
  const auto* plan = d.plans.find(payload->plan_id);
  if (plan == nullptr || plan->price_stars <= 0) return d.texts.text(lang, "payments.error_plan");
  if (q.currency != "XTR" || q.total_amount != plan->price_stars) return d.texts.text(lang, "payments.error_price");
  return {};
}

net::awaitable<void> pre_checkout(Context& c) {
  const auto& d = c.deps();
  const auto& q = *c.update().pre_checkout_query;
  auto lang = d.texts.resolve(q.from.language_code);
  auto problem = problem_of(d, q, lang);
  if (problem.empty()) {
    // A banned user cannot use what they would buy: refuse before Telegram takes the Stars.
    auto find = [&] { return d.accounts.get_user(q.from.id); };
    auto user = co_await d.pool.run(find);
    if (user.ok() && user->banned) problem = d.texts.text(lang, "error.banned");
  }
  if (!problem.empty()) spdlog::warn("bot: pre-checkout {} refused: {}", q.id, problem);
  telegram::AnswerPreCheckoutQuery a{.pre_checkout_query_id = q.id, .ok = problem.empty(), .error_message = problem};
  auto r = co_await d.api.answer_pre_checkout_query(std::move(a));
  if (!r.ok()) spdlog::error("bot: answerPreCheckoutQuery failed: {}", r.error().description);
}

}  // namespace

void register_pre_checkout(Router& r) { r.on(UpdateKind::pre_checkout_query, pre_checkout, "pre-checkout"); }

}  // namespace igb::bot::handlers
