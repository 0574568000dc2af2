// Users (with the reachable ones a broadcast walks through) and their API keys.
#include "storage/sql_tx.hpp"

namespace igb::storage {
namespace {

constexpr std::string_view kUserCols = "id, username, language, created_at, banned, blocked_bot, aspect_ratio, style";

core::User to_user(const Row& r) {
  return core::User{.id = r.i64(0),
                    .username = r.text(1),
                    .language = r.text(2),
                    .created_at = ts(r, 3),
                    .banned = r.i64(4) != 0,
                    .blocked_bot = r.i64(5) != 0,
                    .aspect_ratio = r.text(6),
                    .style = r.text(7)};
}

constexpr std::string_view kKeyCols = "id, user_id, key_hash, prefix, name, created_at, revoked_at";

core::ApiKey to_key(const Row& r) {
  return core::ApiKey{.id = r.text(0),
                      .user_id = r.i64(1),
                      .key_hash = r.text(2),
                      .prefix = r.text(3),
                      .name = r.text(4),
                      .created_at = ts(r, 5),
                      .revoked_at = opt_ts(r, 6)};
}

}  // namespace

core::User SqlTx::upsert_user(core::UserId id, std::string_view username, std::string_view language,
                              core::Timestamp now) {
  // An empty username or language never overwrites a known one, and a language the user chose
  // (/lang) is kept over the one their client reports.
  static const std::string sql =
      join_sql({"INSERT INTO users (id, username, language, created_at) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (id) DO UPDATE SET "
                "username = CASE WHEN excluded.username <> '' THEN excluded.username ELSE users.username END, "
                "language = CASE WHEN users.language = '' THEN excluded.language ELSE users.language END "
                "RETURNING ",
                kUserCols});
  auto r = q(sql, {num(id), text(username), text(language), ms(now)});
  return to_user(r.rows.at(0));
}

std::optional<core::User> SqlTx::find_user(core::UserId id) {
  static const std::string sql = join_sql({"SELECT ", kUserCols, " FROM users WHERE id = $1"});
  auto r = q(sql, {num(id)});
  if (r.rows.empty()) return std::nullopt;
  return to_user(r.rows[0]);
}

bool SqlTx::set_user_banned(core::UserId id, bool banned) {
  return q("UPDATE users SET banned = $2 WHERE id = $1", {num(id), num(banned)}).affected == 1;
}

bool SqlTx::set_user_blocked_bot(core::UserId id, bool blocked) {
  return q("UPDATE users SET blocked_bot = $2 WHERE id = $1", {num(id), num(blocked)}).affected == 1;
}

bool SqlTx::set_user_language(core::UserId id, std::string_view language) {
  return q("UPDATE users SET language = $2 WHERE id = $1", {num(id), text(language)}).affected == 1;
}

bool SqlTx::set_user_preferences(core::UserId id, std::string_view aspect_ratio, std::string_view style) {
  return q("UPDATE users SET aspect_ratio = $2, style = $3 WHERE id = $1", {num(id), text(aspect_ratio), text(style)})
             .affected == 1;
}

std::int64_t SqlTx::count_users() { return q("SELECT COUNT(*) FROM users").rows.at(0).i64(0); }

std::vector<core::User> SqlTx::reachable_users(core::UserId after, int limit) {
  static const std::string sql = join_sql({"SELECT ", kUserCols,
                                           " FROM users WHERE id > $1 AND banned = 0 "
                                           "AND blocked_bot = 0 ORDER BY id LIMIT $2"});
  std::vector<core::User> out;
  for (const auto& row : q(sql, {num(after), num(limit)}).rows) out.push_back(to_user(row));
  return out;
}

void SqlTx::insert_api_key(const core::ApiKey& k) {
  q("INSERT INTO api_keys (id, user_id, key_hash, prefix, name, created_at, revoked_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)",
    {text(k.id), num(k.user_id), text(k.key_hash), text(k.prefix), text(k.name), ms(k.created_at),
     opt_ms(k.revoked_at)});
}

std::optional<core::ApiKey> SqlTx::find_api_key_by_hash(std::string_view key_hash) {
  static const std::string sql = join_sql({"SELECT ", kKeyCols, " FROM api_keys WHERE key_hash = $1"});
  auto r = q(sql, {text(key_hash)});
  if (r.rows.empty()) return std::nullopt;
  return to_key(r.rows[0]);
}

std::vector<core::ApiKey> SqlTx::api_keys_of(core::UserId user) {
  static const std::string sql =
      join_sql({"SELECT ", kKeyCols, " FROM api_keys WHERE user_id = $1 ORDER BY created_at, id"});
  std::vector<core::ApiKey> out;
  for (const auto& row : q(sql, {num(user)}).rows) out.push_back(to_key(row));
  return out;
}

bool SqlTx::revoke_api_key(std::string_view key_id, core::Timestamp at) {
  return q("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", {text(key_id), ms(at)})
             .affected == 1;
}

}  // namespace igb::storage
