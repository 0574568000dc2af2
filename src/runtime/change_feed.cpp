#include "runtime/change_feed.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace igb::runtime {

namespace net = boost::asio;

ChangeFeed::Subscription::Subscription(ChangeFeed& feed, const net::any_io_executor& ex, std::vector<std::string> keys)
    : feed_(feed), keys_(std::move(keys)), waiter_(std::make_shared<Waiter>(ex)) {
  std::lock_guard lock(feed_.mutex_);
  for (const auto& key : keys_) feed_.waiters_.emplace(key, waiter_);
}

ChangeFeed::Subscription::~Subscription() {
  std::lock_guard lock(feed_.mutex_);
  for (const auto& key : keys_) {
    auto [first, last] = feed_.waiters_.equal_range(key);
    for (auto it = first; it != last; ++it) {
      if (it->second == waiter_) {
        feed_.waiters_.erase(it);
        break;
      }
    }
  }
}

net::awaitable<bool> ChangeFeed::Subscription::wait(std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!waiter_->changed.exchange(false)) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    // A publish that lands from here on posts a cancel behind this handler, so it cannot be missed.
    waiter_->timer.expires_at(deadline);
    boost::system::error_code ec;
    co_await waiter_->timer.async_wait(net::redirect_error(net::use_awaitable, ec));
    // The caller's own cancellation (its client left, say) also ends the wait as operation_aborted.
    if ((co_await net::this_coro::cancellation_state).cancelled() != net::cancellation_type::none) {
      throw boost::system::system_error(net::error::operation_aborted);
    }
    // Canceled by a publish (or by a stale cancel of one already consumed: then `changed` is false
    // and the loop waits on for what is left of the timeout).
  }
  co_return true;
}

void ChangeFeed::wake(const std::shared_ptr<Waiter>& w) {
  // One cancel in flight per change: further publishes before the waiter looks add nothing.
  if (w->changed.exchange(true)) return;
  net::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
}

void ChangeFeed::publish(std::string_view key) {
  std::lock_guard lock(mutex_);
  auto [first, last] = waiters_.equal_range(std::string(key));
  for (auto it = first; it != last; ++it) wake(it->second);
}

void ChangeFeed::publish_all() {
  std::lock_guard lock(mutex_);
  for (auto& [key, w] : waiters_) wake(w);
}

std::size_t ChangeFeed::subscribers() const {
  std::lock_guard lock(mutex_);
  std::vector<const Waiter*> seen;
  for (const auto& [key, w] : waiters_) seen.push_back(w.get());
  std::sort(seen.begin(), seen.end());
  return static_cast<std::size_t>(std::unique(seen.begin(), seen.end()) - seen.begin());
}

}  // namespace igb::runtime
