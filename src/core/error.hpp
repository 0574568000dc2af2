#pragma once
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "util/result.hpp"

namespace igb::core {

// One list of expected failures. Drivers map a code to an HTTP status, a bot reply in the user's
// language, or a job retry, each in one place.
enum class ErrorCode {
  invalid_argument,   // bad input; field_errors says which
  unauthenticated,    // missing or wrong credentials
  forbidden,          // authenticated, but not allowed (banned user, not the owner of a thing)
  not_found,
  conflict,           // state does not allow it (job already finished, key already revoked)
  quota_exhausted,    // no images left in the period
  too_many_jobs,      // plan's concurrent job limit reached
  rate_limited,       // slow down; retry_after says for how long
  payment_invalid,    // a payment event that does not match what was sold
  unavailable,        // a dependency is down or busy; retry later
  internal,
  free_paused,        // the free plans' images for today (FREE_DAILY_IMAGES, all users) are spent
  too_many_failures,  // the user's failed jobs reached the plan's failed_attempts_per_period
  spend_paused,       // today's provider spend reached DAILY_SPEND_LIMIT_USD: free plans wait for 00:00 UTC
};

const char* to_string(ErrorCode code);

struct FieldError {
  std::string field;  // dotted path, e.g. "body.width"
  std::string message;
  std::string type;  // machine-readable kind, e.g. "value_error.range"
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string public_message;   // safe to show to the user or API client
  std::string internal_detail;  // for the log only; never sent out
  std::vector<FieldError> field_errors;
  std::optional<std::chrono::milliseconds> retry_after;
};

inline Error make_error(ErrorCode code, std::string public_message, std::string internal_detail = {}) {
  return Error{
      .code = code, .public_message = std::move(public_message), .internal_detail = std::move(internal_detail)};
}

// Broken infrastructure under a port (the Store's database, say) is thrown, not returned. An adapter
// throws this, or a subclass, when the dependency is out of reach for now (down, restarting, busy):
// temporary() says the same call may succeed later, and the boundaries answer "unavailable, retry
// later" (HTTP 503 with Retry-After) instead of an internal error.
class InfrastructureError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual bool temporary() const noexcept { return false; }
};

// True when `e` holds an InfrastructureError whose temporary() is true (the dependency may be back
// soon): what the boundaries answer with "unavailable, retry later" instead of an internal error.
inline bool is_temporary(const std::exception_ptr& e) noexcept {
  if (!e) return false;
  try {
    std::rethrow_exception(e);
  } catch (const InfrastructureError& x) {
    return x.temporary();
  } catch (...) {
    return false;
  }
}

// For the loops that ride out an outage; call it inside a catch block:
//   catch (...) { spdlog::warn("…: {}", core::temporary_or_rethrow()); }
// Returns the message of the exception being handled when it is a temporary InfrastructureError;
// rethrows anything else (cancellation included) unchanged.
inline std::string temporary_or_rethrow() {
  try {
    throw;
  } catch (const InfrastructureError& x) {
    if (!x.temporary()) throw;
    return x.what();
  }
}

// A value or an Error (util::Result). The type is [[nodiscard]], so every function returning it is too.
template <class T>
using Result = util::Result<T, Error>;

struct Ok {};
using Status = Result<Ok>;

}  // namespace igb::core
