// String forms of the core's enums: what the database stores and the API shows.
#include <array>
#include <string_view>

#include "core/error.hpp"
#include "core/model.hpp"

namespace igb::core {
namespace {

template <class E, std::size_t N>
std::optional<E> lookup(const std::array<const char*, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (s == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<const char*, 14> kErrorNames{
    "invalid_argument", "unauthenticated", "forbidden",         "not_found",       "conflict",
    "quota_exhausted",  "too_many_jobs",   "rate_limited",      "payment_invalid", "unavailable",
    "internal",         "free_paused",     "too_many_failures", "spend_paused"};
constexpr std::array<const char*, 4> kSubStatus{"active", "canceled", "refunded", "expired"};
constexpr std::array<const char*, 2> kSubSource{"stars", "admin"};
constexpr std::array<const char*, 5> kJobStatus{"queued", "running", "succeeded", "failed", "canceled"};
constexpr std::array<const char*, 3> kQuotaState{"reserved", "committed", "released"};
constexpr std::array<const char*, 4> kFailureCode{"unavailable", "content_refused", "invalid_request", "interrupted"};
static_assert(kFailureCode.size() == kFailureCodes.size());

}  // namespace

const char* to_string(ErrorCode c) { return kErrorNames.at(static_cast<std::size_t>(c)); }
const char* to_string(SubscriptionStatus s) { return kSubStatus.at(static_cast<std::size_t>(s)); }
const char* to_string(SubscriptionSource s) { return kSubSource.at(static_cast<std::size_t>(s)); }
const char* to_string(JobStatus s) { return kJobStatus.at(static_cast<std::size_t>(s)); }
const char* to_string(QuotaState s) { return kQuotaState.at(static_cast<std::size_t>(s)); }
const char* to_string(FailureCode c) { return kFailureCode.at(static_cast<std::size_t>(c)); }

std::optional<SubscriptionStatus> subscription_status_from(std::string_view s) {
  return lookup<SubscriptionStatus>(kSubStatus, s);
}
std::optional<SubscriptionSource> subscription_source_from(std::string_view s) {
  return lookup<SubscriptionSource>(kSubSource, s);
}
std::optional<JobStatus> job_status_from(std::string_view s) { return lookup<JobStatus>(kJobStatus, s); }
std::optional<QuotaState> quota_state_from(std::string_view s) { return lookup<QuotaState>(kQuotaState, s); }
std::optional<FailureCode> failure_code_from(std::string_view s) { return lookup<FailureCode>(kFailureCode, s); }

std::optional<FailureCode> reported_failure(const Job& job) {
  if (job.status == JobStatus::succeeded || job.status == JobStatus::canceled) return std::nullopt;
  if (job.status == JobStatus::failed) return job.failure.value_or(FailureCode::unavailable);
  return job.failure;  // queued again or running: what the last attempt met, if any
}

}  // namespace igb::core
