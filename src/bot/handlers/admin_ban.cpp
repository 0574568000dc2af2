// /ban <telegram id> and /unban <telegram id> (admins).
#include <spdlog/spdlog.h>

#include "bot/admin_args.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> set_banned(Context& c, bool ban) {
  const std::string command = ban ? "ban" : "unban";
  auto w = admin_words(c.text());
  auto user = w.size() == 1 ? positive_id(w[0]) : std::nullopt;
  std::string reply;
  if (!user) {
    reply = c.t("admin.usage_" + command);
  } else {
    auto done = co_await c.accounts().set_banned(*user, ban);
    reply = done.ok() ? c.t(ban ? "admin.banned" : "admin.unbanned", {{"user", w[0]}})
                      : c.t("admin.failed", {{"reason", done.error().public_message}});
    if (done.ok()) spdlog::info("bot: admin {} {} user {}", c.user().id, command, *user);
  }
  auto sent = co_await c.reply_text(std::move(reply));
  (void)sent;
}

net::awaitable<void> ban(Context& c) { co_await set_banned(c, true); }
net::awaitable<void> unban(Context& c) { co_await set_banned(c, false); }

}  // namespace

void register_admin_ban(Router& r) {
  r.command("ban", {.filter = {.admin = true}, .menu_key = "commands.ban", .menu_rank = 30}, ban);
  r.command("unban", {.filter = {.admin = true}, .menu_key = "commands.unban", .menu_rank = 40}, unban);
}

}  // namespace igb::bot::handlers
