#pragma once
// API keys: `Authorization: Bearer <key>`, checked against the database through a short-lived
// in-process cache (keyed by the key's hash, never the key), and a per-key token bucket.
#include <boost/asio/awaitable.hpp>

#include <mutex>
#include <string>
#include <unordered_map>

#include "api/context.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "server/server.hpp"

namespace igb::api {

class KeyCache {
 public:
  std::optional<core::User> find(const std::string& key_hash, core::Timestamp now);
  void put(const std::string& key_hash, const core::User& user, core::Timestamp expires);

 private:
  struct Entry {
    core::User user;
    core::Timestamp expires;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

class RateLimiter {
 public:
  RateLimiter(int per_minute, int burst) : per_minute_(per_minute), burst_(burst) {}
  // Takes one token for `key`; if none is left, how long until one is.
  std::optional<std::chrono::milliseconds> take(const std::string& key, core::Timestamp now);
  // Like take(), but only looks: how long until `key` has a token, or nullopt if it has one now.
  std::optional<std::chrono::milliseconds> wait_for(const std::string& key, core::Timestamp now);

 private:
  struct Bucket {
    double tokens;
    core::Timestamp at;
  };
  double tokens_at(const Bucket& b, core::Timestamp now) const;
  std::chrono::milliseconds wait_for_one(double tokens) const;
  const int per_minute_;
  const int burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

// Database look-ups that find no key, per client address; past them an address gets 429 without a
// look-up until the bucket refills.
inline constexpr int kKeyLookupsPerMinute = 60;
inline constexpr int kKeyLookupsBurst = 30;

// The caller's account, or unauthenticated / forbidden / rate_limited.
boost::asio::awaitable<core::Result<core::User>> authenticate(ApiContext& ctx, const server::Request& request);

}  // namespace igb::api
