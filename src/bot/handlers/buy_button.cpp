// A plan's buy button: an invoice link for a 30-day Stars subscription.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

telegram::InlineKeyboardMarkup pay_button(const Context& c, const std::string& url, int stars) {
  telegram::InlineKeyboardMarkup kb;
  kb.inline_keyboard.push_back({{.text = c.t("payments.pay_button", {{"stars", std::to_string(stars)}}), .url = url}});
  return kb;
}

net::awaitable<void> buy(Context& c, BuyData data) {
  const auto& d = c.deps();
  const auto* plan = d.plans.find(data.plan_id);
  if (!c.billing().selling() || plan == nullptr || plan->price_stars <= 0) {
    Args none;
    co_await c.answer_callback("payments.unavailable", none, true);
    co_return;
  }
  co_await c.answer_callback();
  auto plan_id = data.plan_id;
  auto link = co_await c.billing().invoice_link(c.user().id, std::move(plan_id));
  if (!link.ok()) {
    auto sent = co_await c.reply("error.internal");
    (void)sent;
    co_return;
  }
  auto text = c.t("payments.invoice", {{"title", plan->title}, {"stars", std::to_string(plan->price_stars)}});
  auto kb = pay_button(c, link.value(), plan->price_stars);
  auto sent = co_await c.reply_menu(std::move(text), std::move(kb));
  (void)sent;
}

}  // namespace

void register_buy_button(Router& r) { r.callback<BuyData>(buy); }

}  // namespace igb::bot::handlers
