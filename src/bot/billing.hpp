#pragma once
// Selling plans for Telegram Stars, shared by the bot, the HTTP API (POST/DELETE /v1/subscription)
// and the command line (`imggenbot payment refund`): 30-day subscription invoice links with an
// authenticated payload, stopping or resuming Telegram's monthly renewal, refunds. Telegram is asked
// first and the ledger changed after it agreed. Every Bot API call runs on the executor given (the
// Bot API client is not thread-safe), whatever thread the caller is on.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>

#include "bot/i18n.hpp"
#include "core/error.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"
#include "telegram/bot_api.hpp"

namespace igb::bot {

namespace net = boost::asio;

inline constexpr int kSubscriptionSeconds = 2592000;  // 30 days: the only period Telegram offers

class StarsBilling {
 public:
  StarsBilling(net::any_io_executor executor, telegram::BotApi& api, core::Store& store, core::PaymentService& payments,
               const core::PlanCatalog& plans, runtime::BlockingPool& pool, const Catalogs& texts,
               std::string payload_secret);

  // Without PAYMENT_PAYLOAD_SECRET nothing is sold (a payload could not be checked).
  bool selling() const { return !secret_.empty(); }
  const std::string& payload_secret() const { return secret_; }

  // A link to pay a 30-day, monthly renewed subscription to `plan_id` (createInvoiceLink, XTR, one
  // price), described in the user's language. Only `user` can pay it (pre-checkout checks the payload).
  net::awaitable<core::Result<std::string>> invoice_link(core::UserId user, std::string plan_id);
  // Stops (on = false) or resumes Telegram's renewal of the user's current Stars subscription
  // (editUserStarSubscription); the plan stays in force to the end of the period either way.
  net::awaitable<core::Result<core::Subscription>> set_auto_renew(core::UserId user, bool on);
  // Gives the Stars of a payment back (refundStarPayment), then revokes what it bought. A payment
  // refunded before is reported as a duplicate without asking Telegram again.
  net::awaitable<core::Result<core::RefundOutcome>> refund(std::string charge_id);

 private:
  net::awaitable<core::Result<std::string>> do_invoice_link(core::UserId user, std::string plan_id);
  net::awaitable<core::Result<core::Subscription>> do_set_auto_renew(core::UserId user, bool on);
  net::awaitable<core::Result<core::RefundOutcome>> do_refund(std::string charge_id);

  net::any_io_executor executor_;
  telegram::BotApi& api_;
  core::Store& store_;
  core::PaymentService& payments_;
  const core::PlanCatalog& plans_;
  runtime::BlockingPool& pool_;
  const Catalogs& texts_;
  std::string secret_;
};

}  // namespace igb::bot
