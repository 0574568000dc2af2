#include "usecases/billing.hpp"

#include "usecases/in_tx.hpp"
#include "util/crypto.hpp"

namespace igb::usecases {

PayloadSecrets payload_secrets(core::Store& store, std::string_view configured) {
  PayloadSecrets out;
  if (!configured.empty()) {
    auto read = [](core::Tx& tx) { return tx.get_setting(kPayloadSecretKey); };
    auto stored = with_tx(store, core::TxMode::read, read);
    out.signing = std::string(configured);
    if (stored && !stored->empty() && *stored != configured) out.older.push_back(std::move(*stored));
    out.source = PayloadSecrets::Source::configured;
    return out;
  }
  const auto candidate = util::random_hex(32);
  auto ensure = [&candidate](core::Tx& tx) { return tx.insert_setting_if_absent(kPayloadSecretKey, candidate); };
  out.signing = with_tx(store, core::TxMode::write, ensure);
  out.source = out.signing == candidate ? PayloadSecrets::Source::generated : PayloadSecrets::Source::stored;
  return out;
}

std::string describe(const PayloadSecrets& secrets) {
  switch (secrets.source) {
    case PayloadSecrets::Source::configured:
      return secrets.older.empty()
                 ? "PAYMENT_PAYLOAD_SECRET"
                 : "PAYMENT_PAYLOAD_SECRET (the one stored in the database still checks older invoices)";
    case PayloadSecrets::Source::stored: return "the one stored in the database (PAYMENT_PAYLOAD_SECRET is not set)";
    case PayloadSecrets::Source::generated:
      return "generated now and stored in the database (PAYMENT_PAYLOAD_SECRET is not set)";
  }
  return "unknown";
}

net::awaitable<core::Result<std::string>> Billing::invoice_link(core::UserId user, std::string plan_id) {
  const auto* plan = d_.plans.find_on_sale(plan_id);
  if (plan == nullptr) {
    auto e = core::make_error(core::ErrorCode::invalid_argument, "not a plan on sale");
    e.field_errors.push_back({"plan", "not a plan on sale", "value_error.plan"});
    co_return e;
  }
  if (!selling()) co_return core::make_error(core::ErrorCode::unavailable, "Payments are not set up on this server.");
  auto read_language = [&](core::Tx& tx) {
    auto u = tx.find_user(user);
    return u ? u->language : std::string();
  };
  auto language = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read_language);
  auto link = co_await d_.gateway->invoice_link(user, *plan, std::move(language));
  co_return link;
}

std::optional<InvoiceFor> Billing::verify(std::string_view payload) const {
  if (d_.gateway == nullptr) return std::nullopt;
  return d_.gateway->verify(payload);
}

net::awaitable<Billing::Checkout> Billing::pre_checkout(core::UserId from, std::string payload, std::string currency,
                                                        std::int64_t amount) {
  auto invoice = verify(payload);
  if (!invoice || invoice->user != from) co_return Checkout::bad_invoice;
  switch (core::check_price(d_.plans, invoice->plan_id, currency, amount)) {
    case core::PriceCheck::not_on_sale: co_return Checkout::not_on_sale;
    case core::PriceCheck::wrong_price: co_return Checkout::wrong_price;
    case core::PriceCheck::ok: break;
  }
  // A banned user cannot use what they would buy: refused before Telegram takes the Stars.
  auto find = [&](core::Tx& tx) { return tx.find_user(from); };
  auto user = co_await in_tx(d_.pool, d_.store, core::TxMode::read, find);
  if (user && user->banned) co_return Checkout::banned;
  co_return Checkout::ok;
}

net::awaitable<core::Result<core::CreditOutcome>> Billing::apply_payment(core::PaymentEvent event) {
  auto apply = [&] { return d_.payments.apply_payment(event); };
  auto outcome = co_await d_.pool.run(apply);
  co_return outcome;
}

net::awaitable<core::Result<core::RefundOutcome>> Billing::refunded(std::string charge_id) {
  auto refund = [&] { return d_.payments.refund(charge_id); };
  auto outcome = co_await d_.pool.run(refund);
  co_return outcome;
}

net::awaitable<core::Result<core::RefundOutcome>> Billing::refund(std::string charge_id) {
  auto find = [&](core::Tx& tx) { return tx.find_payment(charge_id, /*for_update=*/false); };
  auto payment = co_await in_tx(d_.pool, d_.store, core::TxMode::read, find);
  if (!payment) co_return core::make_error(core::ErrorCode::not_found, "No payment has this charge id.");
  if (!payment->refunded_at) {
    if (d_.gateway == nullptr) {
      co_return core::make_error(core::ErrorCode::unavailable, "Payments are not set up on this server.");
    }
    auto given_back = co_await d_.gateway->refund(payment->user_id, charge_id);
    if (!given_back.ok()) co_return std::move(given_back).error();
  }
  auto outcome = co_await refunded(std::move(charge_id));
  co_return outcome;
}

net::awaitable<std::optional<core::Subscription>> Billing::current_subscription(core::UserId user) {
  auto find = [&] { return d_.payments.current_stars_subscription(user); };
  auto current = co_await d_.pool.run(find);
  co_return current;
}

net::awaitable<core::Result<core::Subscription>> Billing::set_auto_renew(core::UserId user, bool on) {
  auto current = co_await current_subscription(user);
  if (!current || !current->charge_id) {
    co_return core::make_error(core::ErrorCode::not_found, "There is no Stars subscription to change.");
  }
  if (on && !current->auto_renew && current->renewal_stopped_by != core::RenewalStop::bot) {
    co_return core::make_error(core::ErrorCode::conflict, "Renewal was stopped in Telegram; it is resumed there.");
  }
  // Already so: nothing to ask, and who stopped it stays recorded.
  if (current->auto_renew == on) co_return std::move(*current);
  if (d_.gateway == nullptr) {
    co_return core::make_error(core::ErrorCode::unavailable, "Payments are not set up on this server.");
  }
  auto edited = co_await d_.gateway->set_renewal(user, *current->charge_id, on);
  if (!edited.ok()) co_return std::move(edited).error();
  auto changed = co_await change_ledger(user, on, core::RenewalStop::bot);
  co_return changed;
}

net::awaitable<core::Result<core::Subscription>> Billing::renewal_changed(core::UserId user, bool on) {
  auto changed = co_await change_ledger(user, on, core::RenewalStop::user);
  co_return changed;
}

net::awaitable<core::Result<core::Subscription>> Billing::change_ledger(core::UserId user, bool on,
                                                                        core::RenewalStop by) {
  auto change = [&] { return d_.payments.set_auto_renew(user, on, by); };
  auto changed = co_await d_.pool.run(change);
  co_return changed;
}

net::awaitable<std::optional<core::Notice>> Billing::renewal_failed(core::UserId user) {
  auto sub = co_await current_subscription(user);
  if (sub && sub->auto_renew) {
    // No renewal is coming: the period ends as paid, and the end-of-period notices apply.
    auto stopped = co_await change_ledger(user, false, core::RenewalStop::failed);
    (void)stopped;
  }
  if (d_.notices == nullptr) co_return std::nullopt;
  auto due = [&] { return d_.notices->renewal_failed(user, sub); };
  auto notice = co_await d_.pool.run(due);
  co_return notice;
}

net::awaitable<core::Result<core::Subscription>> Billing::grant(core::UserId user, std::string plan_id, int days) {
  auto grant = [&] { return d_.payments.grant(user, plan_id, days); };
  auto granted = co_await d_.pool.run(grant);
  co_return granted;
}

}  // namespace igb::usecases
