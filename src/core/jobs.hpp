#pragma once
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/margins.hpp"
#include "core/model.hpp"
#include "core/plans.hpp"
#include "core/prompt_policy.hpp"
#include "core/store.hpp"

namespace igb::core {

struct JobOptions {
  int max_attempts = 3;
  Millis lease = std::chrono::seconds(60);
  int max_prompt_bytes = 2000;
  int min_side = 256;
  int max_steps = 4;  // FLUX.1-schnell is distilled for 1–4 steps
  // Images all free-plan users together may start per UTC day (0: no limit). Paid plans are not
  // counted or held back. A job that fails still spent provider credit: nothing is given back.
  int free_daily_images = 1000;
  // The prompt blocklists (core/prompt_policy.hpp): the built-in ones unless PROMPT_POLICY_DIR names
  // a folder. Never null.
  std::shared_ptr<const PromptPolicy> policy = PromptPolicy::builtin();
  // Bonus images the inviter and the invited user each get when the invited user's first image
  // succeeds (REFERRAL_BONUS_IMAGES; 0 turns referrals off).
  int referral_bonus_images = 5;
  // What each provider charges (PROVIDER_PRICES): the cost recorded with each new image.
  PriceList prices;
  // The free plans' ceiling on today's (UTC) recorded provider spend, in micros (DAILY_SPEND_LIMIT_USD;
  // 0: none). Once reached, free-plan submissions are refused (spend_paused) until 00:00 UTC.
  std::int64_t daily_spend_limit_micros = 0;
};

struct SubmitRequest {
  UserId user = 0;
  JobParams params;
  int count = 1;  // images, one job each
  std::string source;
  std::string meta;
  std::optional<std::string> idempotency_key;
  // Which blocklists the prompt is checked against (usecases::Generation::submit): strict in a group
  // with safe mode on, base everywhere else.
  PolicyLevel policy = PolicyLevel::base;
};

struct SubmitOutcome {
  std::vector<Job> jobs;
  QuotaStatus quota;      // after the reservation
  bool replayed = false;  // the idempotency key was seen before: these are the first request's jobs
};

// The generation queue. Quota is reserved when jobs are queued, committed when one succeeds and
// released when one fails for good or is canceled: a user never pays for a failed image. Once the
// period's images are used up, a user's bonus images (referrals) pay for new jobs, one each. A job that
// fails for good counts instead against the plan's failed_attempts_per_period, in the transaction
// that ends it; at that limit new submissions are refused (too_many_failures) until the period ends.
// The key under which an exact repeat finds an earlier image: set only when the seed is explicit.
// The prompt is trimmed and its inner white space collapsed. Per user: the same prompt and seed
// from someone else must not hand them this user's picture.
std::optional<std::string> cache_key(UserId user, const JobParams& params);

class JobService {
 public:
  JobService(Store& store, const Clock& clock, const PlanCatalog& plans, JobOptions options = {})
      : store_(store), clock_(clock), plans_(plans), options_(options) {}

  // Validates against the user's plan, then reserves quota and queues, atomically.
  // Errors: invalid_argument (field_errors), not_found (user), forbidden (banned),
  // quota_exhausted, too_many_failures, too_many_jobs, free_paused, spend_paused.
  Result<SubmitOutcome> submit(const SubmitRequest& request);
  // Several submissions in one transaction (group commit), each with the outcome submit() would
  // give it; a refused one changes nothing. Throws (and commits nothing) on a database failure.
  std::vector<Result<SubmitOutcome>> submit_many(std::span<const SubmitRequest> requests);

  // The prompt policy's verdict on a prompt (nullopt: allowed). Pure: nothing is read or written.
  std::optional<PolicyHit> screen(std::string_view prompt, PolicyLevel level) const {
    return options_.policy->check(prompt, level);
  }
  // Records a blocked prompt, in one transaction: one more failed attempt of the user's period (the
  // budget of failed attempts, as a provider's refusal counts) and one more blocked prompt of the user
  // (what the admins see). Returns the refusal to answer with (prompt_blocked_error), or not_found /
  // forbidden for an unknown or banned user. Reserves nothing: a blocked prompt costs no image.
  Error refuse_prompt(UserId user, const PolicyHit& hit);

  std::optional<Job> claim(std::string_view worker);
  // Renews the lease and records progress; false means the job is no longer this worker's
  // (canceled, or re-claimed after the lease ran out): stop working on it.
  bool heartbeat(std::string_view job_id, std::string_view worker, int progress);
  // Records the image (content-addressed, so a repeat is harmless) and finishes the job with it.
  // seed_used: the seed the worker picked when the request had none, so the user can repeat it.
  // seed_applied = false: the provider could not take a seed. The job then records none (not even
  // the user's own, which was never applied) and drops its cache key, so it is never served as an
  // exact repeat.
  // `served`: the provider that made the image and the model; the job records them with the cost at
  // the configured price, and the day's running total (spend_daily) grows in the same transaction.
  Status succeed(std::string_view job_id, std::string_view worker, const Image& image,
                 std::optional<std::int64_t> seed_used = std::nullopt, bool seed_applied = true,
                 const ServedBy& served = {});
  // Finishes the job with the image of an earlier exact repeat (cached_image) and gives its
  // reservation back: nobody pays twice for a picture they already have.
  Status succeed_from_cache(std::string_view job_id, std::string_view worker, const Image& image);
  // A worker that stops (shutdown) gives its job back to the queue without counting the attempt.
  Status hand_back(std::string_view job_id, std::string_view worker);
  // An earlier result of exactly the same request (same model, prompt, size, steps, explicit seed,
  // style), if one exists.
  std::optional<Image> cached_image(const Job& job);
  // A failed attempt, recorded as `failure`. With retry_in and attempts left, the job is queued
  // again after that delay; otherwise it fails for good and its quota is released.
  Status fail(std::string_view job_id, std::string_view worker, FailureCode failure, std::optional<Millis> retry_in);
  // Cancels a queued or running job of `owner`. A queued job's quota is given back; a running one
  // keeps its charge (the provider call has started and is paid for; the worker stops it at its
  // next check): the value says whether the image was charged. A canceled job keeps no failure.
  Result<bool> cancel(std::string_view job_id, UserId owner);
  // Whether `worker` still holds the job: a read, for a worker that wants to hear of a cancel
  // before its next heartbeat.
  bool held_by(std::string_view job_id, std::string_view worker);
  // Puts running jobs whose lease has run out back in the queue, or fails those out of attempts
  // (FailureCode::interrupted).
  int reap_expired_leases(int limit = 100);

  // The job, if `owner` owns it (anyone else gets not_found, as if it did not exist).
  Result<Job> get(std::string_view job_id, UserId owner);
  struct JobView {
    Job job;
    int queue_position = 0;     // while queued
    std::optional<Image> image;  // once succeeded
  };
  // The job with its queue position and image, read in one transaction (the status endpoint).
  Result<JobView> view(std::string_view job_id, UserId owner);
  int queue_position(const Job& job);

  const JobOptions& options() const { return options_; }

  // Today's (UTC) recorded provider spend, in micros.
  std::int64_t spend_today();
  // Whether the admins should hear now that today's spend reached DAILY_SPEND_LIMIT_USD: true once a
  // day across every process on the database (a conditional upsert of the settings row
  // kSpendAlertKey claims the day); nullopt when there is no limit, it is not reached, or another
  // caller claimed today already.
  std::optional<SpendAlert> claim_spend_alert();

 private:
  std::vector<FieldError> validate(const SubmitRequest& request, const Plan& plan) const;
  // What one transaction's submissions know of a user: read, and the quota row locked, by the
  // user's first request; kept up to date by the next ones; the reservations written once, at the end.
  struct Submitter {
    std::optional<User> user;
    QuotaStatus quota;      // when the user exists and is not banned
    int reserved = 0;       // by this transaction, not yet written
    std::optional<int> bonus;  // the bonus balance, read under the quota row lock when first needed
    int bonus_spent = 0;       // by this transaction, not yet written
  };
  std::vector<Result<SubmitOutcome>> submit_all(Tx& tx, std::span<const SubmitRequest> requests, Timestamp now);
  // What one transaction's submissions share: today's spend, read once when a free request needs it.
  struct Batch {
    std::optional<std::int64_t> spend_today;
  };
  Result<SubmitOutcome> submit_one(Tx& tx, const SubmitRequest& request, Timestamp now, Submitter& who, Batch& batch);
  // A job's reservation ends: counted as used (a bonus job: the bonus image stays spent), or given
  // back (a bonus job: the bonus image too). Each happens once, in the job's own transaction.
  void commit_quota(Tx& tx, Job& job);
  void release_quota(Tx& tx, Job& job);
  void convert_referral(Tx& tx, UserId invitee, Timestamp now);

  Store& store_;
  const Clock& clock_;
  const PlanCatalog& plans_;
  JobOptions options_;
};

}  // namespace igb::core
