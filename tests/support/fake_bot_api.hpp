#pragma once
// A fake Telegram Bot API server for tests: listens on 127.0.0.1 on a port the OS picks, runs its own
// io_context on its own thread, speaks the real wire format (POST/GET /bot<token>/<method>; JSON,
// x-www-form-urlencoded, query string and multipart/form-data requests; the {ok, result, error_code,
// description, parameters} envelope) and behaves like Telegram where the bot can tell:
//   - every call is checked against the Bot API spec (tests/support/telegram/botapi.json): unknown
//     method → 404 "Not Found"; a missing required parameter, a value of a type the spec does not allow
//     (objects checked recursively), or an unknown parameter → 400 "Bad Request: …" and an entry in
//     spec_violations();
//   - getUpdates long polling with offsets and allowed_updates; 409 while a webhook is set, and 409
//     "terminated by other getUpdates request" for a poll that a newer poll replaces;
//   - per-chat messages with ids 1, 2, 3… per chat (the users' messages included), edits, deletes,
//     uploads with deterministic file_ids, the usual 400s (not modified, not found, too long, …);
//   - 403 for chats that blocked the bot, 429 with retry_after when rate limits are on, scripted
//     failures;
//   - a per-chat transcript for golden files.
//
//   FakeBotApi tg;
//   auto api = telegram::make_http_bot_api(*client, {.base_url = tg.base_url(), .token = tg.token()});
//   tg.push_message({.from = {.id = 42, .first_name = "Ann"}, .text = "/start"});
//   ASSERT_TRUE(tg.wait_until([&] { return tg.count_calls("sendMessage") == 1; }));
//   EXPECT_EQ(tg.transcript(42), "> Ann: /start\n< sendMessage #2: Welcome…\n");
//   EXPECT_THAT(tg.spec_violations(), IsEmpty());
//
// Thread-safe: the test thread may call anything while the server thread answers the bot. Rate limits
// and long polls use the real steady clock unless FakeBotApiOptions::clock is set.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace igb::testing {

struct FakeTgUser {
  std::int64_t id = 0;
  std::string first_name = "User";
  std::string last_name;
  std::string username;
  std::string language_code = "en";  // empty: omitted from the update
  bool is_bot = false;
};

struct FakeTgChat {
  std::int64_t id = 0;  // groups have negative ids, like Telegram's
  std::string type = "group";  // "group", "supergroup", "private", "channel"
  std::string title = "Test group";
};

// Rate limits, applied when enabled to the methods in `limited_methods`: messages and, sharing the
// same counters, edits of messages in a chat. What is documented: the Bot FAQ (core.telegram.org/bots/faq,
// "My bot is hitting limits") gives 30 messages a second overall, about one a second per chat, 20 a
// minute per group; Telegram's developer levlam says that "the limits for message editing are the same
// as for message sending … They share the limit", about 20 edits a minute in a group (tdlib/td issue
// #2592; grammY's flood-limit page cites the same, grammyjs/website PR #1076); python-telegram-bot's
// AIORateLimiter throttles every call with a chat_id alike (telegram/ext/_aioratelimiter.py). What is
// an assumption: that the per-chat and overall cells below are exact, and that deletions, chat actions,
// callback and pre-checkout answers and edits of inline messages (no chat_id) are not limited (nothing
// documents limits for them). Each limit is a sliding window over the calls it accepted:
//   global   at most `global_per_second` messages in any 1-second window, all chats together;
//   private  a private chat's messages must fit a token bucket of `private_burst` tokens refilled at
//            `private_per_second`, checked as a sliding condition: every window [t, now] that starts at
//            an accepted message holds at most private_burst + private_per_second·(now − t) messages.
//            So 3 back to back pass, then about one a second (a sender pacing with that bucket never
//            sees a 429);
//   group    at most `group_per_minute` messages in any 60-second window per group/supergroup.
// Every check judges a call as if it had arrived `jitter` later, so a sender that keeps the limits
// exactly is not refused because of network and scheduling jitter (or clock rounding) between its
// decision and the call's arrival.
// A refused call gets 429 "Too Many Requests: retry after X" with parameters.retry_after = X, the
// whole seconds (rounded up, at least 1) until the call would pass.
struct FakeRateLimits {
  int global_per_second = 30;
  int private_burst = 3;
  double private_per_second = 1.0;
  int group_per_minute = 20;
  std::chrono::milliseconds jitter{100};
  std::vector<std::string> limited_methods = {
      "sendMessage",    "sendPhoto",       "sendDocument",       "sendInvoice",      "sendAnimation",
      "sendVideo",      "sendAudio",       "sendVoice",          "sendSticker",      "copyMessage",
      "forwardMessage", "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"};
};

struct FakeBotApiOptions {
  std::string token = "123456789:AAFakeTokenForTests_abcdefghijklmnop";
  FakeTgUser bot = {
      .id = 123456789, .first_name = "ImgGenBot", .username = "imggen_test_bot", .language_code = "", .is_bot = true};
  // The Bot API spec; empty: $IMGGENBOT_SOURCE_DIR/tests/support/telegram/botapi.json, else the
  // copy next to this file at build time.
  std::string spec_path;
  // Unknown parameters are silently ignored by Telegram; here they are violations (they are typos).
  bool reject_unknown_parameters = true;
  std::optional<FakeRateLimits> rate_limits;  // off unless set (or enable_rate_limits())
  // The time for rate limits; default std::chrono::steady_clock::now. Long polls always use real time.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // Where it listens: tests keep loopback and a port the OS picks; the standalone fakes program
  // (fake_services_main.cpp) listens on a container's network.
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;
};

// A file the bot uploaded (multipart part) in a call.
struct FakeTgUpload {
  std::string field;  // "photo", "document", …
  std::string filename;
  std::string content_type;
  std::string bytes;
  std::string file_id;  // what the fake assigned ("photo-1", "document-1"); empty if the call failed
};

struct FakeTgCall {
  std::string method;
  // The parameters, decoded from whichever encoding the request used and typed per the spec (a form
  // value "42" for an Integer parameter becomes 42, JSON-serialized objects are parsed). An uploaded
  // file appears as {"upload": true, "filename": …, "content_type": …, "size": N}.
  boost::json::object params;
  std::vector<FakeTgUpload> uploads;
  std::optional<std::int64_t> chat_id;  // chat_id, or the chat of the callback/pre-checkout query
  std::chrono::steady_clock::time_point time;
  std::string content_type;  // of the request ("application/json", "multipart/form-data", …)
  int status = 0;            // the HTTP status answered (200, 400, 429, …)
  std::string description;   // Telegram's description when not ok
  boost::json::value result;  // the result when ok
};

struct FakeTgMessage {
  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
  bool from_bot = false;
  std::int64_t from_user_id = 0;
  std::string text;
  std::string caption;
  std::string parse_mode;
  boost::json::value reply_markup;  // null when none
  std::string file_id;              // photo/document the message carries
  std::string kind;                 // "text", "photo", "document", "invoice", or the user's other_content
  bool deleted = false;
  int edit_count = 0;
};

struct FakeSpecViolation {
  std::string method;
  std::string message;  // "sendMessage: chat_id: missing required parameter", …
};

// push_message: a message the user sends. chat: the user's private chat (id = from.id) unless given.
// entities: computed unless given — a bot_command for a leading "/command" (with "@botname" too) and
// a mention for "@username" words. other_content: "sticker", "voice", "video", "video_note", "audio",
// "animation", "location", "contact", "poll", "dice", "photo", "document" add a plausible object of
// that kind (the text then becomes the caption, if any). edit_of: deliver an edited_message of that
// earlier message id instead.
struct FakeTgPushMessage {
  FakeTgUser from;
  std::optional<FakeTgChat> chat;
  std::string text;
  std::optional<boost::json::array> entities;
  std::optional<std::int64_t> reply_to;  // a message id in the same chat
  std::string other_content;
  std::optional<std::int64_t> edit_of;
};

// push_callback: the user presses a button of `message_id` in `chat_id` (default: the user's private
// chat). The update carries that message as Telegram would (InaccessibleMessage with date 0 when
// `inaccessible` or the message is unknown/deleted). Callback query ids are "cbq-1", "cbq-2", …
struct FakeTgPushCallback {
  FakeTgUser from;
  std::optional<std::int64_t> chat_id;
  std::int64_t message_id = 0;
  std::string data;
  bool inaccessible = false;
};

// Pre-checkout query ids are "pcq-1", "pcq-2", …
struct FakeTgPushPreCheckout {
  FakeTgUser from;
  std::string currency = "XTR";
  std::int64_t total_amount = 0;
  std::string invoice_payload;
};

// A service message with successful_payment in the user's private chat (or `chat`). The charge id
// becomes known to refundStarPayment / editUserStarSubscription. Default charge id: "charge-N".
struct FakeTgPushPayment {
  FakeTgUser from;
  std::optional<FakeTgChat> chat;
  std::string currency = "XTR";
  std::int64_t total_amount = 0;
  std::string invoice_payload;
  std::string telegram_payment_charge_id;
  std::string provider_payment_charge_id;
  std::optional<std::int64_t> subscription_expiration_date;
  bool is_recurring = false;
  bool is_first_recurring = false;
};

// my_chat_member: the bot's status in a chat changed. In a private chat, new_status "kicked" also
// blocks the chat (the user blocked the bot) and "member" unblocks it.
struct FakeTgPushChatMember {
  FakeTgUser from;
  std::optional<FakeTgChat> chat;
  std::string old_status = "member";
  std::string new_status = "kicked";
};

// Inline mode (fake_bot_api_inline.cpp). push_inline_query: the user types "@bot <query>" in some chat;
// query ids are "iq-1", "iq-2", … The bot answers with answerInlineQuery; choose_inline_result then
// plays the user picking one of those results: the result's message is posted as an inline message
// (ids "im-1", "im-2", …; only for a result with an inline keyboard, as Telegram gives
// inline_message_id only then) and a chosen_inline_result update is queued (inline feedback on).
struct FakeTgPushInlineQuery {
  FakeTgUser from;
  std::string query;
  std::string chat_type = "supergroup";  // where the user typed it; "" leaves it out (secret chats)
};

struct FakeTgInlineMessage {
  std::string inline_message_id;
  std::int64_t user_id = 0;  // who posted it
  std::string kind;          // "text" or "photo"
  std::string text;
  std::string caption;
  std::string file_id;
  boost::json::value reply_markup;  // null when none
  int edit_count = 0;
};

class FakeBotApi {
 public:
  explicit FakeBotApi(FakeBotApiOptions options = {});
  FakeBotApi(const FakeBotApi&) = delete;
  FakeBotApi& operator=(const FakeBotApi&) = delete;
  ~FakeBotApi();

  // Closes every connection (pending long polls end without an answer) and joins the thread.
  void stop();

  std::string base_url() const;  // "http://127.0.0.1:PORT" (the bind address unless 0.0.0.0 or ::)
  const std::string& token() const;
  const FakeTgUser& bot() const;

  // ---- Updates the users make. Each returns the update_id (1, 2, 3…). While a webhook is set they
  // wait for deliver_webhook(); otherwise for getUpdates.
  std::int64_t push_message(FakeTgPushMessage message);
  std::int64_t push_callback(FakeTgPushCallback callback);
  std::int64_t push_pre_checkout(FakeTgPushPreCheckout query);
  std::int64_t push_successful_payment(FakeTgPushPayment payment);
  std::int64_t push_my_chat_member(FakeTgPushChatMember change);
  std::int64_t push_inline_query(FakeTgPushInlineQuery query);
  // The user picks result `result_id` of the answer to `query_id`: returns the inline_message_id
  // ("" for a result without a keyboard) and queues chosen_inline_result. Throws std::logic_error if
  // the query was not answered or the answer has no such result.
  std::string choose_inline_result(const std::string& query_id, const std::string& result_id);
  // answerInlineQuery's parameters as accepted for `query_id`; nullopt if not answered.
  std::optional<boost::json::object> inline_answer(const std::string& query_id) const;
  std::optional<FakeTgInlineMessage> inline_message(const std::string& inline_message_id) const;
  // What the user saw of inline mode, one line each (see transcript() for the notation):
  //   > Ann inline "a fox" (iq-1)
  //   < answerInlineQuery iq-1 cache_time=10 personal
  //      photo i:… (photo-1): caption               one line per result, then its keyboard rows
  //      article g "Generate: a fox": Drawing…
  //      button "Subscribe" start=plans
  //   > Ann chose g of iq-1 → im-1
  //   < editMessageText im-1: …   /   < editMessageMedia im-1 (photo-1): caption
  //   ! 400 answerInlineQuery: query is too old…      a refused call, with Telegram's description
  std::string inline_transcript(std::int64_t user_id) const;

  // Any update; its update_id is set (replaced) by the fake.
  std::int64_t push_raw(boost::json::object update);

  std::size_t pending_update_count() const;  // not yet confirmed by an offset (or a webhook 2xx)
  std::vector<std::string> allowed_updates() const;  // as last set by getUpdates/setWebhook
  std::int64_t get_updates_count() const;            // getUpdates calls answered
  std::size_t waiting_get_updates() const;           // long polls being held right now

  // ---- Webhook. The URL and secret are what the bot set with setWebhook (empty when none).
  std::string webhook_url() const;
  std::string webhook_secret() const;
  // POSTs the pending update `update_id` to the webhook URL (http:// only) with
  // X-Telegram-Bot-Api-Secret-Token, and returns the HTTP status (0 if no connection). A 2xx confirms
  // the update. Throws std::logic_error if no webhook is set or the update is not pending.
  int deliver_webhook(std::int64_t update_id);
  // POSTs `body` to the webhook URL with `secret` as the header (nullopt: no header), for forged or
  // malformed deliveries. Returns the HTTP status.
  int deliver_webhook_raw(const std::string& body, std::optional<std::string> secret);

  // ---- Chats. A chat becomes known when a user writes in it (push_*) or by add_chat; sending to an
  // unknown chat is 400 "Bad Request: chat not found", as for a user who never started the bot.
  void add_chat(FakeTgChat chat, FakeTgUser user = {});  // private chats: `user` is the other side
  // The group becomes a supergroup with the id `supergroup_id` (Telegram's "upgrade"): from now on
  // every call naming the group's id is answered 400 "Bad Request: group chat was upgraded to a
  // supergroup chat" with parameters.migrate_to_chat_id (ResponseParameters in the spec), and the
  // supergroup is a known chat (same title, message ids from 1). With `announce`, the updates Telegram
  // sends then: a service message with migrate_to_chat_id in the group and one with
  // migrate_from_chat_id in the supergroup (Message in the spec; python-telegram-bot's
  // telegram/_message.py and aiogram's types/message.py carry both fields).
  void migrate_group(std::int64_t group_id, std::int64_t supergroup_id, FakeTgUser by, bool announce = true);
  // The user's status in a group, as getChatMember answers it: "creator", "administrator", "member",
  // "left" or "kicked" (writing in a group makes a user a "member").
  void set_member_status(std::int64_t chat_id, FakeTgUser user, std::string status);
  void block(std::int64_t chat_id);    // sends get 403 "Forbidden: bot was blocked by the user"
  void unblock(std::int64_t chat_id);  // (groups: "Forbidden: bot was kicked from the group chat")
  bool is_blocked(std::int64_t chat_id) const;
  std::vector<FakeTgMessage> messages(std::int64_t chat_id) const;  // in id order, deleted ones too
  std::optional<FakeTgMessage> message(std::int64_t chat_id, std::int64_t message_id) const;
  std::optional<FakeTgMessage> last_bot_message(std::int64_t chat_id) const;  // not deleted
  // The bytes of an uploaded file by any of its file_ids; nullopt if unknown.
  std::optional<std::string> file_bytes(const std::string& file_id) const;
  // setMyCommands as last set for a language ("" = default); empty if never set. A chat-scoped menu
  // (BotCommandScopeChat) is found as "chat <chat id> <language>" ("chat 42 " for its default).
  boost::json::array my_commands(const std::string& language_code = "") const;
  std::vector<std::string> refunded_charges() const;

  // ---- Failures
  void enable_rate_limits(FakeRateLimits limits = {});
  void disable_rate_limits();
  std::int64_t rate_limited_count() const;  // 429s answered because of rate limits
  // The next `times` calls of `method` ("" = any method) fail with this error instead of being
  // processed. retry_after/migrate_to_chat_id go into parameters when set.
  void fail_next(std::string method, int error_code, std::string description,
                 std::optional<int> retry_after = std::nullopt, int times = 1);
  // Telegram's front is down for `duration` from now (real steady clock): every call, with any token
  // and any parameters, is answered `502 Bad Gateway` with nginx's HTML page (not the Bot API's JSON
  // envelope) and nothing is processed; long polls held when it begins are answered so too. What
  // clients do then: python-telegram-bot raises NetworkError("Bad Gateway") and retries
  // (python-telegram-bot/python-telegram-bot, telegram/request/_baserequest.py, _request_wrapper).
  // Calls answered so are recorded with their method, status 502 and no parameters.
  void begin_outage(std::chrono::milliseconds duration);
  bool in_outage() const;
  std::int64_t outage_answered_count() const;  // calls answered 502 by outages since start

  // ---- Observation
  // Every call with a known method or a spec violation, in the order they were answered (a held
  // getUpdates is recorded when it returns); calls with a wrong token are not recorded.
  std::vector<FakeTgCall> calls() const;
  std::vector<FakeTgCall> calls(const std::string& method) const;  // of one method
  std::size_t count_calls(const std::string& method) const;
  std::vector<FakeSpecViolation> spec_violations() const;
  // Blocks until pred() is true, re-checking after every call the fake answers and every test-side
  // change, or until the guard runs out; returns pred()'s last value. pred may call this object's
  // accessors (the lock is recursive).
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds guard = std::chrono::seconds(30)) const;

  // What a chat saw, one line each, for golden files:
  //   > Ann: /start                                         the user's message (push_message)
  //   > Ann: [sticker]                                      other content (with ": caption" if any)
  //   > Ann pressed [again:17] on #3                        push_callback
  //   > Ann pre-checkout 100 XTR payload…                   push_pre_checkout
  //   > Ann paid 100 XTR payload… (charge-1)               push_successful_payment
  //   > Ann my_chat_member member → kicked                   push_my_chat_member
  //   < sendMessage #2: Welcome…                            (multi-line texts: later lines indented)
  //      [Again|again:17] [Settings|settings]               one line per keyboard row: text|data or
  //                                                          text|url:… or text|pay
  //   < sendMessage #2 (reply to #1): …
  //   < editMessageText #2: …
  //   < editMessageReplyMarkup #2                           (then its rows; "   (no keyboard)")
  //   < deleteMessage #2
  //   < sendPhoto #3 (upload image/png 1234 bytes → photo-1): caption…
  //   < sendPhoto #4 (photo-1): caption…
  //   < sendDocument #5 (upload image/png 1234 bytes → document-1): …
  //   < sendChatAction upload_photo
  //   < answerCallbackQuery: text   (" (alert)" when show_alert; "< answerCallbackQuery" when no text)
  //   < answerPreCheckoutQuery ok   / < answerPreCheckoutQuery error: message
  //   < sendInvoice #6: title — 100 XTR payload…
  //   ! 429 sendMessage              a refused call (any 4xx/5xx): "! 403 sendMessage", …
  // Ends with '\n' when not empty.
  std::string transcript(std::int64_t chat_id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace igb::testing
