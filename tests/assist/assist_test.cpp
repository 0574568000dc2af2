// The prompt assistant against a fake OpenAI-compatible chat endpoint in the real wire format
// (tests/support/fake_chat_api.hpp cites its sources): the request it sends, the answers it reads,
// every failure falling back to "use the prompt as written", and the cooldowns that keep a down
// assistant from costing each prompt its time box. Plus the detection rule and the answer cleaning.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "assist/chat_completions.hpp"
#include "assist/language.hpp"
#include "assist/prompt_assistant.hpp"
#include "core/clock.hpp"
#include "http/client.hpp"
#include "support/async.hpp"
#include "support/fake_chat_api.hpp"

namespace igb::testing {
namespace {

namespace json = boost::json;
namespace net = boost::asio;
using namespace std::chrono_literals;
using assist::AssistantOptions;
using assist::PromptAssistant;
using ::testing::HasSubstr;

constexpr const char* kKey = "hf_AssistantTestKey0123456789";

class Assistant : public ::testing::Test {
 protected:
  AssistantOptions options(std::chrono::milliseconds timeout = 2s) {
    return AssistantOptions{
        .chat = {
            .base_url = chat_.base_url(), .api_key = kKey, .model = "Qwen/Qwen2.5-7B-Instruct", .timeout = timeout}};
  }
  std::optional<std::string> translate(PromptAssistant& a, std::string prompt) {
    return run_async(io_, a.translate(std::move(prompt)));
  }
  std::optional<std::string> enhance(PromptAssistant& a, std::string prompt) {
    return run_async(io_, a.enhance(std::move(prompt)));
  }

  net::io_context io_;
  std::unique_ptr<http::Client> http_ = http::make_client(io_.get_executor());
  core::ManualClock clock_;
  FakeChatApi chat_{kKey};
};

TEST_F(Assistant, TranslationSendsTheWireFormatAndReadsTheAnswer) {
  PromptAssistant a(*http_, clock_, options());
  chat_.set_answer([](const std::string&) { return "a red fox in the snow"; });
  EXPECT_EQ(translate(a, "рыжая лиса в снегу"), "a red fox in the snow");
  ASSERT_EQ(chat_.calls().size(), 1u);
  EXPECT_EQ(chat_.bad_requests(), 0u);
  const auto call = chat_.calls().at(0);
  EXPECT_EQ(call.authorization, std::string("Bearer ") + kKey);
  EXPECT_EQ(call.model, "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(call.user, "рыжая лиса в снегу");  // the user's text is the user message, nothing added
  EXPECT_THAT(call.system, HasSubstr("into English"));
  EXPECT_EQ(call.max_tokens, 256);  // the cost cap
  EXPECT_EQ(call.temperature, 0.0);
  // The body as sent: non-streaming, exactly the documented fields.
  auto body = json::parse(chat_.server().requests().at(0).body).as_object();
  EXPECT_EQ(body.at("stream"), false);
  EXPECT_EQ(body.size(), 5u);
  EXPECT_EQ(chat_.server().requests().at(0).target, "/v1/chat/completions");
}

TEST_F(Assistant, EnhanceAsksForDetailStyleAndLighting) {
  PromptAssistant a(*http_, clock_, options());
  chat_.set_answer([](const std::string&) {
    return "A red fox in fresh snow at golden hour, soft rim lighting, shallow depth of field, wildlife photography";
  });
  auto out = enhance(a, "рыжая лиса");
  ASSERT_TRUE(out);
  EXPECT_THAT(*out, HasSubstr("golden hour"));
  const auto call = chat_.calls().at(0);
  EXPECT_THAT(call.system, HasSubstr("lighting"));
  EXPECT_GT(call.temperature, 0.0);
}

TEST_F(Assistant, NoKeyMeansNoAuthorizationHeader) {
  FakeChatApi open_server;  // requires none
  auto o = options();
  o.chat.base_url = open_server.base_url();
  o.chat.api_key.clear();
  PromptAssistant a(*http_, clock_, o);
  EXPECT_TRUE(translate(a, "кот"));
  EXPECT_EQ(open_server.calls().at(0).authorization, "");
}

TEST_F(Assistant, WrongKeyIsAFallbackAndPausesForTenMinutes) {
  auto o = options();
  o.chat.api_key = "hf_wrong_key_000000";
  PromptAssistant a(*http_, clock_, o);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  ASSERT_TRUE(a.paused_until());
  EXPECT_EQ(*a.paused_until(), clock_.now() + 600s);
  // Paused: no call at all (not even the time box is spent).
  EXPECT_EQ(translate(a, "собака"), std::nullopt);
  EXPECT_EQ(chat_.server().request_count(), 1u);
}

TEST_F(Assistant, RateLimitedHonoursRetryAfter) {
  PromptAssistant a(*http_, clock_, options());
  chat_.set_fault(ChatFault::rate_limited);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  ASSERT_TRUE(a.paused_until());
  EXPECT_EQ(*a.paused_until(), clock_.now() + 17s);
  chat_.set_fault(ChatFault::none);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);  // still paused
  EXPECT_EQ(chat_.calls().size(), 1u);
  clock_.advance(17s);
  EXPECT_EQ(translate(a, "кот"), "an English prompt of 6 bytes");
  EXPECT_EQ(chat_.calls().size(), 2u);
}

TEST_F(Assistant, ModelLoadingWaitsItsEstimatedTime) {
  PromptAssistant a(*http_, clock_, options());
  chat_.set_fault(ChatFault::loading);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  ASSERT_TRUE(a.paused_until());
  EXPECT_EQ(*a.paused_until(), clock_.now() + 20s);
}

TEST_F(Assistant, GarbageAnswersFallBackWithoutPausing) {
  PromptAssistant a(*http_, clock_, options());
  for (auto fault : {ChatFault::malformed_json, ChatFault::refusal, ChatFault::cut_off}) {
    chat_.set_fault(fault);
    EXPECT_EQ(translate(a, "кот"), std::nullopt) << static_cast<int>(fault);
  }
  chat_.set_fault(ChatFault::none);
  for (const std::string& answer :
       std::vector<std::string>{"", "   ", "<think>still thinking", "кот на русском", std::string(1500, 'a')}) {
    chat_.set_answer([answer](const std::string&) { return answer; });
    EXPECT_EQ(translate(a, "кот"), std::nullopt) << answer.substr(0, 40);
  }
  EXPECT_FALSE(a.paused_until());
  EXPECT_EQ(chat_.calls().size(), 8u);
}

TEST_F(Assistant, SlowAnswersEndAtTheTimeBoxAndThreeInARowPause) {
  PromptAssistant a(*http_, clock_, options(200ms));
  chat_.set_fault(ChatFault::slow, 5s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(translate(a, "кот"), std::nullopt);
  ASSERT_TRUE(a.paused_until());
  EXPECT_EQ(*a.paused_until(), clock_.now() + 30s);
  EXPECT_EQ(chat_.calls().size(), 3u);
}

TEST_F(Assistant, ServerErrorsAndUnreachableCountTowardsThePause) {
  PromptAssistant a(*http_, clock_, options());
  chat_.set_fault(ChatFault::server_error);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  EXPECT_FALSE(a.paused_until());
  chat_.set_fault(ChatFault::none);
  EXPECT_EQ(translate(a, "кот"), "an English prompt of 6 bytes");  // a success resets the count
  chat_.set_fault(ChatFault::server_error);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  EXPECT_FALSE(a.paused_until());
  // Nothing listens there any more.
  auto o = options();
  FakeHttpServer gone;
  o.chat.base_url = gone.base_url() + "/v1";
  gone.stop();
  PromptAssistant b(*http_, clock_, o);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(translate(b, "кот"), std::nullopt);
  EXPECT_TRUE(b.paused_until());
}

TEST_F(Assistant, AnswersAreBoundedInSize) {
  auto o = options();
  o.chat.max_response_bytes = 512;
  PromptAssistant a(*http_, clock_, o);
  chat_.set_answer([](const std::string&) { return std::string(600, 'x'); });
  EXPECT_EQ(translate(a, "кот"), std::nullopt);
  chat_.set_answer([](const std::string&) { return "a cat"; });
  EXPECT_EQ(translate(a, "кот"), "a cat");
}

TEST(ChatAnswer, ReadsTheShapesServersAnswer) {
  http::Response ok{.status = 200,
                    .body =
                        R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
                        R"("message":{"role":"assistant","content":"a cat","refusal":null},"finish_reason":"stop"}]})"};
  auto r = assist::read_chat_answer(ok);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->content, "a cat");
  EXPECT_EQ(r->finish_reason, "stop");

  auto kind = [](int status, std::string body, http::Headers headers = {}) {
    auto out = assist::read_chat_answer({.status = status, .headers = std::move(headers), .body = std::move(body)});
    EXPECT_FALSE(out.ok());
    return out.ok() ? assist::ChatFailureKind::garbage : out.error().kind;
  };
  using K = assist::ChatFailureKind;
  EXPECT_EQ(kind(401, R"({"error":{"message":"Invalid credentials in Authorization header"}})"), K::bad_credentials);
  EXPECT_EQ(kind(403, "forbidden"), K::bad_credentials);
  EXPECT_EQ(kind(429, "", {{"Retry-After", "5"}}), K::rate_limited);
  EXPECT_EQ(kind(503, R"({"error":"Model m is currently loading","estimated_time":12.5})"), K::loading);
  EXPECT_EQ(kind(503, "<html>Service Unavailable</html>"), K::unavailable);
  EXPECT_EQ(kind(400, R"({"error":{"message":"The requested model 'x' does not exist.","code":"model_not_found"}})"),
            K::rejected);
  EXPECT_EQ(kind(200, R"({"error":"upstream failed"})"), K::garbage);  // some servers answer errors with 200
  EXPECT_EQ(kind(200, R"({"choices":[]})"), K::garbage);
  EXPECT_EQ(kind(200, R"({"choices":[{"message":{"content":null}}]})"), K::garbage);
  EXPECT_EQ(kind(200, R"({"choices":[{"message":{"content":7}}]})"), K::garbage);
  EXPECT_EQ(kind(200, std::string(100, '[')), K::garbage);  // past the depth bound
  auto loading = assist::read_chat_answer({.status = 503, .body = R"({"error":"loading","estimated_time":12.5})"});
  EXPECT_EQ(loading.error().retry_after, 12500ms);
  auto limited = assist::read_chat_answer({.status = 429, .headers = {{"retry-after", "5"}}});
  EXPECT_EQ(limited.error().retry_after, 5000ms);
}

TEST(Language, DetectionRule) {
  using assist::needs_translation;
  EXPECT_TRUE(needs_translation("рыжая лиса в снегу"));
  EXPECT_TRUE(needs_translation("кот в шляпе, 4k, --ar 16:9"));
  EXPECT_TRUE(needs_translation("a cat in Москва"));  // 6 English letters, 6 others: half or more
  EXPECT_TRUE(needs_translation("猫がいる"));
  EXPECT_TRUE(needs_translation("Ελληνικά"));
  EXPECT_FALSE(needs_translation("a red fox in snow"));
  EXPECT_FALSE(needs_translation("a café in Paris"));  // one accented letter among English ones
  EXPECT_FALSE(needs_translation("🦊🦊 1234 — “!”"));  // no letters at all
  EXPECT_FALSE(needs_translation(""));
  EXPECT_FALSE(needs_translation("a fox in Kyiv ★★★ ≥ 10"));
  EXPECT_FALSE(needs_translation("un renard dans la neige"));  // Latin script: passes as written (documented)
  EXPECT_FALSE(needs_translation("\xff\xfe a fox"));            // invalid bytes are not letters
}

TEST(Language, CleanAnswer) {
  using assist::clean_answer;
  EXPECT_EQ(clean_answer("  a red fox\nin snow  ", 100, true), "a red fox in snow");
  EXPECT_EQ(clean_answer("\"a red fox\"", 100, true), "a red fox");
  EXPECT_EQ(clean_answer("«a red fox»", 100, true), "a red fox");
  EXPECT_EQ(clean_answer("Translation: \"a red fox\"", 100, true), "a red fox");
  EXPECT_EQ(clean_answer("<think>The user wants English.</think>\n\na red fox", 100, true), "a red fox");
  EXPECT_EQ(clean_answer("a\tred\x01 fox", 100, true), "a red fox");
  EXPECT_EQ(clean_answer("<think>unfinished", 100, true), std::nullopt);
  EXPECT_EQ(clean_answer("", 100, true), std::nullopt);
  EXPECT_EQ(clean_answer("abcdef", 5, true), std::nullopt);
  EXPECT_EQ(clean_answer("рыжая лиса", 100, true), std::nullopt);
  EXPECT_EQ(clean_answer("рыжая лиса", 100, false), "рыжая лиса");
  EXPECT_EQ(clean_answer("\xc3\x28", 100, false), std::nullopt);  // invalid UTF-8
}

}  // namespace
}  // namespace igb::testing
