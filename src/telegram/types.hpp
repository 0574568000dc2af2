#pragma once
// Bot API objects the bot reads and writes: the subset of Bot API 10.1 this product uses, as plain
// data. Decoding ignores fields it does not know (Telegram adds fields in every release).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace igb::telegram {

struct User {
  std::int64_t id = 0;
  bool is_bot = false;
  std::string first_name;
  std::string last_name;
  std::string username;       // without '@'; may be empty
  std::string language_code;  // IETF tag from the client; may be empty
};

struct Chat {
  std::int64_t id = 0;
  std::string type;  // "private", "group", "supergroup", "channel"
  std::string title;
  std::string username;
  bool is_private() const { return type == "private"; }
  bool is_group() const { return type == "group" || type == "supergroup"; }
};

struct MessageEntity {
  std::string type;  // "bot_command", "mention", …
  int offset = 0;    // in UTF-16 code units, as Telegram counts
  int length = 0;
};

struct PhotoSize {
  std::string file_id;
  std::string file_unique_id;
  int width = 0;
  int height = 0;
  std::int64_t file_size = 0;
};

struct Document {
  std::string file_id;
  std::string file_unique_id;
  std::string file_name;
  std::string mime_type;
};

struct SuccessfulPayment {
  std::string currency;
  std::int64_t total_amount = 0;
  std::string invoice_payload;
  std::optional<std::int64_t> subscription_expiration_date;  // Unix seconds
  bool is_recurring = false;
  bool is_first_recurring = false;
  std::string telegram_payment_charge_id;
  std::string provider_payment_charge_id;
};

struct RefundedPayment {
  std::string currency;
  std::int64_t total_amount = 0;
  std::string invoice_payload;
  std::string telegram_payment_charge_id;
  std::string provider_payment_charge_id;
};

struct Message {
  std::int64_t message_id = 0;
  std::optional<User> from;
  Chat chat;
  std::int64_t date = 0;  // Unix seconds
  std::string text;
  std::string caption;
  std::vector<MessageEntity> entities;  // of text
  std::shared_ptr<const Message> reply_to_message;
  std::vector<PhotoSize> photo;
  std::optional<Document> document;
  // Content the bot does not take but answers to ("stickers are not prompts"): set to the field name
  // when the message carries one of sticker, voice, video, video_note, audio, animation, location,
  // contact, poll, dice.
  std::string other_content;
  std::optional<SuccessfulPayment> successful_payment;
  std::optional<RefundedPayment> refunded_payment;
  // Service message in a group that became a supergroup: the supergroup's id (the chat's new id).
  std::optional<std::int64_t> migrate_to_chat_id;
};

// A message the bot can no longer access arrives as InaccessibleMessage (date 0): decoded into a
// Message with date == 0 and only chat and message_id set.
struct CallbackQuery {
  std::string id;
  User from;
  std::optional<Message> message;
  std::string data;  // callback_data, at most 64 bytes
};

struct PreCheckoutQuery {
  std::string id;
  User from;
  std::string currency;
  std::int64_t total_amount = 0;
  std::string invoice_payload;
};

// getChatMember's answer (Bot API "ChatMember": ChatMemberOwner, …Administrator, …Member,
// …Restricted, …Left, …Banned, told apart by `status`). Only what the bot reads.
struct ChatMember {
  std::string status;  // "creator", "administrator", "member", "restricted", "left", "kicked"
  User user;
  bool is_admin() const { return status == "creator" || status == "administrator"; }
};

struct ChatMemberUpdated {
  Chat chat;
  User from;
  std::int64_t date = 0;
  std::string old_status;  // "member", "kicked", "left", "administrator", …
  std::string new_status;
};

// Inline mode (BotFather /setinline): "@bot <query>" typed in any chat.
struct InlineQuery {
  std::string id;
  User from;
  std::string query;      // up to 256 characters, says the spec (not trusted: callers bound it)
  std::string offset;     // for paging; this bot answers one page
  std::string chat_type;  // "sender", "private", "group", "supergroup", "channel"; may be empty
};

// The user picked one of the results (needs inline feedback, BotFather /setinlinefeedback).
// inline_message_id is set only for a result that carries an inline keyboard.
struct ChosenInlineResult {
  std::string result_id;
  User from;
  std::string inline_message_id;
  std::string query;
};

// Bot API 10.2's Update.subscription (BotSubscriptionUpdated) is not in 10.1's spec; decoded when present.
struct SubscriptionUpdate {
  User user;
  std::string invoice_payload;  // the payload of the invoice the subscription was bought with
  std::string state;            // "canceled" (by the user), "active" (re-enabled), "failed" (renewal payment)
};

struct Update {
  std::int64_t update_id = 0;
  std::string raw_json;  // the update as received (serialised again), for the bot's durable inbox
  std::optional<Message> message;
  std::optional<Message> edited_message;
  std::optional<CallbackQuery> callback_query;
  std::optional<PreCheckoutQuery> pre_checkout_query;
  std::optional<ChatMemberUpdated> my_chat_member;
  std::optional<InlineQuery> inline_query;
  std::optional<ChosenInlineResult> chosen_inline_result;
  std::optional<SubscriptionUpdate> subscription;
};

// ---- Outgoing

struct InlineKeyboardButton {
  std::string text;
  std::string callback_data;  // at most 64 bytes; exactly one of callback_data, url, pay is set
  std::string url;
  bool pay = false;
};

struct InlineKeyboardMarkup {
  std::vector<std::vector<InlineKeyboardButton>> inline_keyboard;
  bool empty() const { return inline_keyboard.empty(); }
};

// A file to send: an existing file_id, or new bytes uploaded as multipart/form-data.
struct InputFile {
  std::string file_id;  // set: reuse a file Telegram has
  std::string filename;
  std::string mime_type;
  std::string bytes;
  static InputFile existing(std::string file_id) { return InputFile{.file_id = std::move(file_id)}; }
  static InputFile upload(std::string filename, std::string mime_type, std::string bytes) {
    return InputFile{.filename = std::move(filename), .mime_type = std::move(mime_type), .bytes = std::move(bytes)};
  }
  bool is_upload() const { return file_id.empty(); }
};

// One answer to an inline query: a photo Telegram already has (InlineQueryResultCachedPhoto), or an
// article whose message is the text `message_text` (InlineQueryResultArticle with
// InputTextMessageContent).
struct InlineQueryResult {
  enum class Kind { cached_photo, article };
  Kind kind = Kind::article;
  std::string id;  // 1-64 bytes, unique among the answer's results
  std::string title;
  std::string description;
  std::string photo_file_id;  // cached_photo
  std::string caption;        // cached_photo, at most 1024 characters
  std::string message_text;   // article, 1-4096 characters
  InlineKeyboardMarkup reply_markup;  // Telegram gives an inline_message_id only when this is set
};

// The button above the results that opens the bot's private chat with /start <start_parameter>.
struct InlineQueryResultsButton {
  std::string text;
  std::string start_parameter;  // 1-64 of A-Z a-z 0-9 _ -
};

struct BotCommand {
  std::string command;  // 1-32 chars, lowercase letters, digits, underscores
  std::string description;
};

struct LabeledPrice {
  std::string label;
  std::int64_t amount = 0;
};

}  // namespace igb::telegram
