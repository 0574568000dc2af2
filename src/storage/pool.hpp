#pragma once
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/sql.hpp"

namespace igb::storage {

// A bounded set of connections, opened on demand. acquire() blocks while all are in use; a
// connection that reports itself unhealthy is closed instead of returned.
class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_.get(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  ConnectionPool(Factory factory, int size) : factory_(std::move(factory)), size_(size) {}
  Lease acquire();
  Dialect dialect();

 private:
  void give_back(std::unique_ptr<Connection> conn);

  Factory factory_;
  const int size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
};

}  // namespace igb::storage
