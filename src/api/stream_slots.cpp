#include "api/stream_slots.hpp"

namespace igb::api {

std::pair<std::shared_ptr<void>, StreamSlots::Refusal> StreamSlots::take(core::UserId user, int per_user,
                                                                         int per_process) {
  std::lock_guard lock(mutex_);
  if (total_ >= per_process) return {nullptr, Refusal::process_full};
  auto& mine = per_user_[user];
  if (mine >= per_user) return {nullptr, Refusal::user_full};
  ++mine;
  ++total_;
  // The slots outlive no StreamSlots: the ApiContext owns this object for the server's life.
  return {std::shared_ptr<void>(static_cast<void*>(this),
                                [this, user](void*) {
                                  std::lock_guard released(mutex_);
                                  --total_;
                                  if (--per_user_[user] == 0) per_user_.erase(user);
                                }),
          Refusal::none};
}

}  // namespace igb::api
