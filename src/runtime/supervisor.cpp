#include "runtime/supervisor.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/system/system_error.hpp>
#include <spdlog/spdlog.h>

namespace igb::runtime {

void Supervisor::spawn(std::string name, net::awaitable<void> task, bool critical) {
  auto it = tasks_.emplace(tasks_.end());
  it->name = std::move(name);
  spdlog::debug("task {} started", it->name);
  net::co_spawn(executor_, std::move(task),
                net::bind_cancellation_slot(it->signal.slot(), [this, it, critical](const std::exception_ptr& error) {
                  std::string task_name = std::move(it->name);
                  tasks_.erase(it);
                  struct IdleCheck {
                    Supervisor* self;
                    ~IdleCheck() {
                      if (self->tasks_.empty() && self->on_idle_) self->on_idle_();
                    }
                  } idle_check{this};
                  if (!error) {
                    spdlog::debug("task {} finished", task_name);
                    return;
                  }
                  try {
                    std::rethrow_exception(error);
                  } catch (const boost::system::system_error& e) {
                    if (e.code() == net::error::operation_aborted) {
                      spdlog::debug("task {} canceled", task_name);
                      return;
                    }
                    spdlog::error("task {} failed: {}", task_name, e.what());
                  } catch (const std::exception& e) {
                    spdlog::error("task {} failed: {}", task_name, e.what());
                  } catch (...) {
                    spdlog::error("task {} failed with an unknown exception", task_name);
                  }
                  if (critical && on_failure_) on_failure_(task_name);
                }));
}

void Supervisor::cancel_all() {
  for (auto& t : tasks_) t.signal.emit(net::cancellation_type::terminal);
}

void Supervisor::cancel_all_except(std::string_view prefix) {
  for (auto& t : tasks_) {
    if (!t.name.starts_with(prefix)) t.signal.emit(net::cancellation_type::terminal);
  }
}

}  // namespace igb::runtime
