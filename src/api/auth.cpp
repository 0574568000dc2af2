#include "api/auth.hpp"

#include <algorithm>

#include "util/strings.hpp"

namespace igb::api {

std::optional<core::User> KeyCache::find(const std::string& key_hash, core::Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_hash);
  if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.user;
}

void KeyCache::put(const std::string& key_hash, const core::User& user, core::Timestamp expires) {
  std::lock_guard lock(mutex_);
  if (entries_.size() > 100'000) entries_.clear();  // bounded; refilled from the database
  entries_[key_hash] = Entry{user, expires};
}

// Tokens `b` holds at `now` (refilled since it was last touched, up to the burst).
double RateLimiter::tokens_at(const Bucket& b, core::Timestamp now) const {
  const double refill = std::chrono::duration<double, std::ratio<60>>(now - b.at).count() * per_minute_;
  return std::min<double>(burst_, b.tokens + refill);
}

std::chrono::milliseconds RateLimiter::wait_for_one(double tokens) const {
  return std::chrono::milliseconds(static_cast<long long>((1.0 - tokens) / per_minute_ * 60'000) + 1);
}

std::optional<std::chrono::milliseconds> RateLimiter::take(const std::string& key, core::Timestamp now) {
  std::lock_guard lock(mutex_);
  if (buckets_.size() > 100'000) buckets_.clear();
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{static_cast<double>(burst_), now});
  auto& b = it->second;
  b.tokens = tokens_at(b, now);
  b.at = now;
  if (b.tokens < 1.0) return wait_for_one(b.tokens);
  b.tokens -= 1.0;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> RateLimiter::wait_for(const std::string& key, core::Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return std::nullopt;
  const double tokens = tokens_at(it->second, now);
  if (tokens >= 1.0) return std::nullopt;
  return wait_for_one(tokens);
}

boost::asio::awaitable<core::Result<core::User>> authenticate(ApiContext& ctx, const server::Request& request) {
  const std::string_view header = request.header("Authorization");
  auto unauthenticated = [] {
    return core::make_error(core::ErrorCode::unauthenticated, "invalid or missing API key");
  };
  if (header.size() < 8 || util::to_lower(header.substr(0, 7)) != "bearer ") co_return unauthenticated();
  const std::string secret(util::trim(header.substr(7)));
  // Not shaped like a key we issue: refused without hashing or a database read.
  if (!core::AccountService::looks_like_key(secret)) co_return unauthenticated();
  const auto hash = core::AccountService::hash_secret(secret);
  const auto now = ctx.clock.now();
  std::optional<core::User> user = ctx.keys->find(hash, now);
  if (!user) {
    // Each key not in the cache costs a database read. Look-ups that find no key are counted per
    // client address, and an address out of them gets 429 without a read: guessing keys (or a client
    // with a wrong one in a loop) cannot turn into a database load, while a burst of requests with a
    // new valid key is not held back.
    if (ctx.lookup_limiter) {
      if (auto wait = ctx.lookup_limiter->wait_for(request.remote_address, now)) {
        core::Error e = core::make_error(core::ErrorCode::rate_limited, "too many unknown API keys from this address");
        e.retry_after = *wait;
        co_return e;
      }
    }
    auto found = co_await ctx.account.authenticate(secret);
    if (!found) {
      if (ctx.lookup_limiter && found.error().code == core::ErrorCode::unauthenticated) {
        (void)ctx.lookup_limiter->take(request.remote_address, now);
      }
      co_return std::move(found).error();
    }
    ctx.keys->put(hash, *found, now + ctx.options.key_cache_ttl);
    user = std::move(*found);
  }
  if (auto wait = ctx.limiter->take(hash, now)) {
    core::Error e = core::make_error(core::ErrorCode::rate_limited, "too many requests for this API key");
    e.retry_after = *wait;
    co_return e;
  }
  co_return *user;
}

}  // namespace igb::api
