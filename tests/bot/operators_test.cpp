// Subscriptions after the purchase (stopping and resuming renewal, Telegram's subscription updates),
// the notices the bot sends on its own, and the admin commands, end to end against the fake Bot API.
#include <boost/json/serialize.hpp>

#include "bot/payload.hpp"
#include "bot_fixture.hpp"

namespace igb::testing {
namespace {

using ::testing::HasSubstr;

const FakeTgUser kCarl{.id = 1003, .first_name = "Carl", .username = "carl", .language_code = "en"};

class BotOperators : public BotDialogue {
 protected:
  std::string payload_for(const FakeTgUser& u, const std::string& plan) {
    return bot::sign_payload({.user_id = u.id, .plan_id = plan, .price_stars = plans_.find(plan)->price_stars},
                             payload_secret_);
  }

  // The user pays a monthly Basic subscription in Telegram; returns when the bot has thanked them.
  void pay_basic(const FakeTgUser& u, const std::string& charge) {
    auto before = bot_messages(u.id);
    tg_.push_successful_payment({.from = u,
                                 .total_amount = 150,
                                 .invoice_payload = payload_for(u, "basic"),
                                 .telegram_payment_charge_id = charge,
                                 .subscription_expiration_date = core::to_unix_ms(clock_.now()) / 1000 + 2592000,
                                 .is_recurring = true,
                                 .is_first_recurring = true});
    ASSERT_TRUE(wait([&] { return bot_messages(u.id) == before + 1; }));  // the thanks
  }

  std::optional<core::Subscription> current(core::UserId user) { return payments_->current_stars_subscription(user); }

  // The user says something and the bot answers with one message; returns that answer.
  FakeTgMessage say(const FakeTgUser& u, std::string text) {
    auto before = bot_messages(u.id);
    tg_.push_message({.from = u, .text = std::move(text)});
    EXPECT_TRUE(wait([&] { return bot_messages(u.id) == before + 1; })) << "no answer";
    return *tg_.last_bot_message(u.id);
  }

  std::size_t bot_messages(std::int64_t chat) {
    std::size_t n = 0;
    for (const auto& m : tg_.messages(chat)) n += m.from_bot;
    return n;
  }

  void wake_notices() {
    net::post(running_->io, [b = running_->bot()] { b->wake_notices(); });
  }

  // Waits a little and checks that nothing more was sent to `chat`.
  void expect_quiet(std::int64_t chat, std::size_t bot_messages_now) {
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(bot_messages(chat), bot_messages_now);
  }

  void finish_jobs_for(core::UserId user, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(jobs_->submit(request(user)).ok());
      auto job = jobs_->claim("w");
      ASSERT_TRUE(job);
      auto image = images_->put(imaging::make_png(16, 16, static_cast<std::uint8_t>(i)), clock_.now());
      ASSERT_TRUE(image.ok());
      ASSERT_TRUE(jobs_->succeed(job->id, "w", image.value(), 1).ok());
    }
  }
};

TEST_P(BotOperators, AutoRenewalIsStoppedAndResumedFromMe) {
  pay_basic(kAnn, "stxAnn1");
  auto me = say(kAnn, "/me");
  EXPECT_THAT(me.text, HasSubstr("Renews automatically"));
  EXPECT_THAT(boost::json::serialize(me.reply_markup), HasSubstr("\"ren:off\""));

  tg_.push_callback({.from = kAnn, .message_id = me.message_id, .data = "ren:off"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 1; }));
  auto edit = tg_.calls("editUserStarSubscription").at(0).params;
  EXPECT_EQ(edit.at("user_id").as_int64(), kAnn.id);
  EXPECT_EQ(edit.at("telegram_payment_charge_id").as_string(), "stxAnn1");
  EXPECT_TRUE(edit.at("is_canceled").as_bool());
  EXPECT_THAT(std::string(tg_.calls("answerCallbackQuery").at(0).params.at("text").as_string()),
              HasSubstr("Auto-renewal is off"));
  EXPECT_FALSE(current(kAnn.id)->auto_renew);
  EXPECT_EQ(quota_->status(kAnn.id).plan.id, "basic");  // kept to the end of the period

  me = say(kAnn, "/me");
  EXPECT_THAT(me.text, HasSubstr("Paid until"));
  EXPECT_THAT(me.text, ::testing::Not(HasSubstr("turned off in Telegram")));
  EXPECT_THAT(boost::json::serialize(me.reply_markup), HasSubstr("\"ren:on\""));  // the bot stopped it
  tg_.push_callback({.from = kAnn, .message_id = me.message_id, .data = "ren:on"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 2; }));
  EXPECT_FALSE(tg_.calls("editUserStarSubscription").at(1).params.at("is_canceled").as_bool());
  EXPECT_TRUE(current(kAnn.id)->auto_renew);

  // Telegram refusing the change leaves the ledger as it was.
  tg_.fail_next("editUserStarSubscription", 400, "Bad Request: SUBSCRIPTION_NOT_ACTIVE");
  tg_.push_callback({.from = kAnn, .message_id = me.message_id, .data = "ren:off"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 3; }));
  EXPECT_TRUE(current(kAnn.id)->auto_renew);
  // Without a paid subscription the button is stale.
  tg_.push_callback({.from = kBoris, .message_id = me.message_id, .data = "ren:off"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 4; }));
  EXPECT_EQ(count("editUserStarSubscription"), 3u);
}

// A renewal the user stopped in Telegram cannot be re-enabled by the bot (Telegram's rule): /me offers
// no "resume" button and says, in the user's language, how to resume it in Telegram; an older /me's
// button says the same, without asking Telegram.
TEST_P(BotOperators, ARenewalStoppedInTelegramIsResumedThereAndMeSaysHow) {
  pay_basic(kBoris, "stxBoris1");
  tg_.push_raw({{"subscription",
                 {{"user", {{"id", kBoris.id}, {"is_bot", false}, {"first_name", "Boris"}}},
                  {"invoice_payload", payload_for(kBoris, "basic")},
                  {"state", "canceled"}}}});
  ASSERT_TRUE(eventually([&] { return !current(kBoris.id)->auto_renew; }));
  EXPECT_EQ(current(kBoris.id)->renewal_stopped_by, core::RenewalStop::user);
  auto me = say(kBoris, "/me");
  EXPECT_THAT(me.text, HasSubstr("Автопродление отключено в Telegram"));
  EXPECT_THAT(me.text, HasSubstr("Мои звёзды"));
  EXPECT_EQ(boost::json::serialize(me.reply_markup).find("ren:on"), std::string::npos);
  tg_.push_callback({.from = kBoris, .message_id = me.message_id, .data = "ren:on"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 1; }));
  EXPECT_THAT(std::string(tg_.calls("answerCallbackQuery").at(0).params.at("text").as_string()),
              HasSubstr("Мои звёзды"));
  EXPECT_EQ(count("editUserStarSubscription"), 0u);
  EXPECT_FALSE(current(kBoris.id)->auto_renew);
}

TEST_P(BotOperators, SubscriptionUpdatesFromTelegramChangeTheLedgerAndAFailedRenewalIsSaidOnce) {
  pay_basic(kAnn, "stxAnn1");
  auto update = [&](const std::string& state, const std::string& payload) {
    tg_.push_raw({{"subscription",
                   {{"user", {{"id", kAnn.id}, {"is_bot", false}, {"first_name", "Ann"}}},
                    {"invoice_payload", payload},
                    {"state", state}}}});
  };
  const auto payload = payload_for(kAnn, "basic");
  update("canceled", payload);
  ASSERT_TRUE(eventually([&] { return !current(kAnn.id)->auto_renew; }));
  update("active", payload);
  ASSERT_TRUE(eventually([&] { return current(kAnn.id)->auto_renew; }));
  update("canceled", payload_for(kBoris, "basic"));  // not Ann's invoice: ignored
  update("canceled", payload + "x");                 // forged: ignored
  ASSERT_TRUE(wait([&] { return tg_.pending_update_count() == 0; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(current(kAnn.id)->auto_renew);

  const auto before = bot_messages(kAnn.id);
  update("failed", payload);
  ASSERT_TRUE(wait([&] { return bot_messages(kAnn.id) == before + 1; }));
  EXPECT_THAT(tg_.last_bot_message(kAnn.id)->text, HasSubstr("could not renew your Basic plan"));
  EXPECT_FALSE(current(kAnn.id)->auto_renew);  // no renewal is coming
  update("failed", payload);
  ASSERT_TRUE(wait([&] { return tg_.pending_update_count() == 0; }));
  expect_quiet(kAnn.id, before + 1);
  EXPECT_THAT(tg_.allowed_updates(), ::testing::Contains("subscription"));
}

TEST_P(BotOperators, NoticesGoOutOnceEachInTheUsersLanguage) {
  say(kBoris, "/start");
  ASSERT_TRUE(payments_->grant(kBoris.id, "basic", 5).ok());
  clock_.advance(std::chrono::days(2) + std::chrono::hours(12));  // 2.5 days left
  wake_notices();
  ASSERT_TRUE(wait([&] { return bot_messages(kBoris.id) == 2; }));
  wake_notices();
  expect_quiet(kBoris.id, 2);
  clock_.advance(std::chrono::days(2));  // 12 hours left
  wake_notices();
  ASSERT_TRUE(wait([&] { return bot_messages(kBoris.id) == 3; }));
  clock_.advance(std::chrono::days(1));  // ended 12 hours ago
  wake_notices();
  ASSERT_TRUE(wait([&] { return bot_messages(kBoris.id) == 4; }));
  wake_notices();
  expect_quiet(kBoris.id, 4);

  // Quota: Ann (free, 10 a day) hears at 8 images and at 10, once each.
  say(kAnn, "/start");
  finish_jobs_for(kAnn.id, 7);
  wake_notices();
  expect_quiet(kAnn.id, 1);
  finish_jobs_for(kAnn.id, 1);
  wake_notices();
  ASSERT_TRUE(wait([&] { return bot_messages(kAnn.id) == 2; }));
  finish_jobs_for(kAnn.id, 2);
  wake_notices();
  ASSERT_TRUE(wait([&] { return bot_messages(kAnn.id) == 3; }));
  wake_notices();
  expect_quiet(kAnn.id, 3);
  expect_golden("notices_ru", kBoris.id);
  expect_golden("notices_quota", kAnn.id);

  // A user who blocked the bot is not told, and nothing is recorded as sent to them.
  say(kCarl, "/start");
  tg_.block(kCarl.id);
  auto carl = payments_->grant(kCarl.id, "pro", 2);
  ASSERT_TRUE(carl.ok());
  wake_notices();
  ASSERT_TRUE(eventually([&] { return accounts_->get_user(kCarl.id)->blocked_bot; }));
  EXPECT_FALSE(store_->begin(core::TxMode::read)->has_notification(kCarl.id, "ends_3d", std::to_string(carl->id)));
}

TEST_P(BotOperators, AdminCommandsAreRefusedToOthers) {
  for (const char* cmd : {"/stats", "/grant 1002 pro 10", "/ban 1002", "/refund x", "/broadcast hi all"}) {
    auto answer = say(kAnn, cmd);
    EXPECT_THAT(answer.text, HasSubstr("don't know")) << cmd;
  }
  EXPECT_EQ(quota_->status(kBoris.id).plan.id, "free");
  EXPECT_FALSE(store_->begin(core::TxMode::read)->next_broadcast());
  EXPECT_EQ(count("refundStarPayment"), 0u);
}

TEST_P(BotOperators, AdminCommandsWork) {
  say(kBoris, "/start");
  auto stats = say(kAdmin, "/stats");
  EXPECT_THAT(stats.text, HasSubstr("Statistics\nusers 2 (2 reachable)"));

  EXPECT_THAT(say(kAdmin, "/grant 1002 gold 10").text, HasSubstr("Not done: unknown paid plan 'gold'"));
  EXPECT_THAT(say(kAdmin, "/grant boris pro").text, HasSubstr("Usage: /grant"));
  auto granted = say(kAdmin, "/grant 1002 pro 10");
  EXPECT_THAT(granted.text, HasSubstr("Granted pro to 1002 until 2026-01-11 00:00 UTC"));
  ASSERT_TRUE(wait([&] { return bot_messages(kBoris.id) == 2; }));
  EXPECT_THAT(tg_.last_bot_message(kBoris.id)->text, HasSubstr("Вам подарен тариф Pro"));
  EXPECT_EQ(quota_->status(kBoris.id).plan.id, "pro");

  EXPECT_THAT(say(kAdmin, "/ban 1002").text, HasSubstr("User 1002 is banned"));
  tg_.push_message({.from = kBoris, .text = "/me"});
  ASSERT_TRUE(wait([&] { return tg_.pending_update_count() == 0; }));
  expect_quiet(kBoris.id, 2);  // a banned user gets no answer
  EXPECT_THAT(say(kAdmin, "/unban 1002").text, HasSubstr("no longer banned"));
  say(kBoris, "/me");

  pay_basic(kBoris, "stxBoris1");
  EXPECT_THAT(say(kAdmin, "/refund stxBoris1").text, HasSubstr("Payment stxBoris1 refunded"));
  ASSERT_EQ(count("refundStarPayment"), 1u);
  auto refund = tg_.calls("refundStarPayment").at(0).params;
  EXPECT_EQ(refund.at("user_id").as_int64(), kBoris.id);
  EXPECT_EQ(refund.at("telegram_payment_charge_id").as_string(), "stxBoris1");
  EXPECT_TRUE(store_->begin(core::TxMode::read)->find_payment("stxBoris1", false)->refunded_at);
  EXPECT_THAT(say(kAdmin, "/refund stxBoris1").text, HasSubstr("was refunded before"));
  EXPECT_EQ(count("refundStarPayment"), 1u);
  EXPECT_THAT(say(kAdmin, "/refund nope").text, HasSubstr("Not done: No payment has this charge id."));
  EXPECT_THAT(say(kAdmin, "/broadcast").text, HasSubstr("Usage: /broadcast"));
}

TEST_P(BotOperators, BroadcastReachesEveryReachableUserOnceAndResumesAfterARestart) {
  for (const auto& u : {kAnn, kBoris, kCarl}) say(u, "/start");
  tg_.block(kCarl.id);  // blocked the bot since: the send fails and they are marked
  auto queued = say(kAdmin, "/broadcast Big news:\nversion 2 is out!");
  EXPECT_THAT(queued.text, HasSubstr("Broadcast #1 queued"));
  ASSERT_TRUE(wait([&] { return bot_messages(kAdmin.id) == 3; }));  // queued, the broadcast, done
  EXPECT_THAT(tg_.last_bot_message(kAdmin.id)->text, HasSubstr("Broadcast #1 done: 3 sent, 1 not delivered"));
  for (const auto& u : {kAnn, kBoris}) {
    EXPECT_EQ(tg_.last_bot_message(u.id)->text, "Big news:\nversion 2 is out!");
  }
  EXPECT_TRUE(accounts_->get_user(kCarl.id)->blocked_bot);

  // A broadcast interrupted after Ann (the cursor is stored after each user) goes on after a restart.
  running_.reset();
  {
    auto tx = store_->begin(core::TxMode::write);
    tx->insert_broadcast({.text = "Second", .created_by = 0, .created_at = clock_.now(), .cursor = kAnn.id, .sent = 1});
    tx->commit();
  }
  start();
  ASSERT_TRUE(wait([&] { return tg_.last_bot_message(kAdmin.id)->text == "Second"; }));
  EXPECT_EQ(tg_.last_bot_message(kBoris.id)->text, "Second");
  EXPECT_NE(tg_.last_bot_message(kAnn.id)->text, "Second");
  ASSERT_TRUE(eventually([&] { return !store_->begin(core::TxMode::read)->next_broadcast(); }));
}

IGB_ON_BOTH_DATABASES(BotOperators);

}  // namespace
}  // namespace igb::testing
