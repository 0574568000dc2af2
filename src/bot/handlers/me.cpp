// /me: the plan, the images left and when they renew, the bonus images and friends invited; a Stars subscription's renewal button: "stop"
// while it renews, "resume" only if the bot stopped it (Telegram lets a bot re-enable only those); a
// renewal the user stopped in Telegram is resumed there, and /me says how.
#include "bot/context.hpp"
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

std::optional<telegram::InlineKeyboardMarkup> renewal_button(const Context& c, const core::QuotaStatus& q) {
  const auto& sub = q.subscription;
  if (!sub || sub->source != core::SubscriptionSource::stars || !sub->charge_id) return std::nullopt;
  if (sub->auto_renew) {
    return single_button(c.t("payments.renew_off_button"), callback_data(RenewalData{.on = false}));
  }
  if (sub->renewal_stopped_by == core::RenewalStop::bot) {
    return single_button(c.t("payments.renew_on_button"), callback_data(RenewalData{.on = true}));
  }
  return std::nullopt;
}

net::awaitable<void> me(Context& c) {
  auto q = co_await c.accounts().quota(c.user().id);
  std::string renewal;
  if (q.subscription && q.subscription->auto_renew) {
    renewal = c.t("me.renews", {{"when", format_time(q.subscription->period_end)}});
  } else if (q.subscription) {
    renewal = c.t("me.ends", {{"when", format_time(q.subscription->period_end)}});
    const auto stopped_by = q.subscription->renewal_stopped_by;
    if (q.subscription->source == core::SubscriptionSource::stars &&
        (stopped_by == core::RenewalStop::user || stopped_by == core::RenewalStop::none)) {
      renewal += "\n" + c.t("me.resume_in_telegram");
    }
  } else {
    renewal = c.t("me.resets", {{"when", format_time(q.resets_at)}});
  }
  auto text = c.t("me.text", {{"plan", q.plan.title},
                              {"remaining", std::to_string(q.remaining())},
                              {"limit", std::to_string(q.limit)},
                              {"renewal", renewal}});
  // Bonus images (referrals) are spent after the period's images: shown while referrals are on, or
  // while some are left from before they were turned off.
  auto referrals = co_await c.accounts().referral_summary(c.user().id);
  if (c.accounts().referral_bonus_images() > 0 || referrals.bonus_images > 0) {
    text += "\n" + c.t("me.bonus", {{"bonus", std::to_string(referrals.bonus_images)},
                                    {"joined", std::to_string(referrals.joined)}});
  }
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
