// The generation queue and the quota it reserves, commits and releases.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::ErrorCode;
using core::JobStatus;
using core::QuotaState;

class Jobs : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    accounts_->ensure_user(1, "u1", "en");
    accounts_->ensure_user(2, "u2", "en");
  }
  // The free plan with room for many jobs at once, so quota is the only limit.
  void allow_parallel_jobs() {
    auto p = core::default_plans();
    p[0].max_concurrent_jobs = 100;
    plans_ = core::PlanCatalog::create(p).value();
  }
  core::Job submit_one(core::UserId user) {
    auto r = jobs_->submit(request(user));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().public_message);
    return r->jobs.at(0);
  }
  core::QuotaStatus quota(core::UserId user) { return quota_->status(user); }
  core::Image image(char fill) {
    return core::Image{.id = std::string(64, fill),
                       .mime = "image/png",
                       .size_bytes = 100,
                       .width = 512,
                       .height = 512,
                       .created_at = now()};
  }
};

TEST_P(Jobs, SubmitReservesQuotaAndQueues) {
  auto r = jobs_->submit(request(1));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->jobs.size(), 1u);
  const auto& job = r->jobs[0];
  EXPECT_EQ(job.status, JobStatus::queued);
  EXPECT_EQ(job.priority, 0);
  EXPECT_EQ(job.quota_state, QuotaState::reserved);
  EXPECT_EQ(r->quota.plan.id, "free");
  EXPECT_EQ(r->quota.reserved, 1);
  EXPECT_EQ(r->quota.remaining(), 9);
  EXPECT_EQ(r->quota.resets_at, now() + 24h);  // the fixture's clock stands at midnight UTC
  EXPECT_FALSE(r->replayed);
  auto st = quota(1);
  EXPECT_EQ(st.reserved, 1);
  EXPECT_EQ(st.used, 0);
  EXPECT_EQ(jobs_->get(job.id, 1)->params.prompt, "a fox in snow");
}

TEST_P(Jobs, ValidationListsEveryBadField) {
  auto req = request(1, "   ");
  req.params.width = 100;
  req.params.height = 520;  // in range, not a multiple of 16
  req.params.steps = 9;
  req.params.seed = -1;
  req.params.style = "bogus";
  req.count = 2;
  auto r = jobs_->submit(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  std::vector<std::string> fields;
  for (const auto& f : r.error().field_errors) fields.push_back(f.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"prompt", "width", "height", "steps", "seed", "style", "n"}));
  EXPECT_EQ(quota(1).reserved, 0);  // nothing reserved, nothing queued
  EXPECT_EQ(store().begin(core::TxMode::read)->count_active_jobs(1), 0);

  req = request(1);
  req.params.model = "owner/name with space";
  EXPECT_EQ(jobs_->submit(req).error().field_errors.at(0).field, "model");
  req = request(1, std::string("\xff\xfe", 2));
  EXPECT_EQ(jobs_->submit(req).error().field_errors.at(0).type, "value_error.encoding");
  req = request(1, std::string(2001, 'a'));
  EXPECT_EQ(jobs_->submit(req).error().field_errors.at(0).field, "prompt");
  // NUL (PostgreSQL would cut the text there) and other control characters; tabs and newlines are fine.
  for (const std::string& bad :
       {std::string(3, '\0'), std::string("a fox\0 in snow", 15), std::string("fox\x1b[31m"), std::string("fox\x7f")}) {
    req = request(1, bad);
    auto refused = jobs_->submit(req);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().field_errors.at(0).type, "value_error.control_characters");
  }
  EXPECT_TRUE(jobs_->submit(request(1, "a fox\n\tin snow")).ok());
  EXPECT_TRUE(jobs_->cancel(store().begin(core::TxMode::read)->jobs_of(1, 1).at(0).id, 1).ok());
  req = request(1);
  req.params.width = req.params.height = 1024 + 16;  // beyond the free plan's 1024 side
  EXPECT_EQ(jobs_->submit(req).error().field_errors.size(), 2u);
}

TEST_P(Jobs, PlanLimitsPixelsAndConcurrency) {
  submit_one(1);
  auto second = jobs_->submit(request(1));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::too_many_jobs);
  EXPECT_TRUE(second.error().retry_after);
  EXPECT_EQ(quota(1).reserved, 1);
  EXPECT_TRUE(jobs_->submit(request(2)).ok());  // another user is not affected
}

TEST_P(Jobs, QuotaExhaustedAfterTheDailyLimitAndResetsNextDay) {
  allow_parallel_jobs();
  for (int i = 0; i < 10; ++i) submit_one(1);
  auto r = jobs_->submit(request(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::quota_exhausted);
  EXPECT_EQ(r.error().retry_after, 24h);
  clock_.advance(24h);
  EXPECT_TRUE(jobs_->submit(request(1)).ok());
  EXPECT_EQ(quota(1).reserved, 1);
}

TEST_P(Jobs, SuccessCommitsQuota) {
  auto job = submit_one(1);
  auto claimed = jobs_->claim("w1");
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->id, job.id);
  EXPECT_TRUE(jobs_->heartbeat(job.id, "w1", 50));
  EXPECT_EQ(jobs_->get(job.id, 1)->progress, 50);
  ASSERT_TRUE(jobs_->succeed(job.id, "w1", image('c')).ok());
  auto done = jobs_->get(job.id, 1);
  EXPECT_EQ(done->status, JobStatus::succeeded);
  EXPECT_EQ(done->progress, 100);
  EXPECT_EQ(done->image_id, std::string(64, 'c'));
  EXPECT_EQ(done->quota_state, QuotaState::committed);
  EXPECT_FALSE(done->lease_owner);
  auto st = quota(1);
  EXPECT_EQ(st.used, 1);
  EXPECT_EQ(st.reserved, 0);
  // A second report changes nothing.
  EXPECT_EQ(jobs_->succeed(job.id, "w1", image('x')).error().code, ErrorCode::conflict);
  EXPECT_EQ(quota(1).used, 1);
}

TEST_P(Jobs, FinalFailureReleasesQuota) {
  auto job = submit_one(1);
  jobs_->claim("w1");
  ASSERT_TRUE(jobs_->fail(job.id, "w1", core::FailureCode::content_refused, std::nullopt).ok());
  auto failed = jobs_->get(job.id, 1);
  EXPECT_EQ(failed->status, JobStatus::failed);
  EXPECT_EQ(failed->failure, core::FailureCode::content_refused);
  EXPECT_EQ(core::reported_failure(*failed), core::FailureCode::content_refused);
  EXPECT_EQ(failed->quota_state, QuotaState::released);
  auto st = quota(1);
  EXPECT_EQ(st.used, 0);
  EXPECT_EQ(st.reserved, 0);
  EXPECT_EQ(st.remaining(), 10);
}

TEST_P(Jobs, RetryableFailureRequeuesAfterDelayUntilAttemptsRunOut) {
  auto job = submit_one(1);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto c = jobs_->claim("w1");
    ASSERT_TRUE(c) << "attempt " << attempt;
    EXPECT_EQ(c->attempts, attempt);
    ASSERT_TRUE(jobs_->fail(job.id, "w1", core::FailureCode::unavailable, 10s).ok());
    if (attempt < 3) {
      EXPECT_EQ(jobs_->get(job.id, 1)->status, JobStatus::queued);
      // Queued again, the job tells what its last attempt met.
      EXPECT_EQ(core::reported_failure(*jobs_->get(job.id, 1)), core::FailureCode::unavailable);
      EXPECT_FALSE(jobs_->claim("w1"));  // not before the delay
      clock_.advance(10s);
    }
  }
  auto j = jobs_->get(job.id, 1);
  EXPECT_EQ(j->status, JobStatus::failed);
  EXPECT_EQ(j->quota_state, QuotaState::released);
  EXPECT_EQ(quota(1).reserved, 0);
}

TEST_P(Jobs, ExpiredLeaseIsReclaimedByAnotherWorker) {
  auto job = submit_one(1);
  ASSERT_TRUE(jobs_->claim("crashed-worker"));
  clock_.advance(59s);
  EXPECT_EQ(jobs_->reap_expired_leases(), 0);
  clock_.advance(2s);
  EXPECT_EQ(jobs_->reap_expired_leases(), 1);
  EXPECT_EQ(jobs_->get(job.id, 1)->status, JobStatus::queued);
  auto again = jobs_->claim("w2");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, job.id);
  EXPECT_EQ(again->attempts, 2);
  // The first worker's late report is refused: the job is not its own any more.
  EXPECT_FALSE(jobs_->heartbeat(job.id, "crashed-worker", 10));
  EXPECT_EQ(jobs_->succeed(job.id, "crashed-worker", image('x')).error().code, ErrorCode::conflict);
  ASSERT_TRUE(jobs_->succeed(job.id, "w2", image('d')).ok());
  EXPECT_EQ(quota(1).used, 1);
}

TEST_P(Jobs, ExpiredLeaseWithoutAttemptsLeftFailsAndReleases) {
  auto job = submit_one(1);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(jobs_->claim("w"));
    clock_.advance(61s);
    EXPECT_EQ(jobs_->reap_expired_leases(), 1);
  }
  auto j = jobs_->get(job.id, 1);
  EXPECT_EQ(j->status, JobStatus::failed);
  EXPECT_EQ(j->failure, core::FailureCode::interrupted);
  EXPECT_EQ(quota(1).reserved, 0);
  EXPECT_EQ(quota(1).failed, 1);  // the workers that lost it may each have called the provider
}

// A failed attempt's code goes with the job while it is retried, and is gone once the job succeeds
// or is canceled: neither ended because of it.
TEST_P(Jobs, AFailureCodeIsClearedBySuccessAndByCancel) {
  auto retried = submit_one(1);
  ASSERT_EQ(jobs_->claim("w")->id, retried.id);
  ASSERT_TRUE(jobs_->fail(retried.id, "w", core::FailureCode::invalid_request, 1s).ok());
  EXPECT_EQ(jobs_->get(retried.id, 1)->failure, core::FailureCode::invalid_request);
  clock_.advance(1s);
  ASSERT_EQ(jobs_->claim("w")->id, retried.id);
  ASSERT_TRUE(jobs_->succeed(retried.id, "w", image('s')).ok());

  auto canceled = submit_one(1);
  ASSERT_EQ(jobs_->claim("w")->id, canceled.id);
  ASSERT_TRUE(jobs_->fail(canceled.id, "w", core::FailureCode::unavailable, 1s).ok());
  EXPECT_EQ(jobs_->get(canceled.id, 1)->failure, core::FailureCode::unavailable);
  ASSERT_TRUE(jobs_->cancel(canceled.id, 1).ok());
  for (const auto& id : {retried.id, canceled.id}) {
    auto j = jobs_->get(id, 1);
    EXPECT_FALSE(j->failure) << id;
    EXPECT_FALSE(core::reported_failure(*j)) << id;
  }
}

// A job failed before migration 0007 has no code: it is told as unavailable, not as a success.
TEST(FailureCodes, AFailedJobWithoutACodeIsToldAsUnavailable) {
  core::Job j;
  j.status = JobStatus::failed;
  EXPECT_EQ(core::reported_failure(j), core::FailureCode::unavailable);
  j.status = JobStatus::queued;
  EXPECT_FALSE(core::reported_failure(j));
  j.failure = core::FailureCode::interrupted;
  j.status = JobStatus::succeeded;
  EXPECT_FALSE(core::reported_failure(j));
  for (auto code : core::kFailureCodes) EXPECT_EQ(core::failure_code_from(core::to_string(code)), code);
  EXPECT_FALSE(core::failure_code_from(""));
  EXPECT_FALSE(core::failure_code_from("Unavailable"));
}

// A queued job's cancel gives its quota back; a running one's keeps the charge (the provider call
// has started): otherwise submit → running → cancel in a loop is free provider calls.
TEST_P(Jobs, CancelReleasesQueuedJobsAndChargesRunningOnesOnlyForTheOwner) {
  allow_parallel_jobs();
  auto a = submit_one(1);
  auto b = submit_one(1);
  EXPECT_EQ(jobs_->cancel(a.id, 2).error().code, ErrorCode::not_found);
  auto queued = jobs_->cancel(a.id, 1);
  ASSERT_TRUE(queued.ok());
  EXPECT_FALSE(*queued);
  EXPECT_EQ(jobs_->cancel(a.id, 1).error().code, ErrorCode::conflict);
  auto running = jobs_->claim("w1");
  ASSERT_TRUE(running);
  EXPECT_EQ(running->id, b.id);
  EXPECT_TRUE(jobs_->held_by(b.id, "w1"));
  EXPECT_FALSE(jobs_->held_by(b.id, "w2"));
  auto started = jobs_->cancel(b.id, 1);
  ASSERT_TRUE(started.ok());
  EXPECT_TRUE(*started);
  EXPECT_FALSE(jobs_->held_by(b.id, "w1"));
  EXPECT_FALSE(jobs_->heartbeat(b.id, "w1", 90));  // the worker learns to stop
  EXPECT_EQ(jobs_->succeed(b.id, "w1", image('x')).error().code, ErrorCode::conflict);
  auto st = quota(1);
  EXPECT_EQ(st.used, 1);
  EXPECT_EQ(st.reserved, 0);
  EXPECT_EQ(jobs_->get(b.id, 1)->quota_state, QuotaState::committed);
  EXPECT_EQ(jobs_->get(a.id, 1)->status, JobStatus::canceled);
}

TEST_P(Jobs, OtherUsersJobsAreInvisible) {
  auto job = submit_one(1);
  EXPECT_TRUE(jobs_->get(job.id, 1).ok());
  EXPECT_EQ(jobs_->get(job.id, 2).error().code, ErrorCode::not_found);
  EXPECT_EQ(jobs_->get("nope", 1).error().code, ErrorCode::not_found);
}

TEST_P(Jobs, IdempotencyKeyReturnsTheFirstAnswer) {
  auto req = request(1);
  req.idempotency_key = "req-123";
  auto first = jobs_->submit(req);
  ASSERT_TRUE(first.ok());
  auto second = jobs_->submit(req);  // would be too_many_jobs if it queued again
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(second->jobs.at(0).id, first->jobs.at(0).id);
  EXPECT_EQ(quota(1).reserved, 1);
}

TEST_P(Jobs, PaidPlanPriorityAndSeveralImagesPerRequest) {
  auto bought = payments_->apply_payment(
      {.charge_id = "c1", .user_id = 2, .plan_id = "pro", .amount = 500, .currency = "XTR", .at = now()});
  ASSERT_TRUE(bought.ok());
  auto free_job = submit_one(1);
  auto req = request(2);
  req.count = 3;
  auto pro = jobs_->submit(req);
  ASSERT_TRUE(pro.ok()) << pro.error().public_message;
  EXPECT_EQ(pro->jobs.size(), 3u);
  EXPECT_EQ(pro->quota.plan.id, "pro");
  EXPECT_EQ(pro->quota.limit, 1500);
  EXPECT_EQ(pro->quota.reserved, 3);
  EXPECT_EQ(pro->quota.resets_at, now() + std::chrono::days(30));
  EXPECT_EQ(jobs_->queue_position(free_job), 3);
  std::set<int> positions;
  for (const auto& j : pro->jobs) positions.insert(jobs_->queue_position(j));
  EXPECT_EQ(positions, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(jobs_->claim("w")->user_id, 2);  // the paid user's job goes first
}

TEST_P(Jobs, SubmitManyIsOneTransactionWhereARefusedRequestLeavesNoTrace) {
  auto p = core::default_plans();
  p[0].images_per_period = 3;
  p[0].max_concurrent_jobs = 100;
  plans_ = core::PlanCatalog::create(p).value();
  auto keyed = request(1);
  keyed.idempotency_key = "k1";
  auto bad = request(1, "");
  std::vector<core::SubmitRequest> batch{request(1), bad,        keyed,      keyed,
                                         request(2), request(1), request(1), request(99)};
  auto results = jobs_->submit_many(batch);
  ASSERT_EQ(results.size(), batch.size());
  EXPECT_TRUE(results[0].ok());
  EXPECT_EQ(results[1].error().code, ErrorCode::invalid_argument);
  ASSERT_TRUE(results[2].ok());
  ASSERT_TRUE(results[3].ok());
  EXPECT_TRUE(results[3]->replayed);  // the same key earlier in the same batch
  EXPECT_EQ(results[3]->jobs.at(0).id, results[2]->jobs.at(0).id);
  EXPECT_TRUE(results[4].ok());
  EXPECT_TRUE(results[5].ok());                                      // user 1's third image
  EXPECT_EQ(results[6].error().code, ErrorCode::quota_exhausted);    // and no fourth
  EXPECT_EQ(results[7].error().code, ErrorCode::not_found);
  EXPECT_EQ(quota(1).reserved, 3);
  EXPECT_EQ(quota(2).reserved, 1);
  EXPECT_EQ(store().begin(core::TxMode::read)->count_jobs(JobStatus::queued), 4);
}

TEST_P(Jobs, ExactRepeatWithExplicitSeedFindsTheEarlierImage) {
  auto req = request(1, "  a   fox in\tsnow ");
  req.params.seed = 42;
  req.params.style = "anime";
  auto first = jobs_->submit(req);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->jobs[0].cache_key);
  EXPECT_FALSE(jobs_->cached_image(first->jobs[0]));
  jobs_->claim("w");
  ASSERT_TRUE(jobs_->succeed(first->jobs[0].id, "w", image('f')).ok());

  auto again = request(1, "a fox in snow");  // the same words, spaced differently
  again.params.seed = 42;
  again.params.style = "anime";
  auto second = jobs_->submit(again);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->jobs[0].cache_key, first->jobs[0].cache_key);
  auto cached = jobs_->cached_image(second->jobs[0]);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->id, std::string(64, 'f'));

  // Someone else asking for exactly the same gets a generation of their own, not user 1's image.
  auto stranger = request(2, "a fox in snow");
  stranger.params.seed = 42;
  stranger.params.style = "anime";
  auto third = jobs_->submit(stranger);
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third->jobs[0].cache_key, first->jobs[0].cache_key);
  EXPECT_FALSE(jobs_->cached_image(third->jobs[0]));
}

// A repeat the cache serves costs nothing: it is accepted with no images left, reserves nothing,
// and a queued job that the cache can serve by the time it runs gives its reservation back.
TEST_P(Jobs, AnExactRepeatCostsNothingEvenWithNoImagesLeft) {
  auto req = request(1, "a fox in snow");
  req.params.seed = 42;
  auto first = jobs_->submit(req);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(quota(1).reserved, 1);
  ASSERT_TRUE(jobs_->claim("w"));
  ASSERT_TRUE(jobs_->succeed(first->jobs[0].id, "w", image('f')).ok());
  EXPECT_EQ(quota(1).used, 1);

  // A job that was queued with a reservation and is served from the cache when it runs (an
  // identical request queued before the first one finished) gives the reservation back.
  auto other = request(1, "a cat");
  auto twin = jobs_->submit(other);
  ASSERT_TRUE(twin.ok());
  EXPECT_EQ(quota(1).reserved, 1);
  ASSERT_TRUE(jobs_->claim("w"));
  auto cached = jobs_->cached_image(first->jobs[0]);
  ASSERT_TRUE(cached);
  ASSERT_TRUE(jobs_->succeed_from_cache(twin->jobs[0].id, "w", *cached).ok());
  EXPECT_EQ(quota(1).used, 1);
  EXPECT_EQ(quota(1).reserved, 0);
  EXPECT_EQ(store().begin(core::TxMode::read)->find_job(twin->jobs[0].id, false)->quota_state, QuotaState::released);

  // Use up the period with other prompts; a new prompt is refused, the repeat is not.
  const int left = quota(1).remaining();
  for (int i = 0; i < left; ++i) {
    auto filler = request(1, "prompt " + std::to_string(i));
    auto r = jobs_->submit(filler);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(jobs_->claim("w"));
    ASSERT_TRUE(jobs_->succeed(r->jobs[0].id, "w", image('a' + static_cast<char>(i % 5))).ok());
  }
  EXPECT_EQ(jobs_->submit(request(1, "one more")).error().code, ErrorCode::quota_exhausted);
  auto repeat = jobs_->submit(req);
  ASSERT_TRUE(repeat.ok()) << repeat.error().public_message;
  EXPECT_EQ(repeat->jobs[0].quota_state, QuotaState::released);
  EXPECT_EQ(quota(1).reserved, 0);
  ASSERT_TRUE(jobs_->claim("w"));
  ASSERT_TRUE(jobs_->succeed_from_cache(repeat->jobs[0].id, "w", *cached).ok());
  EXPECT_EQ(quota(1).remaining(), 0);
  EXPECT_EQ(quota(1).used, 1 + left);
  // Without the explicit seed it is a new picture, and that is refused.
  auto unseeded = request(1, "a fox in snow");
  EXPECT_EQ(jobs_->submit(unseeded).error().code, ErrorCode::quota_exhausted);
}

// FREE_DAILY_IMAGES: all free users together start at most that many images per UTC day; paid
// users are not counted or held back; the next day the budget is whole again.
TEST_P(Jobs, FreeDailyImagesBrakeAllFreeUsersTogether) {
  jobs_ = std::make_unique<core::JobService>(*store_, clock_, plans_, core::JobOptions{.free_daily_images = 3});
  for (core::UserId u = 10; u < 14; ++u) accounts_->ensure_user(u, "", "en");
  ASSERT_TRUE(payments_->grant(13, "pro", 30).ok());
  EXPECT_TRUE(jobs_->submit(request(10)).ok());
  // The plan's own limits come first, and a request they refuse takes nothing from the budget.
  EXPECT_EQ(jobs_->submit(request(10)).error().code, ErrorCode::too_many_jobs);
  EXPECT_TRUE(jobs_->submit(request(11)).ok());
  EXPECT_TRUE(jobs_->submit(request(12)).ok());
  auto refused = jobs_->submit(request(1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::free_paused);
  ASSERT_TRUE(refused.error().retry_after);
  EXPECT_EQ(*refused.error().retry_after, 24h);  // the fixture's clock stands at midnight UTC
  EXPECT_EQ(quota(1).reserved, 0);               // a refusal reserves nothing
  EXPECT_TRUE(jobs_->submit(request(13)).ok());  // a paid user is not held back
  clock_.advance(24h);
  EXPECT_TRUE(jobs_->submit(request(1)).ok());
}

// Failed and refused jobs spend provider credit but no quota: they count against the plan's
// failed_attempts_per_period, once per job (not per attempt), in the transaction that ends the job.
// Successes and cancels do not count. At the limit, submissions are refused until the period ends.
TEST_P(Jobs, FailedAttemptsCountAgainstAPerUserBudget) {
  auto p = core::default_plans();
  p[0].max_concurrent_jobs = 100;
  p[0].failed_attempts_per_period = 2;
  plans_ = core::PlanCatalog::create(p).value();
  EXPECT_EQ(quota(1).failed_limit, 2);

  // Each job submitted when the one before has been claimed: jobs of the same millisecond are
  // claimed in no particular order.
  auto fine = submit_one(1);
  ASSERT_EQ(jobs_->claim("w")->id, fine.id);
  ASSERT_TRUE(jobs_->succeed(fine.id, "w", image('a')).ok());
  auto queued_then_canceled = submit_one(1);
  ASSERT_TRUE(jobs_->cancel(queued_then_canceled.id, 1).ok());
  auto running_then_canceled = submit_one(1);
  ASSERT_EQ(jobs_->claim("w")->id, running_then_canceled.id);
  ASSERT_TRUE(jobs_->cancel(running_then_canceled.id, 1).ok());
  EXPECT_EQ(quota(1).failed, 0);

  auto refused = submit_one(1);
  ASSERT_EQ(jobs_->claim("w")->id, refused.id);  // content refused: no retry, failed for good
  auto flaky = submit_one(1);
  ASSERT_TRUE(jobs_->fail(refused.id, "w", core::FailureCode::content_refused, std::nullopt).ok());
  EXPECT_EQ(quota(1).failed, 1);
  EXPECT_EQ(quota(1).reserved, 1);  // the refused job's reservation went back; `flaky` holds one
  for (int attempt = 1; attempt <= 3; ++attempt) {  // retried, then failed for good: one failure
    ASSERT_EQ(jobs_->claim("w")->id, flaky.id);
    ASSERT_TRUE(jobs_->fail(flaky.id, "w", core::FailureCode::unavailable, 10s).ok());
    EXPECT_EQ(quota(1).failed, attempt < 3 ? 1 : 2) << "attempt " << attempt;
    clock_.advance(10s);
  }
  auto st = quota(1);
  EXPECT_EQ(st.failed, 2);
  EXPECT_EQ(st.used, 2);  // the success and the running cancel; failures cost no images
  EXPECT_EQ(st.reserved, 0);

  auto again = jobs_->submit(request(1));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::too_many_failures);
  EXPECT_NE(again.error().public_message.find("allows 2"), std::string::npos) << again.error().public_message;
  ASSERT_TRUE(again.error().retry_after);
  EXPECT_EQ(*again.error().retry_after, 24h - 30s);  // until the free plan's UTC day ends
  EXPECT_EQ(quota(1).reserved, 0);                   // a refusal reserves nothing
  EXPECT_TRUE(jobs_->submit(request(2)).ok());       // another user's budget is their own
  clock_.advance(24h);
  EXPECT_TRUE(jobs_->submit(request(1)).ok());
  EXPECT_EQ(quota(1).failed, 0);
}

TEST_P(Jobs, FailedAttemptsBudgetZeroIsNoLimitAndTheDefaultIsThePlansImages) {
  EXPECT_EQ(quota(1).failed_limit, 10);
  auto p = core::default_plans();
  p[0].failed_attempts_per_period = 0;
  plans_ = core::PlanCatalog::create(p).value();
  for (int i = 0; i < 12; ++i) {
    auto job = submit_one(1);
    ASSERT_TRUE(jobs_->claim("w"));
    ASSERT_TRUE(jobs_->fail(job.id, "w", core::FailureCode::content_refused, std::nullopt).ok());
  }
  EXPECT_EQ(quota(1).failed, 12);
  EXPECT_EQ(quota(1).failed_limit, 0);
  EXPECT_TRUE(jobs_->submit(request(1)).ok());
}

TEST(CacheKey, OnlyForExplicitSeedsAndEveryParameterCounts) {
  core::JobParams p{.prompt = "fox", .width = 512, .height = 512, .steps = 4};
  EXPECT_FALSE(core::cache_key(1, p));
  p.seed = 1;
  auto base = core::cache_key(1, p);
  ASSERT_TRUE(base);
  EXPECT_NE(core::cache_key(2, p), base);  // another user's identical request
  for (auto change : std::vector<std::function<void(core::JobParams&)>>{
           [](auto& q) { q.prompt = "Fox"; }, [](auto& q) { q.width = 768; }, [](auto& q) { q.height = 768; },
           [](auto& q) { q.steps = 2; }, [](auto& q) { q.seed = 2; }, [](auto& q) { q.style = "anime"; },
           [](auto& q) { q.model = "other/model"; }}) {
    auto q = p;
    change(q);
    EXPECT_NE(core::cache_key(1, q), base);
  }
}

TEST_P(Jobs, SucceedRecordsTheSeedTheWorkerPicked) {
  auto job = submit_one(1);
  EXPECT_FALSE(job.params.seed);
  jobs_->claim("w");
  ASSERT_TRUE(jobs_->succeed(job.id, "w", image('a'), 123456).ok());
  EXPECT_EQ(jobs_->get(job.id, 1)->params.seed, 123456);
}

TEST_P(Jobs, HandBackRequeuesWithoutCountingTheAttempt) {
  auto job = submit_one(1);
  ASSERT_TRUE(jobs_->claim("w"));
  ASSERT_TRUE(jobs_->hand_back(job.id, "w").ok());
  auto j = jobs_->get(job.id, 1);
  EXPECT_EQ(j->status, JobStatus::queued);
  EXPECT_EQ(j->attempts, 0);
  EXPECT_FALSE(j->lease_owner);
  EXPECT_EQ(quota(1).reserved, 1);  // still reserved: it will run again
  EXPECT_EQ(jobs_->hand_back(job.id, "w").error().code, ErrorCode::conflict);
}

IGB_ON_BOTH_DATABASES(Jobs);

}  // namespace
}  // namespace igb::testing
