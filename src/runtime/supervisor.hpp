#pragma once
// Owns every long-running coroutine of a process: starts it under a name, logs how it ended, and
// cancels all of them on shutdown. Nothing is spawned detached.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <functional>
#include <list>
#include <string>

namespace igb::runtime {

namespace net = boost::asio;

class Supervisor {
 public:
  explicit Supervisor(net::any_io_executor executor) : executor_(std::move(executor)) {}

  // Starts `task`. An exception other than cancellation is logged and, if `critical`, stops the
  // whole process through the on_failure callback.
  void spawn(std::string name, net::awaitable<void> task, bool critical = true);
  // Asks every task to stop (terminal cancellation of its pending operation).
  void cancel_all();
  // Cancels the tasks whose name does not start with `prefix`.
  void cancel_all_except(std::string_view prefix);
  std::size_t running() const { return tasks_.size(); }
  void on_failure(std::function<void(const std::string&)> cb) { on_failure_ = std::move(cb); }
  // Called whenever the last running task has ended.
  void on_idle(std::function<void()> cb) { on_idle_ = std::move(cb); }

 private:
  struct Task {
    std::string name;
    net::cancellation_signal signal;
  };
  net::any_io_executor executor_;
  std::list<Task> tasks_;
  std::function<void(const std::string&)> on_failure_;
  std::function<void()> on_idle_;
};

}  // namespace igb::runtime
