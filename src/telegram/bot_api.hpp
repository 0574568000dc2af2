#pragma once
// The Bot API as the bot uses it: one typed method per Bot API method, options as structs, results
// as values. `BotApi` is the port the bot logic talks to; `make_http_bot_api` is the real client
// (JSON bodies, multipart/form-data for uploads) over igb::http::Client.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "telegram/types.hpp"
#include "util/result.hpp"

namespace igb::http {
class Client;
}

namespace igb::telegram {

namespace net = boost::asio;

// A failed call. `description` is Telegram's text (it never holds the token) or, for transport
// failures, a text without the URL.
struct ApiError {
  enum class Kind {
    rate_limited,  // 429: wait retry_after, then send again
    blocked,       // 403: the user blocked the bot, deactivated, or the bot was kicked from the chat
    not_modified,  // 400 "message is not modified": the edit changed nothing; fine
    conflict,      // 409: a webhook is set, or another instance calls getUpdates
    no_rights,     // 400 "not enough rights to send photos…": the group forbids that kind; text may go
    bad_request,   // other 400s: a bug or stale data (message to edit not found, …)
    unauthorized,  // 401: the token is wrong
    not_found,     // 404: the method does not exist (or the token is malformed)
    server,        // 5xx: Telegram's trouble; retry later
    network,       // no HTTP answer (timeout, connection refused or reset, TLS)
    invalid_response,  // not the Bot API's JSON envelope
  };
  Kind kind = Kind::server;
  int error_code = 0;  // Telegram's error_code (HTTP status), 0 for network/invalid_response
  std::string description;
  std::optional<std::chrono::seconds> retry_after;   // parameters.retry_after
  std::optional<std::int64_t> migrate_to_chat_id;    // parameters.migrate_to_chat_id

  // Telegram or the way to it was down (no connection, 5xx): says nothing about the request itself.
  bool outage() const { return kind == Kind::network || kind == Kind::server; }
};

const char* to_string(ApiError::Kind kind);

template <class T>
using ApiResult = util::Result<T, ApiError>;

struct Done {};  // methods that return True

// ---- Options, one struct per method. chat_id is the numeric id (usernames are not used here).

struct GetUpdates {
  std::optional<std::int64_t> offset;
  int limit = 100;
  int timeout = 50;  // seconds of long polling
  std::vector<std::string> allowed_updates;
};

struct SetWebhook {
  std::string url;
  std::string secret_token;  // 1-256 of A-Z a-z 0-9 _ -
  std::vector<std::string> allowed_updates;
  int max_connections = 40;
  bool drop_pending_updates = false;
};

struct DeleteWebhook {
  bool drop_pending_updates = false;
};

struct SendMessage {
  std::int64_t chat_id = 0;
  std::string text;
  std::string parse_mode;  // empty: plain text
  InlineKeyboardMarkup reply_markup;
  std::optional<std::int64_t> reply_to_message_id;  // sent as reply_parameters
  bool disable_link_preview = true;                 // sent as link_preview_options
  bool disable_notification = false;
};

struct EditMessageText {
  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
  std::string text;
  std::string parse_mode;
  InlineKeyboardMarkup reply_markup;
};

struct EditMessageReplyMarkup {
  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
  InlineKeyboardMarkup reply_markup;  // empty removes the keyboard
};

struct DeleteMessage {
  std::int64_t chat_id = 0;
  std::int64_t message_id = 0;
};

struct SendPhoto {
  std::int64_t chat_id = 0;
  InputFile photo;
  std::string caption;  // at most 1024 characters
  std::string parse_mode;
  InlineKeyboardMarkup reply_markup;
  std::optional<std::int64_t> reply_to_message_id;
};

struct SendDocument {
  std::int64_t chat_id = 0;
  InputFile document;
  std::string caption;
  std::string parse_mode;
  InlineKeyboardMarkup reply_markup;
  std::optional<std::int64_t> reply_to_message_id;
};

struct GetChatMember {
  std::int64_t chat_id = 0;
  std::int64_t user_id = 0;
};

struct SendChatAction {
  std::int64_t chat_id = 0;
  std::string action = "upload_photo";
};

struct AnswerInlineQuery {
  std::string inline_query_id;
  std::vector<InlineQueryResult> results;
  int cache_time = 300;  // Telegram's default; always sent
  bool is_personal = false;
  std::optional<InlineQueryResultsButton> button;
};

// Edits of a message sent through inline mode (by inline_message_id): Telegram answers True, not the
// Message. An inline message cannot receive an upload: its new photo is a file_id (or a URL).
struct EditInlineMessageText {
  std::string inline_message_id;
  std::string text;
  InlineKeyboardMarkup reply_markup;
};

struct EditInlineMessageMedia {
  std::string inline_message_id;
  std::string photo_file_id;  // InputMediaPhoto.media: a file Telegram has
  std::string caption;
  InlineKeyboardMarkup reply_markup;
};

struct AnswerCallbackQuery {
  std::string callback_query_id;
  std::string text;  // empty: no notification
  bool show_alert = false;
};

struct SetMyCommands {
  std::vector<BotCommand> commands;
  std::string language_code;  // empty: the default for all languages
  std::optional<std::int64_t> scope_chat_id;  // BotCommandScopeChat {chat_id}; nullopt: the default scope
};

struct SendInvoice {
  std::int64_t chat_id = 0;
  std::string title;        // 1-32 characters
  std::string description;  // 1-255 characters
  std::string payload;      // 1-128 bytes
  std::string currency = "XTR";
  std::vector<LabeledPrice> prices;  // exactly one for XTR
  InlineKeyboardMarkup reply_markup;
};

struct CreateInvoiceLink {
  std::string title;
  std::string description;
  std::string payload;
  std::string currency = "XTR";
  std::vector<LabeledPrice> prices;
  std::optional<int> subscription_period;  // 2592000 (30 days) for a subscription
};

struct AnswerPreCheckoutQuery {
  std::string pre_checkout_query_id;
  bool ok = true;
  std::string error_message;  // required when !ok
};

struct RefundStarPayment {
  std::int64_t user_id = 0;
  std::string telegram_payment_charge_id;
};

struct EditUserStarSubscription {
  std::int64_t user_id = 0;
  std::string telegram_payment_charge_id;
  bool is_canceled = true;
};

// The port. Every method is one HTTP call; none retries (the SendScheduler does, for 429s).
class BotApi {
 public:
  virtual ~BotApi() = default;
  virtual net::awaitable<ApiResult<User>> get_me() = 0;
  virtual net::awaitable<ApiResult<std::vector<Update>>> get_updates(GetUpdates options) = 0;
  virtual net::awaitable<ApiResult<Done>> set_webhook(SetWebhook options) = 0;
  virtual net::awaitable<ApiResult<Done>> delete_webhook(DeleteWebhook options) = 0;
  virtual net::awaitable<ApiResult<Message>> send_message(SendMessage options) = 0;
  // Returns the edited Message as Telegram does (for inline messages it returns True: not used here).
  virtual net::awaitable<ApiResult<Message>> edit_message_text(EditMessageText options) = 0;
  virtual net::awaitable<ApiResult<Message>> edit_message_reply_markup(EditMessageReplyMarkup options) = 0;
  virtual net::awaitable<ApiResult<Done>> delete_message(DeleteMessage options) = 0;
  virtual net::awaitable<ApiResult<Message>> send_photo(SendPhoto options) = 0;
  virtual net::awaitable<ApiResult<Message>> send_document(SendDocument options) = 0;
  virtual net::awaitable<ApiResult<Done>> send_chat_action(SendChatAction options) = 0;
  virtual net::awaitable<ApiResult<ChatMember>> get_chat_member(GetChatMember options) = 0;
  virtual net::awaitable<ApiResult<Done>> answer_callback_query(AnswerCallbackQuery options) = 0;
  virtual net::awaitable<ApiResult<Done>> answer_inline_query(AnswerInlineQuery options) = 0;
  virtual net::awaitable<ApiResult<Done>> edit_inline_message_text(EditInlineMessageText options) = 0;
  virtual net::awaitable<ApiResult<Done>> edit_inline_message_media(EditInlineMessageMedia options) = 0;
  virtual net::awaitable<ApiResult<Done>> set_my_commands(SetMyCommands options) = 0;
  virtual net::awaitable<ApiResult<Message>> send_invoice(SendInvoice options) = 0;
  virtual net::awaitable<ApiResult<std::string>> create_invoice_link(CreateInvoiceLink options) = 0;
  virtual net::awaitable<ApiResult<Done>> answer_pre_checkout_query(AnswerPreCheckoutQuery options) = 0;
  virtual net::awaitable<ApiResult<Done>> refund_star_payment(RefundStarPayment options) = 0;
  virtual net::awaitable<ApiResult<Done>> edit_user_star_subscription(EditUserStarSubscription options) = 0;
};

struct HttpBotApiOptions {
  std::string base_url = "https://api.telegram.org";  // TELEGRAM_API_BASE
  std::string token;                                  // goes into the URL path only; never logged
  std::chrono::seconds request_timeout{30};           // long polls get GetUpdates::timeout on top
};

// The client must outlive the returned BotApi and is used from the same executor.
std::unique_ptr<BotApi> make_http_bot_api(http::Client& client, HttpBotApiOptions options);

}  // namespace igb::telegram
