#pragma once
// Domain records of the core. Plain data; no SQL, JSON or transport types.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/margins.hpp"

namespace igb::core {

// Users are keyed by their Telegram id: every account, including those used through API keys,
// belongs to a Telegram user (API keys are issued to a Telegram id).
using UserId = std::int64_t;

struct User {
  UserId id = 0;
  std::string username;  // may be empty
  std::string language;  // IETF tag from the Telegram client or /lang, e.g. "en", "ru"
  Timestamp created_at{};
  bool banned = false;
  bool blocked_bot = false;  // the user blocked the bot: stop sending to them
  std::string aspect_ratio;  // default for prompts, chosen in /settings ("16:9"); empty: square
  std::string style;         // default style preset; empty: none
};

struct ApiKey {
  std::string id;        // public identifier, e.g. "k_3f9a…"; used to revoke
  UserId user_id = 0;
  std::string key_hash;  // sha256 hex of the secret; the secret itself is never stored
  std::string prefix;    // first characters of the secret, to help the owner recognise it
  std::string name;
  Timestamp created_at{};
  std::optional<Timestamp> revoked_at;
};

enum class PeriodKind { daily, days30 };

struct Plan {
  std::string id;     // "free", "basic", "pro"
  std::string title;
  int images_per_period = 0;
  PeriodKind period = PeriodKind::daily;
  int max_pixels = 1024 * 1024;   // width * height at most
  int max_side = 1440;
  int max_concurrent_jobs = 1;
  int priority = 0;               // higher is claimed first
  int images_per_request = 1;
  int price_stars = 0;            // 0 means not for sale (free)
  // Jobs that may end failed (the provider refused the prompt or failed after every retry) per
  // period before new submissions are refused. Unset: as many as images_per_period; 0: no limit.
  std::optional<int> failed_attempts_per_period;
};

enum class SubscriptionStatus { active, canceled, refunded, expired };
enum class SubscriptionSource { stars, admin };

const char* to_string(SubscriptionStatus s);
const char* to_string(SubscriptionSource s);
std::optional<SubscriptionStatus> subscription_status_from(std::string_view s);
std::optional<SubscriptionSource> subscription_source_from(std::string_view s);

// Who stopped a Stars subscription's renewal. Telegram lets a bot re-enable only a subscription the bot
// itself cancelled (editUserStarSubscription with is_canceled false); one the user cancelled in
// Telegram is resumed there, and a failed renewal by buying again. `none`: renewing, or unknown.
enum class RenewalStop { none, bot, user, failed };

// One paid period. A renewal adds a new row that starts where the previous one ends; a refund marks
// the row the payment bought as refunded, which takes the entitlement back.
struct Subscription {
  std::int64_t id = 0;
  UserId user_id = 0;
  std::string plan_id;
  SubscriptionStatus status = SubscriptionStatus::active;
  Timestamp period_start{};
  Timestamp period_end{};
  bool auto_renew = false;
  RenewalStop renewal_stopped_by = RenewalStop::none;  // while !auto_renew
  SubscriptionSource source = SubscriptionSource::stars;
  std::optional<std::string> charge_id;  // the payment that bought it
  Timestamp created_at{};
};

struct PaymentEvent {
  std::string charge_id;  // telegram_payment_charge_id: unique per payment
  std::string provider_charge_id;
  UserId user_id = 0;
  std::string plan_id;
  std::int64_t amount = 0;  // in the currency's smallest unit (Stars are whole)
  std::string currency = "XTR";
  bool is_recurring = false;
  std::optional<Timestamp> subscription_expiration;  // given by Telegram for subscriptions
  // The price the signed invoice payload names (what Telegram charges, renewals included); nullopt
  // for a payload made before prices were signed.
  std::optional<std::int64_t> invoiced_price;
  std::string payload;
  Timestamp at{};
};

struct Payment {
  std::string charge_id;
  UserId user_id = 0;
  std::string plan_id;
  std::int64_t amount = 0;
  std::string currency;
  bool is_recurring = false;
  std::optional<std::int64_t> subscription_id;
  Timestamp created_at{};
  std::optional<Timestamp> refunded_at;
};

struct QuotaCounter {
  UserId user_id = 0;
  Timestamp period_start{};
  int used = 0;      // images delivered
  int reserved = 0;  // images of jobs queued or running
  int failed = 0;    // jobs of the period that ended failed (they spent provider credit, not quota)
};

// What a user may do now, and how much of it they have done.
struct QuotaStatus {
  Plan plan;
  std::optional<Subscription> subscription;  // the paid period in force, if any
  Timestamp period_start{};
  Timestamp resets_at{};
  int limit = 0;
  int used = 0;
  int reserved = 0;
  int failed = 0;
  int failed_limit = 0;  // the plan's failed_attempts_per_period, resolved; 0: no limit
  int remaining() const { return limit - used - reserved > 0 ? limit - used - reserved : 0; }
};

enum class JobStatus { queued, running, succeeded, failed, canceled };
enum class QuotaState { reserved, committed, released };

const char* to_string(JobStatus s);
const char* to_string(QuotaState s);
std::optional<JobStatus> job_status_from(std::string_view s);
std::optional<QuotaState> quota_state_from(std::string_view s);
inline bool is_terminal(JobStatus s) {
  return s == JobStatus::succeeded || s == JobStatus::failed || s == JobStatus::canceled;
}

// Why a job failed, kept as a code to the edge: the bot words it from its catalogues
// (failed.<code>), the API returns it as `error_code` beside its English `error`. Stored in
// jobs.failure, empty there for jobs that did not fail.
enum class FailureCode {
  unavailable,      // the image service failed or could not be reached, after every retry
  content_refused,  // the provider's safety filter refused the prompt
  invalid_request,  // the provider rejected the parameters
  interrupted,      // the job's worker stopped answering (lost lease) and it was out of attempts
};

inline constexpr std::array<FailureCode, 4> kFailureCodes{FailureCode::unavailable, FailureCode::content_refused,
                                                          FailureCode::invalid_request, FailureCode::interrupted};

const char* to_string(FailureCode c);
std::optional<FailureCode> failure_code_from(std::string_view s);

struct Job;
// The failure to tell about a job, if any: none once it succeeded or was canceled; a failed job
// without a code (failed before migration 0007) as unavailable.
std::optional<FailureCode> reported_failure(const Job& job);

struct JobParams {
  std::string prompt;
  int width = 1024;
  int height = 1024;
  int steps = 4;
  std::optional<std::int64_t> seed;
  std::string style;  // preset name, may be empty
  std::string model;  // empty: the configured default
};

// One job makes one image. A request for n images makes n jobs in one transaction.
struct Job {
  std::string id;
  UserId user_id = 0;
  JobStatus status = JobStatus::queued;
  int priority = 0;
  int attempts = 0;
  int max_attempts = 3;
  std::optional<std::string> lease_owner;
  std::optional<Timestamp> lease_expires_at;
  Timestamp run_after{};  // not claimed before this (retry back-off)
  int progress = 0;       // 0..100
  // Set by a failed attempt: final once the job is failed; on a job queued again, what the last
  // attempt met. Cleared when the job succeeds or is canceled.
  std::optional<FailureCode> failure;
  JobParams params;
  std::optional<std::string> image_id;  // sha256 of the result
  Timestamp quota_period_start{};
  QuotaState quota_state = QuotaState::reserved;
  std::string source;  // "bot", "api", "cli": who asked
  std::string meta;    // opaque to the core: the driver's delivery data (chat id, message id…)
  std::optional<std::string> idempotency_key;
  std::optional<std::string> cache_key;  // see core::cache_key
  // Paid from the user's bonus balance (referrals), not the period's quota: the period counter still
  // holds its reservation while it is in flight (the concurrency limit), but success does not count it
  // as used, and a release gives the bonus image back.
  bool bonus = false;
  std::string plan;  // the plan it was submitted under (migration 0011; "" for older jobs)
  // Who made its image and what that cost (issue 17, margins): set when it succeeds with a new image
  // (not from the cache). cost_micros is null when the provider has no configured price.
  std::optional<std::string> provider;
  std::optional<std::string> served_model;
  std::optional<std::int64_t> cost_micros;
  Timestamp created_at{};
  std::optional<Timestamp> started_at;
  std::optional<Timestamp> finished_at;
  Timestamp updated_at{};
};

// A Telegram update received and not yet handled (the bot's durable inbox).
struct InboxUpdate {
  std::int64_t update_id = 0;
  std::int64_t chat_id = 0;  // the chat whose order it belongs to (0: none)
  std::string body;          // the update's JSON as Telegram sent it
  Timestamp received_at{};
};

// Operator figures (/stats, `imggenbot stats`). "Today" and "this month" are UTC.
// Prompts of a user refused (issue 17): blocked by the prompt policy, or refused by a provider
// (jobs that failed as content_refused). Lifetime counts, for the admins.
enum class RefusalKind { blocked, refused };
struct PromptRefusals {
  UserId user = 0;
  std::int64_t blocked = 0;
  std::int64_t refused = 0;
  Timestamp last_at{};
};

struct Stats {
  std::int64_t users = 0;
  std::int64_t reachable_users = 0;  // neither banned nor blocking the bot: a broadcast's audience
  std::vector<std::pair<std::string, std::int64_t>> subscribers_by_plan;  // paid periods in force now
  std::int64_t images_today = 0;      // jobs that succeeded today
  std::int64_t failed_today = 0;      // jobs that failed for good today (provider errors, refused prompts)
  std::int64_t stars_this_month = 0;  // Stars paid this month, less refunded payments
  std::int64_t queued = 0;
  std::int64_t running = 0;
  std::int64_t referrals_invited = 0;    // users who started the bot through someone's link (all time)
  std::int64_t referrals_converted = 0;  // of them, those whose first image succeeded (the bonus was given)
  std::int64_t prompts_blocked = 0;      // all time, by the prompt policy
  std::int64_t prompts_refused = 0;      // all time, by providers
  std::vector<PromptRefusals> refusers;  // the users with the most refusals, most first (at most 5)
  Margins margins;                       // per UTC day and plan (issue 17)
};

// Stars paid on one UTC day for one plan (payments not refunded).
struct StarsDay {
  Timestamp day{};
  std::string plan;
  std::int64_t stars = 0;
};

// One invited user: recorded when a new user starts the bot through another user's /invite link,
// converted (both get `bonus_images`) when the invitee's first image succeeds.
struct Referral {
  UserId invitee = 0;
  UserId inviter = 0;
  Timestamp created_at{};
  std::optional<Timestamp> converted_at;
  int bonus_images = 0;  // what each of them got at conversion
};

// What a user's /invite and /me show.
struct ReferralSummary {
  int bonus_images = 0;  // the balance now
  int joined = 0;        // users who started the bot through their link
  int converted = 0;     // of them, those who made their first image
};

// A message from the operators to every reachable user, sent by the bot in user id order. The
// cursor makes it resumable: after a restart it goes on after the last user it handled.
struct Broadcast {
  std::int64_t id = 0;
  std::string text;
  UserId created_by = 0;  // the admin's Telegram id; 0 from the command line
  Timestamp created_at{};
  UserId cursor = 0;      // users with an id above this are still to get it
  std::int64_t sent = 0;
  std::int64_t failed = 0;
  std::optional<Timestamp> finished_at;
};

struct Image {
  std::string id;  // sha256 hex of the bytes
  std::string mime;
  std::int64_t size_bytes = 0;
  int width = 0;
  int height = 0;
  std::optional<std::string> telegram_file_id;
  Timestamp created_at{};
};

}  // namespace igb::core
