// The bot's durable state: the inbox of Telegram updates (telegram_updates) and the settings table
// (polling offset, webhook secret, the invoice payload secret).
#include "storage/sql_tx.hpp"

namespace igb::storage {

bool SqlTx::insert_inbox_update(const core::InboxUpdate& u) {
  return q("INSERT INTO telegram_updates (update_id, chat_id, body, received_at) VALUES ($1, $2, $3, $4) "
           "ON CONFLICT (update_id) DO NOTHING",
           {num(u.update_id), num(u.chat_id), text(u.body), ms(u.received_at)})
             .affected == 1;
}

std::vector<core::InboxUpdate> SqlTx::inbox_updates(std::int64_t after_update_id, int limit) {
  auto r =
      q("SELECT update_id, chat_id, body, received_at FROM telegram_updates WHERE update_id > $1 "
        "ORDER BY update_id LIMIT $2",
        {num(after_update_id), num(limit)});
  std::vector<core::InboxUpdate> out;
  out.reserve(r.rows.size());
  for (const auto& row : r.rows) {
    out.push_back({.update_id = row.i64(0), .chat_id = row.i64(1), .body = row.text(2), .received_at = ts(row, 3)});
  }
  return out;
}

void SqlTx::delete_inbox_update(std::int64_t update_id) {
  q("DELETE FROM telegram_updates WHERE update_id = $1", {num(update_id)});
}

std::optional<std::string> SqlTx::get_setting(std::string_view key) {
  auto r = q("SELECT value FROM settings WHERE key = $1", {text(key)});
  if (r.rows.empty()) return std::nullopt;
  return r.rows[0].text(0);
}

void SqlTx::put_setting(std::string_view key, std::string_view value) {
  q("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    {text(key), text(value)});
}

// ON CONFLICT DO NOTHING waits for a concurrent transaction that inserted the key to end (PostgreSQL:
// the unique index; SQLite: one writer at a time), and the SELECT after it, a new statement under READ
// COMMITTED, sees that transaction's row. So every racer reads the one value that won.
std::string SqlTx::insert_setting_if_absent(std::string_view key, std::string_view value) {
  q("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", {text(key), text(value)});
  auto stored = get_setting(key);
  if (!stored) throw DbError(DbError::Kind::other, "setting " + std::string(key) + " missing right after its insert");
  return *stored;
}

}  // namespace igb::storage
