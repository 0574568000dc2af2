// Inline mode end to end against the fake Bot API (which plays Telegram's inline rules: one answer
// per query, in time; inline_message_id only for a result with a keyboard; no upload into an inline
// message): the answer (the user's matching pictures, "Generate"), the placeholder edited into the
// picture or into the failure, the user who never started the bot, and the user without quota.
#include "bot_fixture.hpp"

namespace igb::testing {
namespace {

using ::testing::HasSubstr;

class BotInline : public BotDialogue {
 protected:
  // What a worker does, with a picture of its own (distinct bytes: not one Telegram already has).
  std::string work_distinct(std::uint32_t seed) {
    auto job = jobs_->claim("test-worker");
    EXPECT_TRUE(job) << "no job queued";
    if (!job) return "";
    auto image = images_->put(imaging::make_png(64, 48, seed), clock_.now());
    EXPECT_TRUE(image.ok());
    EXPECT_TRUE(jobs_->succeed(job->id, "test-worker", image.value(), 77).ok());
    net::post(running_->io, [b = running_->bot()] { b->wake_delivery(); });
    return job->id;
  }

  // The inline side (queries, answers, the inline message) and then the private chat, with job ids
  // replaced by <job1>, <job2>… in order of appearance.
  std::string seen(const FakeTgUser& u) {
    auto text = "== inline ==\n" + tg_.inline_transcript(u.id) + "== private chat ==\n" + tg_.transcript(u.id);
    std::regex id("j[0-9a-f]{24}");
    std::map<std::string, std::string> names;
    std::string out;
    std::size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), id); it != std::sregex_iterator(); ++it) {
      auto& name = names[it->str()];
      if (name.empty()) name = "<job" + std::to_string(names.size()) + ">";
      out += text.substr(last, it->position() - last) + name;
      last = it->position() + it->length();
    }
    return out + text.substr(last);
  }

  std::vector<std::string> result_ids(const std::string& query_id) {
    std::vector<std::string> ids;
    auto answer = tg_.inline_answer(query_id);
    if (!answer) return ids;
    for (const auto& r : answer->at("results").as_array()) ids.emplace_back(r.at("id").as_string());
    return ids;
  }
};

TEST_P(BotInline, GenerateEditsThePlaceholderIntoThePictureAndOldPicturesMatch) {
  tg_.push_message({.from = kAnn, .text = "a fox in snow"});
  // The prompt is acknowledged (a chat action) before the job runs, as in the dialogue tests.
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") == 1; }));
  auto first = work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  EXPECT_THAT(tg_.allowed_updates(), ::testing::IsSupersetOf({"inline_query", "chosen_inline_result"}));
  // Telegram's file_id is kept once the photo went out: what a cached inline result needs.
  ASSERT_TRUE(eventually([&] {
    auto tx = store_->begin(core::TxMode::read);
    return tx->find_image(*tx->find_job(first, false)->image_id)->telegram_file_id.has_value();
  }));
  clock_.advance(core::Millis(1000));  // the next job is newer

  // "fox" finds the earlier picture (as a cached photo) and offers to generate.
  tg_.push_inline_query({.from = kAnn, .query = "Fox, at night"});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 1; }));
  EXPECT_THAT(result_ids("iq-1"), ::testing::ElementsAre("g"));  // "night" is not in the old prompt
  tg_.push_inline_query({.from = kAnn, .query = "FOX snow"});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 2; }));
  EXPECT_THAT(result_ids("iq-2"), ::testing::ElementsAre("g", "j:" + first));
  auto answer = *tg_.inline_answer("iq-2");
  EXPECT_EQ(answer.at("cache_time"), 10);
  EXPECT_EQ(answer.at("is_personal"), true);

  auto inline_id = tg_.choose_inline_result("iq-2", "g");
  ASSERT_FALSE(inline_id.empty());
  ASSERT_TRUE(eventually([&] { return jobs_of(kAnn.id).size() == 2; }));
  auto job = jobs_of(kAnn.id).front();  // newest first
  ASSERT_NE(job.id, first);
  EXPECT_EQ(job.params.prompt, "FOX snow");
  EXPECT_EQ(job.source, "bot");
  work_distinct(8);
  ASSERT_TRUE(wait([&] { return count("editMessageMedia") == 1; }));
  auto message = tg_.inline_message(inline_id);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, "photo");
  EXPECT_EQ(message->file_id, "photo-2");  // uploaded to Ann's private chat first
  EXPECT_EQ(message->caption, "FOX snow");
  EXPECT_EQ(quota_->status(kAnn.id).used, 2);  // the same quota as a private chat's prompt
  ASSERT_TRUE(eventually([&] { return jobs_of(kAnn.id).front().status == core::JobStatus::succeeded; }));

  // An empty query: recent pictures only, newest first.
  tg_.push_inline_query({.from = kAnn, .query = ""});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 3; }));
  EXPECT_THAT(result_ids("iq-3"), ::testing::ElementsAre("j:" + job.id, "j:" + first));
  expect_golden_text("inline_mode", seen(kAnn));
}

TEST_P(BotInline, AFailedJobTurnsThePlaceholderIntoTheFailureText) {
  tg_.add_chat({.id = kBoris.id, .type = "private"}, kBoris);
  tg_.push_inline_query({.from = kBoris, .query = "кот в сапогах"});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 1; }));
  auto inline_id = tg_.choose_inline_result("iq-1", "g");
  ASSERT_TRUE(eventually([&] { return only_job(kBoris.id).has_value(); }));
  work_one(/*succeed=*/false);
  ASSERT_TRUE(wait([&] { return tg_.inline_message(inline_id)->edit_count == 1; }));
  EXPECT_THAT(tg_.inline_message(inline_id)->text, HasSubstr("Лимит не израсходован"));
  EXPECT_EQ(quota_->status(kBoris.id).used, 0);
}

// Boris never started the bot: the upload to his private chat is "chat not found", and without a
// storage chat the placeholder tells him to open the bot (the picture waits in /history).
TEST_P(BotInline, AUserWhoNeverStartedTheBotIsToldToOpenIt) {
  tg_.push_inline_query({.from = kBoris, .query = "кот в сапогах"});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 1; }));
  auto inline_id = tg_.choose_inline_result("iq-1", "g");
  ASSERT_TRUE(eventually([&] { return only_job(kBoris.id).has_value(); }));
  work_distinct(9);
  ASSERT_TRUE(wait([&] { return tg_.inline_message(inline_id)->edit_count == 1; }));
  auto message = tg_.inline_message(inline_id);
  EXPECT_EQ(message->kind, "text");
  EXPECT_EQ(message->reply_markup.at("inline_keyboard").at(0).at(0).at("url"),
            "https://t.me/imggen_test_bot?start=inline");
  expect_golden_text("inline_mode_not_started_ru", seen(kBoris));
}

// Without quota the answer has no "Generate" entry but a button that opens the bot at its plans.
TEST_P(BotInline, AUserWithoutQuotaGetsTheSubscribeButton) {
  for (int i = 0; i < 10; ++i) {
    tg_.push_message({.from = kAnn, .text = "cat number " + std::to_string(i)});
    ASSERT_TRUE(eventually([&] { return jobs_of(kAnn.id).size() == static_cast<std::size_t>(i + 1); }));
    work_one();
    ASSERT_TRUE(wait([&] { return count("sendPhoto") == static_cast<std::size_t>(i + 1); }));
  }
  tg_.push_inline_query({.from = kAnn, .query = "cat number 3"});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 1; }));
  auto answer = *tg_.inline_answer("iq-1");
  EXPECT_EQ(answer.at("button").at("start_parameter"), "plans");
  for (const auto& r : answer.at("results").as_array()) EXPECT_NE(r.at("id"), "g");
  // The deep link shows the plans.
  tg_.push_message({.from = kAnn, .text = "/start plans"});
  ASSERT_TRUE(wait([&] { return tg_.last_bot_message(kAnn.id)->text.find("Basic") != std::string::npos; }));
  EXPECT_FALSE(tg_.last_bot_message(kAnn.id)->reply_markup.is_null());
}

IGB_ON_BOTH_DATABASES(BotInline);

}  // namespace
}  // namespace igb::testing
