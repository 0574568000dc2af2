#pragma once
// Runs blocking calls (SQLite, libpq, file I/O) on a fixed set of threads so they never stall an I/O
// thread, and resumes the awaiting coroutine on its own executor.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>

namespace igb::runtime {

namespace net = boost::asio;

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  ~BlockingPool() { stop(); }

  // `fn` must be a named callable that outlives the co_await: GCC 12 destroys a non-trivial
  // temporary created inside a co_await expression twice (a lambda capturing a std::string, say),
  // so temporaries are refused at compile time.
  template <class F, class R = std::invoke_result_t<F&>>
  net::awaitable<R> run(F& fn) {
    auto caller = co_await net::this_coro::executor;
    co_await net::post(pool_.get_executor(), net::use_awaitable);
    std::exception_ptr error;
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
    try {
      if constexpr (std::is_void_v<R>) {
        fn();
        result.emplace(true);
      } else {
        result.emplace(fn());
      }
    } catch (...) {
      error = std::current_exception();
    }
    co_await net::post(caller, net::use_awaitable);
    if (!result) std::rethrow_exception(error);  // no result: fn threw
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
  }

  // Runs fn on a pool thread, without waiting for it.
  template <class F>
  void post(F fn) {
    net::post(pool_.get_executor(), std::move(fn));
  }

  void stop() {
    pool_.stop();
    pool_.join();
  }

 private:
  net::thread_pool pool_;
};

}  // namespace igb::runtime
