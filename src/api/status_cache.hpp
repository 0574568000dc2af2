#pragma once
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/model.hpp"

namespace igb::api {

// Recent GET /v1/status answers by job id, with their owner. Thread-safe; bounded.
class StatusCache {
 public:
  std::optional<std::string> find(const std::string& job_id, core::UserId owner, core::Timestamp now);
  void put(const std::string& job_id, core::UserId owner, std::string body, core::Timestamp expires);
  void erase(const std::string& job_id);

 private:
  struct Entry {
    core::UserId owner;
    std::string body;
    core::Timestamp expires;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace igb::api
