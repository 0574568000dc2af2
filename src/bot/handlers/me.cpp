// /me: the plan, the images left and when they renew; a Stars subscription's renewal button.
#include "bot/context.hpp"
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

std::optional<telegram::InlineKeyboardMarkup> renewal_button(const Context& c, const core::QuotaStatus& q) {
  const auto& sub = q.subscription;
  if (!sub || sub->source != core::SubscriptionSource::stars || !sub->charge_id) return std::nullopt;
  return sub->auto_renew ? single_button(c.t("payments.renew_off_button"), callback_data(RenewalData{.on = false}))
                         : single_button(c.t("payments.renew_on_button"), callback_data(RenewalData{.on = true}));
}

net::awaitable<void> me(Context& c) {
  auto q = co_await c.accounts().quota(c.user().id);
  std::string renewal;
  if (q.subscription && q.subscription->auto_renew) {
    renewal = c.t("me.renews", {{"when", format_time(q.subscription->period_end)}});
  } else if (q.subscription) {
    renewal = c.t("me.ends", {{"when", format_time(q.subscription->period_end)}});
  } else {
    renewal = c.t("me.resets", {{"when", format_time(q.resets_at)}});
  }
  auto text = c.t("me.text", {{"plan", q.plan.title},
                              {"remaining", std::to_string(q.remaining())},
                              {"limit", std::to_string(q.limit)},
                              {"renewal", renewal}});
  auto kb = renewal_button(c, q);
  if (kb) {
    auto sent = co_await c.reply_menu(std::move(text), std::move(*kb));
    (void)sent;
  } else {
    auto sent = co_await c.reply_text(std::move(text));
    (void)sent;
  }
}

}  // namespace

void register_me(Router& r) { r.command("me", {.menu_key = "commands.me", .menu_rank = 30}, me); }

}  // namespace igb::bot::handlers
