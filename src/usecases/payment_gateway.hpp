#pragma once
// The port the billing use cases need from a payment provider (Telegram Stars today, implemented by
// billing::StarsBilling). It is async, so it lives here and not in src/core, which stays free of
// Asio; its data are the core's. The provider is asked first and the ledger changed after it agreed:
// that order is the use cases' (usecases/billing.hpp), not the provider's.
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/model.hpp"

namespace igb::usecases {

namespace net = boost::asio;

// Who may pay an invoice and for what: what its payload says once the provider's signature holds.
struct InvoiceFor {
  core::UserId user = 0;
  std::string plan_id;
  // The price in Stars the invoice was made for (what Telegram charges, renewals included); nullopt
  // for payloads made before it was part of them.
  std::optional<std::int64_t> price_stars;
};

class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;

  // Whether anything can be sold (without a payload secret an invoice could not be checked).
  virtual bool selling() const = 0;
  // A link to pay a 30-day, monthly renewed subscription to `plan`, which only `user` can pay,
  // described in `language` (the user's stored language; empty: unknown).
  virtual net::awaitable<core::Result<std::string>> invoice_link(core::UserId user, core::Plan plan,
                                                                 std::string language) = 0;
  // Stops (on = false) or resumes the provider's renewal of the subscription `charge_id` paid for.
  virtual net::awaitable<core::Status> set_renewal(core::UserId user, std::string charge_id, bool on) = 0;
  // Gives the payment back; one the provider had refunded already counts as done.
  virtual net::awaitable<core::Status> refund(core::UserId user, std::string charge_id) = 0;
  // The user and plan of an invoice payload; nullopt unless it is one of ours, untouched.
  virtual std::optional<InvoiceFor> verify(std::string_view payload) const = 0;
};

}  // namespace igb::usecases
