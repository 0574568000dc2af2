#pragma once
// Operations' use cases: the readiness check of the database (GET /readyz), run off the I/O thread.
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>

#include "runtime/blocking_pool.hpp"

namespace igb::usecases {

namespace net = boost::asio;

// What `check` (the app's: reachable and migrated) finds wrong with the database, "" if nothing; an
// exception it throws becomes "database unreachable: …".
net::awaitable<std::string> database_problem(runtime::BlockingPool& pool, std::function<std::string()> check);

}  // namespace igb::usecases
