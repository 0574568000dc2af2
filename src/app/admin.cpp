#include "app/admin.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <ostream>

namespace igb::app {
namespace {

std::string iso(core::Timestamp t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

int fail(std::ostream& err, const core::Error& e) {
  err << "error: " << e.public_message << "\n";
  return 1;
}

}  // namespace

int admin_user_show(Services& s, std::int64_t user, std::ostream& out, std::ostream& err) {
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

int admin_user_ban(Services& s, std::int64_t user, bool banned, std::ostream& out, std::ostream& err) {
  auto r = s.accounts->set_banned(user, banned);
  if (!r) return fail(err, r.error());
  fmt::print(out, "user {} {}\n", user, banned ? "banned" : "unbanned");
  return 0;
}

int admin_user_grant(Services& s, std::int64_t user, const std::string& plan, int days, std::ostream& out,
                     std::ostream& err) {
  auto r = s.payments->grant(user, plan, days);
  if (!r) return fail(err, r.error());
  fmt::print(out, "granted {} to user {} from {} until {}\n", plan, user, iso(r->period_start), iso(r->period_end));
  return 0;
}

int admin_apikey_create(Services& s, std::int64_t user, const std::string& name, std::ostream& out,
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

int admin_apikey_revoke(Services& s, std::int64_t user, const std::string& key_id, std::ostream& out,
                        std::ostream& err) {
  auto r = s.accounts->revoke_api_key(user, key_id);
  if (!r) return fail(err, r.error());
  fmt::print(out, "revoked key {}\n", key_id);
  return 0;
}

int admin_apikey_list(Services& s, std::int64_t user, std::ostream& out, std::ostream&) {
  for (const auto& k : s.accounts->api_keys(user)) {
    fmt::print(out, "{} {}… {} created {}{}\n", k.id, k.prefix, k.name.empty() ? "-" : k.name, iso(k.created_at),
               k.revoked_at ? " revoked " + iso(*k.revoked_at) : "");
  }
  return 0;
}

int admin_stats(Services& s, std::ostream& out) {
  auto tx = s.store->begin(core::TxMode::read);
  fmt::print(out, "users {}\n", tx->count_users());
  for (auto st : {core::JobStatus::queued, core::JobStatus::running, core::JobStatus::succeeded,
                  core::JobStatus::failed, core::JobStatus::canceled}) {
    fmt::print(out, "jobs {} {}\n", core::to_string(st), tx->count_jobs(st));
  }
  return 0;
}

}  // namespace igb::app
