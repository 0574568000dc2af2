#include "api/status_cache.hpp"

namespace igb::api {

std::optional<std::string> StatusCache::find(const std::string& job_id, core::UserId owner, core::Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(job_id);
  if (it == entries_.end() || it->second.owner != owner || it->second.expires <= now) return std::nullopt;
  return it->second.body;
}

void StatusCache::put(const std::string& job_id, core::UserId owner, std::string body, core::Timestamp expires) {
  std::lock_guard lock(mutex_);
  if (entries_.size() > 50'000) entries_.clear();
  entries_[job_id] = Entry{owner, std::move(body), expires};
}

void StatusCache::erase(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  entries_.erase(job_id);
}

}  // namespace igb::api
