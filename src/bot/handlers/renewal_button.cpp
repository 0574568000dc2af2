// The renewal button in /me: stop or resume a Stars subscription's monthly renewal.
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> renewal(Context& c, RenewalData data) {
  auto changed = co_await c.billing().set_auto_renew(c.user().id, data.on);
  std::string text;
  if (changed.ok()) {
    text = c.t(data.on ? "payments.renew_on" : "payments.renew_off", {{"until", format_time(changed->period_end)}});
  } else if (changed.error().code == core::ErrorCode::not_found) {
    text = c.t("button.stale");
  } else if (changed.error().code == core::ErrorCode::conflict) {
    text = c.t("me.resume_in_telegram");  // stopped in Telegram: only the user can resume it there
  } else {
    text = c.t("error.busy");
  }
  co_await c.answer_callback_text(std::move(text), changed.ok());
}

}  // namespace

void register_renewal_button(Router& r) { r.callback<RenewalData>(renewal); }

}  // namespace igb::bot::handlers
