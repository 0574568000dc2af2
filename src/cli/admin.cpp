#include "cli/admin.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <ostream>

#include "billing/stars_billing.hpp"
#include "http/client.hpp"
#include "runtime/blocking_pool.hpp"
#include "telegram/bot_api.hpp"
#include "usecases/billing.hpp"

namespace igb::cli {
namespace {

namespace net = boost::asio;

std::string iso(core::Timestamp t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

int fail(std::ostream& err, const core::Error& e) {
  err << "error: " << e.public_message << "\n";
  return 1;
}

}  // namespace

int admin_user_show(app::Services& s, std::int64_t user, std::ostream& out, std::ostream& err) {
  auto u = s.accounts->get_user(user);
  if (!u) return fail(err, u.error());
  auto q = s.quota->status(user);
  fmt::print(out, "user {} @{} language={} banned={} blocked_bot={} since {}\n", u->id, u->username,
             u->language.empty() ? "-" : u->language, u->banned, u->blocked_bot, iso(u->created_at));
  fmt::print(out, "plan {}: {} of {} images used, {} reserved, {} left; resets {}\n", q.plan.id, q.used, q.limit,
             q.reserved, q.remaining(), iso(q.resets_at));
  if (q.subscription) {
    fmt::print(out, "subscription #{} {} until {} auto_renew={}\n", q.subscription->id,
               core::to_string(q.subscription->source), iso(q.subscription->period_end), q.subscription->auto_renew);
  }
  return 0;
}

int admin_user_ban(app::Services& s, std::int64_t user, bool banned, std::ostream& out, std::ostream& err) {
  auto r = s.accounts->set_banned(user, banned);
  if (!r) return fail(err, r.error());
  fmt::print(out, "user {} {}\n", user, banned ? "banned" : "unbanned");
  return 0;
}

int admin_user_grant(app::Services& s, std::int64_t user, const std::string& plan, int days, std::ostream& out,
                     std::ostream& err) {
  auto r = s.payments->grant(user, plan, days);
  if (!r) return fail(err, r.error());
  fmt::print(out, "granted {} to user {} from {} until {}\n", plan, user, iso(r->period_start), iso(r->period_end));
  return 0;
}

int admin_apikey_create(app::Services& s, std::int64_t user, const std::string& name, std::ostream& out,
                        std::ostream& err) {
  if (user <= 0) {
    err << "error: --telegram-id must be a positive Telegram user id\n";
    return 1;
  }
  // An API-first user may not have talked to the bot yet: the account is created here.
  if (!s.accounts->get_user(user)) s.accounts->ensure_user(user, "", "");
  auto r = s.accounts->create_api_key(user, name);
  if (!r) return fail(err, r.error());
  // The secret goes to stdout only: it is shown this once and never logged.
  fmt::print(out, "{}\n", r->secret);
  fmt::print(err, "created key {} for user {}; it is shown once, store it now\n", r->key.id, user);
  return 0;
}

int admin_apikey_revoke(app::Services& s, std::int64_t user, const std::string& key_id, std::ostream& out,
                        std::ostream& err) {
  auto r = s.accounts->revoke_api_key(user, key_id);
  if (!r) return fail(err, r.error());
  fmt::print(out, "revoked key {}\n", key_id);
  return 0;
}

int admin_apikey_list(app::Services& s, std::int64_t user, std::ostream& out, std::ostream&) {
  for (const auto& k : s.accounts->api_keys(user)) {
    fmt::print(out, "{} {}… {} created {}{}\n", k.id, k.prefix, k.name.empty() ? "-" : k.name, iso(k.created_at),
               k.revoked_at ? " revoked " + iso(*k.revoked_at) : "");
  }
  return 0;
}

int admin_stats(app::Services& s, int days, std::ostream& out) {
  out << core::describe(s.admin->stats(days));
  return 0;
}

int admin_broadcast(app::Services& s, const std::string& text, std::ostream& out, std::ostream& err) {
  auto r = s.admin->queue_broadcast(text, 0);
  if (!r) return fail(err, r.error());
  fmt::print(out, "broadcast #{} queued; the running bot sends it to every reachable user\n", r->id);
  return 0;
}

int admin_refund(app::Services& s, const std::string& charge_id, std::ostream& out, std::ostream& err) {
  if (s.config.telegram_bot_token.empty()) {
    err << "error: TELEGRAM_BOT_TOKEN is not set; Telegram must give the Stars back\n";
    return 1;
  }
  net::io_context io;
  runtime::BlockingPool pool(1);
  auto client = http::make_client(io.get_executor(), {.proxy = http::proxy_from_env()});
  auto api = telegram::make_http_bot_api(
      *client, {.base_url = s.config.telegram_api_base, .token = s.config.telegram_bot_token.value()});
  billing::StarsBilling stars(io.get_executor(), *api, {.payload_secret = s.config.payload_secret.value()});
  usecases::Billing sales(
      {.payments = *s.payments, .plans = s.plans, .store = *s.store, .pool = pool, .gateway = &stars});
  std::optional<core::Result<core::RefundOutcome>> outcome;
  auto run = [&]() -> net::awaitable<void> { outcome.emplace(co_await sales.refund(charge_id)); };
  net::co_spawn(io, run(), [](const std::exception_ptr& e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  pool.stop();
  if (!outcome) {  // io.run() returns once the coroutine is done; this is a bug, not a user error
    err << "error: the refund did not finish\n";
    return 1;
  }
  const auto& refunded = *outcome;
  if (!refunded) return fail(err, refunded.error());
  if (refunded->duplicate) {
    fmt::print(out, "payment {} was refunded before; nothing changed\n", charge_id);
  } else {
    fmt::print(out, "payment {} refunded{}\n", charge_id, refunded->revoked ? "; the period it bought is revoked" : "");
  }
  return 0;
}

}  // namespace igb::cli
