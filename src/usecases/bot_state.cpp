#include "usecases/bot_state.hpp"

#include <stdexcept>

#include "usecases/in_tx.hpp"
#include "util/crypto.hpp"

namespace igb::usecases {

std::string ensure_webhook_secret(core::Store& store) {
  // Processes starting at once on one database agree on one secret.
  auto ensure = [](core::Tx& tx) { return tx.insert_setting_if_absent(kWebhookSecretKey, util::random_hex(24)); };
  return with_tx(store, core::TxMode::write, ensure);
}

net::awaitable<std::optional<std::int64_t>> BotState::polling_offset() {
  auto read_offset = [](core::Tx& tx) -> std::optional<std::int64_t> {
    auto v = tx.get_setting(kPollingOffsetKey);
    if (!v) return std::nullopt;
    return std::stoll(*v);
  };
  auto offset = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read_offset);
  co_return offset;
}

net::awaitable<void> BotState::store_updates(std::vector<core::InboxUpdate> updates,
                                             std::optional<std::int64_t> next_offset) {
  auto store = [&](core::Tx& tx) {
    for (const auto& u : updates) tx.insert_inbox_update(u);
    if (next_offset) tx.put_setting(kPollingOffsetKey, std::to_string(*next_offset));
  };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, store);
}

net::awaitable<std::vector<core::InboxUpdate>> BotState::inbox(std::int64_t after_update_id, int limit) {
  auto read = [&](core::Tx& tx) { return tx.inbox_updates(after_update_id, limit); };
  auto rows = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read);
  co_return rows;
}

net::awaitable<void> BotState::forget_update(std::int64_t update_id) {
  auto forget = [&](core::Tx& tx) { tx.delete_inbox_update(update_id); };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, forget);
}

net::awaitable<std::string> BotState::webhook_secret() {
  auto read_secret = [](core::Tx& tx) { return tx.get_setting(kWebhookSecretKey).value_or(""); };
  auto secret = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read_secret);
  co_return secret;
}

net::awaitable<std::vector<core::Job>> BotState::undelivered_jobs(core::Timestamp since, int limit) {
  auto read = [&](core::Tx& tx) { return tx.undelivered_bot_jobs(since, limit); };
  auto jobs = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read);
  co_return jobs;
}

net::awaitable<void> BotState::mark_delivered(std::string job_id) {
  auto mark = [&](core::Tx& tx) { tx.set_job_delivered(job_id, d_.clock.now()); };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, mark);
}

net::awaitable<int> BotState::move_jobs(std::function<std::optional<std::string>(const core::Job&)> rewrite) {
  auto move = [&](core::Tx& tx) {
    int moved = 0;
    for (const auto& listed : tx.undelivered_bot_jobs(core::Timestamp{}, 1000)) {
      auto job = tx.find_job(listed.id, /*for_update=*/true);  // a worker may have moved it on since
      if (!job) continue;
      auto meta = rewrite(*job);
      if (!meta) continue;
      job->meta = std::move(*meta);
      job->updated_at = d_.clock.now();  // delivery looks at it again
      tx.update_job(*job);
      ++moved;
    }
    return moved;
  };
  int moved = co_await in_tx(d_.pool, d_.store, core::TxMode::write, move);
  co_return moved;
}

net::awaitable<void> BotState::save_file_id(std::string image_id, std::string file_id) {
  auto save = [&](core::Tx& tx) { tx.set_image_file_id(image_id, file_id); };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, save);
}

net::awaitable<std::vector<core::Notice>> BotState::notices_due(core::Timestamp images_since) {
  if (d_.notices == nullptr) throw std::logic_error("BotState::notices_due without a NoticeService");
  auto find = [&] { return d_.notices->due(images_since); };
  auto due = co_await d_.pool.run(find);
  co_return due;
}

net::awaitable<bool> BotState::mark_notice_sent(core::Notice notice) {
  if (d_.notices == nullptr) throw std::logic_error("BotState::mark_notice_sent without a NoticeService");
  auto mark = [&] { return d_.notices->mark_sent(notice); };
  auto marked = co_await d_.pool.run(mark);
  co_return marked;
}

net::awaitable<std::optional<core::User>> BotState::find_user(core::UserId id) {
  auto load = [&](core::Tx& tx) { return tx.find_user(id); };
  auto user = co_await in_tx(d_.pool, d_.store, core::TxMode::read, load);
  co_return user;
}

net::awaitable<BotState::BroadcastPage> BotState::next_broadcast_page(int limit) {
  auto read = [&](core::Tx& tx) {
    BroadcastPage p{.broadcast = tx.next_broadcast()};
    if (p.broadcast) p.users = tx.reachable_users(p.broadcast->cursor, limit);
    return p;
  };
  auto page = co_await in_tx(d_.pool, d_.store, core::TxMode::read, read);
  co_return page;
}

net::awaitable<void> BotState::save_broadcast(core::Broadcast broadcast) {
  auto save = [&](core::Tx& tx) { tx.update_broadcast(broadcast); };
  co_await in_tx(d_.pool, d_.store, core::TxMode::write, save);
}

}  // namespace igb::usecases
