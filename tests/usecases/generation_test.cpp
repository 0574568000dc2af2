// The prompt policy in the generation use case (issue 17), on SQLite and PostgreSQL: a blocked
// prompt is never queued and costs no image, it counts as a failed attempt (the plan's budget of
// failed attempts) and as a blocked prompt of the user; a provider's refusal counts per user too;
// the admins' figures show both.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <optional>

#include "core/admin.hpp"
#include "support/async.hpp"
#include "support/store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "usecases/generation.hpp"

namespace igb::testing {
namespace {

namespace net = boost::asio;
using core::ErrorCode;
using core::PolicyLevel;

class GenerationPolicy : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    accounts_->ensure_user(1, "u1", "en");
    accounts_->ensure_user(2, "u2", "ru");
    auto p = core::default_plans();
    p[0].max_concurrent_jobs = 100;
    p[0].failed_attempts_per_period = 3;
    plans_ = core::PlanCatalog::create(p).value();
    generation_ = std::make_unique<usecases::Generation>(
        usecases::GenerationDeps{.jobs = *jobs_, .quota = *quota_, .store = *store_, .pool = pool_, .images = images_});
  }

  template <class T>
  T run(net::awaitable<T> op) {
    net::io_context io;
    return run_async(io, std::move(op));
  }

  core::Result<core::SubmitOutcome> submit(core::UserId user, std::string prompt,
                                           PolicyLevel level = PolicyLevel::base) {
    auto r = request(user, std::move(prompt));
    r.policy = level;
    return run(generation_->submit(std::move(r)));
  }
  std::optional<core::PromptRefusals> refusals(core::UserId user) {
    auto tx = store_->begin(core::TxMode::read);
    return tx->prompt_refusals_of(user);
  }

  runtime::BlockingPool pool_{2};
  TempDir images_dir_{"igb_generation_test_"};
  imaging::FileImageStore images_{images_dir_.path()};
  std::unique_ptr<usecases::Generation> generation_;
};

TEST_P(GenerationPolicy, ABlockedPromptIsNeverQueuedCostsNoImageAndCountsAsAFailedAttempt) {
  auto blocked = submit(1, "a l.o.l.i figure");  // the built-in base list
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::invalid_argument);
  ASSERT_EQ(blocked.error().field_errors.size(), 1u);
  EXPECT_EQ(blocked.error().field_errors[0].field, "prompt");
  EXPECT_EQ(blocked.error().field_errors[0].type, "value_error.prompt_blocked");
  EXPECT_TRUE(core::is_prompt_blocked(blocked.error()));
  EXPECT_FALSE(core::is_blocked_by_safe_mode(blocked.error()));
  EXPECT_EQ(jobs_->claim("w"), std::nullopt) << "a blocked prompt reached the queue";
  auto q = quota_->status(1);
  EXPECT_EQ(q.used, 0);
  EXPECT_EQ(q.reserved, 0);
  EXPECT_EQ(q.failed, 1);
  ASSERT_TRUE(refusals(1));
  EXPECT_EQ(refusals(1)->blocked, 1);
  EXPECT_EQ(refusals(1)->refused, 0);
  EXPECT_EQ(refusals(2), std::nullopt);
}

TEST_P(GenerationPolicy, SafeModeAddsTheGroupListsOnlyAtTheStrictLevel) {
  EXPECT_TRUE(submit(1, "a nude portrait", PolicyLevel::base).ok());  // a private chat, the API
  auto blocked = submit(1, "a n u d e portrait", PolicyLevel::strict);
  ASSERT_FALSE(blocked.ok());
  EXPECT_TRUE(core::is_blocked_by_safe_mode(blocked.error()));
  EXPECT_TRUE(submit(1, "a nudge, Sussex in spring", PolicyLevel::strict).ok());  // whole words only
  EXPECT_EQ(refusals(1)->blocked, 1);
  EXPECT_EQ(quota_->status(1).reserved, 2);
}

TEST_P(GenerationPolicy, BlockedAndRefusedPromptsFillTheFailedBudgetAndTheAdminsSeeThem) {
  // A provider refusal (content_refused, failed for good) counts per user as refused.
  ASSERT_TRUE(submit(2, "a fox in snow").ok());
  auto job = jobs_->claim("w");
  ASSERT_TRUE(job);
  ASSERT_TRUE(jobs_->fail(job->id, "w", core::FailureCode::content_refused, std::nullopt).ok());
  // A failure of another kind is a failed attempt, not a refused prompt.
  ASSERT_TRUE(submit(2, "a fox in rain").ok());
  job = jobs_->claim("w");
  ASSERT_TRUE(job);
  ASSERT_TRUE(jobs_->fail(job->id, "w", core::FailureCode::unavailable, std::nullopt).ok());
  ASSERT_TRUE(refusals(2));
  EXPECT_EQ(refusals(2)->refused, 1);
  EXPECT_EQ(refusals(2)->blocked, 0);
  EXPECT_EQ(quota_->status(2).failed, 2);

  // The third failed attempt of the period is a blocked prompt; then the budget (3) is spent.
  EXPECT_TRUE(core::is_prompt_blocked(submit(2, "детское пoрнo").error()));
  auto refused = submit(2, "a fox in the sun");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::too_many_failures);
  // A blocked prompt is still told as blocked (the more useful answer), and counted.
  EXPECT_TRUE(core::is_prompt_blocked(submit(2, "лоли").error()));
  EXPECT_EQ(refusals(2)->blocked, 2);

  EXPECT_TRUE(core::is_prompt_blocked(submit(1, "jailbait").error()));
  core::AdminService admin(*store_, clock_);
  auto stats = admin.stats();
  EXPECT_EQ(stats.prompts_blocked, 3);
  EXPECT_EQ(stats.prompts_refused, 1);
  ASSERT_EQ(stats.refusers.size(), 2u);
  EXPECT_EQ(stats.refusers[0].user, 2);  // 2 blocked + 1 refused
  EXPECT_EQ(stats.refusers[1].user, 1);
  auto text = core::describe(stats);
  EXPECT_NE(text.find("prompts blocked 3, refused by providers 1"), std::string::npos) << text;
  EXPECT_NE(text.find("user 2: 2 blocked, 1 refused"), std::string::npos) << text;
}

TEST_P(GenerationPolicy, AnUnknownOrBannedUserIsToldSoNotCounted) {
  auto unknown = submit(99, "loli");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
  EXPECT_EQ(refusals(99), std::nullopt);
}

IGB_ON_BOTH_DATABASES(GenerationPolicy);

}  // namespace
}  // namespace igb::testing
