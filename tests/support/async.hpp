#pragma once
// Runs one coroutine to completion on a fresh io_context, for tests of async code.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <exception>
#include <optional>
#include <type_traits>

namespace igb::testing {

// co_spawn with use_future (Boost 1.81) needs a default-constructible result, which util::Result and
// the Bot API's results are not: the task's result wrapped in an optional is.
template <class T>
boost::asio::awaitable<std::optional<T>> optional_of(boost::asio::awaitable<T> task) {
  co_return co_await std::move(task);
}

// The completion handler for a task spawned on an io_context the test runs itself: an exception in
// the task comes out of io.run() and fails the test (net::detached would drop it).
inline constexpr auto rethrow = [](const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
};

template <class T>
T run_async(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  if constexpr (std::is_void_v<T> || std::is_default_constructible_v<T>) {
    auto future = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
    io.restart();
    io.run();
    return future.get();
  } else {
    return *run_async(io, optional_of(std::move(task)));
  }
}

}  // namespace igb::testing
