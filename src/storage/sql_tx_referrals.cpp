// Referrals (issue 17): codes, who invited whom, the conversion, the bonus balance (users.bonus_images).
#include "storage/sql_tx.hpp"

namespace igb::storage {

std::optional<std::string> SqlTx::referral_code_of(core::UserId user) {
  auto r = q("SELECT code FROM referral_codes WHERE user_id = $1", {num(user)});
  if (r.rows.empty()) return std::nullopt;
  return r.rows[0].text(0);
}

std::optional<core::UserId> SqlTx::user_by_referral_code(std::string_view code) {
  auto r = q("SELECT user_id FROM referral_codes WHERE code = $1", {text(code)});
  if (r.rows.empty()) return std::nullopt;
  return r.rows[0].i64(0);
}

// No conflict target: a second code for the user and a code someone else has are both "not inserted".
bool SqlTx::insert_referral_code(core::UserId user, std::string_view code, core::Timestamp now) {
  return q("INSERT INTO referral_codes (user_id, code, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
           {num(user), text(code), ms(now)})
             .affected == 1;
}

bool SqlTx::insert_referral(core::UserId invitee, core::UserId inviter, core::Timestamp now) {
  return q("INSERT INTO referrals (invitee_id, inviter_id, created_at) VALUES ($1, $2, $3) "
           "ON CONFLICT (invitee_id) DO NOTHING",
           {num(invitee), num(inviter), ms(now)})
             .affected == 1;
}

// PostgreSQL (READ COMMITTED): a second UPDATE of the row waits for the first transaction and then
// re-checks `converted_at IS NULL` on the committed row, so only one of them returns it. SQLite has
// one writer at a time.
std::optional<core::Referral> SqlTx::convert_referral(core::UserId invitee, int bonus_images, core::Timestamp now) {
  auto r =
      q("UPDATE referrals SET converted_at = $2, bonus_images = $3 WHERE invitee_id = $1 "
        "AND converted_at IS NULL RETURNING inviter_id, created_at",
        {num(invitee), ms(now), num(bonus_images)});
  if (r.rows.empty()) return std::nullopt;
  return core::Referral{.invitee = invitee,
                        .inviter = r.rows[0].i64(0),
                        .created_at = ts(r.rows[0], 1),
                        .converted_at = now,
                        .bonus_images = bonus_images};
}

int SqlTx::bonus_images(core::UserId user) {
  auto r = q("SELECT bonus_images FROM users WHERE id = $1", {num(user)});
  if (r.rows.empty()) return 0;
  return static_cast<int>(r.rows[0].i64(0));
}

void SqlTx::add_bonus_images(core::UserId user, int delta) {
  q("UPDATE users SET bonus_images = bonus_images + $2 WHERE id = $1", {num(user), num(delta)});
}

core::ReferralSummary SqlTx::referral_summary(core::UserId user) {
  core::ReferralSummary s;
  s.bonus_images = bonus_images(user);
  auto r = q("SELECT COUNT(*), COUNT(converted_at) FROM referrals WHERE inviter_id = $1", {num(user)});
  s.joined = static_cast<int>(r.rows.at(0).i64(0));
  s.converted = static_cast<int>(r.rows.at(0).i64(1));
  return s;
}

std::vector<core::Referral> SqlTx::referrals_converted(core::Timestamp from, core::Timestamp to) {
  std::vector<core::Referral> out;
  for (const auto& row : q("SELECT invitee_id, inviter_id, created_at, converted_at, bonus_images FROM referrals "
                           "WHERE converted_at >= $1 AND converted_at < $2 ORDER BY converted_at, invitee_id",
                           {ms(from), ms(to)})
                             .rows) {
    out.push_back({.invitee = row.i64(0),
                   .inviter = row.i64(1),
                   .created_at = ts(row, 2),
                   .converted_at = opt_ts(row, 3),
                   .bonus_images = static_cast<int>(row.i64(4))});
  }
  return out;
}

}  // namespace igb::storage
