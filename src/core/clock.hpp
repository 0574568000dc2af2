#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>

namespace igb::core {

using Millis = std::chrono::milliseconds;
// Wall-clock time at millisecond resolution; stored in the database as Unix milliseconds.
using Timestamp = std::chrono::sys_time<Millis>;

inline std::int64_t to_unix_ms(Timestamp t) { return t.time_since_epoch().count(); }
inline Timestamp from_unix_ms(std::int64_t ms) { return Timestamp(Millis(ms)); }

// The port through which the core asks the time, so tests can move it by hand.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override { return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Timestamp start = from_unix_ms(1'700'000'000'000)) : now_(to_unix_ms(start)) {}
  Timestamp now() const override { return from_unix_ms(now_.load()); }
  void advance(Millis d) { now_ += d.count(); }
  void set(Timestamp t) { now_ = to_unix_ms(t); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace igb::core
