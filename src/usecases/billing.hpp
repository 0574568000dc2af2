#pragma once
// Billing use cases, shared by the bot, the HTTP API (POST/DELETE /v1/subscription) and the command
// line (`imggenbot payment refund`): invoices, the pre-checkout check, payments and refunds in the
// ledger, the renewal of a subscription. Ledger work is one transaction on the blocking pool; the
// payment provider is reached through the PaymentGateway port (null: this process sells nothing).
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/notices.hpp"
#include "core/payments.hpp"
#include "core/plans.hpp"
#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"
#include "usecases/payment_gateway.hpp"

namespace igb::usecases {

namespace net = boost::asio;

// The invoice payload secret, decided once at start-up: PAYMENT_PAYLOAD_SECRET when set; otherwise a
// random one (32 bytes from OpenSSL's CSPRNG, hex) that the first process to start stores in the
// settings table and every later or concurrent one reads back, so all instances on one database agree.
// A stored secret stays accepted for checking payloads after an operator sets one (rotation): invoices
// and subscriptions it signed keep working. Never logged; `source` says where the signing one came from.
inline constexpr std::string_view kPayloadSecretKey = "payments.payload_secret";
struct PayloadSecrets {
  enum class Source { configured, stored, generated };
  std::string signing;              // signs new invoices
  std::vector<std::string> older;   // also accepted when checking (the stored one, under a configured one)
  Source source = Source::configured;
};
// Blocking (one transaction): call at start-up, off any I/O thread's hot path.
PayloadSecrets payload_secrets(core::Store& store, std::string_view configured);
// "PAYMENT_PAYLOAD_SECRET", "generated now and stored in the database", … for the start-up log and doctor.
std::string describe(const PayloadSecrets& secrets);

struct BillingDeps {
  core::PaymentService& payments;
  core::NoticeService* notices = nullptr;  // for renewal_failed(); null where no notice is sent
  const core::PlanCatalog& plans;
  core::Store& store;
  runtime::BlockingPool& pool;
  PaymentGateway* gateway = nullptr;
};

class Billing {
 public:
  explicit Billing(BillingDeps deps) : d_(deps) {}

  bool selling() const { return d_.gateway != nullptr && d_.gateway->selling(); }
  const core::PlanCatalog& plans() const { return d_.plans; }

  // A link to pay `plan_id` (invalid_argument with a field error on "plan" unless it is on sale;
  // unavailable when nothing is sold or the provider refused), described in the user's language.
  net::awaitable<core::Result<std::string>> invoice_link(core::UserId user, std::string plan_id);

  enum class Checkout { ok, bad_invoice, not_on_sale, wrong_price, banned };
  // Telegram's pre-checkout question: may `from` pay `amount` `currency` for this payload? The payload
  // must verify and name `from`, the plan be on sale at that price (core::check_price), the user not
  // banned. Answered within Telegram's 10 seconds: one read.
  net::awaitable<Checkout> pre_checkout(core::UserId from, std::string payload, std::string currency,
                                        std::int64_t amount);
  // The user and plan an invoice payload names (nullopt unless it verifies).
  std::optional<InvoiceFor> verify(std::string_view payload) const;

  // A payment arrived: recorded once under its charge id, and the period it bought started.
  net::awaitable<core::Result<core::CreditOutcome>> apply_payment(core::PaymentEvent event);
  // The provider says a payment was refunded: the ledger follows.
  net::awaitable<core::Result<core::RefundOutcome>> refunded(std::string charge_id);
  // An operator refunds a payment: the provider gives the Stars back, then the ledger revokes what it
  // bought. One refunded before is a duplicate, without asking the provider again.
  net::awaitable<core::Result<core::RefundOutcome>> refund(std::string charge_id);

  // The user's Stars period that has not ended, if any.
  net::awaitable<std::optional<core::Subscription>> current_subscription(core::UserId user);
  // Stops (on = false) or resumes the renewal of the user's current Stars subscription: the provider
  // first, then the ledger. The plan stays in force to the end of the period either way. Only a
  // renewal this bot stopped can be resumed here (Telegram's rule): one the user stopped in Telegram,
  // or that failed, is `conflict` without asking the provider.
  net::awaitable<core::Result<core::Subscription>> set_auto_renew(core::UserId user, bool on);
  // The user changed the renewal in Telegram (a subscription update): only the ledger follows.
  net::awaitable<core::Result<core::Subscription>> renewal_changed(core::UserId user, bool on);
  // The provider could not renew: renewal stops in the ledger and the notice due, if any, is returned.
  net::awaitable<std::optional<core::Notice>> renewal_failed(core::UserId user);
  // An operator's gift of `days` of a paid plan.
  net::awaitable<core::Result<core::Subscription>> grant(core::UserId user, std::string plan_id, int days);

 private:
  net::awaitable<core::Result<core::Subscription>> change_ledger(core::UserId user, bool on, core::RenewalStop by);

  BillingDeps d_;
};

}  // namespace igb::usecases
