// Bot API 10.2: the user canceled or re-enabled the subscription in Telegram, or its renewal failed.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"
#include "bot/payload.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> subscription_update(Context& c) {
  const auto& d = c.deps();
  const auto& u = *c.update().subscription;
  auto payload = verify_payload(u.invoice_payload, d.billing.payload_secret());
  if (!payload || payload->user_id != u.user.id) {
    spdlog::warn("bot: subscription update for user {} with a payload that does not verify; ignored", u.user.id);
    co_return;
  }
  if (u.state == "canceled" || u.state == "active") {
    // Telegram has already changed the renewal; the ledger follows. The plan stays to the period's end.
    auto change = [&] { return d.payments.set_auto_renew(u.user.id, u.state == "active"); };
    auto changed = co_await d.pool.run(change);
    if (!changed.ok()) spdlog::warn("bot: subscription update {} for user {}: {}", u.state, u.user.id, changed.error().public_message);
  } else if (u.state == "failed") {
    auto current = [&] { return d.payments.current_stars_subscription(u.user.id); };
    auto sub = co_await d.pool.run(current);
    if (sub && sub->auto_renew) {
      // No renewal is coming: the period ends as paid, and the end-of-period notices apply.
      auto stop = [&] { return d.payments.set_auto_renew(u.user.id, false); };
      auto stopped = co_await d.pool.run(stop);
      (void)stopped;
    }
    auto due = [&] { return d.notices.renewal_failed(u.user.id, sub); };
    auto notice = co_await d.pool.run(due);
    if (notice) co_await c.send_notice(*notice);
  } else {
    spdlog::info("bot: subscription update with unknown state '{}' ignored", u.state);
  }
}

}  // namespace

void register_subscription_update(Router& r) { r.on(UpdateKind::subscription, subscription_update, "subscription"); }

}  // namespace igb::bot::handlers
