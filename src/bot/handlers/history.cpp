// /history: the user's last images, sent again as photos (by file id, no upload).
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> history(Context& c) {
  auto items = co_await c.generation().history(c.user().id, c.options().history_size);
  if (items.empty()) {
    auto sent = co_await c.reply("history.empty");
    (void)sent;
    co_return;
  }
  auto sent = co_await c.reply("history.title");
  if (!sent) co_return;
  for (const auto& item : items) {
    JobMeta meta{.chat_id = c.chat_id(), .lang = c.lang(), .group = c.group()};
    if (auto own = decode_meta(item.job.meta)) meta.original = own->original;  // the caption in the user's words
    if (!co_await c.deliver_photo(item.job, meta)) break;
  }
}

}  // namespace

void register_history(Router& r) { r.command("history", {.menu_key = "commands.history", .menu_rank = 70}, history); }

}  // namespace igb::bot::handlers
