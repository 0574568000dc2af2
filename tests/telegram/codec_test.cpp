#include "telegram/codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace igb::telegram {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Shapes as Telegram sends them (Bot API docs and real traffic), with fields this product ignores.
constexpr const char* kStartMessage = R"({
  "update_id": 10000,
  "message": {
    "message_id": 1365,
    "from": {"id": 1111111, "is_bot": false, "first_name": "Ann", "last_name": "Lee", "username": "ann",
             "language_code": "ru", "is_premium": true},
    "chat": {"id": 1111111, "first_name": "Ann", "last_name": "Lee", "username": "ann", "type": "private"},
    "date": 1441645532,
    "text": "/start ref_42",
    "entities": [{"offset": 0, "length": 6, "type": "bot_command"}],
    "link_preview_options": {"is_disabled": true},
    "some_future_field": {"nested": [1, 2, 3]}
  }
})";

TEST(CodecTest, DecodesAMessageWithACommand) {
  auto u = decode_update(json::parse(kStartMessage));
  ASSERT_TRUE(u.ok()) << u.error_text();
  EXPECT_EQ(u.value->update_id, 10000);
  const auto& m = *u.value->message;
  EXPECT_EQ(m.message_id, 1365);
  EXPECT_EQ(m.date, 1441645532);
  ASSERT_TRUE(m.from);
  EXPECT_EQ(m.from->id, 1111111);
  EXPECT_EQ(m.from->first_name, "Ann");
  EXPECT_EQ(m.from->username, "ann");
  EXPECT_EQ(m.from->language_code, "ru");
  EXPECT_TRUE(m.chat.is_private());
  EXPECT_EQ(m.text, "/start ref_42");
  ASSERT_EQ(m.entities.size(), 1u);
  EXPECT_EQ(m.entities[0].type, "bot_command");
  EXPECT_EQ(m.entities[0].length, 6);
  EXPECT_TRUE(m.other_content.empty());
  EXPECT_FALSE(u.value->callback_query);
}

TEST(CodecTest, DecodesACallbackQueryWithItsMessageAndReply) {
  auto u = decode_update(json::parse(R"({
    "update_id": 10001,
    "callback_query": {
      "id": "4382bfdwdsb323b2d9",
      "from": {"id": 1111111, "is_bot": false, "first_name": "Ann"},
      "chat_instance": "-7654",
      "data": "again:17",
      "message": {
        "message_id": 7, "date": 1441645600,
        "from": {"id": 99, "is_bot": true, "first_name": "ImgGenBot", "username": "imggen_bot"},
        "chat": {"id": -1001234567890, "type": "supergroup", "title": "Artists"},
        "photo": [{"file_id": "AgAD-s", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 1000},
                  {"file_id": "AgAD", "file_unique_id": "l", "width": 1024, "height": 1024}],
        "caption": "a fox",
        "reply_to_message": {"message_id": 6, "date": 1441645500, "chat": {"id": -1001234567890, "type": "supergroup"},
                             "text": "/img a fox"},
        "reply_markup": {"inline_keyboard": [[{"text": "Again", "callback_data": "again:17"}]]}
      }
    }
  })"));
  ASSERT_TRUE(u.ok()) << u.error_text();
  const auto& q = *u.value->callback_query;
  EXPECT_EQ(q.id, "4382bfdwdsb323b2d9");
  EXPECT_EQ(q.data, "again:17");
  ASSERT_TRUE(q.message);
  EXPECT_EQ(q.message->chat.id, -1001234567890);
  EXPECT_TRUE(q.message->chat.is_group());
  EXPECT_EQ(q.message->chat.title, "Artists");
  ASSERT_EQ(q.message->photo.size(), 2u);
  EXPECT_EQ(q.message->photo[1].file_id, "AgAD");
  EXPECT_EQ(q.message->photo[0].file_size, 1000);
  EXPECT_EQ(q.message->caption, "a fox");
  ASSERT_TRUE(q.message->reply_to_message);
  EXPECT_EQ(q.message->reply_to_message->text, "/img a fox");
}

TEST(CodecTest, InaccessibleMessageIsAMessageWithDateZero) {
  auto q = decode_callback_query(json::parse(R"({
    "id": "1", "from": {"id": 5, "is_bot": false, "first_name": "A"}, "chat_instance": "1", "data": "x",
    "message": {"chat": {"id": 5, "type": "private", "first_name": "A"}, "message_id": 3, "date": 0}
  })"));
  ASSERT_TRUE(q.ok()) << q.error_text();
  ASSERT_TRUE(q.value->message);
  EXPECT_EQ(q.value->message->date, 0);
  EXPECT_EQ(q.value->message->message_id, 3);
  EXPECT_EQ(q.value->message->chat.id, 5);
}

TEST(CodecTest, OtherContentNamesWhatTheMessageCarries) {
  for (const char* kind :
       {"sticker", "voice", "video", "video_note", "audio", "animation", "location", "contact", "poll", "dice"}) {
    json::object m{{"message_id", 1}, {"date", 1}, {"chat", json::object{{"id", 1}, {"type", "private"}}}};
    m[kind] = json::object{{"file_id", "x"}};
    auto d = decode_message(m);
    ASSERT_TRUE(d.ok()) << kind << ": " << d.error_text();
    EXPECT_EQ(d.value->other_content, kind);
  }
  auto doc = decode_message(json::parse(R"({"message_id":1,"date":1,"chat":{"id":1,"type":"private"},
      "document":{"file_id":"BQAD","file_unique_id":"u","file_name":"a.png","mime_type":"image/png"}})"));
  ASSERT_TRUE(doc.ok()) << doc.error_text();
  EXPECT_EQ(doc.value->document->file_name, "a.png");
  EXPECT_TRUE(doc.value->other_content.empty());
}

TEST(CodecTest, DecodesPaymentsAndMembership) {
  auto pre = decode_update(
      json::parse(R"({"update_id": 1, "pre_checkout_query": {"id": "pcq", "from": {"id": 7, "is_bot": false,
      "first_name": "A"}, "currency": "XTR", "total_amount": 250, "invoice_payload": "plan:pro"}})"));
  ASSERT_TRUE(pre.ok()) << pre.error_text();
  EXPECT_EQ(pre.value->pre_checkout_query->total_amount, 250);
  EXPECT_EQ(pre.value->pre_checkout_query->invoice_payload, "plan:pro");

  auto paid = decode_update(json::parse(R"({"update_id": 2, "message": {"message_id": 9, "date": 5,
      "chat": {"id": 7, "type": "private"}, "from": {"id": 7, "is_bot": false, "first_name": "A"},
      "successful_payment": {"currency": "XTR", "total_amount": 250, "invoice_payload": "plan:pro",
        "subscription_expiration_date": 1760000000, "is_recurring": true, "is_first_recurring": true,
        "telegram_payment_charge_id": "stxABC", "provider_payment_charge_id": ""}}})"));
  ASSERT_TRUE(paid.ok()) << paid.error_text();
  const auto& sp = *paid.value->message->successful_payment;
  EXPECT_EQ(sp.telegram_payment_charge_id, "stxABC");
  EXPECT_EQ(sp.subscription_expiration_date, 1760000000);
  EXPECT_TRUE(sp.is_recurring);
  EXPECT_TRUE(sp.is_first_recurring);

  auto refunded = decode_message(json::parse(R"({"message_id": 10, "date": 6, "chat": {"id": 7, "type": "private"},
      "refunded_payment": {"currency": "XTR", "total_amount": 250, "invoice_payload": "plan:pro",
        "telegram_payment_charge_id": "stxABC"}})"));
  ASSERT_TRUE(refunded.ok()) << refunded.error_text();
  EXPECT_EQ(refunded.value->refunded_payment->total_amount, 250);

  auto member = decode_update(json::parse(R"({"update_id": 3, "my_chat_member": {
      "chat": {"id": 7, "type": "private", "first_name": "A"}, "from": {"id": 7, "is_bot": false, "first_name": "A"},
      "date": 100, "old_chat_member": {"status": "member", "user": {"id": 99, "is_bot": true, "first_name": "B"}},
      "new_chat_member": {"status": "kicked", "until_date": 0, "user": {"id": 99, "is_bot": true, "first_name": "B"}}}})"));
  ASSERT_TRUE(member.ok()) << member.error_text();
  EXPECT_EQ(member.value->my_chat_member->old_status, "member");
  EXPECT_EQ(member.value->my_chat_member->new_status, "kicked");

  auto inline_query = decode_update(json::parse(R"({"update_id": 4, "inline_query": {"id": "iq", "from": {"id": 7,
      "is_bot": false, "first_name": "A"}, "query": "fox", "offset": ""}})"));
  ASSERT_TRUE(inline_query.ok()) << inline_query.error_text();
  EXPECT_EQ(inline_query.value->inline_query->query, "fox");

  // The result a user picked (inline feedback): inline_message_id only for a result with a keyboard.
  auto chosen = decode_update(json::parse(R"({"update_id": 6, "chosen_inline_result": {"result_id": "g",
      "from": {"id": 7, "is_bot": false, "first_name": "A"}, "inline_message_id": "AAAA-b_1", "query": "fox"}})"));
  ASSERT_TRUE(chosen.ok()) << chosen.error_text();
  EXPECT_EQ(chosen.value->chosen_inline_result->result_id, "g");
  EXPECT_EQ(chosen.value->chosen_inline_result->inline_message_id, "AAAA-b_1");
  EXPECT_EQ(chosen.value->chosen_inline_result->from.id, 7);
  auto bad_chosen = decode_update(json::parse(R"({"update_id": 7, "chosen_inline_result": {"result_id": 5,
      "from": {"id": 7, "is_bot": false, "first_name": "A"}}})"));
  EXPECT_THAT(bad_chosen.errors, ::testing::ElementsAre("update.chosen_inline_result.result_id: expected string",
                                                        "update.chosen_inline_result.query: missing"));

  auto unknown_kind = decode_update(json::parse(R"({"update_id": 5, "message_reaction": {"anything": true}})"));
  ASSERT_TRUE(unknown_kind.ok());
  EXPECT_FALSE(unknown_kind.value->message);
}

TEST(CodecTest, DecodesBotApi102SubscriptionUpdates) {
  auto u = decode_update(json::parse(R"({"update_id": 3, "subscription": {"user": {"id": 7, "is_bot": false,
      "first_name": "A"}, "invoice_payload": "p1.7.basic.n.mac", "state": "failed"}})"));
  ASSERT_TRUE(u.ok()) << u.error_text();
  ASSERT_TRUE(u.value->subscription);
  EXPECT_EQ(u.value->subscription->user.id, 7);
  EXPECT_EQ(u.value->subscription->invoice_payload, "p1.7.basic.n.mac");
  EXPECT_EQ(u.value->subscription->state, "failed");
  auto missing = decode_update(json::parse(R"({"update_id": 4, "subscription": {"user": {"id": 7, "is_bot": false,
      "first_name": "A"}, "state": "canceled"}})"));
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error_text().find("subscription.invoice_payload"), std::string::npos) << missing.error_text();
}

TEST(CodecTest, ErrorsNameTheirPathAndAreAllCollected) {
  auto u = decode_update(json::parse(R"({"update_id": 1, "message": {"message_id": "1", "date": 1,
      "chat": {"id": "12", "type": "private"}, "from": {"id": 5, "is_bot": false},
      "entities": [{"type": "bot_command", "offset": 0, "length": 6}, {"type": 1, "offset": 0, "length": 1}]}})"));
  EXPECT_FALSE(u.ok());
  EXPECT_THAT(
      u.errors,
      ElementsAre("update.message.message_id: expected integer", "update.message.chat.id: expected integer",
                  "update.message.from.first_name: missing", "update.message.entities[1].type: expected string"));

  auto missing = decode_update(json::parse(R"({"message": {"chat": 5}})"));
  EXPECT_THAT(missing.errors, ElementsAre("update.update_id: missing", "update.message.message_id: missing",
                                          "update.message.chat: expected object", "update.message.date: missing"));

  EXPECT_THAT(decode_update(json::parse("[]")).errors, ElementsAre("update: expected object"));
  EXPECT_THAT(decode_user(json::parse(R"({"id": 1.5, "first_name": "A"})")).errors,
              ElementsAre("user.id: expected integer"));
}

// The scalar checks are the shared field reader's (json/fields.hpp) in Telegram's dialect: null is
// missing, 5.0 is not an integer, an int field keeps to int's range.
TEST(CodecTest, ScalarsThroughTheSharedFieldReader) {
  EXPECT_THAT(decode_user(json::parse(R"({"id": null, "first_name": "A"})")).errors, ElementsAre("user.id: missing"));
  EXPECT_THAT(decode_user(json::parse(R"({"id": 5.0, "first_name": "A"})")).errors,
              ElementsAre("user.id: expected integer"));
  EXPECT_THAT(decode_user(json::parse(R"({"id": 18446744073709551615, "first_name": "A"})")).errors,
              ElementsAre("user.id: expected integer"));
  EXPECT_THAT(decode_user(json::parse(R"({"id": 1, "first_name": "A", "is_bot": "no"})")).errors,
              ElementsAre("user.is_bot: expected boolean"));
  auto big = decode_message(json::parse(R"({"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
      "text": "/start", "entities": [{"type": "bot_command", "offset": 2147483648, "length": -2147483649}]})"));
  EXPECT_THAT(big.errors, ElementsAre("message.entities[0].offset: integer out of range",
                                      "message.entities[0].length: integer out of range"));
  auto edge = decode_message(json::parse(R"({"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
      "text": "/start", "entities": [{"type": "bot_command", "offset": 2147483647, "length": -2147483648}]})"));
  ASSERT_TRUE(edge.ok()) << edge.error_text();
  EXPECT_EQ(edge.value->entities.at(0).offset, 2147483647);
  EXPECT_EQ(edge.value->entities.at(0).length, -2147483648);
}

TEST(CodecTest, AnUndecodableUpdateComesBackAsItsIdOnly) {
  auto d = decode_updates(json::parse(R"([
      {"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "hi"}},
      {"update_id": 2, "message": {"message_id": 2, "date": 1, "chat": {"id": 1, "type": "private"}, "text": 5}},
      {"update_id": 3, "callback_query": {"id": "q", "from": {"id": 1, "is_bot": false, "first_name": "A"}, "chat_instance": "1"}}
  ])"));
  ASSERT_TRUE(d.ok()) << d.error_text();
  ASSERT_EQ(d.value->updates.size(), 3u);
  EXPECT_EQ(d.value->updates[0].message->text, "hi");
  EXPECT_EQ(d.value->updates[1].update_id, 2);
  EXPECT_FALSE(d.value->updates[1].message);
  EXPECT_TRUE(d.value->updates[2].callback_query);
  EXPECT_THAT(d.value->skipped, ElementsAre("result[1].message.text: expected string"));

  EXPECT_THAT(decode_updates(json::parse(R"([{"message": {}}])")).errors, ElementsAre("result[0].update_id: missing"));
  EXPECT_THAT(decode_updates(json::parse("{}")).errors, ElementsAre("result: expected array"));
}

TEST(CodecTest, EncodesSendMessage) {
  auto full = to_json(SendMessage{.chat_id = 42,
                                  .text = "hi",
                                  .parse_mode = "HTML",
                                  .reply_markup = {.inline_keyboard = {{{.text = "Again", .callback_data = "again:1"},
                                                                        {.text = "Site", .url = "https://x.test"},
                                                                        {.text = "Pay", .pay = true}}}},
                                  .reply_to_message_id = 7,
                                  .disable_notification = true});
  EXPECT_EQ(full, json::parse(R"({"chat_id": 42, "text": "hi", "parse_mode": "HTML",
      "reply_markup": {"inline_keyboard": [[{"text": "Again", "callback_data": "again:1"},
                                            {"text": "Site", "url": "https://x.test"}, {"text": "Pay", "pay": true}]]},
      "reply_parameters": {"message_id": 7, "allow_sending_without_reply": true},
      "link_preview_options": {"is_disabled": true}, "disable_notification": true})"));
  EXPECT_EQ(to_json(SendMessage{.chat_id = 1, .text = "x", .disable_link_preview = false}),
            json::parse(R"({"chat_id": 1, "text": "x"})"));
}

TEST(CodecTest, EncodesInlineRequests) {
  AnswerInlineQuery answer{.inline_query_id = "iq", .cache_time = 10, .is_personal = true};
  answer.results.push_back({.kind = InlineQueryResult::Kind::cached_photo,
                            .id = "i:img1",
                            .title = "a fox",
                            .photo_file_id = "photo-1",
                            .caption = "a fox"});
  answer.results.push_back({.kind = InlineQueryResult::Kind::article,
                            .id = "g",
                            .title = "Generate: a fox",
                            .message_text = "Drawing: a fox",
                            .reply_markup = {{{{.text = "Open", .url = "https://t.me/b"}}}}});
  answer.button = InlineQueryResultsButton{.text = "Subscribe", .start_parameter = "plans"};
  EXPECT_EQ(to_json(answer), json::parse(R"({"inline_query_id": "iq", "cache_time": 10, "is_personal": true,
      "results": [{"id": "i:img1", "type": "photo", "photo_file_id": "photo-1", "title": "a fox", "caption": "a fox"},
                  {"id": "g", "type": "article", "title": "Generate: a fox",
                   "input_message_content": {"message_text": "Drawing: a fox"},
                   "reply_markup": {"inline_keyboard": [[{"text": "Open", "url": "https://t.me/b"}]]}}],
      "button": {"text": "Subscribe", "start_parameter": "plans"}})"));
  // cache_time 0 is a value (do not cache), so it is always sent.
  EXPECT_EQ(to_json(AnswerInlineQuery{.inline_query_id = "iq", .cache_time = 0}),
            json::parse(R"({"inline_query_id": "iq", "results": [], "cache_time": 0})"));
  EXPECT_EQ(to_json(EditInlineMessageText{.inline_message_id = "m1", .text = "failed"}),
            json::parse(R"({"inline_message_id": "m1", "text": "failed"})"));
  EXPECT_EQ(
      to_json(EditInlineMessageMedia{.inline_message_id = "m1", .photo_file_id = "photo-1", .caption = "c"}),
      json::parse(R"({"inline_message_id": "m1", "media": {"type": "photo", "media": "photo-1", "caption": "c"}})"));
}

TEST(CodecTest, EncodesOtherRequests) {
  EXPECT_EQ(to_json(GetUpdates{.offset = 5, .timeout = 30, .allowed_updates = {"message"}}),
            json::parse(R"({"offset": 5, "limit": 100, "timeout": 30, "allowed_updates": ["message"]})"));
  EXPECT_EQ(to_json(GetUpdates{}), json::parse(R"({"limit": 100, "timeout": 50})"));
  EXPECT_EQ(to_json(SendPhoto{.chat_id = 1, .photo = InputFile::existing("AgAD"), .caption = "c"}),
            json::parse(R"({"chat_id": 1, "photo": "AgAD", "caption": "c"})"));
  EXPECT_EQ(to_json(SendPhoto{.chat_id = 1, .photo = InputFile::upload("a.png", "image/png", "x")}),
            json::parse(R"({"chat_id": 1})"));
  EXPECT_EQ(to_json(EditMessageReplyMarkup{.chat_id = 1, .message_id = 2}),
            json::parse(R"({"chat_id": 1, "message_id": 2})"));
  EXPECT_EQ(to_json(AnswerCallbackQuery{.callback_query_id = "q"}), json::parse(R"({"callback_query_id": "q"})"));
  EXPECT_EQ(to_json(AnswerPreCheckoutQuery{.pre_checkout_query_id = "p", .ok = false, .error_message = "sold out"}),
            json::parse(R"({"pre_checkout_query_id": "p", "ok": false, "error_message": "sold out"})"));
  EXPECT_EQ(to_json(SetWebhook{.url = "https://x/telegram/webhook", .secret_token = "s"}),
            json::parse(R"({"url": "https://x/telegram/webhook", "max_connections": 40, "secret_token": "s"})"));
  EXPECT_EQ(
      to_json(CreateInvoiceLink{
          .title = "t", .description = "d", .payload = "p", .prices = {{"Pro", 100}}, .subscription_period = 2592000}),
      json::parse(R"({"title": "t", "description": "d", "payload": "p", "currency": "XTR",
                           "prices": [{"label": "Pro", "amount": 100}], "subscription_period": 2592000})"));
  EXPECT_EQ(to_json(SetMyCommands{.commands = {{"start", "Start"}}}),
            json::parse(R"({"commands": [{"command": "start", "description": "Start"}]})"));
  // An admin's menu: BotCommandScopeChat for their private chat.
  EXPECT_EQ(to_json(SetMyCommands{.commands = {{"stats", "Stats"}}, .language_code = "ru", .scope_chat_id = 1009}),
            json::parse(R"({"commands": [{"command": "stats", "description": "Stats"}],
                            "scope": {"type": "chat", "chat_id": 1009}, "language_code": "ru"})"));
}

TEST(CodecTest, KindNames) {
  EXPECT_STREQ(to_string(ApiError::Kind::rate_limited), "rate_limited");
  EXPECT_STREQ(to_string(ApiError::Kind::not_modified), "not_modified");
  EXPECT_STREQ(to_string(ApiError::Kind::invalid_response), "invalid_response");
}

}  // namespace
}  // namespace igb::telegram
