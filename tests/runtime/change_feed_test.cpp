// The change feed: a publish from any thread wakes the subscribers of that key (at once, or at their
// next wait if none is in progress), and nobody else; a wait without a change times out.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <future>
#include <thread>

#include "runtime/change_feed.hpp"

namespace igb::testing {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;
using runtime::ChangeFeed;

// Far longer than anything here takes: a wait that returns true before it was woken, not timed out.
constexpr auto kLong = std::chrono::hours(1);

// (A braced list of literals inside a coroutine trips GCC 12: "array used as initializer".)
std::vector<std::string> keys(std::string_view a, std::string_view b = {}) {
  std::vector<std::string> out{std::string(a)};
  if (!b.empty()) out.emplace_back(b);
  return out;
}

TEST(ChangeFeed, APublishBeforeTheWaitIsNotLost) {
  net::io_context io;
  ChangeFeed feed;
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<bool> {
        ChangeFeed::Subscription sub(feed, co_await net::this_coro::executor, keys("job-1"));
        feed.publish("job-1");
        feed.publish("job-1");  // coalesced with the first
        const bool first = co_await sub.wait(kLong);
        const bool second = co_await sub.wait(20ms);  // nothing new since
        co_return first && !second;
      },
      net::use_future);
  io.run();
  EXPECT_TRUE(done.get());
}

TEST(ChangeFeed, APublishFromAnotherThreadWakesOnlyThatKeysSubscribers) {
  net::io_context io;
  ChangeFeed feed;
  std::promise<void> subscribed;
  auto waiting = subscribed.get_future();
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<std::pair<bool, bool>> {
        auto ex = co_await net::this_coro::executor;
        ChangeFeed::Subscription mine(feed, ex, keys("job-1", ChangeFeed::kQueue));
        ChangeFeed::Subscription other(feed, ex, keys("job-2"));
        EXPECT_EQ(feed.subscribers(), 2u);
        subscribed.set_value();
        const bool woke = co_await mine.wait(kLong);
        const bool other_woke = co_await other.wait(50ms);
        co_return std::pair{woke, other_woke};
      },
      net::use_future);
  std::thread publisher([&] {
    waiting.wait();
    feed.publish(ChangeFeed::kQueue);
  });
  io.run();
  publisher.join();
  auto [woke, other_woke] = done.get();
  EXPECT_TRUE(woke);
  EXPECT_FALSE(other_woke);
  EXPECT_EQ(feed.subscribers(), 0u);  // both ended with their coroutine
}

TEST(ChangeFeed, PublishAllWakesEveryone) {
  net::io_context io;
  ChangeFeed feed;
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<bool> {
        auto ex = co_await net::this_coro::executor;
        ChangeFeed::Subscription a(feed, ex, keys("a")), b(feed, ex, keys("b"));
        feed.publish_all();
        co_return (co_await a.wait(kLong)) && (co_await b.wait(kLong));
      },
      net::use_future);
  io.run();
  EXPECT_TRUE(done.get());
}

TEST(ChangeFeed, CancellingTheWaiterEndsItsWait) {
  net::io_context io;
  ChangeFeed feed;
  net::cancellation_signal stop;
  auto done = net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        ChangeFeed::Subscription sub(feed, co_await net::this_coro::executor, keys("a"));
        co_await sub.wait(kLong);
      },
      net::bind_cancellation_slot(stop.slot(), net::use_future));
  net::steady_timer later(io, 20ms);
  later.async_wait([&](auto) { stop.emit(net::cancellation_type::terminal); });
  io.run();
  EXPECT_THROW(done.get(), boost::system::system_error);
  EXPECT_EQ(feed.subscribers(), 0u);
}

}  // namespace
}  // namespace igb::testing
