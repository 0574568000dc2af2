#include "usecases/bot_admin.hpp"

namespace igb::usecases {

net::awaitable<core::Stats> Admin::stats(int days) {
  auto read = [&] { return d_.admin.stats(days); };
  auto s = co_await d_.pool.run(read);
  co_return s;
}

net::awaitable<core::Result<core::Broadcast>> Admin::queue_broadcast(std::string text, core::UserId by) {
  auto queue = [&] { return d_.admin.queue_broadcast(text, by); };
  auto queued = co_await d_.pool.run(queue);
  co_return queued;
}

}  // namespace igb::usecases
