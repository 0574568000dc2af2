// The bot end to end, over real sockets: the real Bot API client against the fake Bot API server
// (which checks every call against the Bot API spec), the real database, the real job queue. A fake
// worker finishes jobs through the core, as a worker process would. What each chat saw is compared
// with a golden transcript in tests/bot/golden (regenerate with UPDATE_GOLDEN=1 and review the diff).
#include "bot_fixture.hpp"

namespace igb::testing {
namespace {

TEST_P(BotDialogue, FirstUse) {
  tg_.push_message({.from = kAnn, .text = "/start"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_message({.from = kAnn, .text = "/help"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 2; }));
  tg_.push_message({.from = kAnn, .text = "/me"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 3; }));
  expect_golden("first_use", kAnn.id);
  // The commands were registered in every language, and polling asked for every update kind used.
  EXPECT_FALSE(tg_.my_commands("").empty());
  EXPECT_FALSE(tg_.my_commands("ru").empty());
  EXPECT_THAT(tg_.allowed_updates(),
              ::testing::IsSupersetOf({"message", "callback_query", "pre_checkout_query", "my_chat_member"}));
  auto user = accounts_->get_user(kAnn.id);
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->language, "en");
}

// The menus come from the handlers' registrations (src/bot/handlers/*.cpp): everyone's commands in
// each language, and the admins' commands added in a menu scoped to each admin's private chat.
TEST_P(BotDialogue, CommandMenusComeFromTheRegistrations) {
  ASSERT_TRUE(wait([&] { return !tg_.my_commands("chat " + std::to_string(kAdmin.id) + " ru").empty(); }));
  auto names = [](const boost::json::array& menu) {
    std::vector<std::string> out;
    for (const auto& c : menu) out.emplace_back(c.as_object().at("command").as_string());
    return out;
  };
  const std::vector<std::string> everyone{"start",  "help",    "me",     "invite", "settings",   "lang",
                                          "cancel", "history", "apikey", "plans",  "paysupport", "terms"};
  EXPECT_EQ(names(tg_.my_commands("")), everyone);
  EXPECT_EQ(names(tg_.my_commands("ru")), everyone);
  auto admin = everyone;
  for (const char* c : {"stats", "grant", "ban", "unban", "refund", "broadcast"}) admin.emplace_back(c);
  EXPECT_EQ(names(tg_.my_commands("chat " + std::to_string(kAdmin.id) + " ")), admin);
  EXPECT_EQ(names(tg_.my_commands("chat " + std::to_string(kAdmin.id) + " ru")), admin);
  EXPECT_TRUE(tg_.my_commands("chat " + std::to_string(kAnn.id) + " ").empty());
  // Descriptions are the catalogues' texts in the menu's language.
  EXPECT_EQ(tg_.my_commands("ru").front().as_object().at("description").as_string(),
            "Приветствие и как пользоваться ботом");
  EXPECT_EQ(tg_.my_commands("").front().as_object().at("description").as_string(), "Welcome and how to use the bot");
}

TEST_P(BotDialogue, PromptWithOptionsShowsProgressThenThePhoto) {
  tg_.push_message({.from = kAnn, .text = "a red fox in snow --ar 16:9 --seed 42 --style photo"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value(); }));
  auto job = only_job(kAnn.id);
  EXPECT_EQ(job->params.prompt, "a red fox in snow");
  EXPECT_EQ(job->params.seed, 42);
  EXPECT_EQ(job->params.style, "photo");
  EXPECT_EQ(job->source, "bot");
  EXPECT_GT(job->params.width, job->params.height);  // 16:9 within the free plan's megapixel
  // Acknowledged with "sending photo…" only: a short wait gets no status message.
  ASSERT_TRUE(wait([&] { return count("sendChatAction") == 1; }));
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  EXPECT_EQ(count("sendMessage"), 0u);
  expect_golden("prompt_progress_photo", kAnn.id);
  // The photo went up once; Telegram's file_id is kept to send it again without uploading.
  auto photo = tg_.calls("sendPhoto").at(0);
  ASSERT_EQ(photo.uploads.size(), 1u);
  EXPECT_EQ(photo.uploads[0].bytes, imaging::make_png(64, 48, 7));
  EXPECT_TRUE(eventually([&] {  // stored once sendPhoto has answered
    auto tx = store_->begin(core::TxMode::read);
    auto image = tx->find_image(*tx->find_job(job->id, false)->image_id);
    return image->telegram_file_id == photo.uploads[0].file_id;
  }));
  EXPECT_EQ(quota_->status(kAnn.id).used, 1);
}

// Telegram's front answering 502 (the fake's JSON form of it) to the prompt's acknowledgement: the
// prompt is queued all the same (it no longer waits for a status message to go out), and its photo
// is delivered once Telegram answers.
TEST_P(BotDialogue, APromptWhoseAcknowledgementMeetsA502IsQueuedAllTheSame) {
  tg_.fail_next("sendChatAction", 502, "Bad Gateway", std::nullopt, 1);
  tg_.push_message({.from = kAnn, .text = "a lighthouse at dusk"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  EXPECT_EQ(only_job(kAnn.id)->params.prompt, "a lighthouse at dusk");
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
}

// A status message only for a long wait: with 30 jobs of other users queued ahead, the predicted wait
// (30 photos at Telegram's 30 a second: 1 s) reaches a threshold of 1 s, and that prompt gets a status
// message with its position and a cancel button (deleted once its photo is there); the 30 users before
// it, whose waits are shorter, get only the chat action.
TEST_P(BotDialogue, OnlyALongWaitGetsAStatusMessage) {
  running_.reset();
  bot_options_.status_message_after = std::chrono::milliseconds(1000);
  scheduler_options_.global_per_second = 30;  // Telegram's rate: the prediction is made with it
  // A budget of one status message: while the 31 photos queue up at 30 a second, the waits predicted
  // for the photos still to be sent also pass 1 s, and how many depends on timing.
  bot_options_.status_message_burst = 1;
  bot_options_.status_messages_per_second = 0.001;
  start();
  constexpr int kUsers = 31;
  for (int u = 0; u < kUsers; ++u) {
    tg_.push_message({.from = {.id = 3000 + u, .first_name = "U" + std::to_string(u)}, .text = "a cat"});
    ASSERT_TRUE(wait([&] { return count("sendChatAction") == static_cast<std::size_t>(u + 1); }));
    clock_.advance(1ms);  // the queue is in order of arrival (jobs of one instant would go by id)
  }
  const auto from_bot = [&](std::int64_t chat) {
    const auto all = tg_.messages(chat);
    return std::count_if(all.begin(), all.end(), [](const auto& m) { return m.from_bot; });
  };
  ASSERT_TRUE(wait([&] { return from_bot(3000 + kUsers - 1) == 1; }));
  for (int u = 0; u < kUsers - 1; ++u) EXPECT_EQ(from_bot(3000 + u), 0) << "user " << u;
  for (int i = 0; i < kUsers; ++i) work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == kUsers && count("deleteMessage") == 1; }))
      << count("sendPhoto") << " photos, " << count("deleteMessage") << " deleted, " << count("sendMessage")
      << " messages";
  // Checked by its parts, not as a golden transcript: how far the queue has moved at each position
  // edit depends on the timing of the fake worker and the delivery passes.
  const std::int64_t last = 3000 + kUsers - 1;
  ASSERT_EQ(count("sendMessage"), 1u);
  const auto status = tg_.calls("sendMessage").at(0);
  EXPECT_EQ(status.chat_id, last);
  EXPECT_NE(status.params.at("text").as_string().find("you are number 31 in the queue, about 1 s to wait"),
            std::string::npos)
      << status.params.at("text").as_string();
  EXPECT_EQ(status.params.at("reply_markup").at("inline_keyboard").at(0).at(0).at("callback_data").as_string(),
            "c:" + only_job(last)->id);
  EXPECT_EQ(tg_.calls("deleteMessage").at(0).chat_id, last);
}

// "sending photo…" lasts about 5 s in clients: it is renewed while the picture is awaited.
TEST_P(BotDialogue, TheChatActionIsRenewedWhileTheUserWaits) {
  running_.reset();
  bot_options_.chat_action_interval = std::chrono::milliseconds(50);
  start();
  tg_.push_message({.from = kAnn, .text = "a slow cat"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  // Polled (eventually), not waited on the fake's calls: a wake-up that comes before the interval has
  // passed sends nothing, so no call would wake the wait again.
  ASSERT_TRUE(eventually([&] {
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
    return count("sendChatAction") >= 3;
  }));
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  // Once the photo is there, nothing is renewed.
  const auto after = count("sendChatAction");
  for (int i = 0; i < 5; ++i) {
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
    std::this_thread::sleep_for(60ms);
  }
  EXPECT_EQ(count("sendChatAction"), after);
}

TEST_P(BotDialogue, OriginalFileAndAgainButtons) {
  tg_.push_message({.from = kAnn, .text = "a lighthouse at dusk"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  auto id = work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  auto photo_message = tg_.last_bot_message(kAnn.id)->message_id;
  tg_.push_callback({.from = kAnn, .message_id = photo_message, .data = "o:" + id});
  ASSERT_TRUE(wait([&] { return count("sendDocument") == 1; }));
  EXPECT_EQ(tg_.calls("sendDocument").at(0).uploads.at(0).bytes, imaging::make_png(64, 48, 7));
  // "Again" queues the same prompt with a new seed.
  tg_.push_callback({.from = kAnn, .message_id = photo_message, .data = "a:" + id});
  ASSERT_TRUE(wait([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->jobs_of(kAnn.id, 10).size() == 2;
  }));
  ASSERT_TRUE(wait([&] { return count("sendChatAction") == 2; }));
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 2; }));
  // The same bytes again: sent by file_id, not uploaded twice.
  EXPECT_TRUE(tg_.calls("sendPhoto").at(1).uploads.empty());
  expect_golden("original_and_again", kAnn.id);
}

TEST_P(BotDialogue, QuotaExhaustedShowsThePlans) {
  for (int i = 0; i < 10; ++i) {
    tg_.push_message({.from = kAnn, .text = "cat number " + std::to_string(i)});
    ASSERT_TRUE(wait([&] { return jobs_of(kAnn.id).size() == static_cast<std::size_t>(i + 1); }));
    work_one();
    ASSERT_TRUE(wait([&] { return count("sendPhoto") == static_cast<std::size_t>(i + 1); }));
  }
  tg_.push_message({.from = kAnn, .text = "one more cat"});
  ASSERT_TRUE(wait([&] { return tg_.last_bot_message(kAnn.id)->text.find("used all") != std::string::npos; }));
  auto last = tg_.last_bot_message(kAnn.id);
  EXPECT_FALSE(last->reply_markup.is_null());  // the plans, as buttons
  EXPECT_EQ(quota_->status(kAnn.id).used, 10);
  // Pressing a plan gives an invoice to pay.
  tg_.push_callback({.from = kAnn, .message_id = last->message_id, .data = "buy:basic"});
  ASSERT_TRUE(wait([&] { return tg_.last_bot_message(kAnn.id)->text.find("Tap to pay") != std::string::npos; }));
  auto t = transcript(kAnn.id);
  expect_golden_text("quota_exhausted", t.substr(t.rfind("> Ann: one more cat")));
}

TEST_P(BotDialogue, ProviderFailureSaysTheQuotaWasNotUsed) {
  tg_.push_message({.from = kBoris, .text = "кот в сапогах"});
  ASSERT_TRUE(wait([&] { return only_job(kBoris.id).has_value() && count("sendChatAction") == 1; }));
  work_one(/*succeed=*/false);
  ASSERT_TRUE(wait([&] {
    auto m = tg_.last_bot_message(kBoris.id);
    return m && m->text.find("Лимит не израсходован") != std::string::npos;
  }));
  EXPECT_EQ(quota_->status(kBoris.id).used, 0);
  EXPECT_EQ(quota_->status(kBoris.id).reserved, 0);
  expect_golden("provider_failure_ru", kBoris.id);
}

// A refused prompt is told in the user's language, asking to rephrase it (not the provider's words,
// nor an English sentence).
TEST_P(BotDialogue, ARefusedPromptAsksToRephraseInTheUsersLanguage) {
  tg_.push_message({.from = kBoris, .text = "кот в сапогах с мечом"});
  ASSERT_TRUE(wait([&] { return only_job(kBoris.id).has_value() && count("sendChatAction") == 1; }));
  work_one(/*succeed=*/false, core::FailureCode::content_refused);
  ASSERT_TRUE(wait([&] {
    auto m = tg_.last_bot_message(kBoris.id);
    return m && m->text.find("Переформулируйте") != std::string::npos;
  }));
  EXPECT_EQ(quota_->status(kBoris.id).used, 0);
  expect_golden("refused_prompt_ru", kBoris.id);
}

// The prompt policy (issue 17): a blocked prompt is answered with its reason in the user's language
// (no status message), is never queued, costs no image, and counts as a failed attempt and as a
// blocked prompt of the user (what /stats shows). The next prompt is served as usual.
TEST_P(BotDialogue, ABlockedPromptIsToldInTheUsersLanguageAndNeverQueued) {
  tg_.push_message({.from = kBoris, .text = "аниме л.о.л.и на пляже"});
  ASSERT_TRUE(wait([&] {
    auto m = tg_.last_bot_message(kBoris.id);
    return m && m->text.find("недопустимые слова") != std::string::npos;
  }));
  EXPECT_TRUE(jobs_of(kBoris.id).empty());
  auto q = quota_->status(kBoris.id);
  EXPECT_EQ(q.used, 0);
  EXPECT_EQ(q.reserved, 0);
  EXPECT_EQ(q.failed, 1);
  expect_golden("blocked_prompt_ru", kBoris.id);
  // Adult terms are blocked in groups under safe mode only: a private chat takes them.
  tg_.push_message({.from = kBoris, .text = "обнажённая натура, масло"});
  ASSERT_TRUE(wait([&] { return jobs_of(kBoris.id).size() == 1; }));
}

// Failed and refused jobs cost no quota, but each spent provider credit: after as many as the plan
// has images (failed_attempts_per_period unset), the next prompt is refused in the user's language
// until the period ends, and nothing is queued.
TEST_P(BotDialogue, TooManyFailedAttemptsIsToldInTheUsersLanguage) {
  for (int i = 0; i < 10; ++i) {
    tg_.push_message({.from = kBoris, .text = "кот номер " + std::to_string(i)});
    ASSERT_TRUE(wait([&] {
      return jobs_of(kBoris.id).size() == static_cast<std::size_t>(i + 1) &&
             count("sendChatAction") == static_cast<std::size_t>(i + 1);
    }));
    work_one(/*succeed=*/false);
    ASSERT_TRUE(wait([&] { return count("sendMessage") == static_cast<std::size_t>(i + 1); }));
  }
  EXPECT_EQ(quota_->status(kBoris.id).failed, 10);
  EXPECT_EQ(quota_->status(kBoris.id).used, 0);
  tg_.push_message({.from = kBoris, .text = "ещё один кот"});
  ASSERT_TRUE(wait([&] {
    auto m = tg_.last_bot_message(kBoris.id);
    return m && m->text.find("предел вашего тарифа") != std::string::npos;
  }));
  EXPECT_EQ(jobs_of(kBoris.id).size(), 10u);  // nothing queued
  auto t = transcript(kBoris.id);
  expect_golden_text("too_many_failures_ru", t.substr(t.rfind("> Boris: ещё один кот")));
}

TEST_P(BotDialogue, UserWhoBlockedTheBotIsMarkedAndSkipped) {
  tg_.push_message({.from = kAnn, .text = "a quiet harbour"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  tg_.block(kAnn.id);
  auto id = work_one();
  ASSERT_TRUE(eventually([&] { return accounts_->get_user(kAnn.id)->blocked_bot; }));
  // The job counts as delivered (nobody to deliver to): no retries against a 403.
  ASSERT_TRUE(eventually([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->undelivered_bot_jobs(core::Timestamp{}, 10).empty();
  }));
  // my_chat_member "member" again (they unblocked) and a new message: served again.
  tg_.unblock(kAnn.id);
  tg_.push_message({.from = kAnn, .text = "/me"});
  ASSERT_TRUE(wait([&] { return !accounts_->get_user(kAnn.id)->blocked_bot && count("sendMessage") == 1; }));
  expect_golden("blocked_user", kAnn.id);
  (void)id;
}

TEST_P(BotDialogue, RestartWhileAJobRunsDeliversThePhotoOnce) {
  tg_.push_message({.from = kAnn, .text = "a lantern in the rain"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") >= 1; }));
  ASSERT_TRUE(eventually([&] {  // the prompt handled (its update out of the inbox) before the stop
    auto tx = store_->begin(core::TxMode::read);
    return tx->inbox_updates(0, 10).empty();
  }));
  auto job = jobs_->claim("test-worker");
  ASSERT_TRUE(job);
  running_.reset();  // the bot process stops while the job runs
  auto image = images_->put(imaging::make_png(64, 48, 7), clock_.now());
  ASSERT_TRUE(jobs_->succeed(job->id, "test-worker", image.value(), 99).ok());
  start();  // and comes back: the polling offset and the job are in the database
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  for (int i = 0; i < 5; ++i) {  // several delivery passes
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(count("sendPhoto"), 1u);
  EXPECT_EQ(tg_.pending_update_count(), 0u);
  // The prompt was handled once: one job, no status message (a short wait).
  auto tx = store_->begin(core::TxMode::read);
  EXPECT_EQ(tx->jobs_of(kAnn.id, 10).size(), 1u);
  EXPECT_EQ(count("sendMessage"), 0u);
  expect_golden("restart_while_running", kAnn.id);
}

TEST_P(BotDialogue, BadInputGetsHelpfulAnswers) {
  std::vector<FakeTgPushMessage> inputs{{.from = kAnn, .text = "", .other_content = "sticker"},
                                        {.from = kAnn, .text = "", .other_content = "photo"},
                                        {.from = kAnn, .text = "/frobnicate"},
                                        {.from = kAnn, .text = "a cat --seed banana"},
                                        {.from = kAnn, .text = "a cat --zoom 3"},
                                        {.from = kAnn, .text = "an endless " + std::string(1000, 'a')}};
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    tg_.push_message(inputs[i]);
    ASSERT_TRUE(wait([&] { return count("sendMessage") == i + 1; }));
  }
  // A forged button for a job that is not theirs, and garbage data: answered, nothing done.
  tg_.push_callback({.from = kAnn, .message_id = 1, .data = "a:j000000000000000000000000"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 1; }));
  tg_.push_callback({.from = kAnn, .message_id = 1, .data = "zzz"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 2; }));
  // Edited messages are not new prompts; other bots are ignored.
  tg_.push_message({.from = kAnn, .text = "edited into a prompt", .edit_of = 4});
  tg_.push_message({.from = {.id = 555, .first_name = "Spam", .is_bot = true}, .text = "hello"});
  tg_.push_message({.from = kAnn, .text = "/cancel"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 7; }));
  auto tx = store_->begin(core::TxMode::read);
  EXPECT_TRUE(tx->jobs_of(kAnn.id, 10).empty());
  expect_golden("bad_input", kAnn.id);
}

TEST_P(BotDialogue, GroupsOnlyWhenAddressed) {
  FakeTgChat group{.id = -100500, .type = "supergroup", .title = "Friends"};
  tg_.push_message({.from = kAnn, .chat = group, .text = "just chatting"});
  tg_.push_message({.from = kAnn, .chat = group, .text = "/img a castle on a hill"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  tg_.push_message({.from = kAnn, .chat = group, .text = "/apikey"});
  ASSERT_TRUE(wait([&] { return tg_.last_bot_message(group.id)->text.find("private chat") != std::string::npos; }));
  expect_golden("group", group.id);
}

// Safe mode in a group (issue 17): on by default, so a prompt the group lists block is refused with
// the reason and how to switch it, and nothing is queued; a member cannot switch it (getChatMember says
// "member"), an admin can ("administrator"); then the same prompt is queued. The base lists still apply.
TEST_P(BotDialogue, SafeModeInAGroupIsSwitchedByItsAdminsOnly) {
  const FakeTgChat group{.id = -100900, .type = "supergroup", .title = "Art club"};
  const FakeTgUser dan{.id = 1003, .first_name = "Dan", .username = "dan", .language_code = "en"};
  tg_.push_message({.from = kAnn, .chat = group, .text = "/img a n.u.d.e figure study"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  EXPECT_NE(tg_.last_bot_message(group.id)->text.find("safe mode is on"), std::string::npos);
  EXPECT_TRUE(jobs_of(kAnn.id).empty());
  EXPECT_EQ(quota_->status(kAnn.id).failed, 1);

  tg_.push_message({.from = dan, .chat = group, .text = "/safemode off"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 2; }));
  EXPECT_NE(tg_.last_bot_message(group.id)->text.find("Only the group's admins"), std::string::npos);

  tg_.set_member_status(group.id, kAnn, "administrator");
  tg_.push_message({.from = kAnn, .chat = group, .text = "/safemode off"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 3; }));
  EXPECT_NE(tg_.last_bot_message(group.id)->text.find("Safe mode is off"), std::string::npos);
  tg_.push_message({.from = dan, .chat = group, .text = "/safemode"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 4; }));
  expect_golden("safe_mode_group", group.id);

  tg_.push_message({.from = kAnn, .chat = group, .text = "/img a n.u.d.e figure study"});
  ASSERT_TRUE(wait([&] { return jobs_of(kAnn.id).size() == 1; }));
  tg_.push_message({.from = dan, .chat = group, .text = "/img l.o.l.i"});  // the base lists apply in every chat
  ASSERT_TRUE(wait([&] {
    auto m = tg_.last_bot_message(group.id);
    return m && m->text.find("aren't allowed") != std::string::npos;
  }));
  EXPECT_TRUE(jobs_of(dan.id).empty());
}

TEST_P(BotDialogue, SettingsByButtons) {
  tg_.push_message({.from = kAnn, .text = "/settings"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  auto menu = tg_.last_bot_message(kAnn.id)->message_id;
  int step = 0;
  for (std::string data : {"set:ar", "ar:9:16", "set:st", "st:anime", "set:lg", "lg:ru"}) {
    tg_.push_callback({.from = kAnn, .message_id = menu, .data = data});
    ++step;
    ASSERT_TRUE(wait([&] { return count("editMessageText") == static_cast<std::size_t>(step); }));
  }
  auto user = accounts_->get_user(kAnn.id);
  EXPECT_EQ(user->aspect_ratio, "9:16");
  EXPECT_EQ(user->style, "anime");
  EXPECT_EQ(user->language, "ru");
  // The defaults apply to the next prompt.
  tg_.push_message({.from = kAnn, .text = "a tall tower"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  auto job = only_job(kAnn.id);
  EXPECT_LT(job->params.width, job->params.height);
  EXPECT_EQ(job->params.style, "anime");
  expect_golden("settings", kAnn.id);
}

TEST_P(BotDialogue, RateLimitStormLosesNothing) {
  // Telegram's limits on, and a burst of 429s besides: every user still gets every answer.
  tg_.enable_rate_limits({.global_per_second = 30, .private_burst = 3, .private_per_second = 1.0});
  tg_.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", 1, 5);
  running_.reset();
  scheduler_options_ = {};  // the real limits
  start();
  for (int u = 0; u < 20; ++u) {
    tg_.push_message({.from = {.id = 2000 + u, .first_name = "U" + std::to_string(u)}, .text = "/help"});
  }
  ASSERT_TRUE(wait([&] {
    int ok = 0;
    for (const auto& c : tg_.calls("sendMessage")) ok += c.status == 200;
    return ok == 20;
  }));
  for (int u = 0; u < 20; ++u) EXPECT_EQ(tg_.messages(2000 + u).size(), 2u) << "user " << u;
}

// Telegram counts edits against the same limits as messages (tdlib/td issue #2592): the fake does so,
// and a burst of edits in one chat (a menu's buttons pressed quickly) is paced by the scheduler: no
// 429 at all, and every edit arrives.
TEST_P(BotDialogue, ABurstOfEditsInOneChatIsPacedWithoutA429) {
  tg_.enable_rate_limits();  // Telegram's documented defaults; edits share the messages' counters
  running_.reset();
  scheduler_options_ = {};  // the real limits
  start();
  tg_.push_message({.from = kAnn, .text = "/settings"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  auto menu = tg_.last_bot_message(kAnn.id)->message_id;
  const std::vector<std::string> presses{"set:ar", "ar:9:16", "set:st", "st:anime", "set:ar", "ar:1:1"};
  for (const auto& data : presses) tg_.push_callback({.from = kAnn, .message_id = menu, .data = data});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == presses.size() && count("editMessageText") >= 6; }))
      << transcript(kAnn.id);
  EXPECT_EQ(tg_.rate_limited_count(), 0);
  for (const auto& c : tg_.calls("editMessageText")) EXPECT_EQ(c.status, 200) << c.description;
  EXPECT_EQ(tg_.message(kAnn.id, menu)->edit_count, 6);
  auto user = accounts_->get_user(kAnn.id);
  EXPECT_EQ(user->aspect_ratio, "");  // 1:1, the product's default, is stored as none
  EXPECT_EQ(user->style, "anime");
}

// A group that forbids the bot photos but lets it write: the picture is told in text there (in the
// asker's language), the job is done with (not retried against the same refusal), and nobody is
// taken for having blocked the bot.
TEST_P(BotDialogue, AGroupWithoutPhotoRightsIsToldInText) {
  const FakeTgChat group{.id = -100777, .type = "supergroup", .title = "No media"};
  tg_.push_message({.from = kBoris, .chat = group, .text = "/img a red kite"});
  ASSERT_TRUE(wait([&] { return only_job(kBoris.id).has_value() && count("sendChatAction") == 1; }));
  tg_.fail_next("sendPhoto", 400, "Bad Request: not enough rights to send photos to the chat");
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; })) << transcript(group.id);
  auto told = tg_.calls("sendMessage").back();
  EXPECT_EQ(told.chat_id, group.id);
  EXPECT_NE(told.params.at("text").as_string().find("мне нельзя отправлять фото"), std::string::npos)
      << told.params.at("text").as_string();
  ASSERT_TRUE(eventually([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->undelivered_bot_jobs(core::Timestamp{}, 10).empty();
  }));
  EXPECT_EQ(count("sendPhoto"), 1u);
  EXPECT_FALSE(accounts_->get_user(kBoris.id)->blocked_bot);
  EXPECT_FALSE(tg_.is_blocked(group.id));
}

// A group upgraded to a supergroup keeps its jobs. Told by the service message (migrate_to_chat_id in
// the old group), the bot moves the job before it finishes: the photo goes to the supergroup. Not
// told (the update not seen yet), the photo meets 400 "group chat was upgraded to a supergroup chat"
// with parameters.migrate_to_chat_id and goes to the supergroup at once. Either way the stored job
// names the new chat.
TEST_P(BotDialogue, ASupergroupMigrationKeepsTheJobs) {
  const auto acked = [&](std::int64_t chat) {
    const auto actions = tg_.calls("sendChatAction");
    return std::any_of(actions.begin(), actions.end(), [&](const auto& c) { return c.chat_id == chat; });
  };
  const FakeTgChat club{.id = -4001, .type = "group", .title = "Lighthouse club"};
  const std::int64_t club_super = -1004001;
  tg_.push_message({.from = kAnn, .chat = club, .text = "/img a lighthouse"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  tg_.migrate_group(club.id, club_super, kAnn);
  ASSERT_TRUE(eventually([&] { return only_job(kAnn.id)->meta.find("chat=-1004001;") != std::string::npos; }))
      << only_job(kAnn.id)->meta;
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  EXPECT_EQ(tg_.calls("sendPhoto").at(0).chat_id, club_super);
  EXPECT_EQ(tg_.calls("sendPhoto").at(0).status, 200);

  const FakeTgChat crew{.id = -4002, .type = "group", .title = "Boat crew"};
  const std::int64_t crew_super = -1004002;
  tg_.push_message({.from = kBoris, .chat = crew, .text = "/img a boat"});
  ASSERT_TRUE(wait([&] { return only_job(kBoris.id).has_value() && acked(crew.id); }));
  tg_.migrate_group(crew.id, crew_super, kBoris, /*announce=*/false);
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 3; }));
  EXPECT_EQ(tg_.calls("sendPhoto").at(1).status, 400);
  EXPECT_EQ(tg_.calls("sendPhoto").at(2).chat_id, crew_super);
  EXPECT_EQ(tg_.calls("sendPhoto").at(2).status, 200);
  ASSERT_TRUE(eventually([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->undelivered_bot_jobs(core::Timestamp{}, 10).empty();
  }));
  EXPECT_NE(only_job(kBoris.id)->meta.find("chat=-1004002;"), std::string::npos) << only_job(kBoris.id)->meta;
  EXPECT_FALSE(accounts_->get_user(kBoris.id)->blocked_bot);
  // A new prompt in the supergroup works as in any group.
  tg_.push_message({.from = kBoris,
                    .chat = FakeTgChat{.id = crew_super, .type = "supergroup", .title = "Boat crew"},
                    .text = "/img a second boat"});
  ASSERT_TRUE(wait([&] { return jobs_of(kBoris.id).size() == 2 && acked(crew_super); }));
  expect_golden_text("supergroup_migration", "---- group " + std::to_string(club.id) + "\n" + transcript(club.id) +
                                                 "---- supergroup " + std::to_string(club_super) + "\n" +
                                                 transcript(club_super) + "---- group " + std::to_string(crew.id) +
                                                 "\n" + transcript(crew.id) + "---- supergroup " +
                                                 std::to_string(crew_super) + "\n" + transcript(crew_super));
}

TEST_P(BotDialogue, WebhookTakesOnlyTheSecretAndStoresFirst) {
  running_.reset();
  // The webhook route in an HTTP server of its own (the api role's, in production).
  auto routes = std::make_shared<server::RouteTable>();
  runtime::BlockingPool pool(2);
  bot::WebhookContext ctx{.store = *store_, .pool = pool, .clock = clock_, .stored = {}};
  bot::add_webhook_route(*routes, ctx);
  net::io_context io;
  server::Server http(io.get_executor(), {.host = "127.0.0.1", .port = 0}, routes);
  http.start();
  std::thread t([&io] { io.run(); });
  start("http://127.0.0.1:" + std::to_string(http.port()) + "/telegram/webhook");
  ASSERT_TRUE(wait([&] { return !tg_.webhook_url().empty(); }));
  EXPECT_FALSE(tg_.webhook_secret().empty());
  EXPECT_EQ(tg_.deliver_webhook_raw(R"({"update_id":1})", "wrong"), 401);
  EXPECT_EQ(tg_.deliver_webhook_raw(R"({"update_id":1})", std::nullopt), 401);
  auto id = tg_.push_message({.from = kAnn, .text = "/start"});
  EXPECT_EQ(tg_.deliver_webhook(id), 200);
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  EXPECT_EQ(tg_.get_updates_count(), 0);  // no polling in webhook mode
  running_.reset();
  io.stop();
  t.join();
}

TEST_P(BotDialogue, HistoryCancelAndApiKeys) {
  tg_.push_message({.from = kAnn, .text = "/history"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 1; }));
  tg_.push_message({.from = kAnn, .text = "a blue door"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  tg_.push_message({.from = kAnn, .text = "a green door"});
  ASSERT_TRUE(wait([&] { return jobs_of(kAnn.id).size() == 2 && count("sendChatAction") == 2; }))
      << transcript(kAnn.id);
  // /cancel takes the queued one back: it is not counted, and a message says so (the /cancel reply,
  // then the job's outcome).
  tg_.push_message({.from = kAnn, .text = "/cancel"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 3; }));
  EXPECT_EQ(quota_->status(kAnn.id).used, 1);
  EXPECT_EQ(quota_->status(kAnn.id).reserved, 0);
  // /history re-sends the image by file_id.
  tg_.push_message({.from = kAnn, .text = "/history"});
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 2; }));
  EXPECT_TRUE(tg_.calls("sendPhoto").at(1).uploads.empty());
  // An API key from the bot works for the HTTP API's accounts.
  tg_.push_message({.from = kAnn, .text = "/apikey"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 5; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "key:new"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 6; }));
  auto text = tg_.last_bot_message(kAnn.id)->text;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, std::regex("\\n(\\S{20,})$"))) << text;
  auto who = accounts_->authenticate(m[1].str());
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->id, kAnn.id);
  tg_.push_message({.from = kAnn, .text = "/apikey"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 7; }));
  tg_.push_callback({.from = kAnn, .message_id = tg_.last_bot_message(kAnn.id)->message_id, .data = "key:del"});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 2; }));
  EXPECT_FALSE(accounts_->authenticate(m[1].str()).ok());
}

TEST_P(BotDialogue, OneChatInOrderAndABrokenUpdateIsSkipped) {
  // An update that does not decode is logged and dropped; the ones after it are handled.
  tg_.push_raw(boost::json::object{{"message", boost::json::object{{"message_id", "not a number"}}}});
  for (int i = 0; i < 6; ++i) {
    tg_.push_message({.from = kAnn, .text = "cat --seed x" + std::to_string(i)});
  }
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 6; }));
  auto sent = tg_.calls("sendMessage");
  for (int i = 0; i < 6; ++i) {
    EXPECT_NE(sent[i].params.at("text").as_string().find("x" + std::to_string(i)), std::string::npos)
        << "reply " << i << " out of order";
  }
  ASSERT_TRUE(eventually([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->inbox_updates(0, 10).empty();
  }));
}

TEST_P(BotDialogue, APhotoTelegramKeepsRefusingIsRetriedThenGivenUp) {
  tg_.push_message({.from = kAnn, .text = "a tiny boat"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  tg_.fail_next("sendPhoto", 400, "Bad Request: PHOTO_INVALID_DIMENSIONS", std::nullopt, 100);
  work_one();
  for (std::size_t attempt = 1; attempt <= 5; ++attempt) {
    ASSERT_TRUE(wait([&] { return count("sendPhoto") == attempt; }));
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
  }
  ASSERT_TRUE(eventually([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->undelivered_bot_jobs(core::Timestamp{}, 10).empty();
  }));
  for (int i = 0; i < 3; ++i) {
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(count("sendPhoto"), 5u);
}

IGB_ON_BOTH_DATABASES(BotDialogue);

}  // namespace
}  // namespace igb::testing
