// What the Bot API client's tests share (bot_api_test.cpp, fake_spec_test.cpp, wire_test.cpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

#include "support/async.hpp"

namespace igb::telegram::test {

// co_spawn (Boost 1.81) needs a default-constructible result; ApiResult has none.
template <class T>
boost::asio::awaitable<std::optional<T>> optional_of(boost::asio::awaitable<T> task) {
  co_return co_await std::move(task);
}

template <class T>
T run_on(boost::asio::io_context& io, boost::asio::awaitable<T> task) {
  return *igb::testing::run_async(io, optional_of(std::move(task)));
}

}  // namespace igb::telegram::test
