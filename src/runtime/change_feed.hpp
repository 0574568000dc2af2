#pragma once
// Tells waiting coroutines that something they watch has changed, from any thread. The store reports
// the jobs each committed transaction changed (and, on PostgreSQL, other processes' changes arrive by
// NOTIFY); status streams wait here instead of polling the database.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace igb::runtime {

class ChangeFeed {
  struct Waiter {
    explicit Waiter(const boost::asio::any_io_executor& ex) : timer(ex) {}
    boost::asio::steady_timer timer;  // touched only on its executor
    std::atomic<bool> changed{false};
  };

 public:
  // A change of any job: its queue position may have moved for every queued job.
  static constexpr std::string_view kQueue = "queue";

  // Watches some keys from construction to destruction. Made, waited on and destroyed on one
  // executor that runs one handler at a time (a strand or a single-threaded io_context).
  class Subscription {
   public:
    Subscription(ChangeFeed& feed, const boost::asio::any_io_executor& ex, std::vector<std::string> keys);
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    // Returns true as soon as a watched key has been published since the last wait returned (at once
    // if that already happened), false when `timeout` passes first.
    boost::asio::awaitable<bool> wait(std::chrono::steady_clock::duration timeout);

   private:
    ChangeFeed& feed_;
    std::vector<std::string> keys_;
    std::shared_ptr<Waiter> waiter_;
  };

  // Thread-safe. Wakes the subscribers of `key`.
  void publish(std::string_view key);
  // Thread-safe. Wakes every subscriber (after a lost notification channel came back, say).
  void publish_all();
  std::size_t subscribers() const;

 private:
  static void wake(const std::shared_ptr<Waiter>& w);

  mutable std::mutex mutex_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiters_;
};

}  // namespace igb::runtime
