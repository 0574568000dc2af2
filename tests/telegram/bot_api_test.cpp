#include "telegram/bot_api.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include "http/client.hpp"
#include "support/async.hpp"
#include "telegram/codec.hpp"
#include "support/fake_bot_api.hpp"
#include "support/fake_http_server.hpp"

namespace igb::telegram {
namespace {

namespace json = boost::json;
using igb::testing::FakeBotApi;
using igb::testing::FakeBotApiOptions;
using igb::testing::FakeHttpServer;
using igb::testing::FakeRequest;
using igb::testing::FakeResponse;
using igb::testing::FakeTgChat;
using igb::testing::FakeTgUser;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Kind = ApiError::Kind;
using igb::testing::optional_of;
using igb::testing::run_async;
using namespace std::chrono_literals;

const FakeTgUser kAnn{.id = 42, .first_name = "Ann", .username = "ann", .language_code = "en"};
const FakeTgUser kBob{.id = 43, .first_name = "Bob", .language_code = "ru"};

InlineKeyboardMarkup keyboard() {
  return InlineKeyboardMarkup{.inline_keyboard = {{{.text = "Again", .callback_data = "again:17"},
                                                   {.text = "Settings", .callback_data = "settings"}},
                                                  {{.text = "Docs", .url = "https://example.com/docs"}}}};
}

// A PNG signature and IHDR (640×480), then bytes that look like multipart syntax.
template <std::size_t N>
std::string literal_bytes(const char (&s)[N]) {
  return std::string(s, N - 1);
}

std::string png_bytes() {
  return literal_bytes("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x02\x80\0\0\x01\xe0\x08\x02\0\0\0") +
         literal_bytes("\r\n--boundary\r\n\0\xff\xfe binary tail\r\n--");
}

class BotApiTest : public ::testing::Test {
 protected:
  explicit BotApiTest(FakeBotApiOptions options = {}) : tg_(std::move(options)) {
    client_ = http::make_client(io_.get_executor());
    api_ = make_http_bot_api(*client_, {.base_url = tg_.base_url(), .token = tg_.token()});
  }

  template <class T>
  T run(net::awaitable<T> task) {
    return run_async(io_, std::move(task));
  }

  void TearDown() override {
    for (const auto& v : tg_.spec_violations()) ADD_FAILURE() << "spec violation: " << v.message;
  }

  net::io_context io_;
  FakeBotApi tg_;
  std::unique_ptr<http::Client> client_;
  std::unique_ptr<BotApi> api_;
};

TEST_F(BotApiTest, GetMeReturnsTheBot) {
  auto me = run(api_->get_me());
  ASSERT_TRUE(me.ok()) << me.error().description;
  EXPECT_EQ(me->id, tg_.bot().id);
  EXPECT_TRUE(me->is_bot);
  EXPECT_EQ(me->username, "imggen_test_bot");
}

TEST_F(BotApiTest, SendMessageSendsJsonWithReplyParametersLinkPreviewAndKeyboard) {
  tg_.push_message({.from = kAnn, .text = "/start"});
  auto sent =
      run(api_->send_message({.chat_id = 42, .text = "Welcome", .reply_markup = keyboard(), .reply_to_message_id = 1}));
  ASSERT_TRUE(sent.ok()) << sent.error().description;
  EXPECT_EQ(sent->message_id, 2);
  EXPECT_EQ(sent->chat.id, 42);
  EXPECT_EQ(sent->text, "Welcome");
  ASSERT_TRUE(sent->reply_to_message);
  EXPECT_EQ(sent->reply_to_message->text, "/start");

  auto call = tg_.calls("sendMessage").at(0);
  EXPECT_EQ(call.content_type, "application/json");
  EXPECT_EQ(call.chat_id, 42);
  EXPECT_EQ(call.params.at("reply_parameters").at("message_id"), 1);
  EXPECT_EQ(call.params.at("link_preview_options"), (json::object{{"is_disabled", true}}));
  EXPECT_FALSE(call.params.contains("parse_mode"));
  EXPECT_FALSE(call.params.contains("disable_notification"));
  EXPECT_EQ(call.params.at("reply_markup").at("inline_keyboard").at(0).at(0),
            (json::object{{"text", "Again"}, {"callback_data", "again:17"}}));
  EXPECT_EQ(tg_.transcript(42),
            "> Ann: /start\n"
            "< sendMessage #2 (reply to #1): Welcome\n"
            "   [Again|again:17] [Settings|settings]\n"
            "   [Docs|url:https://example.com/docs]\n");
}

TEST_F(BotApiTest, PlainMessageOmitsEmptyOptionalFields) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  auto sent = run(api_->send_message({.chat_id = 42, .text = "hi", .disable_link_preview = false}));
  ASSERT_TRUE(sent.ok()) << sent.error().description;
  auto params = tg_.calls("sendMessage").at(0).params;
  EXPECT_EQ(params, (json::object{{"chat_id", 42}, {"text", "hi"}}));
}

TEST_F(BotApiTest, UploadsAPhotoAsMultipartAndReusesItsFileId) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  const auto bytes = png_bytes();
  auto sent = run(api_->send_photo({.chat_id = 42,
                                    .photo = InputFile::upload("a \"cat\".png", "image/png", bytes),
                                    .caption = "a cat\nseed 7",
                                    .reply_markup = keyboard()}));
  ASSERT_TRUE(sent.ok()) << sent.error().description;
  ASSERT_EQ(sent->photo.size(), 2u);
  EXPECT_EQ(sent->photo.back().file_id, "photo-1");
  EXPECT_EQ(sent->photo.back().width, 640);
  EXPECT_EQ(sent->photo.back().height, 480);
  EXPECT_EQ(sent->caption, "a cat\nseed 7");

  auto call = tg_.calls("sendPhoto").at(0);
  EXPECT_EQ(call.content_type, "multipart/form-data");
  ASSERT_EQ(call.uploads.size(), 1u);
  EXPECT_EQ(call.uploads[0].field, "photo");
  EXPECT_EQ(call.uploads[0].content_type, "image/png");
  EXPECT_EQ(call.uploads[0].filename, "a %22cat%22.png");
  EXPECT_EQ(call.uploads[0].bytes, bytes);
  EXPECT_EQ(tg_.file_bytes("photo-1"), bytes);
  EXPECT_EQ(call.params.at("chat_id"), 42);  // form fields typed back per the spec
  EXPECT_EQ(call.params.at("reply_markup").at("inline_keyboard").at(1).at(0).at("url"), "https://example.com/docs");

  auto again = run(api_->send_photo({.chat_id = 42, .photo = InputFile::existing("photo-1"), .caption = "again"}));
  ASSERT_TRUE(again.ok()) << again.error().description;
  EXPECT_EQ(again->photo.back().file_id, "photo-1");
  auto second = tg_.calls("sendPhoto").at(1);
  EXPECT_EQ(second.content_type, "application/json");
  EXPECT_EQ(second.params.at("photo"), "photo-1");

  EXPECT_EQ(tg_.transcript(42), "< sendPhoto #1 (upload image/png " + std::to_string(bytes.size()) +
                                    " bytes → photo-1): a cat\n"
                                    "    seed 7\n"
                                    "   [Again|again:17] [Settings|settings]\n"
                                    "   [Docs|url:https://example.com/docs]\n"
                                    "< sendPhoto #2 (photo-1): again\n");
}

TEST_F(BotApiTest, UnknownFileIdIsABadRequest) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  auto sent = run(api_->send_photo({.chat_id = 42, .photo = InputFile::existing("nope")}));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().kind, Kind::bad_request);
  EXPECT_EQ(sent.error().error_code, 400);
  EXPECT_EQ(sent.error().description, "Bad Request: wrong file identifier/HTTP URL specified");
  EXPECT_EQ(tg_.transcript(42), "! 400 sendPhoto\n");
}

TEST_F(BotApiTest, SendsADocument) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  auto sent = run(api_->send_document({.chat_id = 42,
                                       .document = InputFile::upload("img.png", "image/png", "PNGDATA"),
                                       .reply_to_message_id = std::nullopt}));
  ASSERT_TRUE(sent.ok()) << sent.error().description;
  ASSERT_TRUE(sent->document);
  EXPECT_EQ(sent->document->file_id, "document-1");
  EXPECT_EQ(sent->document->file_name, "img.png");
  EXPECT_EQ(sent->document->mime_type, "image/png");
  EXPECT_EQ(tg_.file_bytes("document-1"), "PNGDATA");
  auto resent = run(api_->send_document({.chat_id = 42, .document = InputFile::existing("document-1")}));
  EXPECT_TRUE(resent.ok());
}

TEST_F(BotApiTest, EditsAndTheirErrors) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  ASSERT_TRUE(run(api_->send_message({.chat_id = 42, .text = "queued, position 3"})).ok());

  auto edited =
      run(api_->edit_message_text({.chat_id = 42, .message_id = 1, .text = "running", .reply_markup = keyboard()}));
  ASSERT_TRUE(edited.ok()) << edited.error().description;
  EXPECT_EQ(edited->text, "running");

  auto same =
      run(api_->edit_message_text({.chat_id = 42, .message_id = 1, .text = "running", .reply_markup = keyboard()}));
  ASSERT_FALSE(same.ok());
  EXPECT_EQ(same.error().kind, Kind::not_modified);
  EXPECT_THAT(same.error().description, HasSubstr("message is not modified"));

  auto missing = run(api_->edit_message_text({.chat_id = 42, .message_id = 99, .text = "x"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, Kind::bad_request);
  EXPECT_EQ(missing.error().description, "Bad Request: message to edit not found");

  auto removed = run(api_->edit_message_reply_markup({.chat_id = 42, .message_id = 1}));
  ASSERT_TRUE(removed.ok()) << removed.error().description;
  EXPECT_FALSE(tg_.calls("editMessageReplyMarkup").at(0).params.contains("reply_markup"));

  ASSERT_TRUE(run(api_->delete_message({.chat_id = 42, .message_id = 1})).ok());
  auto gone = run(api_->delete_message({.chat_id = 42, .message_id = 1}));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().description, "Bad Request: message to delete not found");

  EXPECT_EQ(tg_.transcript(42),
            "< sendMessage #1: queued, position 3\n"
            "< editMessageText #1: running\n"
            "   [Again|again:17] [Settings|settings]\n"
            "   [Docs|url:https://example.com/docs]\n"
            "! 400 editMessageText\n"
            "! 400 editMessageText\n"
            "< editMessageReplyMarkup #1\n"
            "   (no keyboard)\n"
            "< deleteMessage #1\n"
            "! 400 deleteMessage\n");
}

TEST_F(BotApiTest, TelegramLimitsOnTextCaptionAndCallbackData) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  auto too_long = run(api_->send_message({.chat_id = 42, .text = std::string(4097, 'a')}));
  EXPECT_EQ(too_long.error().description, "Bad Request: message is too long");
  // 4096 Cyrillic letters are 8192 bytes but 4096 characters: allowed.
  std::string cyrillic;
  for (int i = 0; i < 4096; ++i) cyrillic += "ж";
  EXPECT_TRUE(run(api_->send_message({.chat_id = 42, .text = cyrillic})).ok());
  // HTML tags do not count.
  EXPECT_TRUE(
      run(api_->send_message({.chat_id = 42, .text = "<b>" + std::string(4096, 'a') + "</b>", .parse_mode = "HTML"}))
          .ok());

  auto empty = run(api_->send_message({.chat_id = 42, .text = " \n"}));
  EXPECT_EQ(empty.error().description, "Bad Request: message text is empty");

  auto caption = run(api_->send_photo(
      {.chat_id = 42, .photo = InputFile::upload("a.png", "image/png", "x"), .caption = std::string(1025, 'c')}));
  EXPECT_EQ(caption.error().description, "Bad Request: message caption is too long");

  InlineKeyboardMarkup big{.inline_keyboard = {{{.text = "x", .callback_data = std::string(65, 'd')}}}};
  auto data = run(api_->send_message({.chat_id = 42, .text = "x", .reply_markup = big}));
  EXPECT_EQ(data.error().description, "Bad Request: BUTTON_DATA_INVALID");
  InlineKeyboardMarkup edge{.inline_keyboard = {{{.text = "x", .callback_data = std::string(64, 'd')}}}};
  EXPECT_TRUE(run(api_->send_message({.chat_id = 42, .text = "x", .reply_markup = edge})).ok());
}

TEST_F(BotApiTest, BlockedUserAndUnknownChatAreBlocked) {
  tg_.push_message({.from = kAnn, .text = "hi"});
  tg_.block(42);
  auto sent = run(api_->send_message({.chat_id = 42, .text = "hello"}));
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().kind, Kind::blocked);
  EXPECT_EQ(sent.error().error_code, 403);
  EXPECT_EQ(sent.error().description, "Forbidden: bot was blocked by the user");

  auto never = run(api_->send_message({.chat_id = 777, .text = "hello"}));
  ASSERT_FALSE(never.ok());
  EXPECT_EQ(never.error().kind, Kind::blocked);
  EXPECT_EQ(never.error().description, "Bad Request: chat not found");

  tg_.push_my_chat_member({.from = kBob, .new_status = "kicked"});
  EXPECT_TRUE(tg_.is_blocked(43));
  EXPECT_EQ(run(api_->send_chat_action({.chat_id = 43})).error().kind, Kind::blocked);
}

// getChatMember (the bot's admin check for /safemode): the real client against the spec-checked fake,
// which answers with the spec's ChatMember subtypes.
TEST_F(BotApiTest, GetChatMemberTellsAdminsFromMembers) {
  const FakeTgChat group{.id = -500, .type = "supergroup", .title = "G"};
  tg_.push_message({.from = kAnn, .chat = group, .text = "hi"});
  auto member = run(api_->get_chat_member({.chat_id = group.id, .user_id = kAnn.id}));
  ASSERT_TRUE(member.ok()) << member.error().description;
  EXPECT_EQ(member->status, "member");
  EXPECT_EQ(member->user.id, kAnn.id);
  EXPECT_FALSE(member->is_admin());
  tg_.set_member_status(group.id, kAnn, "administrator");
  member = run(api_->get_chat_member({.chat_id = group.id, .user_id = kAnn.id}));
  ASSERT_TRUE(member.ok());
  EXPECT_TRUE(member->is_admin());
  tg_.set_member_status(group.id, kBob, "creator");
  EXPECT_TRUE(run(api_->get_chat_member({.chat_id = group.id, .user_id = kBob.id}))->is_admin());
  auto stranger = run(api_->get_chat_member({.chat_id = group.id, .user_id = 999}));
  ASSERT_TRUE(stranger.ok());
  EXPECT_EQ(stranger->status, "left");
  EXPECT_EQ(run(api_->get_chat_member({.chat_id = -777, .user_id = kAnn.id})).error().kind, Kind::blocked);
}

TEST_F(BotApiTest, ScriptedFailuresMapToKinds) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  struct Case {
    int code;
    std::string description;
    Kind kind;
  };
  const std::vector<Case> cases = {
      {429, "Too Many Requests: retry after 5", Kind::rate_limited},
      {403, "Forbidden: user is deactivated", Kind::blocked},
      {403, "Forbidden: bot was kicked from the group chat", Kind::blocked},
      {403, "Forbidden: bot is not a member of the channel chat", Kind::blocked},
      {400,
       "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
       "as a current content and reply markup of the message",
       Kind::not_modified},
      {400, "Bad Request: PEER_ID_INVALID", Kind::blocked},
      {400, "Bad Request: not enough rights to send photos to the chat", Kind::no_rights},
      {400, "Bad Request: not enough rights to send text messages to the chat", Kind::blocked},
      {400, "Bad Request: have no rights to send a message", Kind::blocked},
      {400, "Bad Request: message to edit not found", Kind::bad_request},
      {409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
       Kind::conflict},
      {401, "Unauthorized", Kind::unauthorized},
      {404, "Not Found", Kind::not_found},
      {500, "Internal Server Error", Kind::server},
      {502, "Bad Gateway", Kind::server},
  };
  for (const auto& c : cases) {
    tg_.fail_next("sendMessage", c.code, c.description, c.code == 429 ? std::optional<int>(5) : std::nullopt);
    auto r = run(api_->send_message({.chat_id = 42, .text = "x"}));
    ASSERT_FALSE(r.ok()) << c.description;
    EXPECT_EQ(r.error().kind, c.kind) << c.description << " → " << to_string(r.error().kind);
    EXPECT_EQ(r.error().error_code, c.code);
    EXPECT_EQ(r.error().description, c.description);
    if (c.code == 429) {
      EXPECT_EQ(r.error().retry_after, 5s);
    }
  }
  EXPECT_TRUE(run(api_->send_message({.chat_id = 42, .text = "x"})).ok());
}

TEST_F(BotApiTest, WrongTokenIsUnauthorized) {
  auto bad = make_http_bot_api(*client_, {.base_url = tg_.base_url(), .token = "1:wrong"});
  auto me = run(bad->get_me());
  ASSERT_FALSE(me.ok());
  EXPECT_EQ(me.error().kind, Kind::unauthorized);
  EXPECT_EQ(me.error().error_code, 401);
}

TEST_F(BotApiTest, LongPollingWithOffsetsConfirmsUpdates) {
  auto u1 = tg_.push_message({.from = kAnn, .text = "/start"});
  auto u2 = tg_.push_callback({.from = kAnn, .message_id = 1, .data = "again:1"});
  auto first = run(api_->get_updates({.timeout = 0, .allowed_updates = {"message", "callback_query"}}));
  ASSERT_TRUE(first.ok()) << first.error().description;
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ(first->at(0).update_id, u1);
  ASSERT_TRUE(first->at(0).message);
  EXPECT_EQ(first->at(0).message->text, "/start");
  ASSERT_EQ(first->at(0).message->entities.size(), 1u);
  EXPECT_EQ(first->at(0).message->entities[0].type, "bot_command");
  EXPECT_EQ(first->at(1).update_id, u2);
  ASSERT_TRUE(first->at(1).callback_query);
  EXPECT_EQ(first->at(1).callback_query->data, "again:1");
  EXPECT_EQ(first->at(1).callback_query->id, "cbq-1");
  EXPECT_THAT(tg_.allowed_updates(), ElementsAre("message", "callback_query"));

  // Without a higher offset the same updates come again; with one they are confirmed.
  EXPECT_EQ(run(api_->get_updates({.timeout = 0}))->size(), 2u);
  EXPECT_EQ(run(api_->get_updates({.offset = u2, .timeout = 0}))->size(), 1u);
  EXPECT_EQ(tg_.pending_update_count(), 1u);
  EXPECT_EQ(run(api_->get_updates({.offset = u2 + 1, .timeout = 0}))->size(), 0u);
  EXPECT_EQ(tg_.pending_update_count(), 0u);
  EXPECT_EQ(tg_.calls("getUpdates").at(0).params.at("allowed_updates"), (json::array{"message", "callback_query"}));
}

TEST_F(BotApiTest, LongPollIsHeldUntilAnUpdateArrives) {
  auto fut = net::co_spawn(io_, optional_of(api_->get_updates({.timeout = 50})), net::use_future);
  std::thread runner([this] { io_.run(); });
  ASSERT_TRUE(tg_.wait_until([&] { return tg_.waiting_get_updates() == 1; }));
  auto id = tg_.push_message({.from = kAnn, .text = "a cat"});
  auto updates = *fut.get();
  runner.join();
  ASSERT_TRUE(updates.ok()) << updates.error().description;
  ASSERT_EQ(updates->size(), 1u);
  EXPECT_EQ(updates->at(0).update_id, id);
}

TEST_F(BotApiTest, ASecondPollTerminatesTheFirst) {
  auto first = net::co_spawn(io_, optional_of(api_->get_updates({.timeout = 50})), net::use_future);
  std::thread runner([this] { io_.run(); });
  ASSERT_TRUE(tg_.wait_until([&] { return tg_.waiting_get_updates() == 1; }));
  net::io_context io2;
  auto client2 = http::make_client(io2.get_executor());
  auto api2 = make_http_bot_api(*client2, {.base_url = tg_.base_url(), .token = tg_.token()});
  auto second = net::co_spawn(io2, optional_of(api2->get_updates({.timeout = 0})), net::use_future);
  io2.run();
  auto r = *first.get();
  runner.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, Kind::conflict);
  EXPECT_THAT(r.error().description, HasSubstr("terminated by other getUpdates request"));
  EXPECT_TRUE(second.get()->ok());
}

TEST_F(BotApiTest, WebhookBlocksPollingAndDeliversWithTheSecret) {
  FakeHttpServer bot([](const FakeRequest&) { return FakeResponse::text("", 200); });
  ASSERT_TRUE(
      run(api_->set_webhook(
              {.url = bot.base_url() + "/telegram/webhook", .secret_token = "s3cret", .allowed_updates = {"message"}}))
          .ok());
  EXPECT_EQ(tg_.webhook_secret(), "s3cret");
  auto polled = run(api_->get_updates({.timeout = 0}));
  ASSERT_FALSE(polled.ok());
  EXPECT_EQ(polled.error().kind, Kind::conflict);
  EXPECT_EQ(
      polled.error().description,
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");

  auto id = tg_.push_message({.from = kAnn, .text = "hello"});
  EXPECT_EQ(tg_.deliver_webhook(id), 200);
  EXPECT_EQ(tg_.pending_update_count(), 0u);
  auto req = bot.requests().at(0);
  EXPECT_EQ(req.target, "/telegram/webhook");
  EXPECT_EQ(req.header("X-Telegram-Bot-Api-Secret-Token"), "s3cret");
  auto update = decode_update(json::parse(req.body));
  ASSERT_TRUE(update.ok()) << update.error_text();
  EXPECT_EQ(update.value->message->text, "hello");

  ASSERT_TRUE(run(api_->delete_webhook({})).ok());
  EXPECT_TRUE(run(api_->get_updates({.timeout = 0})).ok());
}

TEST_F(BotApiTest, EveryMethodPassesTheSpec) {
  tg_.push_message({.from = kAnn, .text = "/buy"});
  tg_.push_pre_checkout({.from = kAnn, .total_amount = 100, .invoice_payload = "plan:pro"});
  tg_.push_successful_payment({.from = kAnn,
                               .total_amount = 100,
                               .invoice_payload = "plan:pro",
                               .subscription_expiration_date = 1'800'000'000,
                               .is_recurring = true,
                               .is_first_recurring = true});
  tg_.push_callback({.from = kAnn, .message_id = 1, .data = "x"});
  ASSERT_TRUE(run(api_->get_updates({.timeout = 0,
                                     .allowed_updates = {"message", "callback_query", "pre_checkout_query",
                                                         "my_chat_member", "inline_query"}}))
                  .ok());
  EXPECT_TRUE(run(api_->get_me()).ok());
  EXPECT_TRUE(
      run(api_->set_my_commands({.commands = {{"start", "Start"}, {"help", "Help"}}, .language_code = "ru"})).ok());
  EXPECT_EQ(tg_.my_commands("ru").size(), 2u);
  EXPECT_TRUE(run(api_->send_chat_action({.chat_id = 42})).ok());
  EXPECT_TRUE(
      run(api_->answer_callback_query({.callback_query_id = "cbq-1", .text = "Queued", .show_alert = true})).ok());
  auto twice = run(api_->answer_callback_query({.callback_query_id = "cbq-1"}));
  EXPECT_EQ(twice.error().kind, Kind::bad_request);
  auto invoice = run(api_->send_invoice({.chat_id = 42,
                                         .title = "Pro",
                                         .description = "100 images a day",
                                         .payload = "plan:pro",
                                         .prices = {{"Pro", 100}}}));
  ASSERT_TRUE(invoice.ok()) << invoice.error().description;
  auto link = run(api_->create_invoice_link({.title = "Pro",
                                             .description = "monthly",
                                             .payload = "sub:pro",
                                             .prices = {{"Pro", 100}},
                                             .subscription_period = 2592000}));
  ASSERT_TRUE(link.ok()) << link.error().description;
  EXPECT_THAT(link.value(), HasSubstr("https://t.me/"));
  EXPECT_TRUE(run(api_->answer_pre_checkout_query({.pre_checkout_query_id = "pcq-1"})).ok());
  EXPECT_TRUE(run(api_->edit_user_star_subscription({.user_id = 42, .telegram_payment_charge_id = "charge-1"})).ok());
  EXPECT_TRUE(run(api_->refund_star_payment({.user_id = 42, .telegram_payment_charge_id = "charge-1"})).ok());
  auto again = run(api_->refund_star_payment({.user_id = 42, .telegram_payment_charge_id = "charge-1"}));
  EXPECT_EQ(again.error().description, "Bad Request: CHARGE_ALREADY_REFUNDED");
  EXPECT_THAT(tg_.refunded_charges(), ElementsAre("charge-1"));
  EXPECT_TRUE(run(api_->delete_webhook({.drop_pending_updates = true})).ok());

  EXPECT_EQ(tg_.transcript(42),
            "> Ann: /buy\n"
            "> Ann pre-checkout 100 XTR plan:pro\n"
            "> Ann paid 100 XTR plan:pro (charge-1)\n"
            "> Ann pressed [x] on #1\n"
            "< sendChatAction upload_photo\n"
            "< answerCallbackQuery: Queued (alert)\n"
            "! 400 answerCallbackQuery\n"
            "< sendInvoice #3: Pro — 100 XTR plan:pro\n"
            "< answerPreCheckoutQuery ok\n"
            "< editUserStarSubscription charge-1 canceled\n"
            "< refundStarPayment charge-1\n"
            "! 400 refundStarPayment\n");
}

TEST_F(BotApiTest, CallbackCarriesTheMessageOrAnInaccessibleOne) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  ASSERT_TRUE(run(api_->send_message({.chat_id = 42, .text = "pick", .reply_markup = keyboard()})).ok());
  tg_.push_callback({.from = kAnn, .message_id = 1, .data = "again:17"});
  tg_.push_callback({.from = kAnn, .message_id = 1, .data = "settings", .inaccessible = true});
  auto updates = run(api_->get_updates({.timeout = 0}));
  ASSERT_TRUE(updates.ok()) << updates.error().description;
  ASSERT_EQ(updates->size(), 2u);
  const auto& live = *updates->at(0).callback_query;
  ASSERT_TRUE(live.message);
  EXPECT_EQ(live.message->text, "pick");
  EXPECT_NE(live.message->date, 0);
  const auto& old = *updates->at(1).callback_query;
  ASSERT_TRUE(old.message);
  EXPECT_EQ(old.message->date, 0);
  EXPECT_EQ(old.message->message_id, 1);
  EXPECT_EQ(old.message->chat.id, 42);
  EXPECT_THAT(tg_.transcript(42), HasSubstr("> Ann pressed [Again|again:17] on #1\n"));
}

TEST_F(BotApiTest, GroupMessagesAndOtherContent) {
  FakeTgChat group{.id = -100, .type = "supergroup", .title = "Artists"};
  tg_.push_message({.from = kAnn, .chat = group, .text = "/img@imggen_test_bot a fox"});
  tg_.push_message({.from = kBob, .chat = group, .text = "", .other_content = "sticker"});
  tg_.push_message({.from = kBob, .chat = group, .text = "look", .other_content = "photo"});
  auto updates = run(api_->get_updates({.timeout = 0}));
  ASSERT_TRUE(updates.ok()) << updates.error().description;
  ASSERT_EQ(updates->size(), 3u);
  const auto& cmd = *updates->at(0).message;
  EXPECT_TRUE(cmd.chat.is_group());
  EXPECT_EQ(cmd.message_id, 1);
  ASSERT_EQ(cmd.entities.size(), 1u);
  EXPECT_EQ(cmd.entities[0].length, 20);
  EXPECT_EQ(updates->at(1).message->other_content, "sticker");
  EXPECT_EQ(updates->at(2).message->caption, "look");
  EXPECT_FALSE(updates->at(2).message->photo.empty());
  EXPECT_EQ(tg_.transcript(-100),
            "> Ann: /img@imggen_test_bot a fox\n"
            "> Bob: [sticker]\n"
            "> Bob: [photo] look\n");
}

class ManualClockBotApiTest : public BotApiTest {
 protected:
  ManualClockBotApiTest() : BotApiTest(options()) {}
  static inline std::atomic<std::int64_t> now_ms{0};
  static FakeBotApiOptions options() {
    now_ms = 0;
    return FakeBotApiOptions{
        .clock = [] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms.load())); }};
  }
  bool send(std::int64_t chat) { return run(api_->send_message({.chat_id = chat, .text = "m"})).ok(); }
};

// Inline mode through the real client: the answer with a cached photo and an article with a keyboard,
// the user's choice (an inline message only for the result with a keyboard), edits by
// inline_message_id (Telegram answers True), and the rules: answered once, in time; no upload into
// an inline message; an unknown file_id refused.
TEST_F(ManualClockBotApiTest, InlineQueryAnswerChoiceAndEdits) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  auto photo = run(api_->send_photo({.chat_id = 42, .photo = InputFile::upload("a.png", "image/png", png_bytes())}));
  ASSERT_TRUE(photo.ok()) << photo.error().description;
  tg_.push_inline_query({.from = kAnn, .query = "a fox"});
  auto updates = run(api_->get_updates({.timeout = 0}));
  ASSERT_TRUE(updates.ok()) << updates.error().description;
  ASSERT_EQ(updates->size(), 1u);
  ASSERT_TRUE(updates->at(0).inline_query);
  EXPECT_EQ(updates->at(0).inline_query->id, "iq-1");
  EXPECT_EQ(updates->at(0).inline_query->query, "a fox");
  EXPECT_EQ(updates->at(0).inline_query->chat_type, "supergroup");

  AnswerInlineQuery answer{.inline_query_id = "iq-1", .cache_time = 10, .is_personal = true};
  answer.results.push_back(
      {.kind = InlineQueryResult::Kind::cached_photo, .id = "p", .photo_file_id = "photo-1", .caption = "a fox"});
  answer.results.push_back({.kind = InlineQueryResult::Kind::article,
                            .id = "g",
                            .title = "Generate: a fox",
                            .message_text = "Drawing: a fox",
                            .reply_markup = {{{{.text = "Bot", .url = "https://t.me/imggen_test_bot"}}}}});
  auto bad = answer;
  bad.results.push_back({.kind = InlineQueryResult::Kind::cached_photo, .id = "p", .photo_file_id = "photo-1"});
  auto duplicate = run(api_->answer_inline_query(bad));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().description, "Bad Request: RESULT_ID_DUPLICATE");
  ASSERT_TRUE(run(api_->answer_inline_query(answer)).ok());
  auto again = run(api_->answer_inline_query(answer));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ApiError::Kind::bad_request);
  EXPECT_THAT(again.error().description, HasSubstr("query is too old"));
  ASSERT_TRUE(tg_.inline_answer("iq-1"));
  EXPECT_EQ(tg_.inline_answer("iq-1")->at("is_personal"), true);

  // A query answered after Telegram stopped waiting.
  tg_.push_inline_query({.from = kAnn, .query = "late"});
  now_ms += 11'000;
  auto late = run(api_->answer_inline_query({.inline_query_id = "iq-2", .cache_time = 10}));
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.error().description, HasSubstr("query is too old"));

  EXPECT_EQ(tg_.choose_inline_result("iq-1", "p"), "");  // no keyboard: no inline message
  auto inline_id = tg_.choose_inline_result("iq-1", "g");
  EXPECT_EQ(inline_id, "im-1");
  updates = run(api_->get_updates({.offset = 2, .timeout = 0}));
  ASSERT_TRUE(updates.ok()) << updates.error().description;
  ASSERT_EQ(updates->size(), 3u);  // "late", then the two choices
  ASSERT_TRUE(updates->at(2).chosen_inline_result);
  EXPECT_EQ(updates->at(2).chosen_inline_result->inline_message_id, "im-1");
  EXPECT_EQ(updates->at(2).chosen_inline_result->query, "a fox");
  EXPECT_EQ(updates->at(1).chosen_inline_result->inline_message_id, "");

  ASSERT_TRUE(run(api_->edit_inline_message_text({.inline_message_id = inline_id, .text = "Still drawing"})).ok());
  auto unknown = run(api_->edit_inline_message_media({.inline_message_id = inline_id, .photo_file_id = "nope"}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().description, "Bad Request: wrong file identifier/HTTP URL specified");
  ASSERT_TRUE(
      run(api_->edit_inline_message_media({.inline_message_id = inline_id, .photo_file_id = "photo-1", .caption = "c"}))
          .ok());
  auto text_on_photo = run(api_->edit_inline_message_text({.inline_message_id = inline_id, .text = "x"}));
  ASSERT_FALSE(text_on_photo.ok());
  EXPECT_EQ(text_on_photo.error().description, "Bad Request: there is no text in the message to edit");
  auto missing = run(api_->edit_inline_message_text({.inline_message_id = "im-99", .text = "x"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().description, "Bad Request: MESSAGE_ID_INVALID");
  auto message = tg_.inline_message(inline_id);
  ASSERT_TRUE(message);
  EXPECT_EQ(message->kind, "photo");
  EXPECT_EQ(message->file_id, "photo-1");
  EXPECT_EQ(message->caption, "c");

  EXPECT_EQ(tg_.inline_transcript(42),
            "> Ann inline \"a fox\" (iq-1)\n"
            "! 400 answerInlineQuery: Bad Request: RESULT_ID_DUPLICATE\n"
            "< answerInlineQuery iq-1 cache_time=10 personal\n"
            "   photo p (photo-1): a fox\n"
            "   article g \"Generate: a fox\": Drawing: a fox\n"
            "   [Bot|url:https://t.me/imggen_test_bot]\n"
            "! 400 answerInlineQuery: Bad Request: query is too old and response timeout expired or query ID is "
            "invalid\n"
            "> Ann inline \"late\" (iq-2)\n"
            "! 400 answerInlineQuery: Bad Request: query is too old and response timeout expired or query ID is "
            "invalid\n"
            "> Ann chose p of iq-1\n"
            "> Ann chose g of iq-1 → im-1\n"
            "< editMessageText im-1: Still drawing\n"  // no reply_markup: the keyboard goes
            "! 400 editMessageMedia: Bad Request: wrong file identifier/HTTP URL specified\n"
            "< editMessageMedia im-1 (photo-1): c\n"
            "! 400 editMessageText: Bad Request: there is no text in the message to edit\n");
}

TEST_F(ManualClockBotApiTest, PrivateChatsGetABurstThenOneASecond) {
  tg_.add_chat({.id = 42, .type = "private"}, kAnn);
  tg_.enable_rate_limits();
  EXPECT_TRUE(send(42));
  EXPECT_TRUE(send(42));
  EXPECT_TRUE(send(42));
  EXPECT_FALSE(send(42));
  now_ms += 1000;
  EXPECT_TRUE(send(42));
  EXPECT_FALSE(send(42));
  now_ms += 500;
  EXPECT_FALSE(send(42));
  now_ms += 500;
  EXPECT_TRUE(send(42));
  now_ms += 10'000;  // the bucket refills to the burst
  EXPECT_TRUE(send(42));
  EXPECT_TRUE(send(42));
  EXPECT_TRUE(send(42));
  EXPECT_FALSE(send(42));
  EXPECT_EQ(tg_.rate_limited_count(), 4);
}

TEST_F(ManualClockBotApiTest, GroupsGetTwentyAMinuteAndAllChats30ASecond) {
  tg_.add_chat({.id = -100, .type = "group", .title = "G"});
  tg_.enable_rate_limits();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(send(-100)) << i;
  auto refused = run(api_->send_message({.chat_id = -100, .text = "m"}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().retry_after, 60s);
  now_ms += 60'000;
  EXPECT_TRUE(send(-100));

  now_ms += 10'000;
  for (std::int64_t chat = 1; chat <= 29; ++chat) {
    tg_.add_chat({.id = chat, .type = "private"}, {.id = chat});
    ASSERT_TRUE(send(chat)) << chat;
  }
  tg_.add_chat({.id = 30, .type = "private"}, {.id = 30});
  tg_.add_chat({.id = 31, .type = "private"}, {.id = 31});
  EXPECT_TRUE(send(30));
  EXPECT_FALSE(send(31));  // the 31st message in one second
  now_ms += 1000;
  EXPECT_TRUE(send(31));
}

}  // namespace
}  // namespace igb::telegram
