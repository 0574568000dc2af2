#pragma once
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/model.hpp"

namespace igb::api {

// Counts open status streams per user and in all; a slot is given back when its holder is dropped.
class StreamSlots {
 public:
  enum class Refusal { none, user_full, process_full };
  // The slot (held for the stream's life), or why there is none.
  std::pair<std::shared_ptr<void>, Refusal> take(core::UserId user, int per_user, int per_process);

 private:
  std::mutex mutex_;
  std::unordered_map<core::UserId, int> per_user_;
  int total_ = 0;
};

}  // namespace igb::api
