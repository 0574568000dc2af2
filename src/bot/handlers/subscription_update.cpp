// Bot API 10.2: the user canceled or re-enabled the subscription in Telegram, or its renewal failed.
#include <spdlog/spdlog.h>

#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> subscription_update(Context& c) {
  const auto& u = *c.update().subscription;
  auto payload = c.billing().verify(u.invoice_payload);
  if (!payload || payload->user != u.user.id) {
    spdlog::warn("bot: subscription update for user {} with a payload that does not verify; ignored", u.user.id);
    co_return;
  }
  if (u.state == "canceled" || u.state == "active") {
    // Telegram has already changed the renewal; the ledger follows. The plan stays to the period's end.
    auto changed = co_await c.billing().renewal_changed(u.user.id, u.state == "active");
    if (!changed.ok())
      spdlog::warn("bot: subscription update {} for user {}: {}", u.state, u.user.id, changed.error().public_message);
  } else if (u.state == "failed") {
    // No renewal is coming: the period ends as paid, and the end-of-period notices apply.
    auto notice = co_await c.billing().renewal_failed(u.user.id);
    if (notice) co_await c.send_notice(*notice);
  } else {
    spdlog::info("bot: subscription update with unknown state '{}' ignored", u.state);
  }
}

}  // namespace

void register_subscription_update(Router& r) { r.on(UpdateKind::subscription, subscription_update, "subscription"); }

}  // namespace igb::bot::handlers
