#pragma once
// The one implementation of core::Tx over a Connection, shared by SQLite and PostgreSQL. The few
// dialect differences (row locks) are spelled out where they occur.
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/store.hpp"
#include "storage/pool.hpp"

namespace igb::storage {

class SqlTx final : public core::Tx {
 public:
  // Told, after a commit, which jobs the transaction wrote (see StoreOptions::on_jobs_changed).
  using JobsChanged = std::function<void(const std::vector<std::string>& job_ids)>;
  // `writer` is held for the whole transaction (SQLite write transactions of this process).
  SqlTx(ConnectionPool::Lease conn, core::TxMode mode, std::unique_lock<std::mutex> writer = {},
        const JobsChanged* jobs_changed = nullptr);
  ~SqlTx() override;
  void commit() override;

  core::User upsert_user(core::UserId id, std::string_view username, std::string_view language,
                         core::Timestamp now) override;
  std::optional<core::User> find_user(core::UserId id) override;
  bool set_user_banned(core::UserId id, bool banned) override;
  bool set_user_blocked_bot(core::UserId id, bool blocked) override;
  bool set_user_language(core::UserId id, std::string_view language) override;
  bool set_user_preferences(core::UserId id, std::string_view aspect_ratio, std::string_view style) override;
  std::int64_t count_users() override;

  void insert_api_key(const core::ApiKey& key) override;
  std::optional<core::ApiKey> find_api_key_by_hash(std::string_view key_hash) override;
  std::vector<core::ApiKey> api_keys_of(core::UserId user) override;
  bool revoke_api_key(std::string_view key_id, core::Timestamp at) override;

  std::int64_t insert_subscription(const core::Subscription& s) override;
  std::vector<core::Subscription> subscriptions_of(core::UserId user) override;
  std::optional<core::Subscription> find_subscription(std::int64_t id) override;
  bool set_subscription_status(std::int64_t id, core::SubscriptionStatus status) override;
  bool set_subscription_auto_renew(std::int64_t id, bool auto_renew, core::RenewalStop stopped_by) override;

  bool insert_payment(const core::Payment& p) override;
  std::optional<core::Payment> find_payment(std::string_view charge_id, bool for_update) override;
  void set_payment_subscription(std::string_view charge_id, std::int64_t subscription_id) override;
  bool mark_payment_refunded(std::string_view charge_id, core::Timestamp at) override;

  core::QuotaCounter lock_quota(core::UserId user, core::Timestamp period_start) override;
  std::optional<core::QuotaCounter> find_quota(core::UserId user, core::Timestamp period_start) override;
  void adjust_quota(core::UserId user, core::Timestamp period_start, int used_delta, int reserved_delta) override;
  void count_failed_attempt(core::UserId user, core::Timestamp period_start) override;
  void count_prompt_refusal(core::UserId user, core::RefusalKind kind, core::Timestamp at) override;
  std::optional<core::PromptRefusals> prompt_refusals_of(core::UserId user) override;
  bool take_free_images(core::Timestamp day, int count, int limit) override;

  void insert_job(const core::Job& job) override;
  std::optional<core::Job> find_job(std::string_view id, bool for_update) override;
  std::vector<core::Job> find_jobs_by_idempotency_key(core::UserId user, std::string_view key) override;
  void update_job(const core::Job& job) override;
  std::optional<core::Image> find_cached_image(std::string_view cache_key) override;
  int count_active_jobs(core::UserId user) override;
  std::optional<core::Job> claim_job(std::string_view worker, core::Timestamp now,
                                     core::Timestamp lease_until) override;
  bool renew_lease(std::string_view job_id, std::string_view worker, core::Timestamp lease_until, int progress,
                   core::Timestamp now) override;
  std::vector<core::Job> expired_leases(core::Timestamp now, int limit) override;
  int queue_position(const core::Job& job) override;
  std::int64_t count_jobs(core::JobStatus status) override;
  std::vector<core::Job> jobs_of(core::UserId user, int limit) override;
  std::vector<core::Job> undelivered_bot_jobs(core::Timestamp since, int limit) override;
  bool set_job_delivered(std::string_view job_id, core::Timestamp at) override;

  void insert_image(const core::Image& image) override;
  std::optional<core::Image> find_image(std::string_view id) override;
  bool image_owned_by(std::string_view image_id, core::UserId user) override;
  bool set_image_file_id(std::string_view id, std::string_view file_id) override;

  bool record_notification(core::UserId user, std::string_view kind, std::string_view ref, core::Timestamp at) override;
  bool has_notification(core::UserId user, std::string_view kind, std::string_view ref) override;
  std::vector<core::Subscription> subscriptions_ending(core::Timestamp from, core::Timestamp to) override;
  std::vector<core::UserId> users_with_images(core::Timestamp from, core::Timestamp to) override;
  core::Stats stats(core::Timestamp day_start, core::Timestamp month_start, core::Timestamp now) override;
  std::int64_t insert_broadcast(const core::Broadcast& b) override;
  std::optional<core::Broadcast> next_broadcast() override;
  void update_broadcast(const core::Broadcast& b) override;
  std::vector<core::User> reachable_users(core::UserId after, int limit) override;
  bool insert_inbox_update(const core::InboxUpdate& update) override;
  std::vector<core::InboxUpdate> inbox_updates(std::int64_t after_update_id, int limit) override;
  void delete_inbox_update(std::int64_t update_id) override;
  std::optional<std::string> get_setting(std::string_view key) override;
  void put_setting(std::string_view key, std::string_view value) override;
  std::string insert_setting_if_absent(std::string_view key, std::string_view value) override;
  bool advance_setting(std::string_view key, std::string_view value) override;

  void add_spend(core::Timestamp day, std::string_view plan, std::optional<std::int64_t> cost_micros) override;
  std::int64_t spend_on(core::Timestamp day) override;
  std::vector<core::MarginRow> spend_since(core::Timestamp from_day) override;
  std::vector<core::StarsDay> stars_since(core::Timestamp from_day) override;

  std::optional<std::string> referral_code_of(core::UserId user) override;
  std::optional<core::UserId> user_by_referral_code(std::string_view code) override;
  bool insert_referral_code(core::UserId user, std::string_view code, core::Timestamp now) override;
  bool insert_referral(core::UserId invitee, core::UserId inviter, core::Timestamp now) override;
  std::optional<core::Referral> convert_referral(core::UserId invitee, int bonus_images, core::Timestamp now) override;
  int bonus_images(core::UserId user) override;
  void add_bonus_images(core::UserId user, int delta) override;
  core::ReferralSummary referral_summary(core::UserId user) override;
  std::vector<core::Referral> referrals_converted(core::Timestamp from, core::Timestamp to) override;

 private:
  bool pg() const { return dialect_ == Dialect::postgres; }
  // " FOR UPDATE" on PostgreSQL when asked; SQLite's write transaction already excludes other writers.
  const char* row_lock(bool for_update) const { return for_update && pg() ? " FOR UPDATE" : ""; }
  QueryResult q(std::string_view sql, std::initializer_list<SqlParam> params = {}) { return conn_->query(sql, params); }

  std::unique_lock<std::mutex> writer_;  // released after the connection has ended the transaction
  ConnectionPool::Lease conn_;
  Dialect dialect_;
  bool done_ = false;
  bool queued_job_ = false;  // a job became queued: PostgreSQL notifies kJobsChannel on commit
  // Jobs written (status, progress, lease): PostgreSQL notifies kJobChangesChannel with their ids on
  // commit, and `jobs_changed_` hears of them after it.
  std::vector<std::string> changed_jobs_;
  const JobsChanged* jobs_changed_ = nullptr;
};

// Parameter helpers shared by the SqlTx files.
inline SqlParam ms(core::Timestamp t) { return core::to_unix_ms(t); }
inline SqlParam opt_ms(const std::optional<core::Timestamp>& t) {
  return t ? SqlParam(core::to_unix_ms(*t)) : SqlParam(nullptr);
}
inline SqlParam opt_text(const std::optional<std::string>& s) { return s ? SqlParam(*s) : SqlParam(nullptr); }
inline SqlParam text(std::string_view s) { return std::string(s); }
inline SqlParam num(std::int64_t v) { return v; }
inline core::Timestamp ts(const Row& r, std::size_t i) { return core::from_unix_ms(r.i64(i)); }
inline std::optional<core::Timestamp> opt_ts(const Row& r, std::size_t i) {
  if (r.is_null(i)) return std::nullopt;
  return core::from_unix_ms(r.i64(i));
}
// A statement from pieces (a column list spelled once per table): `static const` at the call site.
inline std::string join_sql(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s += p;
  return s;
}

}  // namespace igb::storage
