#include "usecases/operations.hpp"

#include <exception>

namespace igb::usecases {

net::awaitable<std::string> database_problem(runtime::BlockingPool& pool, std::function<std::string()> check) {
  auto run = [&] {
    try {
      return check();
    } catch (const std::exception& e) {
      return std::string("database unreachable: ") + e.what();
    }
  };
  auto problem = co_await pool.run(run);
  co_return problem;
}

}  // namespace igb::usecases
