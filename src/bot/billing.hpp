#pragma once
// The bot's handle on selling plans: the Telegram Stars gateway (billing::StarsBilling) and the
// billing use cases over it (usecases::Billing), built together from the bot's dependencies. The
// rules and the ledger are the use cases'; this only keeps the bot's call sites short until its
// handlers call usecases::Billing themselves.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>

#include "billing/stars_billing.hpp"
#include "bot/i18n.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"
#include "telegram/bot_api.hpp"
#include "usecases/billing.hpp"

namespace igb::bot {

namespace net = boost::asio;

using billing::kSubscriptionSeconds;

// The invoice's description of a plan in the user's language, from the bot's catalogues.
std::function<std::string(const std::string& language, const core::Plan& plan)> invoice_description(
    const Catalogs& texts);

class StarsBilling {
 public:
  StarsBilling(net::any_io_executor executor, telegram::BotApi& api, core::Store& store, core::PaymentService& payments,
               const core::PlanCatalog& plans, runtime::BlockingPool& pool, const Catalogs& texts,
               usecases::PayloadSecrets secrets, core::NoticeService* notices = nullptr);

  bool selling() const { return gateway_.selling(); }

  net::awaitable<core::Result<std::string>> invoice_link(core::UserId user, std::string plan_id) {
    return use_cases_.invoice_link(user, std::move(plan_id));
  }
  net::awaitable<core::Result<core::Subscription>> set_auto_renew(core::UserId user, bool on) {
    return use_cases_.set_auto_renew(user, on);
  }
  net::awaitable<core::Result<core::RefundOutcome>> refund(std::string charge_id) {
    return use_cases_.refund(std::move(charge_id));
  }

  usecases::Billing& use_cases() { return use_cases_; }
  usecases::PaymentGateway& gateway() { return gateway_; }

 private:
  billing::StarsBilling gateway_;
  usecases::Billing use_cases_;
};

}  // namespace igb::bot
