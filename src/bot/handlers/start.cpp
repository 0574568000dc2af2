// /start (with or without a deep-link payload): a greeting with the user's plan; "/start plans"
// (inline mode's subscribe button) adds the plans; "/start ref_<code>" (an /invite link) records the
// code's owner as the inviter of a user this update made, and says what the first picture will earn.
// Any other payload (an unknown or own code, a user who wrote before) is a plain start.
#include "bot/context.hpp"
#include "bot/inline_mode.hpp"
#include "bot/keyboards.hpp"

namespace igb::bot::handlers {
namespace {

std::string period_key(const core::Plan& p) {
  return p.period == core::PeriodKind::daily ? "period.daily" : "period.days30";
}

net::awaitable<void> start(Context& c) {
  bool invited = false;
  if (c.text().starts_with(kReferralStartPrefix)) {
    auto code = c.text().substr(kReferralStartPrefix.size());
    auto joined = co_await c.accounts().join_by_referral(c.user().id, std::move(code), c.first_contact());
    invited = joined == core::ReferralJoin::joined;
  }
  auto q = co_await c.accounts().quota(c.user().id);
  Args args{{"name", c.first_name()},
            {"plan", q.plan.title},
            {"limit", std::to_string(q.limit)},
            {"period", c.t(period_key(q.plan))}};
  auto sent = co_await c.reply("start.text", args);
  (void)sent;
  if (invited) {
    Args bonus{{"bonus", std::to_string(c.accounts().referral_bonus_images())}};
    auto told = co_await c.reply("start.referral_joined", bonus);
    (void)told;
  }
  // "/start plans": the deep link of inline mode's subscribe button.
  if (c.text() == "plans" && !c.deps().plans.paid().empty()) {
    auto text = plans_text(c);
    auto kb = c.plan_buttons();
    auto menu = co_await c.reply_menu(std::move(text), std::move(kb));
    (void)menu;
  }
}

}  // namespace

void register_start(Router& r) { r.command("start", {.menu_key = "commands.start", .menu_rank = 10}, start); }

}  // namespace igb::bot::handlers
