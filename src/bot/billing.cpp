#include "bot/billing.hpp"

namespace igb::bot {

std::function<std::string(const std::string& language, const core::Plan& plan)> invoice_description(
    const Catalogs& texts) {
  return [&texts](const std::string& language, const core::Plan& plan) {
    return texts.text(texts.resolve(language), "payments.invoice_description",
                      {{"images", std::to_string(plan.images_per_period)}});
  };
}

StarsBilling::StarsBilling(net::any_io_executor executor, telegram::BotApi& api, core::Store& store,
                           core::PaymentService& payments, const core::PlanCatalog& plans, runtime::BlockingPool& pool,
                           const Catalogs& texts, usecases::PayloadSecrets secrets, core::NoticeService* notices)
    : gateway_(std::move(executor), api,
               billing::StarsOptions{.payload_secret = std::move(secrets.signing),
                                     .older_secrets = std::move(secrets.older),
                                     .describe = invoice_description(texts)}),
      use_cases_({.payments = payments,
                  .notices = notices,
                  .plans = plans,
                  .store = store,
                  .pool = pool,
                  .gateway = &gateway_}) {}

}  // namespace igb::bot
