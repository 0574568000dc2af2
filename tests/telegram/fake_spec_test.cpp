// The fake Bot API itself (tests/support/fake_bot_api.hpp): it checks requests against the spec
// (../shared/telegram/botapi.json) and accepts every encoding Telegram does.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "http/client.hpp"
#include "support/async.hpp"
#include "support/fake_bot_api.hpp"

namespace igb::telegram {
namespace {

namespace net = boost::asio;
using igb::testing::FakeBotApi;
using igb::testing::FakeTgUser;
using igb::testing::run_async;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const FakeTgUser kAnn{.id = 42, .first_name = "Ann", .username = "ann", .language_code = "en"};

class FakeSpecTest : public ::testing::Test {
 protected:
  http::Response post(const std::string& path_and_query, const std::string& content_type, std::string body) {
    http::Request r{.method = "POST", .url = tg_.base_url() + path_and_query, .body = std::move(body)};
    if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
    auto client = http::make_client(io_.get_executor());
    return run_async(io_, [](http::Client* c, http::Request req) -> net::awaitable<http::Response> {
      co_return co_await c->send(std::move(req));
    }(client.get(), std::move(r)));
  }
  std::string bot(const std::string& method) { return "/bot" + tg_.token() + "/" + method; }

  net::io_context io_;
  FakeBotApi tg_;
};

TEST_F(FakeSpecTest, UnknownMethodTokenAndMissingParameters) {
  auto unknown = post(bot("sendMesage"), "application/json", "{}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.body, R"({"ok":false,"error_code":404,"description":"Not Found"})");

  auto wrong = post("/bot1:nope/getMe", "", "");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body, R"({"ok":false,"error_code":401,"description":"Unauthorized"})");

  auto missing = post(bot("sendMessage"), "application/json", R"({"text":"hi"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body, HasSubstr("chat_id: missing required parameter"));

  auto typed =
      post(bot("sendMessage"), "application/json",
           R"({"chat_id":1,"text":"hi","reply_markup":{"inline_keyboard":[[{"text":1,"callback_data":"a"}]]}})");
  EXPECT_EQ(typed.status, 400);
  EXPECT_THAT(typed.body, HasSubstr("reply_markup.inline_keyboard[0][0].text: expected String"));

  auto nested = post(bot("sendMessage"), "application/json", R"({"chat_id":1,"text":"hi","reply_parameters":{}})");
  EXPECT_THAT(nested.body, HasSubstr("reply_parameters.message_id: missing required field"));

  auto typo = post(bot("sendMessage"), "application/json", R"({"chat_id":1,"text":"hi","reply_markups":{}})");
  EXPECT_THAT(typo.body, HasSubstr("reply_markups: unknown parameter"));

  std::vector<std::string> messages;
  for (const auto& v : tg_.spec_violations()) messages.push_back(v.message);
  EXPECT_THAT(messages, ElementsAre("sendMesage: no such method in the Bot API",
                                    "sendMessage: chat_id: missing required parameter",
                                    "sendMessage: reply_markup.inline_keyboard[0][0].text: expected String",
                                    "sendMessage: reply_parameters.message_id: missing required field",
                                    "sendMessage: reply_markups: unknown parameter"));
}

// An inline message cannot receive an upload (the Bot API's editMessageMedia: "When an inline message
// is edited, a new file can't be uploaded"), whichever way it is attempted.
TEST_F(FakeSpecTest, AnInlineMessageTakesNoUpload) {
  tg_.add_chat({.id = 42, .type = "private"}, {.id = 42, .first_name = "Ann"});
  tg_.push_inline_query({.from = {.id = 42, .first_name = "Ann"}, .query = "fox"});
  auto answered = post(bot("answerInlineQuery"), "application/json",
                       R"({"inline_query_id":"iq-1","results":[{"type":"article","id":"g","title":"t",
                           "input_message_content":{"message_text":"wait"},
                           "reply_markup":{"inline_keyboard":[[{"text":"b","callback_data":"x"}]]}}]})");
  ASSERT_EQ(answered.status, 200) << answered.body;
  auto id = tg_.choose_inline_result("iq-1", "g");
  auto upload = post(bot("editMessageMedia"), "application/json",
                     R"({"inline_message_id":")" + id + R"(","media":{"type":"photo","media":"attach://photo"}})");
  EXPECT_EQ(upload.status, 400);
  EXPECT_THAT(upload.body, HasSubstr("can't be uploaded to an inline message"));
  auto both = post(bot("editMessageText"), "application/json",
                   R"({"inline_message_id":")" + id + R"(","chat_id":42,"message_id":1,"text":"x"})");
  EXPECT_EQ(both.status, 400);
  EXPECT_EQ(tg_.inline_message(id)->text, "wait");
  EXPECT_THAT(tg_.spec_violations(), IsEmpty());
}

TEST_F(FakeSpecTest, AcceptsFormsQueryStringsAndCaseInsensitiveMethods) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  auto form = post(bot("sendMessage"), "application/x-www-form-urlencoded",
                   "chat_id=42&text=a+b%26c&reply_markup=%7B%22inline_keyboard%22%3A%5B%5B%7B%22text%22%3A%22x%22%2C%"
                   "22callback_data%22%3A%22y%22%7D%5D%5D%7D");
  EXPECT_EQ(form.status, 200) << form.body;
  auto query = post(bot("sendmessage") + "?chat_id=42&text=q", "", "");
  EXPECT_EQ(query.status, 200) << query.body;
  auto calls = tg_.calls("sendMessage");
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].params.at("text"), "a b&c");
  EXPECT_EQ(calls[0].params.at("reply_markup").at("inline_keyboard").at(0).at(0).at("callback_data"), "y");
  EXPECT_EQ(calls[1].params.at("chat_id"), 42);
  EXPECT_THAT(tg_.spec_violations(), IsEmpty());
  EXPECT_EQ(tg_.transcript(42), "< sendMessage #1: a b&c\n   [x|y]\n< sendMessage #2: q\n");
}

}  // namespace
}  // namespace igb::telegram
