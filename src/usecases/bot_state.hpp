#pragma once
// What the bot's own machinery keeps in the database: the inbox of Telegram updates and the polling
// offset, the webhook secret, the delivery outbox (bot jobs not yet shown), notices and broadcasts.
// Each call is one transaction on the blocking pool; the caller resumes on its own executor. The
// webhook route of the HTTP API uses the inbox part with no NoticeService.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/notices.hpp"
#include "core/store.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::usecases {

namespace net = boost::asio;

inline constexpr std::string_view kPollingOffsetKey = "telegram.offset";
inline constexpr std::string_view kWebhookSecretKey = "telegram.webhook_secret";

// At start-up, before anything runs (it blocks): the webhook's stored secret token, or a new random
// one, stored for every instance.
std::string ensure_webhook_secret(core::Store& store);

struct BotStateDeps {
  core::Store& store;
  runtime::BlockingPool& pool;
  const core::Clock& clock;
  core::NoticeService* notices = nullptr;  // notices_due() and mark_notice_sent() need it
};

class BotState {
 public:
  explicit BotState(BotStateDeps deps) : d_(deps) {}

  // Inbox. The polling offset: the update id to ask getUpdates for next (nullopt: never polled).
  net::awaitable<std::optional<std::int64_t>> polling_offset();
  // Stores received updates and, when given, the next offset, in one transaction: an update is
  // confirmed to Telegram only once it is stored.
  net::awaitable<void> store_updates(std::vector<core::InboxUpdate> updates, std::optional<std::int64_t> next_offset);
  // Updates after `after_update_id`, by id, at most `limit`.
  net::awaitable<std::vector<core::InboxUpdate>> inbox(std::int64_t after_update_id, int limit);
  net::awaitable<void> forget_update(std::int64_t update_id);
  // The webhook's secret token ("" until the bot process has stored one).
  net::awaitable<std::string> webhook_secret();

  // Delivery outbox: bot jobs changed since `since` and not yet delivered, at most `limit`.
  net::awaitable<std::vector<core::Job>> undelivered_jobs(core::Timestamp since, int limit);
  net::awaitable<void> mark_delivered(std::string job_id);
  // A chat's new id (a group became a supergroup): each undelivered bot job (the oldest 1,000) for
  // which `rewrite` gives new delivery data (the bot's own format) gets it, in one transaction, each
  // job re-read under its lock. Returns how many changed.
  net::awaitable<int> move_jobs(std::function<std::optional<std::string>(const core::Job&)> rewrite);
  // Telegram's file id of an uploaded image, to send it again without uploading.
  net::awaitable<void> save_file_id(std::string image_id, std::string file_id);

  // Notices due since `images_since` (see core::NoticeService::due), and marking one sent.
  net::awaitable<std::vector<core::Notice>> notices_due(core::Timestamp images_since);
  net::awaitable<bool> mark_notice_sent(core::Notice notice);
  net::awaitable<std::optional<core::User>> find_user(core::UserId id);

  // Broadcasts: the oldest unfinished one with the next page of users to send it to.
  struct BroadcastPage {
    std::optional<core::Broadcast> broadcast;
    std::vector<core::User> users;
  };
  net::awaitable<BroadcastPage> next_broadcast_page(int limit);
  net::awaitable<void> save_broadcast(core::Broadcast broadcast);

 private:
  BotStateDeps d_;
};

}  // namespace igb::usecases
