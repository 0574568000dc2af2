// The prompt assistant in the bot, end to end: the real bot, the real Bot API client against the
// fake Bot API, and the real assistant client against a fake OpenAI-compatible chat endpoint
// (tests/support/fake_chat_api.hpp). A Russian prompt goes to the provider in English while the
// caption shows the user's words; an assistant that is down or slow changes nothing the user sees;
// "✨ Enhance" makes the picture again from an enriched prompt.
#include "bot/job_meta.hpp"
#include "bot_fixture.hpp"
#include "support/fake_chat_api.hpp"

namespace igb::testing {
namespace {

constexpr const char* kChatKey = "hf_BotAssistantKey0123456789";

class BotAssistant : public BotDialogue {
 protected:
  BotAssistant() {
    assistant_options_ = assist::AssistantOptions{
        .chat = {.base_url = chat_.base_url(), .api_key = kChatKey, .model = "test/translator", .timeout = 1s}};
    chat_.set_answer([](const std::string& user) -> std::string {
      if (user == "рыжая лиса в снегу") return "a red fox in the snow";
      return "EN: " + user;
    });
  }

  std::string original_of(const core::Job& job) {
    auto meta = bot::decode_meta(job.meta);
    EXPECT_TRUE(meta);
    return meta ? meta->original : "?";
  }

  // The user's job that is none of `known` (the manual clock gives jobs of a test one creation time,
  // so their order in jobs_of says nothing).
  core::Job job_besides(core::UserId user, const std::vector<std::string>& known) {
    for (auto& j : jobs_of(user)) {
      if (std::find(known.begin(), known.end(), j.id) == known.end()) return j;
    }
    ADD_FAILURE() << "no new job";
    return {};
  }

  FakeChatApi chat_{kChatKey};
};

TEST_P(BotAssistant, ARussianPromptIsDrawnInEnglishAndCaptionedInRussian) {
  tg_.push_message({.from = kBoris, .text = "рыжая лиса в снегу --seed 42"});
  ASSERT_TRUE(wait([&] { return only_job(kBoris.id).has_value() && count("sendChatAction") >= 1; }));
  auto job = *only_job(kBoris.id);
  // The assistant got the prompt without the options; the provider gets its English.
  ASSERT_EQ(chat_.calls().size(), 1u);
  EXPECT_EQ(chat_.calls().at(0).user, "рыжая лиса в снегу");
  EXPECT_EQ(job.params.prompt, "a red fox in the snow");
  EXPECT_EQ(job.params.seed, 42);
  EXPECT_EQ(original_of(job), "рыжая лиса в снегу");
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  auto photo = tg_.calls("sendPhoto").at(0);
  EXPECT_EQ(tg_.last_bot_message(kBoris.id)->caption.rfind("рыжая лиса в снегу", 0), 0u);
  EXPECT_EQ(tg_.last_bot_message(kBoris.id)->caption.find("red fox"), std::string::npos);

  // "Again" keeps the translation (no second call) and the Russian caption.
  auto photo_message = tg_.last_bot_message(kBoris.id)->message_id;
  tg_.push_callback({.from = kBoris, .message_id = photo_message, .data = "a:" + job.id});
  ASSERT_TRUE(wait([&] { return jobs_of(kBoris.id).size() == 2 && count("sendChatAction") >= 2; }));
  auto again = job_besides(kBoris.id, {job.id});
  EXPECT_EQ(again.params.prompt, "a red fox in the snow");
  EXPECT_EQ(original_of(again), "рыжая лиса в снегу");
  EXPECT_EQ(chat_.calls().size(), 1u);
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 2; }));
  EXPECT_EQ(chat_.bad_requests(), 0u);
  expect_golden("assistant_translated_ru", kBoris.id);

  // /history shows it in the user's words, and inline search finds it by them.
  tg_.push_message({.from = kBoris, .text = "/history"});
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 4; }));
  EXPECT_EQ(tg_.last_bot_message(kBoris.id)->caption.rfind("рыжая лиса в снегу", 0), 0u);
  tg_.push_inline_query({.from = kBoris, .query = "лиса"});
  ASSERT_TRUE(wait([&] { return count("answerInlineQuery") == 1; }));
  bool found = false;
  const auto answer = *tg_.inline_answer("iq-1");
  for (const auto& r : answer.at("results").as_array()) {
    if (std::string_view(r.at("id").as_string()) != "j:" + job.id) continue;
    found = true;
    EXPECT_EQ(std::string_view(r.at("caption").as_string()), "рыжая лиса в снегу");
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(chat_.calls().size(), 1u);
}

TEST_P(BotAssistant, AnEnglishPromptIsNotSentToTheAssistant) {
  tg_.push_message({.from = kAnn, .text = "a red fox in snow"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value(); }));
  EXPECT_EQ(only_job(kAnn.id)->params.prompt, "a red fox in snow");
  EXPECT_EQ(original_of(*only_job(kAnn.id)), "");
  EXPECT_TRUE(chat_.calls().empty());
}

TEST_P(BotAssistant, AnAssistantThatIsDownOrSlowLeavesThePromptAsWritten) {
  chat_.set_fault(ChatFault::server_error);
  tg_.push_message({.from = kBoris, .text = "рыжая лиса в снегу"});
  ASSERT_TRUE(wait([&] { return only_job(kBoris.id).has_value() && count("sendChatAction") >= 1; }));
  const auto first = *only_job(kBoris.id);
  EXPECT_EQ(first.params.prompt, "рыжая лиса в снегу");
  EXPECT_EQ(original_of(first), "");
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  EXPECT_EQ(tg_.last_bot_message(kBoris.id)->caption.rfind("рыжая лиса в снегу", 0), 0u);
  // Slower than the time box (1 s): the prompt goes as written, and the chat goes on.
  chat_.set_fault(ChatFault::slow, 10s);
  tg_.push_message({.from = kBoris, .text = "синий кит"});
  ASSERT_TRUE(wait([&] { return jobs_of(kBoris.id).size() == 2; }));
  EXPECT_EQ(job_besides(kBoris.id, {first.id}).params.prompt, "синий кит");
  EXPECT_EQ(chat_.calls().size(), 2u);
  // No error was shown: no message at all besides the photo (short waits get no status message).
  EXPECT_EQ(count("sendMessage"), 0u);
}

TEST_P(BotAssistant, EnhanceMakesThePictureAgainFromAnEnrichedPrompt) {
  tg_.push_message({.from = kAnn, .text = "a lighthouse at dusk"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") >= 1; }));
  auto first = work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  chat_.set_answer([](const std::string& user) {
    return "\"" + user + ", a lone lighthouse on a rocky coast at dusk, warm light, long exposure\"";
  });
  auto photo_message = tg_.last_bot_message(kAnn.id)->message_id;
  tg_.push_callback({.from = kAnn, .message_id = photo_message, .data = "e:" + first});
  ASSERT_TRUE(wait([&] { return jobs_of(kAnn.id).size() == 2 && count("sendChatAction") >= 2; }));
  auto enhanced = job_besides(kAnn.id, {first});
  EXPECT_EQ(enhanced.params.prompt,
            "a lighthouse at dusk, a lone lighthouse on a rocky coast at dusk, warm light, long exposure");
  EXPECT_EQ(enhanced.params.seed, 1234);  // the first picture's: only the prompt changes
  EXPECT_EQ(original_of(enhanced), "a lighthouse at dusk");
  ASSERT_EQ(chat_.calls().size(), 1u);
  EXPECT_EQ(chat_.calls().at(0).user, "a lighthouse at dusk");
  work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 2; }));
  EXPECT_EQ(quota_->status(kAnn.id).used, 2);  // it costs an image, like "Again"

  // Enhancing the enhanced picture starts again from the user's words, not from the enrichment.
  auto second_photo = tg_.last_bot_message(kAnn.id)->message_id;
  tg_.push_callback({.from = kAnn, .message_id = second_photo, .data = "e:" + enhanced.id});
  ASSERT_TRUE(wait([&] { return jobs_of(kAnn.id).size() == 3 && count("sendChatAction") >= 3; }));
  EXPECT_EQ(chat_.calls().at(1).user, "a lighthouse at dusk");
  expect_golden("assistant_enhance", kAnn.id);
}

TEST_P(BotAssistant, EnhanceWhileTheAssistantIsDownQueuesNothing) {
  tg_.push_message({.from = kAnn, .text = "a lighthouse at dusk"});
  ASSERT_TRUE(wait([&] { return only_job(kAnn.id).has_value() && count("sendChatAction") >= 1; }));
  auto first = work_one();
  ASSERT_TRUE(wait([&] { return count("sendPhoto") == 1; }));
  chat_.set_fault(ChatFault::rate_limited);
  auto photo_message = tg_.last_bot_message(kAnn.id)->message_id;
  tg_.push_callback({.from = kAnn, .message_id = photo_message, .data = "e:" + first});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 1; }));
  EXPECT_EQ(jobs_of(kAnn.id).size(), 1u);
  EXPECT_EQ(quota_->status(kAnn.id).used, 1);
  EXPECT_THAT(tg_.transcript(kAnn.id),
              ::testing::HasSubstr("answerCallbackQuery: The prompt assistant is not available"));
  // Another user's job id is a stale button, whatever the assistant says.
  tg_.push_callback({.from = kBoris, .message_id = photo_message, .data = "e:" + first});
  ASSERT_TRUE(wait([&] { return count("answerCallbackQuery") == 2; }));
  EXPECT_EQ(jobs_of(kBoris.id).size(), 0u);
  EXPECT_EQ(chat_.calls().size(), 1u);
}

// The prompt policy sees the user's own words before the assistant does (a blocked prompt costs no
// assistant call) and the English after it (a translation cannot carry a blocked term past it).
TEST_P(BotAssistant, ThePromptPolicyScreensTheWordsBeforeAndTheTranslationAfter) {
  tg_.push_message({.from = kBoris, .text = "аниме лоли на пляже"});
  ASSERT_TRUE(wait([&] {
    auto m = tg_.last_bot_message(kBoris.id);
    return m && m->text.find("недопустимые слова") != std::string::npos;
  }));
  EXPECT_TRUE(chat_.calls().empty());
  EXPECT_TRUE(jobs_of(kBoris.id).empty());
  EXPECT_EQ(quota_->status(kBoris.id).failed, 1);

  chat_.set_answer([](const std::string&) -> std::string { return "jailbait on a beach"; });
  tg_.push_message({.from = kBoris, .text = "девушка на пляже"});
  ASSERT_TRUE(wait([&] { return count("sendMessage") == 2; }));
  EXPECT_THAT(tg_.last_bot_message(kBoris.id)->text, ::testing::HasSubstr("недопустимые слова"));
  EXPECT_EQ(chat_.calls().size(), 1u);
  EXPECT_TRUE(jobs_of(kBoris.id).empty());
  EXPECT_EQ(quota_->status(kBoris.id).failed, 2);
}

IGB_ON_BOTH_DATABASES(BotAssistant);

}  // namespace
}  // namespace igb::testing
