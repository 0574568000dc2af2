#include "core/jobs.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include "core/quota.hpp"
#include "core/styles.hpp"
#include "util/crypto.hpp"
#include "util/strings.hpp"

namespace igb::core {
namespace {

// "j" + 12 hex digits of the Unix time in ms + 12 random hex digits (48 bits): unguessable enough to
// not be enumerated (ownership is checked anyway), and in time order, so each insert lands at the
// end of the id index instead of on a random page (fewer dirty pages per commit, less WAL to write
// and checkpoint).
std::string new_job_id(Timestamp now) {
  char stamp[16];
  std::snprintf(stamp, sizeof stamp, "%012llx", static_cast<unsigned long long>(to_unix_ms(now)) & 0xffffffffffffULL);
  std::string id = "j";
  id.append(stamp, 12);
  id += util::random_id_hex(6);
  return id;
}

}  // namespace

std::vector<FieldError> JobService::validate(const SubmitRequest& r, const Plan& plan) const {
  std::vector<FieldError> errors;
  auto add = [&](std::string field, std::string msg, std::string type) {
    errors.push_back(FieldError{std::move(field), std::move(msg), std::move(type)});
  };
  const auto& p = r.params;
  auto prompt = util::trim(p.prompt);
  if (prompt.empty()) {
    add("prompt", "must not be empty", "value_error.missing");
  } else if (!util::is_valid_utf8(p.prompt)) {
    add("prompt", "must be valid UTF-8", "value_error.encoding");
  } else if (std::any_of(p.prompt.begin(), p.prompt.end(), [](char ch) {
               const auto c = static_cast<unsigned char>(ch);
               return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
             })) {
    // NUL among them: PostgreSQL ends text at it, so the stored prompt would differ from the one checked.
    add("prompt", "must not contain control characters", "value_error.control_characters");
  } else if (static_cast<int>(p.prompt.size()) > options_.max_prompt_bytes) {
    add("prompt", "must be at most " + std::to_string(options_.max_prompt_bytes) + " bytes", "value_error.too_long");
  }
  bool sides_ok = true;
  for (auto [name, side] : {std::pair{"width", p.width}, std::pair{"height", p.height}}) {
    sides_ok = sides_ok && side >= options_.min_side && side <= plan.max_side && side % 16 == 0;
    if (side < options_.min_side || side > plan.max_side) {
      add(name,
          "must be between " + std::to_string(options_.min_side) + " and " + std::to_string(plan.max_side) +
              " on the " + plan.id + " plan",
          "value_error.range");
    } else if (side % 16 != 0) {
      add(name, "must be a multiple of 16", "value_error.multiple_of");
    }
  }
  if (sides_ok && static_cast<long long>(p.width) * p.height > plan.max_pixels) {
    add("width", "width × height exceeds " + std::to_string(plan.max_pixels) + " pixels on the " + plan.id + " plan",
        "value_error.too_large");
  }
  if (p.steps < 1 || p.steps > options_.max_steps) {
    add("steps", "must be between 1 and " + std::to_string(options_.max_steps), "value_error.range");
  }
  if (p.seed && (*p.seed < 0 || *p.seed > 4294967295LL)) {
    add("seed", "must be between 0 and 4294967295", "value_error.range");
  }
  if (p.model.size() > 128 ||
      p.model.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") !=
          std::string::npos) {
    add("model", "must be a model id like owner/name", "value_error.format");
  }
  if (!p.style.empty() && find_style(p.style) == nullptr) {
    std::string names;
    for (const auto& st : kStyles) names += (names.empty() ? "" : ", ") + std::string(st.name);
    add("style", "must be one of: " + names, "value_error.enum");
  }
  if (r.count < 1 || r.count > plan.images_per_request) {
    add("n", "must be between 1 and " + std::to_string(plan.images_per_request) + " on the " + plan.id + " plan",
        "value_error.range");
  }
  if (r.idempotency_key && (r.idempotency_key->empty() || r.idempotency_key->size() > 128)) {
    add("idempotency_key", "must be 1 to 128 characters", "value_error.length");
  }
  return errors;
}

std::optional<std::string> cache_key(UserId user, const JobParams& p) {
  if (!p.seed) return std::nullopt;  // without an explicit seed every generation is new
  std::string prompt;
  bool space = false;
  for (char c : util::trim(p.prompt)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !prompt.empty()) prompt += ' ';
    space = false;
    prompt += c;
  }
  return util::sha256_hex(std::to_string(user) + '\n' + p.model + '\n' + prompt + '\n' + std::to_string(p.width) + 'x' +
                          std::to_string(p.height) + '\n' + std::to_string(p.steps) + '\n' + std::to_string(*p.seed) +
                          '\n' + p.style);
}

Result<SubmitOutcome> JobService::submit(const SubmitRequest& r) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) { return std::move(submit_all(tx, {&r, 1}, now).front()); });
}

std::vector<Result<SubmitOutcome>> JobService::submit_many(std::span<const SubmitRequest> requests) {
  auto tx = store_.begin(TxMode::write);
  auto out = submit_all(*tx, requests, clock_.now());
  tx->commit();
  return out;
}

// No savepoint per request: submit_one refuses before its first write (see there), so a refused
// request leaves no trace and the others stay. Savepoints cost SQLite a sub-journal copy of every
// page a request touched, and reading the user, the subscriptions and the quota row again for each
// request of a user cost as much as inserting the job: both showed in profiles of POST /v1/generate.
std::vector<Result<SubmitOutcome>> JobService::submit_all(Tx& tx, std::span<const SubmitRequest> requests,
                                                          Timestamp now) {
  std::vector<Result<SubmitOutcome>> out;
  out.reserve(requests.size());
  std::vector<std::pair<UserId, Submitter>> users;  // a batch has few users: a linear search is fine
  Batch batch;
  for (const auto& r : requests) {
    auto it = std::find_if(users.begin(), users.end(), [&](const auto& u) { return u.first == r.user; });
    if (it == users.end()) {
      Submitter who;
      who.user = tx.find_user(r.user);
      // The counter's row lock serialises this user's submissions, so the checks cannot race.
      if (who.user && !who.user->banned) who.quota = resolve_quota(tx, plans_, r.user, now, /*lock=*/true);
      users.emplace_back(r.user, std::move(who));
      it = std::prev(users.end());
    }
    out.push_back(submit_one(tx, r, now, it->second, batch));
  }
  for (const auto& [id, who] : users) {
    if (who.reserved > 0) tx.adjust_quota(id, who.quota.period_start, 0, who.reserved);
    if (who.bonus_spent > 0) tx.add_bonus_images(id, -who.bonus_spent);
  }
  return out;
}

// Every refusal returns before the first write (the jobs; the reservation is written by
// submit_all), which is what lets a batch go without savepoints.
Result<SubmitOutcome> JobService::submit_one(Tx& tx, const SubmitRequest& r, Timestamp now, Submitter& who,
                                             Batch& batch) {
  if (!who.user) return make_error(ErrorCode::not_found, "no such user");
  if (who.user->banned) return make_error(ErrorCode::forbidden, "this account is suspended");
  const QuotaStatus& quota = who.quota;
  if (r.idempotency_key) {
    auto earlier = tx.find_jobs_by_idempotency_key(r.user, *r.idempotency_key);
    if (!earlier.empty()) return SubmitOutcome{std::move(earlier), quota, true};
  }
  auto errors = validate(r, quota.plan);
  if (!errors.empty()) {
    Error e = make_error(ErrorCode::invalid_argument, "the request has invalid fields");
    e.field_errors = std::move(errors);
    return e;
  }
  // Nobody pays twice for a picture they already have: an exact repeat (explicit seed) of one of the
  // user's own finished images is served from the cache by the worker, so it reserves nothing and
  // passes the checks that guard images and provider credit (quota, failed budget, free day budget).
  // Only the in-flight limit applies. Should the cached file have gone missing, the worker makes the
  // image again, once, without charging: it was the user's already.
  const auto key = cache_key(r.user, r.params);
  const bool repeat = key && tx.find_cached_image(*key);
  // The period's images first, then bonus images (referrals) for what they do not cover. The balance
  // is read under the quota row lock, which every spender of it holds (submissions of this user).
  int from_bonus = 0;
  if (!repeat && quota.remaining() < r.count) {
    from_bonus = r.count - quota.remaining();
    if (!who.bonus) who.bonus = tx.bonus_images(r.user);
    if (*who.bonus - who.bonus_spent < from_bonus) {
      Error e = make_error(ErrorCode::quota_exhausted, "no images left in this period");
      e.retry_after = std::chrono::duration_cast<Millis>(quota.resets_at - now);
      return e;
    }
  }
  // Failed attempts spent provider credit but no quota: without a budget of their own, prompts the
  // provider refuses could be sent again and again. Jobs already in flight when the budget is
  // reached may still fail, so a user can end at most max_concurrent_jobs - 1 over it.
  if (!repeat && quota.failed_limit > 0 && quota.failed >= quota.failed_limit) {
    Error e = make_error(ErrorCode::too_many_failures,
                         "too many failed generations in this period: the " + quota.plan.id + " plan allows " +
                             std::to_string(quota.failed_limit) + " (failed_attempts_per_period)");
    e.retry_after = std::chrono::duration_cast<Millis>(quota.resets_at - now);
    return e;
  }
  // Every queued or running job of this period holds one reservation, so `reserved` is the number
  // of jobs in flight: no need to count them. (Jobs still in flight from the previous period are
  // not included: right after the period turns, a user may briefly run that many more.)
  if (quota.reserved + r.count > quota.plan.max_concurrent_jobs) {
    Error e = make_error(ErrorCode::too_many_jobs, "too many generations in progress; the plan allows " +
                                                       std::to_string(quota.plan.max_concurrent_jobs) + " at a time");
    e.retry_after = std::chrono::seconds(5);
    return e;
  }
  const Timestamp day = std::chrono::floor<std::chrono::days>(now);
  // The free plans' spend ceiling: a read of today's few spend_daily rows, once per batch (and only
  // when a free request comes). Paid plans go on. Jobs in flight when it is reached still finish, so
  // the day may end a few images over it.
  if (!repeat && !on_sale(quota.plan) && options_.daily_spend_limit_micros > 0) {
    if (!batch.spend_today) batch.spend_today = tx.spend_on(day);
    if (*batch.spend_today >= options_.daily_spend_limit_micros) {
      Error e = make_error(ErrorCode::spend_paused,
                           "free generations are paused until 00:00 UTC (the service's daily spending limit is "
                           "reached); paid plans are not affected");
      e.retry_after = std::chrono::duration_cast<Millis>(day + std::chrono::hours(24) - now);
      return e;
    }
  }
  // The last refusal, and the first write when it passes (a refused request leaves no trace: the
  // day's row, if it had to be made, holds nothing of it).
  if (!repeat && !on_sale(quota.plan) && options_.free_daily_images > 0) {
    if (!tx.take_free_images(day, r.count, options_.free_daily_images)) {
      Error e = make_error(ErrorCode::free_paused,
                           "free generations are paused until 00:00 UTC; paid plans are not affected");
      e.retry_after = std::chrono::duration_cast<Millis>(day + std::chrono::hours(24) - now);
      return e;
    }
  }
  SubmitOutcome out;
  for (int i = 0; i < r.count; ++i) {
    Job job;
    job.id = new_job_id(now);
    job.user_id = r.user;
    job.priority = quota.plan.priority;
    job.max_attempts = options_.max_attempts;
    job.run_after = now;
    job.params = r.params;
    job.quota_period_start = quota.period_start;
    job.source = r.source;
    job.meta = r.meta;
    job.idempotency_key = r.idempotency_key;
    job.cache_key = key;
    job.bonus = i >= r.count - from_bonus;  // the last ones, past what the period covers
    job.plan = quota.plan.id;
    if (repeat) job.quota_state = QuotaState::released;  // holds no reservation: see above
    job.created_at = job.updated_at = now;
    tx.insert_job(job);
    out.jobs.push_back(std::move(job));
  }
  if (repeat) {
    out.quota = quota;
    return out;
  }
  who.reserved += r.count;
  who.quota.reserved += r.count;
  who.bonus_spent += from_bonus;
  out.quota = quota;
  return out;
}

std::optional<Job> JobService::claim(std::string_view worker) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) { return tx.claim_job(worker, now, now + options_.lease); });
}

bool JobService::heartbeat(std::string_view job_id, std::string_view worker, int progress) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write,
                  [&](Tx& tx) { return tx.renew_lease(job_id, worker, now + options_.lease, progress, now); });
}

void JobService::commit_quota(Tx& tx, Job& job) {
  if (job.quota_state != QuotaState::reserved) return;
  tx.adjust_quota(job.user_id, job.quota_period_start, job.bonus ? 0 : 1, -1);
  job.quota_state = QuotaState::committed;
}

void JobService::release_quota(Tx& tx, Job& job) {
  if (job.quota_state != QuotaState::reserved) return;
  tx.adjust_quota(job.user_id, job.quota_period_start, 0, -1);
  if (job.bonus) tx.add_bonus_images(job.user_id, 1);
  job.quota_state = QuotaState::released;
}

// The invited user's first image succeeded: both get the bonus, in this transaction. The referral's
// conditional UPDATE is the once-only point; the two balances are then changed in user id order, so
// two conversions that touch the same users lock them in one order.
void JobService::convert_referral(Tx& tx, UserId invitee, Timestamp now) {
  const int bonus = options_.referral_bonus_images;
  if (bonus <= 0) return;
  auto referral = tx.convert_referral(invitee, bonus, now);
  if (!referral) return;
  const auto [first, second] = std::minmax(referral->invitee, referral->inviter);
  tx.add_bonus_images(first, bonus);
  tx.add_bonus_images(second, bonus);
}

namespace {

void finish(Job& job, JobStatus status, Timestamp now) {
  job.status = status;
  job.lease_owner.reset();
  job.lease_expires_at.reset();
  job.finished_at = now;
  job.updated_at = now;
}

// Both ways a job succeeds: with a new image or one the cache already had.
void finish_with_image(Job& job, const Image& image, Timestamp now) {
  finish(job, JobStatus::succeeded, now);
  job.progress = 100;
  job.image_id = image.id;
  job.failure.reset();
}

Result<Job> held_job(Tx& tx, std::string_view job_id, std::string_view worker) {
  auto job = tx.find_job(job_id, /*for_update=*/true);
  if (!job) return make_error(ErrorCode::not_found, "no such job");
  if (job->status != JobStatus::running || job->lease_owner != worker) {
    return make_error(ErrorCode::conflict, "the job is no longer held by this worker");
  }
  return std::move(*job);
}

}  // namespace

Status JobService::succeed(std::string_view job_id, std::string_view worker, const Image& image,
                           std::optional<std::int64_t> seed_used, bool seed_applied, const ServedBy& served) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Status {
    auto held = held_job(tx, job_id, worker);
    if (!held) return std::move(held).error();
    Job& job = *held;
    tx.insert_image(image);
    finish_with_image(job, image, now);
    if (!seed_applied) {
      job.params.seed.reset();
      job.cache_key.reset();
    } else if (seed_used) {
      job.params.seed = seed_used;
    }
    commit_quota(tx, job);
    // The cost of the provider call that made it, at the configured price of the provider that
    // served it (after any failover), by the image's real size. Failed calls are not recorded.
    job.provider = served.provider.empty() ? std::nullopt : std::optional(served.provider);
    job.served_model = served.model.empty() ? std::nullopt : std::optional(served.model);
    job.cost_micros = options_.prices.cost_micros(served.provider, image.width, image.height);
    tx.update_job(job);
    convert_referral(tx, job.user_id, now);
    tx.add_spend(std::chrono::floor<std::chrono::days>(now), job.plan.empty() ? "-" : job.plan, job.cost_micros);
    return Ok{};
  });
}

Status JobService::succeed_from_cache(std::string_view job_id, std::string_view worker, const Image& image) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Status {
    auto held = held_job(tx, job_id, worker);
    if (!held) return std::move(held).error();
    Job& job = *held;
    finish_with_image(job, image, now);
    release_quota(tx, job);  // the user had this picture already: it costs nothing
    tx.update_job(job);
    return Ok{};
  });
}

Status JobService::fail(std::string_view job_id, std::string_view worker, FailureCode failure,
                        std::optional<Millis> retry_in) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Status {
    auto held = held_job(tx, job_id, worker);
    if (!held) return std::move(held).error();
    Job& job = *held;
    job.failure = failure;
    if (retry_in && job.attempts < job.max_attempts) {
      job.status = JobStatus::queued;
      job.lease_owner.reset();
      job.lease_expires_at.reset();
      job.run_after = now + *retry_in;
      job.updated_at = now;
    } else {
      finish(job, JobStatus::failed, now);
      release_quota(tx, job);
      tx.count_failed_attempt(job.user_id, job.quota_period_start);
      if (failure == FailureCode::content_refused) tx.count_prompt_refusal(job.user_id, RefusalKind::refused, now);
    }
    tx.update_job(job);
    return Ok{};
  });
}

Error JobService::refuse_prompt(UserId user, const PolicyHit& hit) {
  const auto now = clock_.now();
  auto record = [&](Tx& tx) -> Status {
    auto who = tx.find_user(user);
    if (!who) return make_error(ErrorCode::not_found, "no such user");
    if (who->banned) return make_error(ErrorCode::forbidden, "this account is suspended");
    const auto quota = resolve_quota(tx, plans_, user, now, /*lock=*/true);
    tx.count_failed_attempt(user, quota.period_start);
    tx.count_prompt_refusal(user, RefusalKind::blocked, now);
    return Ok{};
  };
  if (auto recorded = transact(store_, TxMode::write, record); !recorded) return std::move(recorded).error();
  return prompt_blocked_error(hit);
}

Status JobService::hand_back(std::string_view job_id, std::string_view worker) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Status {
    auto held = held_job(tx, job_id, worker);
    if (!held) return std::move(held).error();
    Job& job = *held;
    job.status = JobStatus::queued;
    job.lease_owner.reset();
    job.lease_expires_at.reset();
    job.attempts = std::max(0, job.attempts - 1);  // the attempt was interrupted, not failed
    job.run_after = now;
    job.updated_at = now;
    tx.update_job(job);
    return Ok{};
  });
}

std::optional<Image> JobService::cached_image(const Job& job) {
  if (!job.cache_key) return std::nullopt;
  auto tx = store_.begin(TxMode::read);
  return tx->find_cached_image(*job.cache_key);
}

Result<bool> JobService::cancel(std::string_view job_id, UserId owner) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) -> Result<bool> {
    auto job = tx.find_job(job_id, /*for_update=*/true);
    if (!job || job->user_id != owner) return make_error(ErrorCode::not_found, "no such job");
    if (is_terminal(job->status)) {
      return make_error(ErrorCode::conflict, std::string("the job has already ") +
                                                 (job->status == JobStatus::succeeded ? "finished" : "ended"));
    }
    const bool started = job->status == JobStatus::running;
    finish(*job, JobStatus::canceled, now);
    job->failure.reset();  // an earlier attempt's failure is not why it ended
    if (started) {
      commit_quota(tx, *job);
    } else {
      release_quota(tx, *job);
    }
    tx.update_job(*job);
    return started;
  });
}

bool JobService::held_by(std::string_view job_id, std::string_view worker) {
  return transact(store_, TxMode::read, [&](Tx& tx) {
    auto job = tx.find_job(job_id, false);
    return job && job->status == JobStatus::running && job->lease_owner == worker;
  });
}

int JobService::reap_expired_leases(int limit) {
  const auto now = clock_.now();
  return transact(store_, TxMode::write, [&](Tx& tx) {
    auto expired = tx.expired_leases(now, limit);
    for (auto& job : expired) {
      if (job.attempts >= job.max_attempts) {
        job.failure = FailureCode::interrupted;
        finish(job, JobStatus::failed, now);
        release_quota(tx, job);
        tx.count_failed_attempt(job.user_id, job.quota_period_start);
      } else {
        job.status = JobStatus::queued;
        job.lease_owner.reset();
        job.lease_expires_at.reset();
        job.run_after = now;
        job.updated_at = now;
      }
      tx.update_job(job);
    }
    return static_cast<int>(expired.size());
  });
}

Result<Job> JobService::get(std::string_view job_id, UserId owner) {
  auto tx = store_.begin(TxMode::read);
  auto job = tx->find_job(job_id, false);
  if (!job || job->user_id != owner) return make_error(ErrorCode::not_found, "no such job");
  return std::move(*job);
}

Result<JobService::JobView> JobService::view(std::string_view job_id, UserId owner) {
  auto tx = store_.begin(TxMode::read);
  auto job = tx->find_job(job_id, false);
  if (!job || job->user_id != owner) return make_error(ErrorCode::not_found, "no such job");
  JobView v{.job = std::move(*job)};
  if (v.job.status == JobStatus::queued) v.queue_position = tx->queue_position(v.job);
  if (v.job.image_id) v.image = tx->find_image(*v.job.image_id);
  return v;
}

int JobService::queue_position(const Job& job) {
  if (job.status != JobStatus::queued) return 0;
  auto tx = store_.begin(TxMode::read);
  return tx->queue_position(job);
}

std::int64_t JobService::spend_today() {
  const Timestamp day = std::chrono::floor<std::chrono::days>(clock_.now());
  auto tx = store_.begin(TxMode::read);
  return tx->spend_on(day);
}

std::optional<SpendAlert> JobService::claim_spend_alert() {
  const auto limit = options_.daily_spend_limit_micros;
  if (limit <= 0) return std::nullopt;
  const Timestamp day = std::chrono::floor<std::chrono::days>(clock_.now());
  // A read first: this is asked every notice pass, and most days the ceiling is never reached.
  if (spend_today() < limit) return std::nullopt;
  return transact(store_, TxMode::write, [&](Tx& tx) -> std::optional<SpendAlert> {
    const auto spend = tx.spend_on(day);
    if (spend < limit || !tx.advance_setting(kSpendAlertKey, iso_day(day))) return std::nullopt;
    return SpendAlert{.day = day, .spend_micros = spend, .limit_micros = limit};
  });
}

}  // namespace igb::core
