// The repository contract: the same assertions on SQLite and on PostgreSQL.
#include <gtest/gtest.h>

#include <latch>
#include <thread>

#include "storage/migrations.hpp"
#include "support/store_fixture.hpp"

namespace igb::testing {
namespace {

using namespace std::chrono_literals;
using core::JobStatus;

class StoreContract : public StoreTest {
 protected:
  core::Job make_job(std::string id, core::UserId user, int priority, core::Timestamp created) {
    core::Job j;
    j.id = std::move(id);
    j.user_id = user;
    j.priority = priority;
    j.max_attempts = 3;
    j.run_after = created;
    j.params = {.prompt = "p", .width = 512, .height = 512, .steps = 4, .seed = 7, .style = "anime"};
    j.quota_period_start = created;
    j.source = "test";
    j.meta = R"({"chat":1})";
    j.created_at = j.updated_at = created;
    return j;
  }
};

TEST_P(StoreContract, MigratingTwiceIsHarmless) {
  auto conn = storage::open_connection(storage::parse_database_url(db_->url()));
  EXPECT_EQ(storage::migrate(*conn), 0);  // open_store applied them already
  EXPECT_EQ(storage::schema_version(*conn), storage::embedded_migrations(GetParam()).back().version);
}

TEST_P(StoreContract, UpsertUserKeepsChosenLanguageAndKnownUsername) {
  auto tx = write();
  auto u = tx->upsert_user(42, "alice", "en", now());
  EXPECT_EQ(u.id, 42);
  EXPECT_EQ(u.username, "alice");
  EXPECT_EQ(u.language, "en");
  EXPECT_FALSE(u.banned);
  EXPECT_TRUE(tx->set_user_language(42, "ru"));
  u = tx->upsert_user(42, "", "de", now() + 1h);
  EXPECT_EQ(u.username, "alice");
  EXPECT_EQ(u.language, "ru");
  EXPECT_EQ(u.created_at, now());
  u = tx->upsert_user(42, "alice2", "", now());
  EXPECT_EQ(u.username, "alice2");
  EXPECT_TRUE(tx->set_user_banned(42, true));
  EXPECT_TRUE(tx->set_user_blocked_bot(42, true));
  EXPECT_FALSE(tx->set_user_banned(43, true));
  auto found = tx->find_user(42);
  ASSERT_TRUE(found);
  EXPECT_TRUE(found->banned);
  EXPECT_TRUE(found->blocked_bot);
  EXPECT_FALSE(tx->find_user(43));
  EXPECT_EQ(tx->count_users(), 1);
  // Telegram ids go beyond 32 bits.
  EXPECT_EQ(tx->upsert_user(7'000'000'000LL, "", "", now()).id, 7'000'000'000LL);
  tx->commit();
}

TEST_P(StoreContract, RollbackOnDestructionWithoutCommit) {
  { write()->upsert_user(1, "a", "en", now()); }
  EXPECT_FALSE(store().begin(core::TxMode::read)->find_user(1));
}

TEST_P(StoreContract, ApiKeysByHashAndRevocation) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  tx->insert_api_key(
      {.id = "k1", .user_id = 1, .key_hash = "h1", .prefix = "igb_ab", .name = "ci", .created_at = now()});
  tx->insert_api_key({.id = "k2", .user_id = 1, .key_hash = "h2", .prefix = "igb_cd", .created_at = now() + 1s});
  auto k = tx->find_api_key_by_hash("h1");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->id, "k1");
  EXPECT_EQ(k->name, "ci");
  EXPECT_FALSE(k->revoked_at);
  EXPECT_FALSE(tx->find_api_key_by_hash("nope"));
  EXPECT_TRUE(tx->revoke_api_key("k1", now()));
  EXPECT_FALSE(tx->revoke_api_key("k1", now()));
  EXPECT_EQ(tx->find_api_key_by_hash("h1")->revoked_at, now());
  auto keys = tx->api_keys_of(1);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].id, "k1");
  EXPECT_THROW(tx->insert_api_key({.id = "k3", .user_id = 1, .key_hash = "h2", .prefix = "x", .created_at = now()}),
               storage::DbError);
}

TEST_P(StoreContract, PaymentsAreUniqueByChargeId) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  core::Payment p{.charge_id = "ch1",
                  .user_id = 1,
                  .plan_id = "basic",
                  .amount = 150,
                  .currency = "XTR",
                  .is_recurring = true,
                  .created_at = now()};
  EXPECT_TRUE(tx->insert_payment(p));
  EXPECT_FALSE(tx->insert_payment(p));
  auto id = tx->insert_subscription({.user_id = 1,
                                     .plan_id = "basic",
                                     .period_start = now(),
                                     .period_end = now() + std::chrono::days(30),
                                     .auto_renew = true,
                                     .charge_id = "ch1",
                                     .created_at = now()});
  tx->set_payment_subscription("ch1", id);
  auto found = tx->find_payment("ch1", true);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->subscription_id, id);
  EXPECT_TRUE(found->is_recurring);
  EXPECT_EQ(found->amount, 150);
  EXPECT_TRUE(tx->mark_payment_refunded("ch1", now()));
  EXPECT_FALSE(tx->mark_payment_refunded("ch1", now()));
  EXPECT_FALSE(tx->find_payment("ch2", false));
  tx->commit();
}

TEST_P(StoreContract, SubscriptionsNewestPeriodFirst) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  auto a = tx->insert_subscription({.user_id = 1,
                                    .plan_id = "basic",
                                    .period_start = now(),
                                    .period_end = now() + 24h,
                                    .source = core::SubscriptionSource::admin,
                                    .created_at = now()});
  auto b = tx->insert_subscription(
      {.user_id = 1, .plan_id = "pro", .period_start = now() + 24h, .period_end = now() + 48h, .created_at = now()});
  EXPECT_NE(a, b);
  auto subs = tx->subscriptions_of(1);
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].id, b);
  EXPECT_EQ(subs[1].source, core::SubscriptionSource::admin);
  EXPECT_FALSE(subs[1].charge_id);
  EXPECT_TRUE(tx->set_subscription_status(a, core::SubscriptionStatus::refunded));
  EXPECT_TRUE(tx->set_subscription_auto_renew(b, true, core::RenewalStop::none));
  EXPECT_EQ(tx->find_subscription(a)->status, core::SubscriptionStatus::refunded);
  EXPECT_TRUE(tx->find_subscription(b)->auto_renew);
  EXPECT_EQ(tx->find_subscription(b)->renewal_stopped_by, core::RenewalStop::none);
  for (auto by : {core::RenewalStop::bot, core::RenewalStop::user, core::RenewalStop::failed}) {
    EXPECT_TRUE(tx->set_subscription_auto_renew(b, false, by));
    EXPECT_FALSE(tx->find_subscription(b)->auto_renew);
    EXPECT_EQ(tx->find_subscription(b)->renewal_stopped_by, by);
  }
  EXPECT_TRUE(tx->set_subscription_auto_renew(b, true, core::RenewalStop::user));  // on clears who stopped it
  EXPECT_EQ(tx->subscriptions_of(1)[0].renewal_stopped_by, core::RenewalStop::none);
  EXPECT_TRUE(tx->subscriptions_of(2).empty());
}

TEST_P(StoreContract, QuotaCounterCreatedLockedAndAdjusted) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  EXPECT_FALSE(tx->find_quota(1, now()));
  auto c = tx->lock_quota(1, now());
  EXPECT_EQ(c.used, 0);
  EXPECT_EQ(c.reserved, 0);
  tx->adjust_quota(1, now(), 0, 3);
  tx->adjust_quota(1, now(), 1, -1);
  c = tx->lock_quota(1, now());
  EXPECT_EQ(c.used, 1);
  EXPECT_EQ(c.reserved, 2);
  EXPECT_EQ(c.failed, 0);
  EXPECT_FALSE(tx->find_quota(1, now() + 24h));
  tx->commit();
}

// The failed attempts of a period: counted beside used and reserved, touching neither; the first
// one of a period makes the row.
TEST_P(StoreContract, FailedAttemptsAreCountedPerUserAndPeriod) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  tx->upsert_user(2, "", "", now());
  tx->adjust_quota(1, now(), 2, 1);
  tx->count_failed_attempt(1, now());
  tx->count_failed_attempt(1, now());
  tx->count_failed_attempt(1, now() + 24h);  // no row yet for that period
  tx->commit();
  tx = write();
  auto c = tx->find_quota(1, now());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->failed, 2);
  EXPECT_EQ(c->used, 2);
  EXPECT_EQ(c->reserved, 1);
  EXPECT_EQ(tx->lock_quota(1, now()).failed, 2);
  auto next = tx->find_quota(1, now() + 24h);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->failed, 1);
  EXPECT_EQ(next->reserved, 0);
  EXPECT_EQ(tx->lock_quota(2, now()).failed, 0);
  tx->commit();
}

TEST_P(StoreContract, JobRoundTripsEveryField) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  auto j = make_job("j1", 1, 5, now());
  j.idempotency_key = "idem";
  tx->insert_job(j);
  auto f = tx->find_job("j1", true);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->status, JobStatus::queued);
  EXPECT_EQ(f->priority, 5);
  EXPECT_EQ(f->params.prompt, "p");
  EXPECT_EQ(f->params.seed, 7);
  EXPECT_EQ(f->params.style, "anime");
  EXPECT_EQ(f->meta, R"({"chat":1})");
  EXPECT_EQ(f->idempotency_key, "idem");
  EXPECT_EQ(f->quota_state, core::QuotaState::reserved);
  EXPECT_FALSE(f->lease_owner);
  EXPECT_FALSE(f->failure);
  f->status = JobStatus::failed;
  f->failure = core::FailureCode::content_refused;
  f->finished_at = now() + 5s;
  f->quota_state = core::QuotaState::released;
  tx->update_job(*f);
  auto g = tx->find_job("j1", false);
  EXPECT_EQ(g->status, JobStatus::failed);
  EXPECT_EQ(g->failure, core::FailureCode::content_refused);
  EXPECT_EQ(g->finished_at, now() + 5s);
  EXPECT_EQ(g->quota_state, core::QuotaState::released);
  EXPECT_EQ(tx->find_jobs_by_idempotency_key(1, "idem").size(), 1u);
  EXPECT_TRUE(tx->find_jobs_by_idempotency_key(2, "idem").empty());
  EXPECT_FALSE(tx->find_job("nope", false));
}

// jobs.failure (migration 0007) holds every code, and clears; rows without one read as none,
// whatever the English public_error of older builds says; a code this build does not know (a newer
// build's) is still a failure.
TEST_P(StoreContract, JobFailureCodesRoundTripAndOlderRowsReadFine) {
  {
    auto tx = write();
    tx->upsert_user(1, "", "", now());
    for (auto code : core::kFailureCodes) {
      auto j = make_job(std::string("j_") + core::to_string(code), 1, 0, now());
      j.status = JobStatus::failed;
      j.failure = code;
      tx->insert_job(j);
    }
    auto cleared = make_job("j_cleared", 1, 0, now());
    cleared.failure = core::FailureCode::unavailable;
    tx->insert_job(cleared);
    cleared.failure.reset();
    tx->update_job(cleared);
    for (const char* id : {"j_legacy", "j_empty", "j_newer"}) tx->insert_job(make_job(id, 1, 0, now()));
    tx->commit();
  }
  auto conn = storage::open_connection(storage::parse_database_url(db_->url()));
  conn->query("UPDATE jobs SET status = 'failed', public_error = 'The provider rejected the request.' WHERE id = $1",
              {std::string("j_legacy")});
  conn->query("UPDATE jobs SET failure = '' WHERE id = $1", {std::string("j_empty")});
  conn->query("UPDATE jobs SET status = 'failed', failure = 'out_of_ink' WHERE id = $1", {std::string("j_newer")});
  auto tx = store().begin(core::TxMode::read);
  for (auto code : core::kFailureCodes) {
    auto j = tx->find_job(std::string("j_") + core::to_string(code), false);
    ASSERT_TRUE(j);
    EXPECT_EQ(j->failure, code) << core::to_string(code);
  }
  EXPECT_FALSE(tx->find_job("j_cleared", false)->failure);
  auto legacy = tx->find_job("j_legacy", false);
  EXPECT_EQ(legacy->status, JobStatus::failed);
  EXPECT_FALSE(legacy->failure);
  EXPECT_EQ(core::reported_failure(*legacy), core::FailureCode::unavailable);
  EXPECT_FALSE(tx->find_job("j_empty", false)->failure);
  EXPECT_EQ(tx->find_job("j_newer", false)->failure, core::FailureCode::unavailable);
}

TEST_P(StoreContract, CachedImageOnlyFromSucceededJobs) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  core::Image img{.id = std::string(64, 'e'),
                  .mime = "image/png",
                  .size_bytes = 10,
                  .width = 512,
                  .height = 512,
                  .created_at = now()};
  tx->insert_image(img);
  auto a = make_job("a", 1, 0, now());
  a.cache_key = "key1";
  tx->insert_job(a);
  EXPECT_FALSE(tx->find_cached_image("key1"));  // queued: no image yet
  a.status = JobStatus::succeeded;
  a.image_id = img.id;
  a.params.seed = 99;
  tx->update_job(a);
  auto cached = tx->find_cached_image("key1");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->id, img.id);
  EXPECT_EQ(tx->find_job("a", false)->params.seed, 99);
  EXPECT_EQ(tx->find_job("a", false)->cache_key, "key1");
  EXPECT_TRUE(tx->image_owned_by(img.id, 1));
  EXPECT_FALSE(tx->image_owned_by(img.id, 2));
  EXPECT_FALSE(tx->image_owned_by("other", 1));
  EXPECT_FALSE(tx->find_cached_image("key2"));
}

TEST_P(StoreContract, QueuePositionCountsTiesByIdAndStopsAtTheCap) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  // Same priority and time: the id decides.
  tx->insert_job(make_job("b", 1, 0, now()));
  tx->insert_job(make_job("a", 1, 0, now()));
  EXPECT_EQ(tx->queue_position(*tx->find_job("a", false)), 0);
  EXPECT_EQ(tx->queue_position(*tx->find_job("b", false)), 1);
  for (int i = 0; i < core::kMaxQueuePosition + 5; ++i) {
    tx->insert_job(make_job("q" + std::to_string(100000 + i), 1, 0, now() - 1s));
  }
  EXPECT_EQ(tx->queue_position(*tx->find_job("a", false)), core::kMaxQueuePosition);  // "that many or more"
  tx->insert_job(make_job("urgent", 1, 50, now() + 1h));
  EXPECT_EQ(tx->queue_position(*tx->find_job("urgent", false)), 0);
}

TEST_P(StoreContract, ClaimTakesHighestPriorityThenOldestAndRespectsRunAfter) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  tx->insert_job(make_job("old-low", 1, 0, now()));
  tx->insert_job(make_job("new-high", 1, 10, now() + 2s));
  tx->insert_job(make_job("old-high", 1, 10, now() + 1s));
  auto later = make_job("later", 1, 99, now());
  later.run_after = now() + 1h;
  tx->insert_job(later);
  EXPECT_EQ(tx->queue_position(*tx->find_job("old-low", false)), 3);  // counts 'later' too: it waits in the queue
  EXPECT_EQ(tx->queue_position(*tx->find_job("new-high", false)), 2);
  EXPECT_EQ(tx->queue_position(*tx->find_job("old-high", false)), 1);
  EXPECT_EQ(tx->queue_position(*tx->find_job("later", false)), 0);
  EXPECT_EQ(tx->count_active_jobs(1), 4);

  const auto t = now() + 10s;
  auto a = tx->claim_job("w1", t, t + 60s);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->id, "old-high");
  EXPECT_EQ(a->status, JobStatus::running);
  EXPECT_EQ(a->attempts, 1);
  EXPECT_EQ(a->lease_owner, "w1");
  EXPECT_EQ(a->lease_expires_at, t + 60s);
  EXPECT_EQ(a->started_at, t);
  EXPECT_EQ(tx->claim_job("w1", t, t + 60s)->id, "new-high");
  EXPECT_EQ(tx->claim_job("w1", t, t + 60s)->id, "old-low");
  EXPECT_FALSE(tx->claim_job("w1", t, t + 60s));  // 'later' is not due
  EXPECT_EQ(tx->claim_job("w1", now() + 2h, now() + 3h)->id, "later");
  EXPECT_EQ(tx->count_jobs(JobStatus::running), 4);
  EXPECT_EQ(tx->count_jobs(JobStatus::queued), 0);
}

TEST_P(StoreContract, LeaseRenewalOnlyByHolderAndExpiry) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  tx->insert_job(make_job("j1", 1, 0, now()));
  tx->insert_job(make_job("j2", 1, 0, now() + 1ms));
  tx->claim_job("w1", now(), now() + 30s);
  tx->claim_job("w2", now() + 1ms, now() + 90s);
  EXPECT_TRUE(tx->renew_lease("j1", "w1", now() + 60s, 40, now() + 1s));
  EXPECT_FALSE(tx->renew_lease("j1", "w2", now() + 60s, 40, now() + 1s));
  EXPECT_EQ(tx->find_job("j1", false)->progress, 40);
  EXPECT_TRUE(tx->expired_leases(now() + 59s, 10).empty());
  auto expired = tx->expired_leases(now() + 61s, 10);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].id, "j1");
  EXPECT_EQ(tx->expired_leases(now() + 100s, 10).size(), 2u);
  EXPECT_EQ(tx->expired_leases(now() + 100s, 1).size(), 1u);
}

TEST_P(StoreContract, JobsOfNewestFirst) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  for (int i = 0; i < 5; ++i) tx->insert_job(make_job("j" + std::to_string(i), 1, 0, now() + std::chrono::seconds(i)));
  auto jobs = tx->jobs_of(1, 3);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].id, "j4");
  EXPECT_EQ(jobs[2].id, "j2");
}

TEST_P(StoreContract, ImagesAreContentAddressedAndKeepTheirFileId) {
  auto tx = write();
  core::Image img{.id = std::string(64, 'a'),
                  .mime = "image/png",
                  .size_bytes = 1234,
                  .width = 512,
                  .height = 768,
                  .created_at = now()};
  tx->insert_image(img);
  tx->insert_image(img);  // the same content again: no error
  EXPECT_TRUE(tx->set_image_file_id(img.id, "AgACAgIAAxk"));
  auto f = tx->find_image(img.id);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->height, 768);
  EXPECT_EQ(f->size_bytes, 1234);
  EXPECT_EQ(f->telegram_file_id, "AgACAgIAAxk");
  EXPECT_FALSE(tx->find_image("b"));
}

TEST_P(StoreContract, NotificationsRecordedOnceAndSettingsOverwrite) {
  auto tx = write();
  EXPECT_TRUE(tx->record_notification(1, "expires_in_3d", "sub-7", now()));
  EXPECT_FALSE(tx->record_notification(1, "expires_in_3d", "sub-7", now() + 1s));
  EXPECT_TRUE(tx->record_notification(1, "expires_in_1d", "sub-7", now()));
  EXPECT_TRUE(tx->record_notification(2, "expires_in_3d", "sub-7", now()));
  EXPECT_FALSE(tx->get_setting("telegram.offset"));
  tx->put_setting("telegram.offset", "100");
  tx->put_setting("telegram.offset", "101");
  EXPECT_EQ(tx->get_setting("telegram.offset"), "101");
  tx->commit();
}

// Two instances starting at once on one database (each its own connections) each offer a value for
// one key; they agree on the first to commit, even one whose transaction was already open and had
// read "no value" before that commit (what a read-then-write would get wrong on PostgreSQL).
TEST_P(StoreContract, SettingInsertedIfAbsentAndRacersAgreeOnTheFirst) {
  {
    auto tx = write();
    EXPECT_EQ(tx->insert_setting_if_absent("s", "first"), "first");
    EXPECT_EQ(tx->insert_setting_if_absent("s", "second"), "first");
    tx->commit();
  }
  auto other = storage::open_store({.database_url = db_->url(), .pool_size = 2});
  auto a = write();
  EXPECT_EQ(a->insert_setting_if_absent("t", "from-a"), "from-a");
  std::optional<std::string> b_read_before;
  std::string b_got;
  std::latch b_has_read(1);
  std::thread b([&] {
    // PostgreSQL: B's transaction begins and reads beside A's; SQLite: BEGIN IMMEDIATE waits for A.
    auto tx = other->begin(core::TxMode::write);
    b_read_before = tx->get_setting("t");
    b_has_read.count_down();
    b_got = tx->insert_setting_if_absent("t", "from-b");
    tx->commit();
  });
  if (GetParam() == storage::Dialect::postgres) b_has_read.wait();
  a->commit();
  b.join();
  if (GetParam() == storage::Dialect::postgres) {
    EXPECT_FALSE(b_read_before) << "B's read did not precede A's commit";
  }
  EXPECT_EQ(b_got, "from-a");
  EXPECT_EQ(store().begin(core::TxMode::read)->get_setting("t"), "from-a");

  // Many at once from both instances: one value, the same for all.
  std::vector<std::string> got(8);
  std::latch go(8);
  std::vector<std::thread> racers;
  for (int i = 0; i < 8; ++i) {
    racers.emplace_back([&, i] {
      auto& s = i % 2 == 0 ? store() : *other;
      go.arrive_and_wait();
      auto t = s.begin(core::TxMode::write);
      got[i] = t->insert_setting_if_absent("u", "from-" + std::to_string(i));
      t->commit();
    });
  }
  for (auto& r : racers) r.join();
  for (const auto& g : got) EXPECT_EQ(g, got[0]);
  EXPECT_EQ(store().begin(core::TxMode::read)->get_setting("u"), got[0]);
}

TEST_P(StoreContract, UserPreferencesStoredWithTheUser) {
  auto tx = write();
  tx->upsert_user(9, "u", "en", now());
  EXPECT_EQ(tx->find_user(9)->aspect_ratio, "");
  EXPECT_TRUE(tx->set_user_preferences(9, "16:9", "anime"));
  EXPECT_FALSE(tx->set_user_preferences(10, "1:1", ""));
  auto u = tx->upsert_user(9, "u", "en", now() + 1s);  // a later update keeps them
  EXPECT_EQ(u.aspect_ratio, "16:9");
  EXPECT_EQ(u.style, "anime");
}

TEST_P(StoreContract, UndeliveredBotJobsSinceAChangeUntilDelivered) {
  auto tx = write();
  tx->upsert_user(1, "", "", now());
  auto a = make_job("a", 1, 0, now());
  a.source = "bot";
  auto b = make_job("b", 1, 0, now() + 2s);
  b.source = "bot";
  auto api = make_job("c", 1, 0, now() + 3s);
  api.source = "api";
  tx->insert_job(a);
  tx->insert_job(b);
  tx->insert_job(api);
  auto found = tx->undelivered_bot_jobs(now(), 10);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].id, "a");
  EXPECT_EQ(found[1].id, "b");
  ASSERT_EQ(tx->undelivered_bot_jobs(now() + 1s, 10).size(), 1u);
  EXPECT_EQ(tx->undelivered_bot_jobs(now(), 1).size(), 1u);
  EXPECT_TRUE(tx->set_job_delivered("a", now() + 5s));
  EXPECT_FALSE(tx->set_job_delivered("a", now() + 6s));
  found = tx->undelivered_bot_jobs(now(), 10);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, "b");
}

TEST_P(StoreContract, InboxKeepsUpdatesOnceInIdOrderUntilDeleted) {
  auto tx = write();
  const std::int64_t big = 900'000'000'123;  // update ids and chat ids go beyond 32 bits
  EXPECT_TRUE(tx->insert_inbox_update(
      {.update_id = big + 2, .chat_id = -100'123'456'789, .body = "{\"b\":2}", .received_at = now()}));
  EXPECT_TRUE(tx->insert_inbox_update({.update_id = big + 1, .chat_id = 7, .body = "{}", .received_at = now()}));
  EXPECT_FALSE(
      tx->insert_inbox_update({.update_id = big + 1, .chat_id = 7, .body = "{\"again\":1}", .received_at = now()}));
  auto all = tx->inbox_updates(0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].update_id, big + 1);
  EXPECT_EQ(all[0].body, "{}");
  EXPECT_EQ(all[1].chat_id, -100'123'456'789);
  EXPECT_EQ(all[1].body, "{\"b\":2}");
  EXPECT_EQ(tx->inbox_updates(big + 1, 10).size(), 1u);
  tx->delete_inbox_update(big + 1);
  ASSERT_EQ(tx->inbox_updates(0, 10).size(), 1u);
  EXPECT_EQ(tx->inbox_updates(0, 10)[0].update_id, big + 2);
}

TEST_P(StoreContract, DurableAcrossReopen) {
  {
    auto tx = write();
    tx->upsert_user(5, "bob", "en", now());
    tx->put_setting("k", "v");
    tx->commit();
  }
  store_.reset();
  store_ = storage::open_store({.database_url = db_->url(), .pool_size = 2});
  auto tx = store().begin(core::TxMode::read);
  EXPECT_EQ(tx->find_user(5)->username, "bob");
  EXPECT_EQ(tx->get_setting("k"), "v");
}

TEST_P(StoreContract, CommittedJobWritesAreReportedAfterCommitOnceEach) {
  std::vector<std::vector<std::string>> reports;
  store_ = storage::open_store(
      {.database_url = db_->url(), .pool_size = 2, .on_jobs_changed = [&](const std::vector<std::string>& ids) {
         reports.push_back(ids);
       }});
  {
    auto tx = write();
    tx->upsert_user(1, "", "", now());
    tx->insert_job(make_job("j2", 1, 0, now()));
    tx->insert_job(make_job("j1", 1, 0, now() + 1ms));
    auto j2 = *tx->find_job("j2", true);
    j2.progress = 10;
    tx->update_job(j2);
    EXPECT_TRUE(reports.empty());  // not before the commit
    tx->commit();
  }
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], (std::vector<std::string>{"j1", "j2"}));
  {
    auto tx = write();
    tx->insert_job(make_job("j3", 1, 0, now()));
  }  // rolled back: nothing happened
  EXPECT_EQ(reports.size(), 1u);
  {
    auto tx = write();
    ASSERT_EQ(tx->claim_job("w1", now(), now() + 30s)->id, "j2");
    EXPECT_FALSE(tx->renew_lease("j1", "w1", now() + 60s, 40, now()));  // not its holder: no change
    tx->commit();
  }
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1], std::vector<std::string>{"j2"});
  {
    auto tx = write();
    EXPECT_TRUE(tx->renew_lease("j2", "w1", now() + 60s, 40, now()));
    tx->commit();
  }
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[2], std::vector<std::string>{"j2"});
  {
    auto tx = store().begin(core::TxMode::read);
    (void)tx->find_job("j1", false);
    tx->commit();
  }
  EXPECT_EQ(reports.size(), 3u);  // reads report nothing
}

IGB_ON_BOTH_DATABASES(StoreContract);

TEST(DatabaseUrl, ParsesBothSchemesAndRejectsOthersWithoutEchoingThem) {
  EXPECT_EQ(storage::parse_database_url("sqlite://./data/x.db").location, "./data/x.db");
  EXPECT_EQ(storage::parse_database_url("sqlite:///var/lib/x.db").location, "/var/lib/x.db");
  EXPECT_EQ(storage::parse_database_url("postgresql://u:p@h/db").dialect, storage::Dialect::postgres);
  EXPECT_EQ(storage::parse_database_url("postgres://u:p@h/db").dialect, storage::Dialect::postgres);
  try {
    (void)storage::parse_database_url("mysql://user:hunter2@host/db");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
  }
}

}  // namespace
}  // namespace igb::testing
