#pragma once
// JSON ⇄ Bot API objects. Decoding ignores unknown fields (Telegram adds some in every release) and
// collects every problem as "path: problem" ("update.message.chat.id: expected integer"); the
// messages name paths and expected types only, never values. Encoding turns option structs into the
// JSON object of a request, omitting empty optional fields.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

#include "telegram/bot_api.hpp"
#include "telegram/types.hpp"

namespace igb::telegram {

template <class T>
struct [[nodiscard]] Decoded {
  std::optional<T> value;            // set when errors is empty
  std::vector<std::string> errors;   // "path: problem", in document order
  bool ok() const { return errors.empty() && value.has_value(); }
  // The value when ok(), else nullptr: the check and the access in one step, which clang-tidy's
  // optional check can follow (it does not look into ok()).
  T* get() { return errors.empty() && value ? &*value : nullptr; }
  std::string error_text() const {   // errors joined with "; "
    std::string out;
    for (const auto& e : errors) out += (out.empty() ? "" : "; ") + e;
    return out;
  }
};

// `path` names the root in error messages.
Decoded<Update> decode_update(const boost::json::value& v, const std::string& path = "update");
Decoded<Message> decode_message(const boost::json::value& v, const std::string& path = "message");
Decoded<User> decode_user(const boost::json::value& v, const std::string& path = "user");
Decoded<ChatMember> decode_chat_member(const boost::json::value& v, const std::string& path = "chat_member");
Decoded<CallbackQuery> decode_callback_query(const boost::json::value& v, const std::string& path = "callback_query");

// The getUpdates result. An update that does not decode must not stall the bot (its offset would
// never move past it): it comes back with only update_id set and its errors listed in `skipped`.
// Only a result that is not an array, or an update without a usable update_id, fails the decode.
struct DecodedUpdates {
  std::vector<Update> updates;
  std::vector<std::string> skipped;  // errors of the updates returned as update_id only
};
Decoded<DecodedUpdates> decode_updates(const boost::json::value& v, const std::string& path = "result");

boost::json::value to_json(const InlineKeyboardMarkup& markup);

// Request bodies. Files: an existing file_id is a string field; an upload is left out (the client
// sends it as a multipart part under the field name).
boost::json::object to_json(const GetUpdates& o);
boost::json::object to_json(const SetWebhook& o);
boost::json::object to_json(const DeleteWebhook& o);
boost::json::object to_json(const SendMessage& o);
boost::json::object to_json(const EditMessageText& o);
boost::json::object to_json(const EditMessageReplyMarkup& o);
boost::json::object to_json(const DeleteMessage& o);
boost::json::object to_json(const SendPhoto& o);
boost::json::object to_json(const SendDocument& o);
boost::json::object to_json(const SendChatAction& o);
boost::json::object to_json(const GetChatMember& o);
boost::json::object to_json(const AnswerCallbackQuery& o);
boost::json::object to_json(const AnswerInlineQuery& o);
boost::json::object to_json(const EditInlineMessageText& o);
boost::json::object to_json(const EditInlineMessageMedia& o);
boost::json::object to_json(const SetMyCommands& o);
boost::json::object to_json(const SendInvoice& o);
boost::json::object to_json(const CreateInvoiceLink& o);
boost::json::object to_json(const AnswerPreCheckoutQuery& o);
boost::json::object to_json(const RefundStarPayment& o);
boost::json::object to_json(const EditUserStarSubscription& o);

}  // namespace igb::telegram
