// /history: the user's last images, sent again as photos (by file id, no upload).
#include "bot/context.hpp"

namespace igb::bot::handlers {
namespace {

net::awaitable<void> history(Context& c) {
  const auto& d = c.deps();
  struct Item {
    core::Job job;
    core::Image image;
  };
  const auto user = c.user().id;
  const int size = c.options().history_size;
  auto read = [&] {
    std::vector<Item> out;
    auto tx = d.store.begin(core::TxMode::read);
    for (auto& j : tx->jobs_of(user, 50)) {
      if (j.status != core::JobStatus::succeeded || !j.image_id) continue;
      auto image = tx->find_image(*j.image_id);
      if (image) out.push_back({std::move(j), std::move(*image)});
      if (static_cast<int>(out.size()) >= size) break;
    }
    return out;
  };
  auto items = co_await d.pool.run(read);
  if (items.empty()) {
    auto sent = co_await c.reply("history.empty");
    (void)sent;
    co_return;
  }
  auto sent = co_await c.reply("history.title");
  if (!sent) co_return;
  for (const auto& item : items) {
    JobMeta meta{.chat_id = c.chat_id(), .lang = c.lang(), .group = c.group()};
    if (!co_await c.deliver_photo(item.job, meta)) break;
  }
}

}  // namespace

void register_history(Router& r) { r.command("history", {.menu_key = "commands.history", .menu_rank = 70}, history); }

}  // namespace igb::bot::handlers
