#pragma once
// The payment provider behind usecases::PaymentGateway: Telegram Stars. 30-day subscription invoice
// links with an authenticated payload (billing/payload.hpp), stopping or resuming Telegram's monthly
// renewal, refunds. Every Bot API call runs on the executor given (the Bot API client is not
// thread-safe), whatever thread the caller is on. The ledger is not touched here: usecases::Billing
// asks this first and changes the ledger after it agreed.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

#include "telegram/bot_api.hpp"
#include "usecases/payment_gateway.hpp"

namespace igb::billing {

namespace net = boost::asio;

inline constexpr int kSubscriptionSeconds = 2592000;  // 30 days: the only period Telegram offers

struct StarsOptions {
  // Signs invoice payloads (PAYMENT_PAYLOAD_SECRET, or the one kept in the database: see
  // usecases::payload_secrets); without one nothing is sold (a payload could not be checked).
  std::string payload_secret;
  // Also accepted when checking a payload: the stored secret after an operator set one (rotation).
  std::vector<std::string> older_secrets;
  // The invoice's description of `plan` in the user's stored `language` (the bot's catalogues).
  std::function<std::string(const std::string& language, const core::Plan& plan)> describe;
};

class StarsBilling final : public usecases::PaymentGateway {
 public:
  StarsBilling(net::any_io_executor executor, telegram::BotApi& api, StarsOptions options);

  bool selling() const override { return !o_.payload_secret.empty(); }
  const std::string& payload_secret() const { return o_.payload_secret; }

  // createInvoiceLink: XTR, one price, a 30-day subscription period.
  net::awaitable<core::Result<std::string>> invoice_link(core::UserId user, core::Plan plan,
                                                         std::string language) override;
  // editUserStarSubscription.
  net::awaitable<core::Status> set_renewal(core::UserId user, std::string charge_id, bool on) override;
  // refundStarPayment; CHARGE_ALREADY_REFUNDED counts as done (another operator, or before a crash).
  net::awaitable<core::Status> refund(core::UserId user, std::string charge_id) override;
  std::optional<usecases::InvoiceFor> verify(std::string_view payload) const override;

 private:
  net::awaitable<core::Result<std::string>> do_invoice_link(core::UserId user, core::Plan plan, std::string language);
  net::awaitable<core::Status> do_set_renewal(core::UserId user, std::string charge_id, bool on);
  net::awaitable<core::Status> do_refund(core::UserId user, std::string charge_id);

  net::any_io_executor executor_;
  telegram::BotApi& api_;
  StarsOptions o_;
};

}  // namespace igb::billing
