#pragma once
// Generation use cases, shared by the HTTP API and the bot: submit (through the group commit), a job
// and its status, cancel, history, the user's own images. Each call is one transaction (or one
// batched submit) run on the blocking pool; the caller resumes on its own executor. The drivers keep
// only what is theirs: parsing requests and wording answers.
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/dimensions.hpp"
#include "core/jobs.hpp"
#include "core/quota.hpp"
#include "core/store.hpp"
#include "imaging/image_store.hpp"
#include "runtime/blocking_pool.hpp"
#include "usecases/submit_batcher.hpp"

namespace igb::usecases {

namespace net = boost::asio;

struct GenerationDeps {
  core::JobService& jobs;
  core::QuotaService& quota;
  core::Store& store;
  runtime::BlockingPool& pool;
  imaging::ImageStore& images;
  // The group commit; shared by every driver of the process (null: one is made for this object).
  std::shared_ptr<SubmitBatcher> submits;
};

class Generation {
 public:
  explicit Generation(GenerationDeps deps);

  // Queues the request's jobs in the next group-commit batch, once the prompt passes the prompt policy
  // at the request's level (screen()).
  net::awaitable<core::Result<core::SubmitOutcome>> submit(core::SubmitRequest request);
  // The prompt policy alone: Ok when `prompt` passes at `level`; a blocked prompt is recorded (the
  // user's failed attempts and blocked prompts, JobService::refuse_prompt) and answered with the
  // invalid_argument error of core::prompt_blocked_error. submit() calls it; a driver may ask first.
  net::awaitable<core::Status> screen(core::UserId user, std::string prompt, core::PolicyLevel level);
  // Safe mode of a group chat (the group blocklists on top of the base ones): on unless the group's
  // admins turned it off. Kept in the settings table ("safe_mode:<chat id>"), so no migration.
  net::awaitable<bool> safe_mode(std::int64_t chat_id);
  net::awaitable<void> set_safe_mode(std::int64_t chat_id, bool on);
  // The user's plan, quota and period (what /me, the 402 and the "too many failures" answers show).
  net::awaitable<core::QuotaStatus> quota(core::UserId user);
  // Today's spend reached DAILY_SPEND_LIMIT_USD and this caller is the one to tell the admins (once a
  // day across processes: core::JobService::claim_spend_alert).
  net::awaitable<std::optional<core::SpendAlert>> claim_spend_alert();
  // The size `ratio` gets under the user's plan (core::fit_to_plan).
  net::awaitable<core::Dimensions> fit(core::UserId user, std::pair<int, int> ratio);

  // The owner's job; not_found for another user's.
  net::awaitable<core::Result<core::Job>> job(std::string job_id, core::UserId owner);
  // The job with its queue position and image, read in one transaction.
  net::awaitable<core::Result<core::JobService::JobView>> view(std::string job_id, core::UserId owner);
  // Cancels the owner's job (its quota is given back unless the image was made); true if it was
  // charged. Errors: not_found, conflict (it has ended).
  net::awaitable<core::Result<bool>> cancel(std::string job_id, core::UserId owner);
  // Cancels, then reads the job as view() does (the API answers with it).
  net::awaitable<core::Result<core::JobService::JobView>> cancel_and_view(std::string job_id, core::UserId owner);
  // Cancels the user's queued jobs that came from `source` (among their latest 50); how many.
  net::awaitable<int> cancel_queued(core::UserId user, std::string source);

  struct Made {
    core::Job job;
    core::Image image;
  };
  // The user's latest succeeded jobs with their images, newest first, at most `limit`.
  net::awaitable<std::vector<Made>> history(core::UserId user, int limit);

  struct OwnImage {
    core::Image image;
    std::string bytes;  // empty when not asked for
  };
  // An image made by one of the owner's jobs, with its bytes unless `with_bytes` is false; nullopt
  // for another user's image, an unknown one, or bytes missing from the image store.
  net::awaitable<std::optional<OwnImage>> own_image(std::string image_id, core::UserId owner, bool with_bytes);
  // The image a succeeded job made, and its bytes (read only when needed: they may be large).
  net::awaitable<std::optional<core::Image>> image_of(core::Job job);
  net::awaitable<std::optional<std::string>> image_bytes(core::Image image);

  // Where a queued job stands (0: next).
  net::awaitable<int> queue_position(core::Job job);
  // A job by id, whoever owns it (the bot's delivery, which holds the job's own record).
  net::awaitable<std::optional<core::Job>> find_job(std::string job_id);
  // How many jobs are in each state (GET /metrics).
  net::awaitable<std::vector<std::pair<core::JobStatus, std::int64_t>>> counts();

  const std::shared_ptr<SubmitBatcher>& batcher() const { return d_.submits; }

 private:
  GenerationDeps d_;
};

}  // namespace igb::usecases
