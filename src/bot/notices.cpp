// Messages the bot sends on its own: notices (a subscription ends, the quota is nearly or wholly
// used, a renewal failed), each once per user and occasion, and operators' broadcasts, resumable and
// paced under the scheduler's overall limit. Both go through the scheduler; blocked users are skipped.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"

namespace igb::bot {

net::awaitable<void> Bot::run_notices() {
  for (;;) {
    try {
      co_await notice_pass();
    } catch (const std::exception& e) {
      spdlog::error("bot: notices: {}", e.what());
    }
    bool go_on = co_await notice_wake_.wait(o_.notice_poll);
    if (!go_on) co_return;
  }
}

net::awaitable<void> Bot::notice_pass() {
  const auto now = d_.clock.now();
  // After a start, the last day's images are looked at again: what was sent is in the notifications
  // log. The margin covers clocks of several processes that differ a little.
  const auto since = images_since_.value_or(now - std::chrono::hours(24)) - std::chrono::seconds(2);
  auto due = co_await state_.notices_due(since);
  bool all_sent = true;
  for (const auto& n : due) {
    bool sent = co_await send_notice(n);
    all_sent = all_sent && sent;
  }
  // A notice that could not be sent (Telegram down) is found again next time.
  if (all_sent) images_since_ = now;
  if (!o_.admin_ids.empty()) co_await alert_spend();
}

// Today's provider spend reached DAILY_SPEND_LIMIT_USD: the admins hear it once a day. The day is
// claimed in the database before sending (every process with a bot asks), so several instances do
// not each alert; a crash between the claim and the sends loses that day's alert (the log keeps it).
net::awaitable<void> Bot::alert_spend() {
  auto alert = co_await generation_.claim_spend_alert();
  if (!alert) co_return;
  const auto spend = core::format_usd(alert->spend_micros);
  const auto limit = core::format_usd(alert->limit_micros);
  spdlog::warn(
      "bot: today's provider spend {} reached DAILY_SPEND_LIMIT_USD {}: free generations paused until 00:00 "
      "UTC; telling {} admin(s)",
      spend, limit, o_.admin_ids.size());
  for (auto admin : o_.admin_ids) {
    auto known = co_await state_.find_user(admin);
    core::User user;  // an admin who never wrote to the bot: English, and Telegram may refuse the chat
    user.id = admin;
    if (known) user = *known;
    Ctx c{.user = user, .chat_id = admin, .lang = d_.texts.resolve(user.language)};
    auto text = t(c, "admin.spend_alert", {{"spend", spend}, {"limit", limit}});
    auto sent = co_await send_text(c, std::move(text));
    if (!sent) spdlog::warn("bot: the spend alert to admin {} was not sent", admin);
  }
}

net::awaitable<bool> Bot::send_notice(const core::Notice& n) {
  auto user = co_await state_.find_user(n.user);
  if (!user || user->banned || user->blocked_bot) co_return true;  // nobody to tell
  Ctx c{.user = *user, .chat_id = user->id, .lang = d_.texts.resolve(user->language)};
  const auto* plan = d_.plans.find(n.plan_id);
  auto text = t(c, std::string("notices.") + core::to_string(n.kind),
                {{"plan", plan ? plan->title : n.plan_id},
                 {"when", format_time(n.when)},
                 {"used", std::to_string(n.used)},
                 {"limit", std::to_string(n.limit)},
                 {"bonus", std::to_string(n.bonus)}});
  const bool offer_plans = n.kind != core::NoticeKind::quota_80 && n.kind != core::NoticeKind::referral_inviter &&
                           n.kind != core::NoticeKind::referral_invitee;
  std::optional<telegram::Message> sent;
  if (offer_plans) {
    auto kb = plan_buttons(c);
    sent = co_await send_menu(c, std::move(text), std::move(kb));
  } else {
    sent = co_await send_text(c, std::move(text));
  }
  if (!sent) co_return false;
  auto marked = co_await state_.mark_notice_sent(n);
  (void)marked;
  co_return true;
}

net::awaitable<void> Bot::run_broadcasts() {
  for (;;) {
    bool more = false;
    try {
      more = co_await broadcast_step();
    } catch (const std::exception& e) {
      spdlog::error("bot: broadcast: {}", e.what());
    }
    if (more) continue;
    bool go_on = co_await broadcast_wake_.wait(o_.broadcast_poll);
    if (!go_on) co_return;
  }
}

// Sends the oldest unfinished broadcast to the next page of users, saving the cursor after each one,
// so a restart repeats at most the message in flight. True if there may be more to send.
net::awaitable<bool> Bot::broadcast_step() {
  auto page = co_await state_.next_broadcast_page(100);
  if (!page.broadcast) co_return false;
  auto& b = *page.broadcast;
  if (page.users.empty()) {
    b.finished_at = d_.clock.now();
    co_await state_.save_broadcast(b);
    spdlog::info("bot: broadcast #{} finished: {} sent, {} failed", b.id, b.sent, b.failed);
    if (b.created_by != 0) {
      auto admin = co_await accounts_.user(b.created_by);
      if (admin.ok()) {
        Ctx c{.user = *admin, .chat_id = admin->id, .lang = d_.texts.resolve(admin->language)};
        auto text =
            t(c, "admin.broadcast_done",
              {{"id", std::to_string(b.id)}, {"sent", std::to_string(b.sent)}, {"failed", std::to_string(b.failed)}});
        auto sent = co_await send_text(c, std::move(text));
        (void)sent;
      }
    }
    co_return true;
  }
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / std::max(o_.broadcast_per_second, 0.1)));
  auto next_at = std::chrono::steady_clock::now();
  for (const auto& u : page.users) {
    telegram::SendMessage m{.text = b.text};
    auto sent = co_await send(u.id, false, std::move(m));
    ++(sent ? b.sent : b.failed);
    b.cursor = u.id;
    co_await state_.save_broadcast(b);
    next_at += interval;
    const auto now = std::chrono::steady_clock::now();
    if (next_at > now) {
      bool go_on = co_await sleep_for(next_at - now);
      if (!go_on) co_return false;
    }
  }
  co_return true;
}

}  // namespace igb::bot
