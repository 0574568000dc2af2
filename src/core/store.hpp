#pragma once
// The storage port: one transaction object that carries every repository operation, so a service can
// change several records atomically. SQLite and PostgreSQL implement it (src/storage).
// All calls block; drivers run them on the blocking pool, never on an I/O thread.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "core/model.hpp"

namespace igb::core {

enum class TxMode { read, write };

inline constexpr int kMaxQueuePosition = 1000;

class Tx {
 public:
  virtual ~Tx() = default;  // rolls back unless commit() was called
  virtual void commit() = 0;

  // Users
  // Inserts the user, or refreshes username and language of an existing one; returns the stored row.
  virtual User upsert_user(UserId id, std::string_view username, std::string_view language, Timestamp now) = 0;
  virtual std::optional<User> find_user(UserId id) = 0;
  virtual bool set_user_banned(UserId id, bool banned) = 0;
  virtual bool set_user_blocked_bot(UserId id, bool blocked) = 0;
  virtual bool set_user_language(UserId id, std::string_view language) = 0;
  virtual bool set_user_preferences(UserId id, std::string_view aspect_ratio, std::string_view style) = 0;
  virtual std::int64_t count_users() = 0;

  // API keys
  virtual void insert_api_key(const ApiKey& key) = 0;
  virtual std::optional<ApiKey> find_api_key_by_hash(std::string_view key_hash) = 0;
  virtual std::vector<ApiKey> api_keys_of(UserId user) = 0;
  virtual bool revoke_api_key(std::string_view key_id, Timestamp at) = 0;  // false if unknown or revoked

  // Subscriptions
  virtual std::int64_t insert_subscription(const Subscription& s) = 0;  // returns the new id
  virtual std::vector<Subscription> subscriptions_of(UserId user) = 0;   // newest period first
  virtual std::optional<Subscription> find_subscription(std::int64_t id) = 0;
  virtual bool set_subscription_status(std::int64_t id, SubscriptionStatus status) = 0;
  // Turning renewal off records who did (`stopped_by`); turning it on clears that.
  virtual bool set_subscription_auto_renew(std::int64_t id, bool auto_renew, RenewalStop stopped_by) = 0;

  // Payments ledger
  virtual bool insert_payment(const Payment& p) = 0;  // false if the charge id is recorded already
  virtual std::optional<Payment> find_payment(std::string_view charge_id, bool for_update) = 0;
  virtual void set_payment_subscription(std::string_view charge_id, std::int64_t subscription_id) = 0;
  virtual bool mark_payment_refunded(std::string_view charge_id, Timestamp at) = 0;  // false if it was already

  // Quota counters, one row per user and period
  // Returns the counter, creating it at zero if absent, and holds a row lock on it until the
  // transaction ends: the serialisation point for reservations of one user.
  virtual QuotaCounter lock_quota(UserId user, Timestamp period_start) = 0;
  virtual std::optional<QuotaCounter> find_quota(UserId user, Timestamp period_start) = 0;
  virtual void adjust_quota(UserId user, Timestamp period_start, int used_delta, int reserved_delta) = 0;
  // One more job of the period ended failed (the per-user budget of failed attempts).
  virtual void count_failed_attempt(UserId user, Timestamp period_start) = 0;
  // One more of the user's prompts refused (the prompt policy's block or a provider's refusal).
  virtual void count_prompt_refusal(UserId user, RefusalKind kind, Timestamp at) = 0;
  virtual std::optional<PromptRefusals> prompt_refusals_of(UserId user) = 0;
  // Adds `count` to the free-plan images of `day` if that keeps them at most `limit`; false (and no
  // change) otherwise. Holds the day's row until the transaction ends, so processes take turns.
  virtual bool take_free_images(Timestamp day, int count, int limit) = 0;

  // Jobs
  virtual void insert_job(const Job& job) = 0;
  virtual std::optional<Job> find_job(std::string_view id, bool for_update) = 0;
  virtual std::vector<Job> find_jobs_by_idempotency_key(UserId user, std::string_view key) = 0;
  virtual void update_job(const Job& job) = 0;  // writes every mutable field (the seed and cache key too)
  // The image of a succeeded job with this cache key, if any.
  virtual std::optional<Image> find_cached_image(std::string_view cache_key) = 0;
  virtual int count_active_jobs(UserId user) = 0;  // queued or running
  // Takes the queued job with the highest priority, then the oldest, whose run_after has come, marks
  // it running under `worker` until `lease_until` and counts the attempt. Concurrent claimers never
  // get the same job (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time).
  virtual std::optional<Job> claim_job(std::string_view worker, Timestamp now, Timestamp lease_until) = 0;
  // Extends a running job's lease if `worker` still holds it; false means the lease is lost.
  virtual bool renew_lease(std::string_view job_id, std::string_view worker, Timestamp lease_until, int progress,
                           Timestamp now) = 0;
  // Running jobs whose lease ended before `now`, locked for update (skipping ones others hold).
  virtual std::vector<Job> expired_leases(Timestamp now, int limit) = 0;
  // How many queued jobs would be claimed before this one, counted up to kMaxQueuePosition (that
  // figure means "that many or more"): the count reads every job ahead, so it is bounded.
  virtual int queue_position(const Job& job) = 0;
  virtual std::int64_t count_jobs(JobStatus status) = 0;
  virtual std::vector<Job> jobs_of(UserId user, int limit) = 0;  // newest first
  // Jobs with source "bot" whose outcome the bot has not shown yet, changed at or after `since`,
  // oldest change first.
  virtual std::vector<Job> undelivered_bot_jobs(Timestamp since, int limit) = 0;
  virtual bool set_job_delivered(std::string_view job_id, Timestamp at) = 0;  // false if it was already

  // Images (metadata; the bytes live in the image store)
  virtual void insert_image(const Image& image) = 0;  // no-op if the id exists
  virtual std::optional<Image> find_image(std::string_view id) = 0;
  // Whether one of the user's jobs produced this image.
  virtual bool image_owned_by(std::string_view image_id, UserId user) = 0;
  virtual bool set_image_file_id(std::string_view id, std::string_view file_id) = 0;

  // Notification log: true the first time (user, kind, ref) is recorded, false after.
  virtual bool record_notification(UserId user, std::string_view kind, std::string_view ref, Timestamp at) = 0;
  virtual bool has_notification(UserId user, std::string_view kind, std::string_view ref) = 0;
  // Active subscription periods ending in [from, to), by end.
  virtual std::vector<Subscription> subscriptions_ending(Timestamp from, Timestamp to) = 0;
  // Users with a job that succeeded in [from, to).
  virtual std::vector<UserId> users_with_images(Timestamp from, Timestamp to) = 0;

  // Margins (issue 17): running totals per UTC day and plan, kept in the transaction that ends a job
  // with a new image. `cost_micros` null: the provider has no price (counted as unpriced).
  virtual void add_spend(Timestamp day, std::string_view plan, std::optional<std::int64_t> cost_micros) = 0;
  // The recorded spend of the day, all plans: a primary-key range of a few rows (submit reads it).
  virtual std::int64_t spend_on(Timestamp day) = 0;
  // Days (and plans) from `from_day` on, and the Stars paid on them (not refunded), by day then plan.
  virtual std::vector<MarginRow> spend_since(Timestamp from_day) = 0;
  virtual std::vector<StarsDay> stars_since(Timestamp from_day) = 0;

  // Operators
  virtual Stats stats(Timestamp day_start, Timestamp month_start, Timestamp now) = 0;
  virtual std::int64_t insert_broadcast(const Broadcast& b) = 0;  // returns the new id
  virtual std::optional<Broadcast> next_broadcast() = 0;         // the oldest unfinished one
  virtual void update_broadcast(const Broadcast& b) = 0;          // cursor, counts, finished_at
  // Users neither banned nor blocking the bot, with an id above `after`, by id.
  virtual std::vector<User> reachable_users(UserId after, int limit) = 0;

  // The bot's inbox of Telegram updates: inserted when received, deleted when handled.
  virtual bool insert_inbox_update(const InboxUpdate& update) = 0;  // false if the id is there already
  virtual std::vector<InboxUpdate> inbox_updates(std::int64_t after_update_id, int limit) = 0;  // by id
  virtual void delete_inbox_update(std::int64_t update_id) = 0;

  // Referrals (issue 17)
  virtual std::optional<std::string> referral_code_of(UserId user) = 0;
  virtual std::optional<UserId> user_by_referral_code(std::string_view code) = 0;
  // false if the user has a code already or the code is taken (nothing changes then).
  virtual bool insert_referral_code(UserId user, std::string_view code, Timestamp now) = 0;
  // false if the invitee has an inviter already.
  virtual bool insert_referral(UserId invitee, UserId inviter, Timestamp now) = 0;
  // Marks the invitee's referral converted with `bonus_images`, if there is one not converted yet, and
  // returns it; nullopt otherwise. One conditional UPDATE: of racing transactions, one gets the row.
  virtual std::optional<Referral> convert_referral(UserId invitee, int bonus_images, Timestamp now) = 0;
  virtual int bonus_images(UserId user) = 0;
  virtual void add_bonus_images(UserId user, int delta) = 0;
  virtual ReferralSummary referral_summary(UserId user) = 0;
  // Referrals converted in [from, to), by conversion time.
  virtual std::vector<Referral> referrals_converted(Timestamp from, Timestamp to) = 0;

  // Small durable settings (the Telegram polling offset, …)
  virtual std::optional<std::string> get_setting(std::string_view key) = 0;
  virtual void put_setting(std::string_view key, std::string_view value) = 0;
  // Stores `value` under `key` unless the key has a value already; returns the value stored now
  // (this one, or the earlier one). Two transactions racing for one key agree on the first to commit.
  virtual std::string insert_setting_if_absent(std::string_view key, std::string_view value) = 0;
  // Stores `value` under `key` if the key is absent or its value sorts before `value` (meant for
  // fixed-width values such as ISO dates, whose order is the same under every collation);
  // true if this call stored it. One conditional upsert: of racing transactions, one stores it.
  virtual bool advance_setting(std::string_view key, std::string_view value) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::unique_ptr<Tx> begin(TxMode mode) = 0;
};

template <class T>
struct IsResult : std::false_type {};
template <class T>
struct IsResult<Result<T>> : std::true_type {};

// Runs fn(Tx&) in one transaction. Commits when fn returns, unless it returns a failed Result;
// rolls back on a failed Result or an exception.
template <class F>
auto transact(Store& store, TxMode mode, F&& fn) -> std::invoke_result_t<F, Tx&> {
  auto tx = store.begin(mode);
  using R = std::invoke_result_t<F, Tx&>;
  if constexpr (std::is_void_v<R>) {
    fn(*tx);
    tx->commit();
  } else {
    R r = fn(*tx);
    if constexpr (IsResult<R>::value) {
      if (!r.ok()) return r;
    }
    tx->commit();
    return r;
  }
}

}  // namespace igb::core
