#pragma once
#include <cstdint>
#include <iosfwd>
#include <string>

#include "app/wiring.hpp"

namespace igb::cli {

// Operator commands. Each prints its result to `out` and returns the exit code; expected failures
// (unknown user, bad plan) print a one-line reason to `err` and return 1.
int admin_user_show(app::Services& s, std::int64_t user, std::ostream& out, std::ostream& err);
int admin_user_ban(app::Services& s, std::int64_t user, bool banned, std::ostream& out, std::ostream& err);
int admin_user_grant(app::Services& s, std::int64_t user, const std::string& plan, int days, std::ostream& out,
                     std::ostream& err);
int admin_apikey_create(app::Services& s, std::int64_t user, const std::string& name, std::ostream& out,
                        std::ostream& err);
int admin_apikey_revoke(app::Services& s, std::int64_t user, const std::string& key_id, std::ostream& out,
                        std::ostream& err);
int admin_apikey_list(app::Services& s, std::int64_t user, std::ostream& out, std::ostream& err);
// The figures with the margins of the last `days` UTC days (1..core::kMaxStatsDays).
int admin_stats(app::Services& s, int days, std::ostream& out);
// Queues a broadcast; the running bot sends it to every reachable user.
int admin_broadcast(app::Services& s, const std::string& text, std::ostream& out, std::ostream& err);
// Gives a Telegram Stars payment back (refundStarPayment; needs TELEGRAM_BOT_TOKEN), then revokes
// what it bought.
int admin_refund(app::Services& s, const std::string& charge_id, std::ostream& out, std::ostream& err);

}  // namespace igb::cli
