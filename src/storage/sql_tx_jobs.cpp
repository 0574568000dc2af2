// Quota counters, jobs and images.
#include <algorithm>

#include "storage/sql_tx.hpp"

namespace igb::storage {
namespace {

#define IGB_JOB_COLS                                                                                         \
  "id, user_id, status, priority, attempts, max_attempts, lease_owner, lease_expires_at, run_after, "        \
  "progress, failure, prompt, width, height, steps, seed, style, model, image_id, quota_period_start, "      \
  "quota_state, source, meta, idempotency_key, created_at, started_at, finished_at, updated_at, cache_key, " \
  "bonus, plan, provider, served_model, cost_micros"

core::Job to_job(const Row& r) {
  auto status = core::job_status_from(r.text(2));
  auto quota_state = core::quota_state_from(r.text(20));
  if (!status || !quota_state) throw DbError(DbError::Kind::other, "bad job row " + r.text(0));
  core::Job j;
  j.id = r.text(0);
  j.user_id = r.i64(1);
  j.status = *status;
  j.priority = static_cast<int>(r.i64(3));
  j.attempts = static_cast<int>(r.i64(4));
  j.max_attempts = static_cast<int>(r.i64(5));
  j.lease_owner = r.opt_text(6);
  j.lease_expires_at = opt_ts(r, 7);
  j.run_after = ts(r, 8);
  j.progress = static_cast<int>(r.i64(9));
  // NULL or empty: no failure. A code this build does not know (written by a newer one) is still one.
  if (auto failure = r.opt_text(10); failure && !failure->empty()) {
    j.failure = core::failure_code_from(*failure).value_or(core::FailureCode::unavailable);
  }
  j.params = core::JobParams{.prompt = r.text(11),
                             .width = static_cast<int>(r.i64(12)),
                             .height = static_cast<int>(r.i64(13)),
                             .steps = static_cast<int>(r.i64(14)),
                             .seed = r.opt_i64(15),
                             .style = r.text(16),
                             .model = r.text(17)};
  j.image_id = r.opt_text(18);
  j.quota_period_start = ts(r, 19);
  j.quota_state = *quota_state;
  j.source = r.text(21);
  j.meta = r.text(22);
  j.idempotency_key = r.opt_text(23);
  j.created_at = ts(r, 24);
  j.started_at = opt_ts(r, 25);
  j.finished_at = opt_ts(r, 26);
  j.updated_at = ts(r, 27);
  j.cache_key = r.opt_text(28);
  j.bonus = r.i64(29) != 0;
  j.plan = r.text(30);
  j.provider = r.opt_text(31);
  j.served_model = r.opt_text(32);
  j.cost_micros = r.opt_i64(33);
  return j;
}

// jobs.failure (migration 0007) replaces public_error, an English sentence new rows leave empty.
SqlParam opt_failure(const std::optional<core::FailureCode>& f) {
  return f ? text(core::to_string(*f)) : SqlParam(nullptr);
}

std::vector<core::Job> to_jobs(const QueryResult& r) {
  std::vector<core::Job> out;
  out.reserve(r.rows.size());
  for (const auto& row : r.rows) out.push_back(to_job(row));
  return out;
}

}  // namespace

core::QuotaCounter SqlTx::lock_quota(core::UserId user, core::Timestamp period_start) {
  q("INSERT INTO quota_usage (user_id, period_start) VALUES ($1, $2) ON CONFLICT (user_id, period_start) DO NOTHING",
    {num(user), ms(period_start)});
  auto r = q(pg() ? "SELECT used, reserved, failed FROM quota_usage WHERE user_id = $1 AND period_start = $2 FOR UPDATE"
                  : "SELECT used, reserved, failed FROM quota_usage WHERE user_id = $1 AND period_start = $2",
             {num(user), ms(period_start)});
  const auto& row = r.rows.at(0);
  return core::QuotaCounter{.user_id = user,
                            .period_start = period_start,
                            .used = static_cast<int>(row.i64(0)),
                            .reserved = static_cast<int>(row.i64(1)),
                            .failed = static_cast<int>(row.i64(2))};
}

std::optional<core::QuotaCounter> SqlTx::find_quota(core::UserId user, core::Timestamp period_start) {
  auto r = q("SELECT used, reserved, failed FROM quota_usage WHERE user_id = $1 AND period_start = $2",
             {num(user), ms(period_start)});
  if (r.rows.empty()) return std::nullopt;
  return core::QuotaCounter{.user_id = user,
                            .period_start = period_start,
                            .used = static_cast<int>(r.rows[0].i64(0)),
                            .reserved = static_cast<int>(r.rows[0].i64(1)),
                            .failed = static_cast<int>(r.rows[0].i64(2))};
}

void SqlTx::adjust_quota(core::UserId user, core::Timestamp period_start, int used_delta, int reserved_delta) {
  // The row exists: reservations create it. An upsert keeps this safe if one day it does not.
  q("INSERT INTO quota_usage (user_id, period_start, used, reserved) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (user_id, period_start) DO UPDATE SET used = quota_usage.used + excluded.used, "
    "reserved = quota_usage.reserved + excluded.reserved",
    {num(user), ms(period_start), num(used_delta), num(reserved_delta)});
}

void SqlTx::count_failed_attempt(core::UserId user, core::Timestamp period_start) {
  q("INSERT INTO quota_usage (user_id, period_start, failed) VALUES ($1, $2, 1) "
    "ON CONFLICT (user_id, period_start) DO UPDATE SET failed = quota_usage.failed + 1",
    {num(user), ms(period_start)});
}

void SqlTx::count_prompt_refusal(core::UserId user, core::RefusalKind kind, core::Timestamp at) {
  const bool blocked = kind == core::RefusalKind::blocked;
  q("INSERT INTO prompt_refusals (user_id, blocked, refused, last_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (user_id) DO UPDATE SET blocked = prompt_refusals.blocked + excluded.blocked, "
    "refused = prompt_refusals.refused + excluded.refused, last_at = excluded.last_at",
    {num(user), num(blocked ? 1 : 0), num(blocked ? 0 : 1), ms(at)});
}

std::optional<core::PromptRefusals> SqlTx::prompt_refusals_of(core::UserId user) {
  auto r = q("SELECT user_id, blocked, refused, last_at FROM prompt_refusals WHERE user_id = $1", {num(user)});
  if (r.rows.empty()) return std::nullopt;
  const auto& row = r.rows[0];
  return core::PromptRefusals{.user = row.i64(0), .blocked = row.i64(1), .refused = row.i64(2), .last_at = ts(row, 3)};
}

bool SqlTx::take_free_images(core::Timestamp day, int count, int limit) {
  q("INSERT INTO free_budget (day, images) VALUES ($1, 0) ON CONFLICT (day) DO NOTHING", {ms(day)});
  return q("UPDATE free_budget SET images = images + $2 WHERE day = $1 AND images + $2 <= $3",
           {ms(day), num(count), num(limit)})
             .affected == 1;
}

void SqlTx::insert_job(const core::Job& j) {
  if (j.status == core::JobStatus::queued) queued_job_ = true;
  changed_jobs_.push_back(j.id);
  q("INSERT INTO jobs (" IGB_JOB_COLS
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, "
    "$16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, $34)",
    {text(j.id),
     num(j.user_id),
     text(core::to_string(j.status)),
     num(j.priority),
     num(j.attempts),
     num(j.max_attempts),
     opt_text(j.lease_owner),
     opt_ms(j.lease_expires_at),
     ms(j.run_after),
     num(j.progress),
     opt_failure(j.failure),
     text(j.params.prompt),
     num(j.params.width),
     num(j.params.height),
     num(j.params.steps),
     j.params.seed ? num(*j.params.seed) : SqlParam(nullptr),
     text(j.params.style),
     text(j.params.model),
     opt_text(j.image_id),
     ms(j.quota_period_start),
     text(core::to_string(j.quota_state)),
     text(j.source),
     text(j.meta),
     opt_text(j.idempotency_key),
     ms(j.created_at),
     opt_ms(j.started_at),
     opt_ms(j.finished_at),
     ms(j.updated_at),
     opt_text(j.cache_key),
     num(j.bonus),
     text(j.plan),
     opt_text(j.provider),
     opt_text(j.served_model),
     j.cost_micros ? num(*j.cost_micros) : SqlParam(nullptr)});
}

std::optional<core::Job> SqlTx::find_job(std::string_view id, bool for_update) {
  auto r = q(for_update && pg() ? "SELECT " IGB_JOB_COLS " FROM jobs WHERE id = $1 FOR UPDATE"
                                : "SELECT " IGB_JOB_COLS " FROM jobs WHERE id = $1",
             {text(id)});
  if (r.rows.empty()) return std::nullopt;
  return to_job(r.rows[0]);
}

std::vector<core::Job> SqlTx::find_jobs_by_idempotency_key(core::UserId user, std::string_view key) {
  return to_jobs(q("SELECT " IGB_JOB_COLS " FROM jobs WHERE user_id = $1 AND idempotency_key = $2 "
                   "ORDER BY created_at, id",
                   {num(user), text(key)}));
}

void SqlTx::update_job(const core::Job& j) {
  if (j.status == core::JobStatus::queued) queued_job_ = true;
  changed_jobs_.push_back(j.id);
  q("UPDATE jobs SET status = $2, attempts = $3, lease_owner = $4, lease_expires_at = $5, run_after = $6, "
    "progress = $7, failure = $8, image_id = $9, quota_state = $10, meta = $11, started_at = $12, "
    "finished_at = $13, updated_at = $14, seed = $15, cache_key = $16, provider = $17, served_model = $18, "
    "cost_micros = $19 WHERE id = $1",
    {text(j.id), text(core::to_string(j.status)), num(j.attempts), opt_text(j.lease_owner), opt_ms(j.lease_expires_at),
     ms(j.run_after), num(j.progress), opt_failure(j.failure), opt_text(j.image_id),
     text(core::to_string(j.quota_state)), text(j.meta), opt_ms(j.started_at), opt_ms(j.finished_at), ms(j.updated_at),
     j.params.seed ? num(*j.params.seed) : SqlParam(nullptr), opt_text(j.cache_key), opt_text(j.provider),
     opt_text(j.served_model), j.cost_micros ? num(*j.cost_micros) : SqlParam(nullptr)});
}

std::optional<core::Image> SqlTx::find_cached_image(std::string_view cache_key) {
  auto r = q("SELECT image_id FROM jobs WHERE cache_key = $1 AND status = 'succeeded' LIMIT 1", {text(cache_key)});
  if (r.rows.empty() || r.rows[0].is_null(0)) return std::nullopt;
  return find_image(r.rows[0].text(0));
}

int SqlTx::count_active_jobs(core::UserId user) {
  auto r = q("SELECT COUNT(*) FROM jobs WHERE user_id = $1 AND status IN ('queued', 'running')", {num(user)});
  return static_cast<int>(r.rows.at(0).i64(0));
}

std::optional<core::Job> SqlTx::claim_job(std::string_view worker, core::Timestamp now, core::Timestamp lease_until) {
#define IGB_CLAIM(LOCK)                                                                                    \
  "UPDATE jobs SET status = 'running', lease_owner = $1, lease_expires_at = $2, attempts = attempts + 1, " \
  "started_at = COALESCE(started_at, $3), updated_at = $3 WHERE id = (SELECT id FROM jobs "                \
  "WHERE status = 'queued' AND run_after <= $3 ORDER BY priority DESC, created_at, id LIMIT 1" LOCK        \
  ") "                                                                                                     \
  "RETURNING " IGB_JOB_COLS
  auto r = q(pg() ? IGB_CLAIM(" FOR UPDATE SKIP LOCKED") : IGB_CLAIM(""), {text(worker), ms(lease_until), ms(now)});
#undef IGB_CLAIM
  if (r.rows.empty()) return std::nullopt;
  auto job = to_job(r.rows[0]);
  changed_jobs_.push_back(job.id);
  return job;
}

bool SqlTx::renew_lease(std::string_view job_id, std::string_view worker, core::Timestamp lease_until, int progress,
                        core::Timestamp now) {
  const bool renewed = q("UPDATE jobs SET lease_expires_at = $3, progress = $4, updated_at = $5 "
                         "WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                         {text(job_id), text(worker), ms(lease_until), num(progress), ms(now)})
                           .affected == 1;
  if (renewed) changed_jobs_.emplace_back(job_id);
  return renewed;
}

std::vector<core::Job> SqlTx::expired_leases(core::Timestamp now, int limit) {
#define IGB_EXPIRED(LOCK) \
  "SELECT " IGB_JOB_COLS  \
  " FROM jobs WHERE status = 'running' AND lease_expires_at < $1 ORDER BY lease_expires_at LIMIT $2" LOCK
  return to_jobs(q(pg() ? IGB_EXPIRED(" FOR UPDATE SKIP LOCKED") : IGB_EXPIRED(""), {ms(now), num(limit)}));
#undef IGB_EXPIRED
}

int SqlTx::queue_position(const core::Job& job) {
  // Three ranges of the queue index (priority DESC, created_at, id) instead of one OR, so each count
  // reads only the jobs ahead, and at most kMaxQueuePosition of them: one status read stays cheap
  // however long the queue grows.
  static constexpr const char* kAhead =
      "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status = 'queued' AND priority > $1 LIMIT $4) a)"
      " + (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status = 'queued' AND priority = $1 AND created_at < $2"
      " LIMIT $4) b)"
      " + (SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE status = 'queued' AND priority = $1 AND created_at = $2"
      " AND id < $3 LIMIT $4) c)";
  auto r = q(kAhead, {num(job.priority), ms(job.created_at), text(job.id), num(core::kMaxQueuePosition)});
  return static_cast<int>(std::min<std::int64_t>(r.rows.at(0).i64(0), core::kMaxQueuePosition));
}

std::int64_t SqlTx::count_jobs(core::JobStatus status) {
  return q("SELECT COUNT(*) FROM jobs WHERE status = $1", {text(core::to_string(status))}).rows.at(0).i64(0);
}

std::vector<core::Job> SqlTx::jobs_of(core::UserId user, int limit) {
  return to_jobs(q("SELECT " IGB_JOB_COLS " FROM jobs WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                   {num(user), num(limit)}));
}

std::vector<core::Job> SqlTx::undelivered_bot_jobs(core::Timestamp since, int limit) {
  return to_jobs(q("SELECT " IGB_JOB_COLS " FROM jobs WHERE source = 'bot' AND delivered_at IS NULL "
                   "AND updated_at >= $1 ORDER BY updated_at, id LIMIT $2",
                   {ms(since), num(limit)}));
}

bool SqlTx::set_job_delivered(std::string_view job_id, core::Timestamp at) {
  return q("UPDATE jobs SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL", {text(job_id), ms(at)})
             .affected == 1;
}

void SqlTx::insert_image(const core::Image& i) {
  q("INSERT INTO images (id, mime, size_bytes, width, height, telegram_file_id, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    {text(i.id), text(i.mime), num(i.size_bytes), num(i.width), num(i.height), opt_text(i.telegram_file_id),
     ms(i.created_at)});
}

std::optional<core::Image> SqlTx::find_image(std::string_view id) {
  auto r = q("SELECT id, mime, size_bytes, width, height, telegram_file_id, created_at FROM images WHERE id = $1",
             {text(id)});
  if (r.rows.empty()) return std::nullopt;
  const auto& row = r.rows[0];
  return core::Image{.id = row.text(0),
                     .mime = row.text(1),
                     .size_bytes = row.i64(2),
                     .width = static_cast<int>(row.i64(3)),
                     .height = static_cast<int>(row.i64(4)),
                     .telegram_file_id = row.opt_text(5),
                     .created_at = ts(row, 6)};
}

bool SqlTx::image_owned_by(std::string_view image_id, core::UserId user) {
  return !q("SELECT 1 FROM jobs WHERE user_id = $1 AND image_id = $2 LIMIT 1", {num(user), text(image_id)})
              .rows.empty();
}

bool SqlTx::set_image_file_id(std::string_view id, std::string_view file_id) {
  return q("UPDATE images SET telegram_file_id = $2 WHERE id = $1", {text(id), text(file_id)}).affected == 1;
}

}  // namespace igb::storage
