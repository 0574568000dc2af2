// What the Bot API client's tests share (bot_api_test.cpp, fake_spec_test.cpp, wire_test.cpp).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

#include "support/async.hpp"

namespace igb::telegram::test {

using igb::testing::optional_of;
using igb::testing::run_async;

}  // namespace igb::telegram::test
