#pragma once
// The operators' statistics and broadcasts, for the bot's admin commands: each call one transaction
// on the blocking pool; the caller resumes on its own executor.
#include <boost/asio/awaitable.hpp>

#include <string>

#include "core/admin.hpp"
#include "runtime/blocking_pool.hpp"

namespace igb::usecases {

namespace net = boost::asio;

struct AdminDeps {
  core::AdminService& admin;
  runtime::BlockingPool& pool;
};

class Admin {
 public:
  explicit Admin(AdminDeps deps) : d_(deps) {}

  // The figures, with the margins of the last `days` UTC days (today included).
  net::awaitable<core::Stats> stats(int days = core::kStatsDays);
  // Queues `text` for every user; the bot's broadcast loop sends it.
  net::awaitable<core::Result<core::Broadcast>> queue_broadcast(std::string text, core::UserId by);

 private:
  AdminDeps d_;
};

}  // namespace igb::usecases
